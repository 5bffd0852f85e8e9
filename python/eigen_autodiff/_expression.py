"""Activations written as text, e.g. ``"1/exp(x)"``, parsed safely into a traceable callable.

Only arithmetic, comparisons inside ``where``, numbers, the variable ``x`` and the library's
primitives are accepted: the text is parsed with :mod:`ast` and never evaluated as Python.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from . import _primitives
from ._trace import trace

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
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ExpressionError(ValueError):
    """The text is not an activation this parser accepts."""


def _evaluate(node: ast.AST, x: Any) -> Any:
    if isinstance(node, ast.Expression):
        return _evaluate(node.body, x)
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.Name):
        if node.id == "x":
            return x
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise ExpressionError(f"unknown name {node.id!r}: use x, {', '.join(CONSTANTS)}")
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_evaluate(node.left, x), _evaluate(node.right, x))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _evaluate(node.operand, x)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        left, right = _evaluate(node.left, x), _evaluate(node.comparators[0], x)
        return _COMPARE[type(node.ops[0])](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        function = FUNCTIONS.get(node.func.id)
        if function is None:
            raise ExpressionError(
                f"unknown function {node.func.id!r}; available: {', '.join(sorted(FUNCTIONS))}"
            )
        return function(*(_evaluate(argument, x) for argument in node.args))
    raise ExpressionError(
        f"{ast.unparse(node)!r} is not allowed: write arithmetic (+ - * / **) on x and numbers, "
        f"and the functions {', '.join(sorted(FUNCTIONS))}"
    )


def parse_activation(text: str) -> Callable[[Any], Any]:
    """A callable computing the expression in ``x``, for ``diagnose`` and the command line.

    Example:
        >>> from eigen_autodiff._expression import parse_activation
        >>> import eigen_autodiff as ead
        >>> f = parse_activation("1/exp(x)")
        >>> float(ead.derivative(f, 0.0)[1])
        -1.0

    """
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"cannot parse {text!r}: {error.msg}") from None

    def activation(x: Any) -> Any:
        return _evaluate(tree, x)

    activation.__name__ = text.strip()
    activation.__qualname__ = text.strip()
    # Reject unknown names and constructs now, not at the first call: tracing walks the whole
    # expression on a symbolic value, computing nothing.
    trace(activation)
    return activation
