"""An independent pure-NumPy implementation of the same math, with hand-written derivatives.

This module is the oracle that the tests, CI and the walkthrough compare the C++ results
against, so it never calls the compiled code. It computes in float64 whatever the input dtype.

Example:
    >>> import numpy as np
    >>> from eigen_autodiff import reference
    >>> loss, (dw,) = reference.value_and_grad(np.ones((1, 1)), np.full((1, 1), 2.0), "square")
    >>> loss, dw
    (16.0, array([[32.]]))

"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]


def _sigmoid(x: Array) -> Array:
    # exp of a non-positive argument only: no overflow.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(x: Array) -> Array:
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sech_squared(x: Array) -> Array:
    with np.errstate(over="ignore"):
        return 1.0 / np.cosh(x) ** 2


# name -> (f, f'), with f' derived by hand.
ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "identity": (lambda x: x, np.ones_like),
    "sin": (np.sin, np.cos),
    "cos": (np.cos, lambda x: -np.sin(x)),
    "tanh": (np.tanh, _sech_squared),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * _sigmoid(-x)),
    "relu": (lambda x: np.where(x <= 0, 0.0, x), lambda x: np.where(x <= 0, 0.0, 1.0)),
    "softplus": (_softplus, _sigmoid),
    "exp": (np.exp, np.exp),
    "square": (np.square, lambda x: 2.0 * x),
    # The true derivative of 1/exp(x), -exp(-x): what the naive AD derivative should have been.
    "inv_exp": (lambda x: np.exp(-x), lambda x: -np.exp(-x)),
}


# name -> f'', derived by hand (the built-ins' second derivatives).
SECOND_DERIVATIVES: dict[str, Callable[[Array], Array]] = {
    "identity": np.zeros_like,
    "sin": lambda x: -np.sin(x),
    "cos": lambda x: -np.cos(x),
    "tanh": lambda x: -2.0 * np.tanh(x) * _sech_squared(x),
    "sigmoid": lambda x: _sigmoid(x) * _sigmoid(-x) * (1.0 - 2.0 * _sigmoid(x)),
    "relu": np.zeros_like,
    "softplus": lambda x: _sigmoid(x) * _sigmoid(-x),
    "exp": np.exp,
    "square": lambda x: np.full_like(x, 2.0),
    "inv_exp": lambda x: np.exp(-x),
}


def second_derivative(name: str, x: ArrayLike) -> tuple[Array, Array, Array]:
    """Value, first and second derivative of the built-in activation ``name`` at ``x``.

    Example:
        >>> from eigen_autodiff import reference
        >>> value, first, second = reference.second_derivative("sigmoid", [0.0, 2.0])
        >>> print(first.round(5), second.round(5))
        [0.25    0.10499] [ 0.      -0.07996]

    """
    f, df = ACTIVATIONS[name]
    array = _float64(x)
    return f(array), df(array), SECOND_DERIVATIVES[name](array)


# A built-in activation's name, or a pair (f, f') of NumPy functions with f' written by hand.
Activation = Union[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]]


def _lookup(activation: Activation) -> tuple[Callable[[Array], Array], Callable[[Array], Array]]:
    if isinstance(activation, str):
        return ACTIVATIONS[activation]
    return activation


def _float64(value: ArrayLike) -> Array:
    return np.asarray(value, dtype=np.float64)


def activation(name: Activation, x: ArrayLike) -> tuple[Array, Array]:
    """Value and derivative of the activation (a built-in name, or a pair (f, f')) at ``x``.

    Example:
        >>> import numpy as np
        >>> from eigen_autodiff import reference
        >>> reference.activation("relu", [-1.0, 0.0, 2.0])
        (array([0., 0., 2.]), array([0., 0., 1.]))
        >>> reference.activation((np.sin, np.cos), [0.0])
        (array([0.]), array([1.]))

    """
    f, df = _lookup(name)
    array = _float64(x)
    return f(array), df(array)


def _layer(
    x: ArrayLike, w: ArrayLike, bias: ArrayLike | None
) -> tuple[Array, Array, Array, tuple[int, ...]]:
    """The rows of x (batch, inputs), w, Z = x w + b, and x's shape."""
    x64, w64 = _float64(x), _float64(w)
    rows = x64.reshape(-1, x64.shape[-1])
    z = rows @ w64
    if bias is not None:
        z = z + _float64(bias)
    return rows, w64, z, x64.shape


def forward(
    x: ArrayLike, w: ArrayLike, activation: Activation = "sin", bias: ArrayLike | None = None
) -> Array:
    """``activation(x @ w + bias)``, shape ``x.shape[:-1] + (outputs,)``.

    Example:
        >>> from eigen_autodiff import reference
        >>> reference.forward([[1.0, 2.0]], [[1.0], [-1.0]], "square")
        array([[1.]])

    """
    f, _ = _lookup(activation)
    _, w64, z, x_shape = _layer(x, w, bias)
    return f(z).reshape(*x_shape[:-1], w64.shape[1])


def vjp(
    x: ArrayLike,
    w: ArrayLike,
    activation: Activation,
    cotangent: ArrayLike,
    bias: ArrayLike | None = None,
    wrt: Sequence[str] = ("w",),
) -> tuple[Array, ...]:
    """The gradients of ``sum(cotangent * Y)``, by the chain rule written out.

    With G = cotangent act'(Z): dW = X^T G, dX = G W^T, db = the column sums of G.

    Example:
        >>> from eigen_autodiff import reference
        >>> dw, dx = reference.vjp([[1.0, 2.0]], [[1.0], [-1.0]], "square", [[1.0]], wrt=("w", "x"))
        >>> dw.ravel(), dx.ravel()  # G = 2 Z = -2
        (array([-2., -4.]), array([-2.,  2.]))

    """
    _, df = _lookup(activation)
    rows, w64, z, x_shape = _layer(x, w, bias)
    g = _float64(cotangent).reshape(z.shape) * df(z)
    grads = {"w": rows.T @ g, "x": (g @ w64.T).reshape(x_shape), "b": g.sum(axis=0)}
    return tuple(grads[item] for item in ((wrt,) if isinstance(wrt, str) else wrt))


def jvp(
    x: ArrayLike,
    w: ArrayLike,
    activation: Activation,
    tangents: Sequence[ArrayLike],
    bias: ArrayLike | None = None,
    wrt: Sequence[str] = ("w",),
) -> tuple[Array, Array]:
    """``(Y, dY)``: dZ = tX W + X tW + tb, dY = act'(Z) dZ.

    Example:
        >>> from eigen_autodiff import reference
        >>> reference.jvp([[1.0, 2.0]], [[1.0], [-1.0]], "square", [[[1.0], [1.0]]])
        (array([[1.]]), array([[-6.]]))

    """
    f, df = _lookup(activation)
    rows, w64, z, x_shape = _layer(x, w, bias)
    items = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    given = {item: _float64(t) for item, t in zip(items, tangents)}
    dz = np.zeros_like(z)
    if "x" in given:
        dz += given["x"].reshape(rows.shape) @ w64
    if "w" in given:
        dz += rows @ given["w"]
    if "b" in given:
        dz += given["b"]
    y_shape = (*x_shape[:-1], w64.shape[1])
    return f(z).reshape(y_shape), (df(z) * dz).reshape(y_shape)


def value_and_grad(
    x: ArrayLike,
    w: ArrayLike,
    activation: Activation = "sin",
    wrt: Sequence[str] = ("w",),
    bias: ArrayLike | None = None,
    target: ArrayLike | None = None,
    reduction: str = "sum",
) -> tuple[float, tuple[Array, ...]]:
    """``L = reduce((act(x @ w + b) - target)**2)`` and its gradients, by the chain rule.

    dL/dY = 2 (Y - target) (divided by Y's size for "mean"), and the rest is ``vjp``'s.

    Example:
        >>> from eigen_autodiff import reference
        >>> x, w = [[1.0, 2.0]], [[1.0], [-1.0]]
        >>> loss, (dw,) = reference.value_and_grad(x, w, "identity", target=[[1.0]])
        >>> loss, dw.ravel()  # Y = -1: (Y - 1)**2 and 2 (Y - 1) x
        (4.0, array([-4., -8.]))

    """
    y = forward(x, w, activation, bias)
    error = y - (0.0 if target is None else _float64(target))
    scale = 1.0 if reduction == "sum" else 1.0 / max(1, error.size)
    loss = float(scale * np.sum(error**2))
    return loss, vjp(x, w, activation, 2.0 * scale * error, bias, wrt)


def hessian(
    x: ArrayLike,
    w: ArrayLike,
    name: str,
    wrt: str = "w",
    bias: ArrayLike | None = None,
    target: ArrayLike | None = None,
    reduction: str = "sum",
) -> Array:
    """The Hessian of ``value_and_grad``'s loss w.r.t. one parameter, shape ``p.shape * 2``.

    With c = d^2 L / dZ^2 = 2 scale (f'^2 + (Y - target) f'') elementwise (the loss is a sum of
    elementwise terms of Z): W's Hessian entry ((i, j), (k, l)) is [j == l] sum_b X[b, i] X[b, k]
    c[b, j]; X's entry ((b, i), (a, k)) is [a == b] sum_j W[i, j] W[k, j] c[b, j]; b's entry
    (j, l) is [j == l] sum_b c[b, j].

    Example:
        >>> from eigen_autodiff import reference
        >>> reference.hessian([[1.0]], [[2.0]], "square")  # L = w**4, L'' = 12 w**2
        array([[[[48.]]]])

    """
    f, df = ACTIVATIONS[name]
    rows, w64, z, x_shape = _layer(x, w, bias)
    error = f(z) - (0.0 if target is None else _float64(target).reshape(-1, z.shape[1]))
    scale = 1.0 if reduction == "sum" else 1.0 / max(1, z.size)
    c = 2.0 * scale * (df(z) ** 2 + error * SECOND_DERIVATIVES[name](z))
    batch, inputs = rows.shape
    outputs = w64.shape[1]
    if wrt == "w":
        h: Array = np.einsum("bi,bk,bj,jl->ijkl", rows, rows, c, np.eye(outputs))
        return h.reshape(inputs, outputs, inputs, outputs)
    if wrt == "x":
        h = np.einsum("ij,kj,bj,ba->biak", w64, w64, c, np.eye(batch))
        return h.reshape(x_shape + x_shape)
    return np.diag(c.sum(axis=0))
