"""The custom layer Y = act(X @ W) and its loss L = sum(Y**2), computed in C++."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Literal, Union, cast

from numpy.typing import ArrayLike

from ._activation_spec import ActivationLike, activation_spec
from ._arrays import FloatArray, layer_arrays
from ._native import _core

WRT_ITEMS = ("w", "x")
Mode = Literal["reverse", "forward", "forward_dynamic"]
# The names of mode=, each the name of its C++ function value_and_grad_<mode>.
MODES: tuple[str, ...] = tuple(_core.Mode.__members__)

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
    x_array, w_array = layer_arrays(
        x,
        w,
        "the layer's values",
        lambda dtype, b, n, m: _core.layer_values_bytes(dtype.name, b, m),
    )
    return _core.layer_values(x_array, w_array, spec)


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


def check_mode(mode: object) -> _core.Mode:
    """The compiled module's ``Mode`` named ``mode``; ValueError naming it for anything else."""
    found = _core.Mode.__members__.get(mode) if isinstance(mode, str) else None
    if found is None:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    return found


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
    compiled_mode = check_mode(mode)
    wrt_x, wrt_w = "x" in items, "w" in items
    x_array, w_array = layer_arrays(
        x,
        w,
        f"{mode} mode",
        lambda dtype, b, n, m: _core.value_and_grad_bytes(
            compiled_mode, dtype.name, b, n, m, wrt_x, wrt_w
        ),
    )
    loss, dx, dw = _core.layer_value_and_grad(x_array, w_array, spec, compiled_mode, wrt_x, wrt_w)
    # The C++ side returns None only for the items it was not asked for.
    return loss, tuple(cast(FloatArray, dx if item == "x" else dw) for item in items)


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
    x_array, w_array = layer_arrays(
        x,
        w,
        f"the Jacobian w.r.t. {wrt}",
        lambda dtype, b, n, m: _core.jacobian_bytes(dtype.name, b, n, m, wrt),
    )
    return _core.layer_jacobian(x_array, w_array, spec, wrt)


__all__ = ["forward", "jacobian", "value_and_grad"]
