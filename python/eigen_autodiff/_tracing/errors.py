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
    """An activation did something tracing cannot record.

    Example:
        >>> import eigen_autodiff as ead
        >>> def relu(x):
        ...     return x if x > 0 else 0 * x
        >>> try:
        ...     ead.trace(relu)
        ... except ead.TracingError as error:
        ...     print(type(error).__name__)
        ConcretizationError

    """


class ConcretizationError(TracingError):
    """A traced value was asked for a concrete number: ``if x > 0``, ``float(x)``, ``np.asarray``.

    While an activation is traced its argument has no value yet; choose with ``ead.where`` and
    compute with ``ead``'s functions or NumPy ufuncs instead.

    Example:
        >>> import eigen_autodiff as ead
        >>> def relu(x):
        ...     if x > 0:
        ...         return x
        ...     return 0 * x
        >>> ead.trace(relu)
        Traceback (most recent call last):
        ...
        eigen_autodiff._tracing.errors.ConcretizationError: the truth value of a traced value ...
        >>> print(ead.derivative(lambda x: ead.where(x > 0, x, 0), 2.0)[1])
        1.0

    """


class UnsupportedOperationError(TracingError):
    """An operation that traced activations do not support (the message lists what they do).

    Example:
        >>> import eigen_autodiff as ead
        >>> ead.trace(lambda x: x @ x)
        Traceback (most recent call last):
        ...
        eigen_autodiff._tracing.errors.UnsupportedOperationError: the operator @ is not ...

    """


class ForeignValueError(TracingError):
    """A value from another trace, or from outside a custom derivative's function, was used.

    Example:
        >>> import eigen_autodiff as ead
        >>> saved = []
        >>> def remember(x):
        ...     saved.append(x)  # the traced value outlives its trace
        ...     return x
        >>> _ = ead.trace(remember)
        >>> ead.trace(lambda x: x + saved[0])
        Traceback (most recent call last):
        ...
        eigen_autodiff._tracing.errors.ForeignValueError: the operator +: a value from another ...

    """


__all__ = ["ConcretizationError", "ForeignValueError", "TracingError", "UnsupportedOperationError"]
