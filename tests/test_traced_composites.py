"""Composite activations written in Python (swish, GELU, mish, a rational function, ...) match
the NumPy reference's hand-written derivatives and central finite differences, elementwise and
in the layer's gradients."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference
from eigen_autodiff._diagnostics.finite_differences import central_difference
from eigen_autodiff._layer import MODES

from _helpers import assert_matches_reference, random_layer
from composite_activations import EXACT

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def swish(x: Any) -> Any:
    return x * ead.sigmoid(x)


def gelu_tanh(x: Any) -> Any:
    return 0.5 * x * (1 + np.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x**3)))


def gelu_erf(x: Any) -> Any:
    return 0.5 * x * (1 + ead.erf(x / math.sqrt(2.0)))


def mish(x: Any) -> Any:
    return x * ead.tanh(ead.softplus(x))


def rational(x: Any) -> Any:
    return (x**2 + 1) / (x * x + x + 2)


def elu(x: Any) -> Any:
    return ead.where(x > 0, x, ead.expm1(x))


def selu(x: Any) -> Any:
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))


def leaky_relu(x: Any) -> Any:
    return ead.maximum(x, 0.01 * x)


def softsign(x: Any) -> Any:
    return x / (1 + abs(x))


def gaussian(x: Any) -> Any:
    return np.exp(-np.square(x))


def log_cosh(x: Any) -> Any:
    return ead.log(ead.cosh(x))


def smooth_abs(x: Any) -> Any:
    return ead.sqrt(1 + x * x)


def fourier(x: Any) -> Any:
    return ead.sin(x) + ead.cos(2 * x) / 2


def powers(x: Any) -> Any:
    return 2**x + ead.pow(x, 3) - 0.5 * np.abs(x) ** 1.5


def hard_sigmoid(x: Any) -> Any:
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def tan_half(x: Any) -> Any:
    return ead.tan(x / 2)


# reference name -> the activation written with eigen_autodiff's primitives, NumPy ufuncs and
# operators.
COMPOSITES: dict[str, Callable[[Any], Any]] = {
    "swish": swish,
    "gelu_tanh": gelu_tanh,
    "gelu_erf": gelu_erf,
    "mish": mish,
    "rational": rational,
    "elu": elu,
    "selu": selu,
    "leaky_relu": leaky_relu,
    "softsign": softsign,
    "gaussian": gaussian,
    "log_cosh": log_cosh,
    "smooth_abs": smooth_abs,
    "fourier": fourier,
    "powers": powers,
    "hard_sigmoid": hard_sigmoid,
    "tan_half": tan_half,
}
NAMES = sorted(COMPOSITES)


def test_every_reference_composite_is_written() -> None:
    assert set(COMPOSITES) == set(EXACT)


def points(rng: np.random.Generator, n: int = 300) -> np.ndarray:
    # Away from the kinks (0 for elu, leaky relu, softsign, powers; +-2.5 for the hard sigmoid),
    # where a finite difference straddles two slopes.
    x = rng.uniform(-3, 3, n)
    return x[(np.abs(x) > 1e-3) & (np.abs(np.abs(x) - 2.5) > 1e-3)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_matches_reference(name: str, dtype: Any, rng: np.random.Generator) -> None:
    x = points(rng).astype(dtype)
    value, slope = ead.derivative(COMPOSITES[name], x)
    expected_value, expected_slope = reference.activation(EXACT[name], x)
    assert value.dtype == np.dtype(dtype)
    # In float32 a composite's rounding error is eps times its intermediate terms, not its
    # result: log(cosh(x)) near 0, or the rational function's derivative near its zero, cancel.
    # So float32 is judged against the largest value, float64 element by element.
    elementwise = dtype == np.float64
    assert_matches_reference(value, expected_value, dtype, "value", elementwise=elementwise)
    assert_matches_reference(slope, expected_slope, dtype, "derivative", elementwise=elementwise)


@pytest.mark.parametrize("name", NAMES)
def test_matches_central_differences(name: str, rng: np.random.Generator) -> None:
    x = points(rng)
    _, slope = ead.derivative(COMPOSITES[name], x)
    numeric = central_difference(lambda at: ead.derivative(COMPOSITES[name], at)[0], x)
    np.testing.assert_allclose(slope, numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", NAMES)
def test_layer_gradients_match_reference(
    name: str, dtype: Any, mode: Any, rng: np.random.Generator
) -> None:
    x, w = random_layer(rng, 5, 4, 3, dtype)
    loss, (dw, dx) = ead.value_and_grad(x, w, COMPOSITES[name], wrt=("w", "x"), mode=mode)
    expected_loss, (expected_dw, expected_dx) = reference.value_and_grad(
        x, w, EXACT[name], wrt=("w", "x")
    )
    assert_matches_reference(loss, expected_loss, dtype, "loss")
    assert_matches_reference(dw, expected_dw, dtype, "dL/dW")
    assert_matches_reference(dx, expected_dx, dtype, "dL/dX")
    assert_matches_reference(
        ead.forward(x, w, COMPOSITES[name]), reference.forward(x, w, EXACT[name]), dtype, "forward"
    )
