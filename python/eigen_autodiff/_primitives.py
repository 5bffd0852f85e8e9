"""The functions activations are written with: ``ead.sin(x)``, ``ead.where(x > 0, x, 0)``, ...

On the symbolic value a traced activation receives they record the operation; C++ evaluates
it per element with its derivative. On numbers and arrays they compute right away, so an
activation can be tried on data too: the one-argument functions run the same C++ code as in a
traced activation, and ``maximum``, ``minimum``, ``pow`` and ``where`` are NumPy's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._arrays import as_float_arrays
from ._native import _core
from ._symbolic import TracedCondition, TracedValue, arithmetic, extremum, unary
from ._symbolic import where as _traced_where

_single_op_programs: dict[str, _core.TracedProgram] = {}


def _apply(op: str, x: Any) -> Any:
    if isinstance(x, TracedValue):
        return unary(op, x)
    if isinstance(x, TracedCondition):
        raise TypeError(f"ead.{op} of a condition: conditions only choose, in ead.where")
    program = _single_op_programs.get(op)
    if program is None:
        program = _core.TracedProgram([(op, "ad", 1, 0, 0, 0, 0.0)], 1, op)
        _single_op_programs[op] = program
    (array,) = as_float_arrays(x=x)
    value, _ = _core.activation_value_and_derivative(program, array)
    return value[()] if array.ndim == 0 else value


def _any_traced(*values: object) -> bool:
    if any(isinstance(v, TracedValue) for v in values):
        return True
    if any(isinstance(v, TracedCondition) for v in values):
        raise TypeError("conditions only choose, in ead.where(condition, a, b)")
    return False


def sin(x: Any) -> Any:
    """Sine.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.sin, 0.0)]
        [0.0, 1.0]

    """
    return _apply("sin", x)


def cos(x: Any) -> Any:
    """Cosine.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(lambda x: ead.cos(x) ** 2, 0.0)]
        [1.0, -0.0]

    """
    return _apply("cos", x)


def tan(x: Any) -> Any:
    """Tangent; its derivative is ``1 / cos(x)**2``.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.tan, 0.0)]
        [0.0, 1.0]

    """
    return _apply("tan", x)


def exp(x: Any) -> Any:
    """Exponential.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(lambda x: ead.exp(2 * x), 0.0)]
        [1.0, 2.0]

    """
    return _apply("exp", x)


def log(x: Any) -> Any:
    """Natural logarithm.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.log, 1.0)]
        [0.0, 1.0]

    """
    return _apply("log", x)


def sqrt(x: Any) -> Any:
    """Square root, whose derivative is infinite at 0.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.sqrt, 4.0)]
        [2.0, 0.25]

    """
    return _apply("sqrt", x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.tanh, 0.0)]
        [0.0, 1.0]

    """
    return _apply("tanh", x)


def sinh(x: Any) -> Any:
    """Hyperbolic sine.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.sinh, 0.0)]
        [0.0, 1.0]

    """
    return _apply("sinh", x)


def cosh(x: Any) -> Any:
    """Hyperbolic cosine.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.cosh, 0.0)]
        [1.0, 0.0]

    """
    return _apply("cosh", x)


def abs(x: Any) -> Any:
    """Absolute value; ``abs'(0) = 1`` (Eigen's convention). Python's ``abs(x)`` is the same.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.abs, -2.0)]
        [2.0, -1.0]

    """
    return _apply("abs", x)


def sigmoid(x: Any) -> Any:
    """``1 / (1 + exp(-x))`` without overflow: the built-in activation "sigmoid".

    Example:
        >>> import eigen_autodiff as ead
        >>> [round(float(v), 5) for v in ead.derivative(ead.sigmoid, 2.0)]
        [0.8808, 0.10499]

    """
    return _apply("sigmoid", x)


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))`` without overflow: the built-in activation "softplus".

    Example:
        >>> import eigen_autodiff as ead
        >>> [round(float(v), 6) for v in ead.derivative(ead.softplus, 0.0)]
        [0.693147, 0.5]

    """
    return _apply("softplus", x)


def log1p(x: Any) -> Any:
    """``log(1 + x)``, accurate for small ``x``.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.log1p, 0.0)]
        [0.0, 1.0]

    """
    return _apply("log1p", x)


def expm1(x: Any) -> Any:
    """``exp(x) - 1``, accurate for small ``x``.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(ead.expm1, 0.0)]
        [0.0, 1.0]

    """
    return _apply("expm1", x)


def erf(x: Any) -> Any:
    """The error function; its derivative is ``2 / sqrt(pi) * exp(-x**2)``.

    Example:
        >>> import eigen_autodiff as ead
        >>> gelu = lambda x: 0.5 * x * (1 + ead.erf(x / 2**0.5))
        >>> [float(v) for v in ead.derivative(gelu, 0.0)]
        [0.0, 0.5]

    """
    return _apply("erf", x)


def maximum(a: Any, b: Any) -> Any:
    """The larger of ``a`` and ``b``, like ``numpy.maximum`` (NaN propagates).

    It is ``where(a > b, a, b)``: at a tie the derivative is ``b``'s, so ``maximum(x, 0)`` has
    relu's derivative 0 at 0.

    Example:
        >>> import eigen_autodiff as ead
        >>> leaky = lambda x: ead.maximum(x, 0.1 * x)
        >>> [float(v) for v in ead.derivative(leaky, -2.0)]
        [-0.2, 0.1]

    """
    if _any_traced(a, b):
        return extremum("maximum", a, b)
    return np.maximum(a, b)


def minimum(a: Any, b: Any) -> Any:
    """The smaller of ``a`` and ``b``, like ``numpy.minimum`` (NaN propagates).

    It is ``where(a < b, a, b)``: at a tie the derivative is ``b``'s.

    Example:
        >>> import eigen_autodiff as ead
        >>> relu6 = lambda x: ead.minimum(ead.maximum(x, 0.0), 6.0)
        >>> [float(v) for v in ead.derivative(relu6, 7.0)]
        [6.0, 0.0]

    """
    if _any_traced(a, b):
        return extremum("minimum", a, b)
    return np.minimum(a, b)


def where(condition: Any, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` holds, else ``b``: the traced form of ``if``/``else``.

    The condition is a comparison of traced values (``x > 0``; combine with ``& | ~``). Both
    ``a`` and ``b`` are computed, but only the chosen one's value and derivative are kept, so a
    NaN or infinity in the other branch does not leak into the derivative. ``numpy.where`` on
    traced values does the same.

    Example:
        >>> import eigen_autodiff as ead
        >>> elu = lambda x: ead.where(x > 0, x, ead.exp(x) - 1)
        >>> [round(float(v), 6) for v in ead.derivative(elu, -1.0)]
        [-0.632121, 0.367879]

    """
    if isinstance(condition, (TracedCondition, bool, np.bool_)) or _any_traced(a, b):
        return _traced_where(condition, a, b)
    return np.where(condition, a, b)


def pow(x: Any, exponent: Any) -> Any:
    """``x ** exponent`` with a constant exponent (or a constant base), like the operator.

    Example:
        >>> import eigen_autodiff as ead
        >>> [float(v) for v in ead.derivative(lambda x: ead.pow(x, 3), 2.0)]
        [8.0, 12.0]

    """
    if _any_traced(x, exponent):
        return arithmetic("pow", x, exponent)
    return np.power(x, exponent)


__all__ = [
    "abs",
    "cos",
    "cosh",
    "erf",
    "exp",
    "expm1",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "pow",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "tan",
    "tanh",
    "where",
]
