"""The custom layer Y = act(X @ W) and its loss L = sum(Y**2), computed in C++."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Union

from numpy.typing import ArrayLike

from ._activation_spec import ActivationLike, activation_spec
from ._arrays import FloatArray, as_float_arrays, check_layer_shapes
from ._native import _core

WRT_ITEMS = ("w", "x")
MODES = ("reverse", "forward")

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
    x_array, w_array = as_float_arrays(x=x, w=w)
    check_layer_shapes(x_array, w_array)
    return _core.layer_forward(x_array, w_array, spec)


def parse_wrt(wrt: Wrt, allowed: Sequence[str] = WRT_ITEMS) -> tuple[str, ...]:
    """The items of ``wrt`` as a tuple; ValueError for unknown or repeated items."""
    items = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    for item in items:
        if item not in allowed:
            raise ValueError(f"unknown wrt item {item!r}; expected items from {tuple(allowed)}")
    if len(set(items)) != len(items):
        raise ValueError(f"wrt names an item twice: {items}")
    return items


def value_and_grad(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike = "sin",
    wrt: Wrt = ("w",),
    mode: Literal["reverse", "forward"] = "reverse",
) -> tuple[float, tuple[FloatArray, ...]]:
    """The loss ``sum(activation(x @ w)**2)`` and its gradients w.r.t. the items of ``wrt``.

    ``activation`` is a built-in name or a Python callable, traced into C++ (see ``ead.trace``).

    ``wrt`` holds ``"w"`` and/or ``"x"``; the gradients come in that order, each shaped like its
    parameter. ``mode="reverse"`` (default) uses three contractions like a framework's backward
    pass; ``mode="forward"`` seeds every parameter as an AutoDiffScalar derivative, as in the
    article, and is meant for small layers.

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
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    x_array, w_array = as_float_arrays(x=x, w=w)
    check_layer_shapes(x_array, w_array)
    loss, dx, dw = _core.layer_value_and_grad(
        x_array, w_array, spec, "x" in items, "w" in items, mode
    )
    grads = {"x": dx, "w": dw}
    return loss, tuple(_computed(grads[item]) for item in items)


def _computed(grad: FloatArray | None) -> FloatArray:
    # The C++ side returns None only for the items it was not asked for.
    assert grad is not None
    return grad
