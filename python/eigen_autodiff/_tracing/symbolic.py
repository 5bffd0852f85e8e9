"""The symbolic values an activation receives while it is traced, and the graph they record.

Every operation on a :class:`TracedValue` (an operator, a NumPy ufunc, a function of
``eigen_autodiff``) adds a node to the trace's :class:`Graph` instead of computing anything; the
graph is compiled into a ``TracedProgram`` that C++ evaluates per element (see ``_trace``). No
arithmetic happens here: the numbers are computed in C++ only.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn, Union

import numpy as np

from .._native import _core
from .errors import ConcretizationError, ForeignValueError, TracingError, UnsupportedOperationError

# The lanes of the program (see cpp/include/eigen_autodiff/traced/program.hpp): "ad" values
# carry derivatives; "value" values are the plain numbers a custom derivative's functions see.
AD = "ad"
VALUE = "value"

# The C++ table of operations (_core.OPERATIONS) by name: the one place operations are declared.
OPERATIONS: dict[str, _core.Operation] = {op.name: op for op in _core.OPERATIONS}
Handler = Callable[..., Union["TracedValue", "TracedCondition"]]
# a (op) b == b (flipped op) a
_FLIPPED = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}


def supported() -> str:
    """What a traced activation may do, for error messages."""
    from .primitives import __all__ as functions

    return (
        "operators + - * / on traced values and constants, ** with a constant exponent or a "
        "constant base, unary - and +, abs(); comparisons < <= > >= == != (conditions for "
        "ead.where, combined with & | ~); the functions "
        + ", ".join(f"ead.{name}" for name in [*functions, "custom_derivative"])
        + "; the NumPy ufuncs "
        + ", ".join(f"numpy.{name}" for name in _UFUNCS)
        + "; and "
        + ", ".join(f"numpy.{f.__name__}" for f in _ARRAY_FUNCTIONS)
    )


def unsupported(what: str) -> NoReturn:
    """Raises the TypeError for an operation tracing does not know."""
    raise UnsupportedOperationError(
        f"{what} is not supported in a traced activation. Supported: {supported()}."
    )


class Node(NamedTuple):
    """One recorded operation: its name, lane, operand nodes and constant."""

    op: str
    lane: str
    operands: tuple[int, ...]
    constant: float


class Graph:
    """The operations recorded while one activation is traced, in the order they were made.

    Node 0 is the input x. Identical operations are recorded once (common subexpressions are
    shared), so the program computes each of them once per element.
    """

    INPUT = 0

    def __init__(self) -> None:
        self.nodes: list[Node] = [Node("input", AD, (), 0.0)]
        self._index: dict[tuple[str, str, tuple[int, ...], bytes], int] = {}

    def add(self, op: str, lane: str, operands: tuple[int, ...] = (), constant: float = 0.0) -> int:
        """The node of ``op`` applied to ``operands``, recorded unless it already was."""
        # The constant's bits, so that 0.0 and -0.0 (equal, but not the same function) differ.
        key = (op, lane, operands, struct.pack("<d", constant))
        node = self._index.get(key)
        if node is None:
            node = len(self.nodes)
            self.nodes.append(Node(op, lane, operands, constant))
            self._index[key] = node
        return node


def as_constant(value: object) -> float | None:
    """``value`` as a float when it is a real number (a 0-d array counts), else None."""
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "biuf":
        return float(value)
    return None


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:80]


def operand_node(value: object, graph: Graph, lane: str, what: str) -> int:
    """The node of ``value`` as an operand in ``graph``'s ``lane``.

    A traced value of this trace and lane is its own node; a real number becomes a constant
    node. Anything else (a value of another trace or lane, a condition, an array) is an error
    naming ``what``: the one place such operands are checked.
    """
    if isinstance(value, TracedValue):
        if value.graph is not graph:
            raise ForeignValueError(f"{what}: a value from another trace (traced in another call)")
        if value.lane != lane:
            raise ForeignValueError(
                f"{what}: a custom derivative's functions see only their own argument; they "
                "cannot use a value traced outside them (a closure over the activation's input)"
            )
        return value.node
    return constant_node(graph, lane, constant_operand(value, what))


def constant_operand(value: object, what: str) -> float:
    """``value``, which is not traced, as the constant operand of ``what``."""
    if isinstance(value, TracedCondition):
        raise TracingError(
            f"{what} is a condition; conditions only choose, in ead.where(condition, a, b), "
            "e.g. ead.where(x > 0, 1.0, 0.0)"
        )
    constant = as_constant(value)
    if constant is None:
        raise TracingError(
            f"{what} must be a traced value computed from the activation's argument or a real "
            f"number (a constant), got {_describe(value)}; activations are elementwise, so "
            "constants are scalars"
        )
    return constant


_BOOL_MESSAGE = (
    "the truth value of a traced value is not known while the activation is traced, so Python "
    "control flow (if, while, and, or, not, min(), max()) cannot depend on it. Choose with "
    "ead.where(condition, a, b), e.g. `if x > 0: return x; return 0.1 * x` becomes "
    "`return ead.where(x > 0, x, 0.1 * x)`; combine conditions with & | ~; use ead.maximum and "
    "ead.minimum for max() and min()"
)

_NUMBER_MESSAGE = (
    "a traced value is not a number yet: float(), int() and the math module's functions need "
    "one. Use the functions of eigen_autodiff (ead.sin, ead.exp, ...) or NumPy ufuncs (np.sin, "
    "np.exp, ...), which record the operation"
)


class _Traced:
    """What traced values and conditions share: a graph, a node, a lane, and NumPy's protocols."""

    __slots__ = ("__weakref__", "graph", "lane", "node")

    def __init__(self, graph: Graph, node: int, lane: str) -> None:
        self.graph = graph
        self.node = node
        self.lane = lane

    def __bool__(self) -> bool:
        raise ConcretizationError(_BOOL_MESSAGE)

    def __array__(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise ConcretizationError(
            "a traced value cannot become a NumPy array: the activation receives one element at "
            "a time. Apply NumPy ufuncs to it directly (np.sin(x)); numpy.where and numpy.clip "
            "work too"
        )

    def __array_ufunc__(
        self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any
    ) -> TracedValue | TracedCondition:
        name = f"numpy.{ufunc.__name__}"
        if method != "__call__":
            unsupported(f"{name}.{method}")
        if kwargs:
            unsupported(f"{name} with keyword arguments ({', '.join(sorted(kwargs))})")
        handler = _UFUNCS.get(ufunc.__name__)
        if handler is None:
            unsupported(name)
        return handler(*inputs)

    def __array_function__(
        self,
        func: Callable[..., Any],
        types: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        handler = _ARRAY_FUNCTIONS.get(func)
        if handler is None:
            unsupported(f"numpy.{getattr(func, '__name__', func)}")
        return handler(*args, **kwargs)


class TracedValue(_Traced):
    """The symbolic value an activation receives while it is traced.

    Operators, comparisons, NumPy ufuncs and the functions of ``eigen_autodiff`` applied to it
    record operations; the activation's result is compiled into a program that C++ evaluates
    per element on ``AutoDiffScalar``. Python control flow on it raises TypeError: use
    :func:`eigen_autodiff.where`.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> def swish(x: ead.TracedValue) -> ead.TracedValue:
        ...     return x * ead.sigmoid(x)
        >>> value, slope = ead.derivative(swish, 0.0)
        >>> float(value), float(slope)
        (0.0, 0.5)

    """

    __slots__ = ()

    def __repr__(self) -> str:
        node = self.graph.nodes[self.node]
        return f"<TracedValue {node.op} ({self.lane} lane, node {self.node})>"

    __hash__ = _Traced.__hash__

    def __add__(self, other: object) -> TracedValue:
        return arithmetic("add", self, other)

    def __radd__(self, other: object) -> TracedValue:
        return arithmetic("add", other, self)

    def __sub__(self, other: object) -> TracedValue:
        return arithmetic("sub", self, other)

    def __rsub__(self, other: object) -> TracedValue:
        return arithmetic("sub", other, self)

    def __mul__(self, other: object) -> TracedValue:
        return arithmetic("mul", self, other)

    def __rmul__(self, other: object) -> TracedValue:
        return arithmetic("mul", other, self)

    def __truediv__(self, other: object) -> TracedValue:
        return arithmetic("div", self, other)

    def __rtruediv__(self, other: object) -> TracedValue:
        return arithmetic("div", other, self)

    def __pow__(self, other: object) -> TracedValue:
        return arithmetic("pow", self, other)

    def __rpow__(self, other: object) -> TracedValue:
        return arithmetic("pow", other, self)

    def __neg__(self) -> TracedValue:
        return unary("neg", self)

    def __pos__(self) -> TracedValue:
        return self

    def __abs__(self) -> TracedValue:
        return unary("abs", self)

    def clip(self, min: object = None, max: object = None) -> TracedValue:
        """``maximum(minimum(x, max), min)``, like ``numpy.ndarray.clip``."""
        clipped: TracedValue = _clip(self, min, max)
        return clipped

    def __lt__(self, other: object) -> TracedCondition:
        return compare("lt", self, other)

    def __le__(self, other: object) -> TracedCondition:
        return compare("le", self, other)

    def __gt__(self, other: object) -> TracedCondition:
        return compare("gt", self, other)

    def __ge__(self, other: object) -> TracedCondition:
        return compare("ge", self, other)

    def __eq__(self, other: object) -> TracedCondition:  # type: ignore[override]
        return compare("eq", self, other)

    def __ne__(self, other: object) -> TracedCondition:  # type: ignore[override]
        return compare("ne", self, other)

    def __float__(self) -> NoReturn:
        raise ConcretizationError(_NUMBER_MESSAGE)

    __int__ = __index__ = __complex__ = __float__

    def __mod__(self, other: object) -> NoReturn:
        unsupported("the operator %")

    __rmod__ = __mod__

    def __floordiv__(self, other: object) -> NoReturn:
        unsupported("the operator //")

    __rfloordiv__ = __floordiv__

    def __divmod__(self, other: object) -> NoReturn:
        unsupported("divmod()")

    __rdivmod__ = __divmod__

    def __matmul__(self, other: object) -> NoReturn:
        unsupported("the operator @")

    __rmatmul__ = __matmul__

    def __round__(self, ndigits: int | None = None) -> NoReturn:
        unsupported("round()")

    def __floor__(self) -> NoReturn:
        unsupported("math.floor()")

    def __ceil__(self) -> NoReturn:
        unsupported("math.ceil()")

    def __trunc__(self) -> NoReturn:
        unsupported("math.trunc()")

    def __and__(self, other: object) -> NoReturn:
        unsupported("the operator & on a value (it combines conditions)")

    __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __and__

    def __invert__(self) -> NoReturn:
        unsupported("the operator ~ on a value (it negates a condition)")


class TracedCondition(_Traced):
    """A comparison of traced values, for :func:`eigen_autodiff.where`; combine with & | ~.

    Its lane is the lane of the values compared, so that a choice between constants is made
    where the compared values live.

    Example:
        >>> import eigen_autodiff as ead
        >>> def window(x):
        ...     inside = (x > 0) & (x < 1)  # a TracedCondition while traced
        ...     return ead.where(inside, x, 0.0)
        >>> print(ead.trace(window))
        TracedProgram 'window':
        c0 = gt_const a0, 0
        c1 = lt_const a0, 1
        c2 = logical_and c0, c1
        a1 = constant 0
        a2 = select a0, a1, c2
        return a2
        >>> print(window(0.5), window(2.0))  # on numbers it computes directly
        0.5 0.0
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<TracedCondition {self.graph.nodes[self.node].op} (node {self.node})>"

    def _logical(self, op: str, other: object) -> TracedCondition:
        if not isinstance(other, TracedCondition):
            operator = "&" if op == "logical_and" else "|"
            raise TracingError(
                f"the operator {operator} combines conditions (comparisons of traced values), "
                f"got {_describe(other)}"
            )
        if other.graph is not self.graph:
            raise ForeignValueError("the conditions come from different traces")
        return TracedCondition(
            self.graph, self.graph.add(op, self.lane, (self.node, other.node)), self.lane
        )

    def __and__(self, other: object) -> TracedCondition:
        return self._logical("logical_and", other)

    __rand__ = __and__

    def __or__(self, other: object) -> TracedCondition:
        return self._logical("logical_or", other)

    __ror__ = __or__

    def __invert__(self) -> TracedCondition:
        return TracedCondition(
            self.graph, self.graph.add("logical_not", self.lane, (self.node,)), self.lane
        )


def unary(op: str, x: TracedValue) -> TracedValue:
    """``op(x)`` recorded."""
    return TracedValue(x.graph, x.graph.add(op, x.lane, (x.node,)), x.lane)


def constant_node(graph: Graph, lane: str, value: float) -> int:
    """The node of a constant in ``lane`` (with zero derivatives in the ad lane)."""
    return graph.add("constant", lane, (), value)


_CONSTANT_SECOND = {"add": "add_const", "mul": "mul_const", "div": "div_const", "pow": "pow_const"}
_CONSTANT_FIRST = {"add": "add_const", "mul": "mul_const", "sub": "const_sub", "div": "const_div"}
_OPERATOR = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}


def arithmetic(op: str, a: object, b: object) -> TracedValue:
    """``a (op) b`` recorded, for op in add, sub, mul, div, pow; one of a, b is traced."""
    what = f"the operator {_OPERATOR[op]}"
    traced = a if isinstance(a, TracedValue) else b
    if not isinstance(traced, TracedValue):
        constant_operand(a, what)  # a condition: raises
        constant_operand(b, what)
        raise TracingError(f"{what}: neither operand is traced")  # pragma: no cover
    graph, lane = traced.graph, traced.lane
    if isinstance(a, TracedValue) and isinstance(b, TracedValue):
        if op == "pow":
            raise UnsupportedOperationError(
                "x ** y with a traced exponent is not supported: ** needs a constant exponent "
                "(x ** 2) or a constant base (2 ** x); write ead.exp(y * ead.log(x)) instead"
            )
        nodes = (a.node, operand_node(b, graph, lane, what))
        return TracedValue(graph, graph.add(op, lane, nodes), lane)
    k = constant_operand(b if traced is a else a, what)
    if traced is a:
        if op == "sub":
            # x - k is x + (-k) exactly in IEEE arithmetic.
            return TracedValue(graph, graph.add("add_const", lane, (a.node,), -k), lane)
        return TracedValue(graph, graph.add(_CONSTANT_SECOND[op], lane, (a.node,), k), lane)
    name = "const_pow" if op == "pow" else _CONSTANT_FIRST[op]
    return TracedValue(graph, graph.add(name, lane, (traced.node,), k), lane)


def compare(op: str, a: object, b: object) -> TracedCondition:
    """The condition ``a (op) b`` for op in lt, le, gt, ge, eq, ne; one of a, b is traced."""
    if not isinstance(a, TracedValue):
        a, b, op = b, a, _FLIPPED[op]
    if not isinstance(a, TracedValue):
        unsupported("a comparison of conditions")
    graph, lane = a.graph, a.lane
    if isinstance(b, TracedValue):
        b_node = operand_node(b, graph, lane, "a comparison")
        if op in ("gt", "ge"):
            node = graph.add(_FLIPPED[op], lane, (b_node, a.node))
        else:
            node = graph.add(op, lane, (a.node, b_node))
    else:
        k = constant_operand(b, "a comparison")
        node = graph.add(f"{op}_const", lane, (a.node,), k)
    return TracedCondition(graph, node, lane)


def extremum(op: str, a: object, b: object) -> TracedValue:
    """``maximum(a, b)`` or ``minimum(a, b)`` recorded; one of a, b is traced."""
    traced = a if isinstance(a, TracedValue) else b
    assert isinstance(traced, TracedValue)
    graph, lane = traced.graph, traced.lane
    nodes = (operand_node(a, graph, lane, op), operand_node(b, graph, lane, op))
    return TracedValue(graph, graph.add(op, lane, nodes), lane)


def select(condition: TracedCondition, a: object, b: object) -> TracedValue:
    """``where(condition, a, b)`` recorded, in the lane of its traced branches."""
    traced = [v for v in (a, b) if isinstance(v, TracedValue)]
    lane = traced[0].lane if traced else condition.lane
    graph = condition.graph
    nodes = (
        operand_node(a, graph, lane, "ead.where"),
        operand_node(b, graph, lane, "ead.where"),
        condition.node,
    )
    return TracedValue(graph, graph.add("select", lane, nodes), lane)


def where(condition: object, a: object, b: object) -> Any:
    """Traced ``where``: ``a`` where the condition holds, else ``b``, one element at a time."""
    if isinstance(condition, TracedCondition):
        return select(condition, a, b)
    if isinstance(condition, (bool, np.bool_)):
        return a if condition else b
    raise TracingError(
        "ead.where's condition must be a comparison of traced values (x > 0) or a bool, got "
        f"{_describe(condition)}"
    )


def _ufunc_unary(op: str) -> Callable[..., TracedValue]:
    def handler(x: Any) -> TracedValue:
        if not isinstance(x, TracedValue):
            unsupported(f"numpy ufunc {op} on {_describe(x)}")
        return unary(op, x)

    return handler


def _ufunc_logical(op: str) -> Callable[..., TracedCondition]:
    def handler(a: Any, b: Any = None) -> TracedCondition:
        if not isinstance(a, TracedCondition):
            unsupported(f"numpy.{op} on {_describe(a)}")
        return ~a if b is None else a._logical(op, b)

    return handler


def _ufunc_binary(op: str) -> Handler:
    # Arithmetic has forms with a constant operand (add_const, const_sub, ...); maximum and
    # minimum record constants as nodes.
    if any(name in OPERATIONS for name in (f"{op}_const", f"const_{op}")):
        return lambda a, b: arithmetic(op, a, b)
    return lambda a, b: extremum(op, a, b)


def _ufunc_handler(op: _core.Operation) -> Handler:
    """How the NumPy ufunc ``op.numpy`` is recorded, from the operation's signature."""
    if op.result == "condition" and op.operands[0] == "condition":
        return _ufunc_logical(op.name)
    if op.result == "condition":
        return lambda a, b: compare(op.name, a, b)
    if op.arity == 1:
        return _ufunc_unary(op.name)
    return _ufunc_binary(op.name)


def _square(x: Any) -> TracedValue:
    return arithmetic("mul", x, x)


def _clip(a: Any, a_min: Any = None, a_max: Any = None, **kwargs: Any) -> Any:
    # NumPy 2 also spells the bounds min= and max=.
    a_min = kwargs.pop("min", a_min)
    a_max = kwargs.pop("max", a_max)
    if kwargs:
        unsupported(f"numpy.clip with keyword arguments ({', '.join(sorted(kwargs))})")
    if a_min is not None:
        a = extremum("maximum", a, a_min)
    if a_max is not None:
        a = extremum("minimum", a, a_max)
    return a


def _where(condition: Any, x: Any = None, y: Any = None, **kwargs: Any) -> Any:
    if x is None or y is None or kwargs:
        unsupported("numpy.where with one argument")
    return where(condition, x, y)


# NumPy ufuncs by name: those of the C++ table, and the ones written with its operations.
_UFUNCS: dict[str, Handler] = {
    **{op.numpy: _ufunc_handler(op) for op in OPERATIONS.values() if op.numpy},
    "positive": lambda x: x,
    "square": _square,
    "reciprocal": lambda x: arithmetic("div", 1.0, x),
    "power": lambda a, b: arithmetic("pow", a, b),
    "greater": lambda a, b: compare("gt", a, b),
    "greater_equal": lambda a, b: compare("ge", a, b),
}


_ARRAY_FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.where: _where,
    np.clip: _clip,
}


__all__ = ["TracedCondition", "TracedValue"]
