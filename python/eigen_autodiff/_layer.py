"""The custom layer Y = act(X @ W) and its loss L = sum(Y**2), computed in C++."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Callable, Literal, Union

from numpy.typing import ArrayLike

from ._activation_spec import ActivationLike, activation_spec
from ._arrays import FloatArray, layer_arrays
from ._native import _core

WRT_ITEMS = ("w", "x")
Mode = Literal["reverse", "forward", "forward_dynamic"]
# mode -> the compiled function computing (L, dL/dx or None, dL/dw or None).
_VALUE_AND_GRAD = {
    "reverse": _core.layer_value_and_grad,
    "forward": _core.layer_value_and_grad_forward,
    "forward_dynamic": _core.layer_value_and_grad_forward_dynamic,
}
MODES = tuple(_VALUE_AND_GRAD)
# mode -> its name in _core.memory_estimate.
_MEMORY_REQUEST = {
    "reverse": "reverse",
    "forward": "forward_chunked",
    "forward_dynamic": "forward_dynamic",
}

Wrt = Union[str, Sequence[str]]


def forward(x: ArrayLike, w: ArrayLike, activation: ActivationLike = "sin") -> FloatArray:
    """The layer's output ``activation(x @ w)``, shape ``(batch, outputs)``.

    ``activation`` is a built-in name or a Python callable, traced into C++ (see ``ead.trace``).

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> ead.forward(np.array([[0.0, 1.0]]), np.array([[1.0], [2.0]]), "square")
        array([[4.]])
        >>> ead.forward(np.array([[0.0, 1.0]]), np.array([[1.0], [2.0]]), lambda x: x**3)
        array([[8.]])

    """
    spec = activation_spec(activation)
    x_array, w_array = layer_arrays(x, w)
    return _core.layer_forward(x_array, w_array, spec)


def parse_wrt(wrt: Wrt, allowed: Sequence[str] = WRT_ITEMS) -> tuple[str, ...]:
    """The items of ``wrt`` as a tuple; ValueError for unknown or repeated items.

    TypeError when ``wrt`` is neither a name nor a sequence of names.
    """
    try:
        # The common case, a string or tuple already seen, costs one cache lookup.
        return _parsed_wrt(wrt, allowed)
    except TypeError:  # unhashable (a list), or items that are not names
        return _parsed_wrt.__wrapped__(wrt, allowed)


@lru_cache(maxsize=64)
def _parsed_wrt(wrt: Wrt, allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(wrt, str):
        items: tuple[object, ...] = (wrt,)
    else:
        try:
            items = tuple(wrt)
        except TypeError:
            items = (wrt,)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(
            f"wrt must be a name or a sequence of names from {tuple(allowed)}, got {wrt!r}"
        )
    return _checked_items(items, tuple(allowed))


@lru_cache(maxsize=64)
def _checked_items(items: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    for item in items:
        if item not in allowed:
            raise ValueError(f"unknown wrt item {item!r}; expected items from {tuple(allowed)}")
    if len(set(items)) != len(items):
        raise ValueError(f"wrt names an item twice: {items}")
    return items


def check_mode(mode: object) -> Callable[..., tuple[float, Any, Any]]:
    """The compiled function of ``mode``; ValueError naming it for anything else."""
    compute = _VALUE_AND_GRAD.get(mode) if isinstance(mode, str) else None
    if compute is None:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    return compute


def value_and_grad(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike = "sin",
    wrt: Wrt = ("w",),
    mode: Mode = "reverse",
) -> tuple[float, tuple[FloatArray, ...]]:
    """The loss ``sum(activation(x @ w)**2)`` and its gradients w.r.t. the items of ``wrt``.

    ``activation`` is a built-in name or a Python callable, traced into C++ (see ``ead.trace``).

    ``wrt`` holds ``"w"`` and/or ``"x"``; the gradients come in that order, each shaped like its
    parameter. ``mode="reverse"`` (default) uses three contractions like a framework's backward
    pass. ``mode="forward"`` is forward-mode AD with derivatives in fixed-size chunks and seed
    compression (N/K passes of B*M AutoDiffScalars). ``mode="forward_dynamic"`` is the
    article's method, every parameter seeded in one dynamic derivative vector: exact but slow,
    kept as the baseline; its memory need is checked against ``get_memory_budget()``.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> loss, (dw,) = ead.value_and_grad(np.array([[1.0]]), np.array([[2.0]]), "square")
        >>> loss, dw
        (16.0, array([[32.]]))
        >>> ead.value_and_grad(np.array([[1.0]]), np.array([[2.0]]), lambda x: x * x)[1]
        (array([[32.]]),)

    """
    spec = activation_spec(activation)
    items = parse_wrt(wrt)
    compute = check_mode(mode)
    wrt_x, wrt_w = "x" in items, "w" in items
    x_array, w_array = layer_arrays(x, w, _MEMORY_REQUEST[mode], wrt_x, wrt_w)
    loss, dx, dw = compute(x_array, w_array, spec, wrt_x, wrt_w)
    # The C++ side returns None only for the items it was not asked for.
    return loss, tuple([dx if item == "x" else dw for item in items])


def jacobian(
    x: ArrayLike, w: ArrayLike, activation: ActivationLike = "sin", wrt: str = "w"
) -> FloatArray:
    """The Jacobian of ``Y = activation(x @ w)`` w.r.t. ``wrt`` (``"w"`` or ``"x"``).

    Shape ``Y.shape + parameter.shape``, the layout of ``jax.jacfwd``; computed by forward
    mode. Its size, ``B*M`` times the parameter's, is checked against ``get_memory_budget()``
    before anything is allocated.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> ead.jacobian(np.ones((2, 3)), np.ones((3, 4)), "identity", wrt="w").shape
        (2, 4, 3, 4)

    """
    spec = activation_spec(activation)
    if not isinstance(wrt, str) or wrt not in WRT_ITEMS:
        raise ValueError(f"unknown wrt {wrt!r}; expected one of {WRT_ITEMS}")
    x_array, w_array = layer_arrays(x, w, "jacobian_" + wrt)
    return _core.layer_jacobian(x_array, w_array, spec, wrt)
