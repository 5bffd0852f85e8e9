"""Composite activations the traced-activation tests use, in NumPy with derivatives derived by
hand: name -> (f, f'), the form eigen_autodiff.reference takes beside built-in names."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from eigen_autodiff import reference

Array = NDArray[np.float64]
_sigmoid = reference.ACTIVATIONS["sigmoid"][0]
_softplus = reference.ACTIVATIONS["softplus"][0]
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_CUBIC = 0.044715
_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805
_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu_tanh(x: Array) -> Array:
    return 0.5 * x * (1.0 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3)))


def _gelu_tanh_derivative(x: Array) -> Array:
    t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x**3))
    inner = _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_CUBIC * x**2)
    return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t**2) * inner


def _mish_derivative(x: Array) -> Array:
    t = np.tanh(_softplus(x))
    return t + x * (1.0 - t**2) * _sigmoid(x)


def _normal_pdf(x: Array) -> Array:
    return np.exp(-0.5 * x**2) / math.sqrt(2.0 * math.pi)


EXACT: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    "swish": (
        lambda x: x * _sigmoid(x),
        lambda x: _sigmoid(x) + x * _sigmoid(x) * _sigmoid(-x),
    ),
    "gelu_tanh": (_gelu_tanh, _gelu_tanh_derivative),
    "gelu_erf": (
        lambda x: 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0))),
        lambda x: 0.5 * (1.0 + _erf(x / math.sqrt(2.0))) + x * _normal_pdf(x),
    ),
    "mish": (lambda x: x * np.tanh(_softplus(x)), _mish_derivative),
    # (x^2 + 1) / (x^2 + x + 2): the denominator has no real root.
    "rational": (
        lambda x: (x**2 + 1.0) / (x**2 + x + 2.0),
        lambda x: (x**2 + 2.0 * x - 1.0) / (x**2 + x + 2.0) ** 2,
    ),
    "elu": (
        lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
        lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0))),
    ),
    "selu": (
        lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
        lambda x: _SELU_SCALE * np.where(x > 0, 1.0, _SELU_ALPHA * np.exp(np.minimum(x, 0.0))),
    ),
    "leaky_relu": (
        lambda x: np.where(x > 0, x, 0.01 * x),
        lambda x: np.where(x > 0, 1.0, 0.01),
    ),
    "softsign": (lambda x: x / (1.0 + np.abs(x)), lambda x: 1.0 / (1.0 + np.abs(x)) ** 2),
    "gaussian": (lambda x: np.exp(-(x**2)), lambda x: -2.0 * x * np.exp(-(x**2))),
    "log_cosh": (lambda x: np.log(np.cosh(x)), np.tanh),
    "smooth_abs": (lambda x: np.sqrt(1.0 + x**2), lambda x: x / np.sqrt(1.0 + x**2)),
    "fourier": (
        lambda x: np.sin(x) + 0.5 * np.cos(2.0 * x),
        lambda x: np.cos(x) - np.sin(2.0 * x),
    ),
    "powers": (
        lambda x: 2.0**x + x**3 - 0.5 * np.abs(x) ** 1.5,
        lambda x: math.log(2.0) * 2.0**x + 3.0 * x**2 - 0.75 * np.sign(x) * np.abs(x) ** 0.5,
    ),
    "hard_sigmoid": (
        lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
        lambda x: np.where(np.abs(x) < 2.5, 0.2, 0.0),
    ),
    "tan_half": (lambda x: np.tan(0.5 * x), lambda x: 0.5 / np.cos(0.5 * x) ** 2),
}
