"""Tracing: a Python activation, called once with a symbolic value, becomes a C++ program.

The recorded single-assignment graph is handed to C++ (``TracedProgram.from_graph``), which
compiles it into instructions over registers. The program is cached per callable: tracing is
paid once.
"""

from __future__ import annotations

import types
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .._arrays import framework_hint
from .._native import _core
from .errors import TracingError
from .symbolic import AD, Graph, TracedValue, operand_node, unsupported

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
    from .custom_derivative import CustomDerivative

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


def _framework_called(error: BaseException) -> str:
    """The hint for the framework (torch, jax, ...) that rejected a traced value, or ""."""
    frame = error.__traceback__
    while frame is not None:
        hint = framework_hint(frame.tb_frame.f_globals.get("__name__", ""))
        if hint:
            return hint
        frame = frame.tb_next
    if "TracedValue" in str(error) and not isinstance(error, TracingError):
        # A library that hides its own frames (JAX does) rejected the value.
        return (
            "inside a framework use eigen_autodiff.torch, eigen_autodiff.jax or "
            "eigen_autodiff.keras"
        )
    return ""


def _name_of(activation: object) -> str:
    name = getattr(activation, "__name__", None)
    return str(name) if name else type(activation).__name__


def _trace_uncached(activation: Callable[[Any], Any]) -> _core.TracedProgram:
    name = _name_of(activation)
    graph = Graph()
    try:
        result = activation(TracedValue(graph, Graph.INPUT, AD))
    except Exception as error:
        hint = _framework_called(error)
        if not hint:
            raise
        reason = str(error).splitlines()[0] if str(error) else ""
        raise TracingError(
            f"activation {name!r} called a deep-learning framework's function on the traced "
            f"value ({type(error).__name__}: {reason}). Activations are traced through "
            f"NumPy-like calls: write np.sin(x) or ead.sin(x) instead of torch.sin or jnp.sin; "
            f"{hint}"
        ) from error
    output = operand_node(result, graph, AD, f"the result of activation {name!r}")
    # Node 0 is x; C++ numbers the graph's nodes the same way, allocates the registers and
    # drops what the output does not depend on.
    return _core.TracedProgram.from_graph(graph.nodes[1:], output, name)


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


__all__ = ["trace"]
