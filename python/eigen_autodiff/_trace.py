"""Tracing: a Python activation, called once with a symbolic value, becomes a C++ program.

The recorded graph is compiled into a flat list of instructions over registers, reusing a
register as soon as the value it holds is no longer needed, so that C++ needs few of them (on the
stack when it evaluates one element, in the L1 cache when it evaluates a chunk). The program is
cached per callable: tracing is paid once.
"""

from __future__ import annotations

import heapq
import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from ._native import _core
from ._symbolic import (
    AD,
    Graph,
    TracedCondition,
    TracedValue,
    as_constant,
    constant_node,
    unsupported,
)

Instruction = tuple[str, str, int, int, int, int, float]

_weak_cache: weakref.WeakKeyDictionary[Any, _core.TracedProgram] = weakref.WeakKeyDictionary()
# Callables that cannot be weakly referenced (NumPy ufuncs, builtins) are few and long-lived.
_strong_cache: dict[Any, _core.TracedProgram] = {}
_STRONG_CACHE_SIZE = 256


def _cacheable(activation: object) -> bool:
    """Whether a program traced from ``activation`` may be returned again on later calls.

    Plain functions (lambdas and closures included) are cached under the documented rule: their
    code cannot change, and state they read is the caller's to keep fixed. Bound methods,
    ``functools.partial`` objects and callable instances carry state of their own that can change
    without the callable changing (and compare equal across such changes, which fooled an
    equality-keyed cache): they are traced on every call.
    """
    from ._custom_derivative import CustomDerivative

    if isinstance(activation, (types.FunctionType, np.ufunc)):
        return True
    if isinstance(activation, types.BuiltinFunctionType):
        # math.sin is bound to its module, which holds no state it reads; [].append is not.
        owner = getattr(activation, "__self__", None)
        return owner is None or isinstance(owner, types.ModuleType)
    if isinstance(activation, CustomDerivative):
        # Its f and df cannot be reassigned: it is as fixed as they are.
        return _cacheable(activation.f) and _cacheable(activation.df)
    return False


def _name_of(activation: object) -> str:
    name = getattr(activation, "__name__", None)
    return str(name) if name else type(activation).__name__


def _output_node(result: object, graph: Graph, name: str) -> int:
    if isinstance(result, TracedValue):
        if result.graph is not graph:
            raise TypeError(f"activation {name!r} returned a value traced in another call")
        if result.lane != AD:
            raise TypeError(
                f"activation {name!r} returned a value from inside a custom derivative's function"
            )
        return result.node
    if isinstance(result, TracedCondition):
        raise TypeError(
            f"activation {name!r} returned a condition; return a number, e.g. "
            "ead.where(x > 0, 1.0, 0.0)"
        )
    constant = as_constant(result)
    if constant is None:
        raise TypeError(
            f"activation {name!r} must return a value computed from its argument or a real "
            f"number, got {type(result).__name__}"
        )
    # A constant activation: its derivative is zero.
    return constant_node(graph, AD, constant)


def compile_graph(graph: Graph, output: int, name: str) -> _core.TracedProgram:
    """The program computing node ``output`` of ``graph``, with registers reused."""
    nodes = graph.nodes
    live = [False] * len(nodes)
    live[output] = True
    for index in range(len(nodes) - 1, -1, -1):
        if live[index]:
            for operand in nodes[index].operands:
                live[operand] = True
    last_use: dict[int, int] = {output: len(nodes)}
    for index, node in enumerate(nodes):
        if live[index]:
            for operand in node.operands:
                last_use[operand] = max(last_use.get(operand, index), index)

    free: dict[str, list[int]] = {"ad": [], "value": [], "condition": []}
    count = {"ad": 1, "value": 0, "condition": 0}  # ad register 0 holds x
    register = {Graph.INPUT: 0}
    if Graph.INPUT not in last_use:
        heapq.heappush(free["ad"], 0)
    code: list[Instruction] = []
    for index in range(1, len(nodes)):
        if not live[index]:
            continue
        node = nodes[index]
        bank = node.bank
        # The destination is chosen before the operands are released, so it never aliases one.
        if free[bank]:
            dst = heapq.heappop(free[bank])
        else:
            dst = count[bank]
            count[bank] += 1
        register[index] = dst
        operands = [register[operand] for operand in node.operands]
        a, b, c = (*operands, 0, 0, 0)[:3]
        code.append((node.op, node.lane, dst, a, b, c, node.constant))
        for operand in set(node.operands):
            if last_use[operand] == index:
                heapq.heappush(free[nodes[operand].bank], register[operand])
    return _core.TracedProgram(code, register[output], name)


def _trace_uncached(activation: Callable[[Any], Any]) -> _core.TracedProgram:
    name = _name_of(activation)
    graph = Graph()
    result = activation(TracedValue(graph, Graph.INPUT, AD))
    return compile_graph(graph, _output_node(result, graph, name), name)


def trace(activation: Callable[[Any], Any]) -> _core.TracedProgram:
    """The C++ program of a Python activation, traced once and cached per callable.

    ``activation`` is called once with a symbolic :class:`~eigen_autodiff.TracedValue`; what
    it does to it is recorded and compiled. ``str(program)`` lists the instructions. Later calls
    with the same function return the same program, so a function whose behaviour depends on
    state that changes afterwards (a global, a closure) is not traced again: pass a new function
    instead. Bound methods, ``functools.partial`` objects and callable instances, which carry
    their own state, are traced on every call, so a change of that state is always seen.

    Example:
        >>> import eigen_autodiff as ead
        >>> print(ead.trace(lambda x: x * ead.sigmoid(x)))
        TracedProgram '<lambda>':
        a1 = sigmoid a0
        a2 = mul a0, a1
        return a2

    """
    if isinstance(activation, _core.TracedProgram):
        return activation
    if not callable(activation):
        unsupported(f"tracing a {type(activation).__name__}, which is not callable,")
    if not _cacheable(activation):
        return _trace_uncached(activation)
    try:
        cached = _weak_cache.get(activation)
    except TypeError:  # not weakly referenceable, or not hashable
        cached = None
    else:
        if cached is not None:
            return cached
    try:
        cached = _strong_cache.get(activation)
    except TypeError:  # not hashable: traced on every call
        cached = None
    if cached is not None:
        return cached
    program = _trace_uncached(activation)
    try:
        _weak_cache[activation] = program
    except TypeError:
        try:
            if len(_strong_cache) >= _STRONG_CACHE_SIZE:
                _strong_cache.clear()
            _strong_cache[activation] = program
        except TypeError:
            pass
    return program
