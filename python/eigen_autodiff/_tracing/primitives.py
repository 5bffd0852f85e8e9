"""The functions activations are written with: ``ead.sin(x)``, ``ead.where(x > 0, x, 0)``, ...

On the symbolic value a traced activation receives they record the operation; C++ evaluates
it per element with its derivative. On numbers and arrays they compute right away, so an
activation can be tried on data too: the one-argument functions run the same C++ code as in a
traced activation, and ``maximum``, ``minimum``, ``pow`` and ``where`` are NumPy's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._arrays import as_float_arrays
from .._native import _core
from .errors import TracingError
from .symbolic import OPERATIONS, TracedCondition, TracedValue, arithmetic, extremum, unary
from .symbolic import where as _traced_where

_single_op_programs: dict[str, _core.TracedProgram] = {}


def _apply(op: str, x: Any) -> Any:
    if isinstance(x, TracedValue):
        return unary(op, x)
    if isinstance(x, TracedCondition):
        raise TracingError(f"ead.{op} of a condition: conditions only choose, in ead.where")
    program = _single_op_programs.get(op)
    if program is None:
        program = _core.TracedProgram.from_graph([(op, "ad", (0,), 0.0)], 1, op)
        _single_op_programs[op] = program
    (array,) = as_float_arrays(x=x)
    value, _ = _core.activation_value_and_derivative(program, array)
    return value[()] if array.ndim == 0 else value


def _any_traced(*values: object) -> bool:
    if any(isinstance(v, TracedValue) for v in values):
        return True
    if any(isinstance(v, TracedCondition) for v in values):
        raise TracingError("conditions only choose, in ead.where(condition, a, b)")
    return False


def _function(op: str) -> Callable[[Any], Any]:
    """``ead.<op>``: records the operation ``op`` on a traced value, computes it on numbers."""

    def function(x: Any) -> Any:
        return _apply(op, x)

    doc = OPERATIONS[op].doc
    function.__name__ = function.__qualname__ = op
    function.__doc__ = f"""{doc[0].upper()}{doc[1:]}.

    Example (its AD derivative agrees with finite differences):
        >>> import eigen_autodiff as ead
        >>> ead.check_grad(ead.{op}, [0.5, 2.0]).passed
        True

    """
    return function


# The C++ table's functions of one argument, in its order; each name is written out so that type
# checkers see it.
sin = _function("sin")
cos = _function("cos")
tan = _function("tan")
exp = _function("exp")
log = _function("log")
sqrt = _function("sqrt")
tanh = _function("tanh")
sinh = _function("sinh")
cosh = _function("cosh")
abs = _function("abs")
sigmoid = _function("sigmoid")
softplus = _function("softplus")
log1p = _function("log1p")
expm1 = _function("expm1")
atan = _function("atan")
erf = _function("erf")


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
    "atan",
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
