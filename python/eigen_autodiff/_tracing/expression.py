"""Activations written as text, e.g. ``"1/exp(x)"``, parsed safely into a traceable callable.

Only arithmetic, comparisons inside ``where``, numbers, the variable ``x`` and the library's
primitives are accepted: the text is parsed with :mod:`ast` and never evaluated as Python.
Arithmetic on constants is folded in float64 and refused when it leaves float64's range, so that
no input (``9**9**9``, ``1/0``, a 5000-digit number) can run for long or escape as a traceback.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from . import primitives as _primitives
from .trace import trace

# Every primitive an activation may use, and nothing else.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    name: getattr(_primitives, name) for name in _primitives.__all__
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
# Python's parser and this evaluator recurse once per nesting level: beyond these sizes they
# would exhaust the stack or memory (RecursionError, MemoryError) instead of answering.
MAX_LENGTH = 10_000
MAX_DEPTH = 200


class ExpressionError(ValueError):
    """The text is not an activation this parser accepts."""


def _shown(text: str, limit: int = 60) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _folded(value: Any, what: str) -> float:
    """A constant result, checked to be a finite real float64."""
    if isinstance(value, complex) or np.iscomplexobj(value):
        raise ExpressionError(f"the constant {what} is not a real number")
    number = float(value)
    if not math.isfinite(number):
        raise ExpressionError(
            f"the constant {what} = {number} is outside float64's range: use smaller constants"
        )
    return number


def _constant_arithmetic(node: ast.BinOp, left: float, right: float) -> float:
    shown = [f"({v:g})" if v < 0 else f"{v:g}" for v in (left, right)]
    what = f"{shown[0]} {_SYMBOL[type(node.op)]} {shown[1]}"
    try:
        result = _BINARY[type(node.op)](left, right)
    except ZeroDivisionError:
        raise ExpressionError(f"the constant {what} divides by zero") from None
    except OverflowError:
        raise ExpressionError(
            f"the constant {what} is outside float64's range: use smaller constants"
        ) from None
    return _folded(result, what)


def _is_constant(value: Any) -> bool:
    return isinstance(value, float)


def _evaluate(node: ast.AST, x: Any, source: str, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise ExpressionError(f"the expression is nested more than {MAX_DEPTH} levels deep")
    depth += 1
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, x, source, depth)
    literal = node.value if isinstance(node, ast.Constant) else None
    if isinstance(literal, (int, float)) and not isinstance(literal, bool):
        number = _shown(ast.get_source_segment(source, node) or str(literal), 30)
        try:
            value = float(literal)
        except OverflowError:  # an integer beyond float64
            value = math.inf
        if not math.isfinite(value):
            raise ExpressionError(f"the number {number} is outside float64's range")
        return value
    if isinstance(node, ast.Name):
        if node.id == "x":
            return x
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ExpressionError(f"unknown name {node.id!r}: use x, {', '.join(CONSTANTS)}")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = (
            _evaluate(node.left, x, source, depth),
            _evaluate(node.right, x, source, depth),
        )
        if _is_constant(left) and _is_constant(right):
            return _constant_arithmetic(node, left, right)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _evaluate(node.operand, x, source, depth)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        left, right = (
            _evaluate(node.left, x, source, depth),
            _evaluate(node.comparators[0], x, source, depth),
        )
        return _COMPARE[type(node.ops[0])](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        function = FUNCTIONS.get(node.func.id)
        if function is None:
            raise ExpressionError(
                f"unknown function {node.func.id!r}; available: {', '.join(sorted(FUNCTIONS))}"
            )
        arguments = [_evaluate(argument, x, source, depth) for argument in node.args]
        try:
            result = function(*arguments)
        except TypeError as error:  # a wrong number of arguments, a condition as a value, ...
            raise ExpressionError(f"{node.func.id}(...): {error}") from None
        if all(_is_constant(argument) for argument in arguments):
            return _folded(result, _shown(ast.unparse(node), 40))
        return result
    raise ExpressionError(
        f"{_shown(ast.unparse(node))} is not allowed: write arithmetic (+ - * / **) on x and "
        f"numbers, and the functions {', '.join(sorted(FUNCTIONS))}"
    )


def parse_activation(text: str) -> Callable[[Any], Any]:
    """A callable computing the expression in ``x``, for ``diagnose`` and the command line.

    Raises :class:`ExpressionError` (a ValueError) naming the problem for anything that is not
    such an expression, including constants beyond float64 (``10.0**400``) and divisions by zero.

    Example:
        >>> from eigen_autodiff._tracing.expression import parse_activation
        >>> import eigen_autodiff as ead
        >>> f = parse_activation("1/exp(x)")
        >>> float(ead.derivative(f, 0.0)[1])
        -1.0
        >>> parse_activation("9**9**9")
        Traceback (most recent call last):
        ...
        eigen_autodiff._tracing.expression.ExpressionError: the constant 9 ** 3.8742e+08 is outside float64's range: use smaller constants

    """  # noqa: E501
    source = text.strip()
    if len(source) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(source)} characters long; at most {MAX_LENGTH} are accepted"
        )
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"cannot parse {_shown(source)}: {error.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(
            f"cannot parse {_shown(source)}: the expression is nested too deeply"
        ) from None

    def activation(x: Any) -> Any:
        return _evaluate(tree, x, source)

    activation.__name__ = source
    activation.__qualname__ = source
    # Reject unknown names, constructs and constants now, not at the first call: tracing walks
    # the whole expression on a symbolic value, computing only the constants.
    try:
        trace(activation)
    except ExpressionError:
        raise
    except (TypeError, ValueError, ArithmeticError, RecursionError, MemoryError) as error:
        raise ExpressionError(f"{_shown(source)}: {error}") from None
    return activation
