"""The errors of tracing, as classes (like ``jax.errors``): each is a TypeError, says the fix.

Example:
    >>> import eigen_autodiff as ead
    >>> def relu(x):
    ...     return x if x > 0 else 0.0
    >>> try:
    ...     ead.derivative(relu, 1.0)
    ... except ead.ConcretizationError as error:
    ...     print("ead.where" in str(error))
    True

"""

from __future__ import annotations


class TracingError(TypeError):
    """An activation did something tracing cannot record."""


class ConcretizationError(TracingError):
    """A traced value was asked for a concrete number: ``if x > 0``, ``float(x)``, ``np.asarray``.

    While an activation is traced its argument has no value yet; choose with ``ead.where`` and
    compute with ``ead``'s functions or NumPy ufuncs instead.
    """


class UnsupportedOperationError(TracingError):
    """An operation that traced activations do not support (the message lists what they do)."""


class ForeignValueError(TracingError):
    """A value from another trace, or from outside a custom derivative's function, was used."""


__all__ = ["ConcretizationError", "ForeignValueError", "TracingError", "UnsupportedOperationError"]
