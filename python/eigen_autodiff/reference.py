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
from typing import Any

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


def _float64(value: ArrayLike) -> Array:
    return np.asarray(value, dtype=np.float64)


def activation(name: str, x: ArrayLike) -> tuple[Array, Array]:
    """Value and derivative of the activation ``name`` at ``x``."""
    f, df = ACTIVATIONS[name]
    array = _float64(x)
    return f(array), df(array)


def forward(x: ArrayLike, w: ArrayLike, activation: str = "sin") -> Array:
    """``activation(x @ w)``."""
    f, _ = ACTIVATIONS[activation]
    return f(_float64(x) @ _float64(w))


def value_and_grad(
    x: ArrayLike, w: ArrayLike, activation: str = "sin", wrt: Sequence[str] = ("w",)
) -> tuple[float, tuple[Array, ...]]:
    """``L = sum(act(x @ w)**2)`` and its gradients, by the chain rule written out.

    With Z = X W and Y = act(Z): dL/dZ = 2 Y act'(Z), dL/dW = X^T dL/dZ, dL/dX = dL/dZ W^T.
    """
    f, df = ACTIVATIONS[activation]
    x64, w64 = _float64(x), _float64(w)
    z = x64 @ w64
    y = f(z)
    dl_dz = 2.0 * y * df(z)
    grads: dict[str, Any] = {"w": x64.T @ dl_dz, "x": dl_dz @ w64.T}
    return float(np.sum(y**2)), tuple(
        grads[item] for item in ((wrt,) if isinstance(wrt, str) else wrt)
    )
