"""Tracing: a Python activation, called once with a symbolic value, becomes a C++ program.

The recorded single-assignment graph is handed to C++ (``TracedProgram.from_graph``), which
compiles it into instructions over registers. The program is cached per callable: tracing is
paid once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from ._native import _core
from ._symbolic import AD, Graph, TracedValue, operand_node, unsupported

_weak_cache: weakref.WeakKeyDictionary[Any, _core.TracedProgram] = weakref.WeakKeyDictionary()
# Callables that cannot be weakly referenced (NumPy ufuncs, builtins) are few and long-lived.
_strong_cache: dict[Any, _core.TracedProgram] = {}
_STRONG_CACHE_SIZE = 256


def _name_of(activation: object) -> str:
    name = getattr(activation, "__name__", None)
    return str(name) if name else type(activation).__name__


def _trace_uncached(activation: Callable[[Any], Any]) -> _core.TracedProgram:
    name = _name_of(activation)
    graph = Graph()
    result = activation(TracedValue(graph, Graph.INPUT, AD))
    output = operand_node(result, graph, AD, f"the result of activation {name!r}")
    # Node 0 is x; C++ numbers the graph's nodes the same way, allocates the registers and
    # drops what the output does not depend on.
    return _core.TracedProgram.from_graph(graph.nodes[1:], output, name)


def trace(activation: Callable[[Any], Any]) -> _core.TracedProgram:
    """The C++ program of a Python activation, traced once and cached per callable.

    ``activation`` is called once with a symbolic :class:`~eigen_autodiff.TracedValue`; what
    it does to it is recorded and compiled. ``str(program)`` lists the instructions. Later calls
    with the same callable return the same program, so a callable whose behaviour depends on
    state that changes afterwards is not traced again: pass a new callable instead.

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


__all__ = ["trace"]
