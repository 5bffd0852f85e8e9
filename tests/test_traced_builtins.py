"""Every built-in activation re-written as a Python callable gives the built-in's values and
derivatives: elementwise (ead.derivative), in the layer's output (ead.forward) and in its
gradients in every mode."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff._diagnostics.blame import BUILTIN_FORMULAS
from eigen_autodiff._layer import MODES

from _helpers import random_layer

# Relative agreement of a traced re-write with its built-in: float64 to 1e-12 (the issue's
# demand); float32 to a few ulps (a re-write may round differently, e.g. exp(x)/(1+exp(x))).
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 2e-6}


def sigmoid_by_branches(x: Any) -> Any:
    # The built-in's own formula: exp of a non-positive argument only.
    return ead.where(x >= 0, 1 / (1 + ead.exp(-x)), ead.exp(x) / (1 + ead.exp(x)))


def softplus_by_formula(x: Any) -> Any:
    # Not max(x, 0) + log1p(exp(-|x|)): smooth, but its AD derivative at 0 follows the kink
    # conventions of maximum (0) and abs (1) and comes out -0.5 instead of 0.5.
    return ead.where(x > 0, x + ead.log1p(ead.exp(-x)), ead.log1p(ead.exp(x)))


# built-in name -> Python re-writes of it.
REWRITES: dict[str, list[Callable[[Any], Any]]] = {
    "identity": [lambda x: x, lambda x: +x * 1.0],
    "sin": [np.sin, ead.sin],
    "cos": [lambda x: np.cos(x)],
    "tanh": [np.tanh, lambda x: ead.tanh(x)],
    "sigmoid": [ead.sigmoid, sigmoid_by_branches],
    "relu": [
        lambda x: ead.maximum(x, 0.0),
        lambda x: ead.where(x > 0, x, 0.0),
        lambda x: np.maximum(x, 0),
    ],
    "softplus": [ead.softplus, softplus_by_formula],
    "exp": [np.exp],
    "square": [lambda x: x * x, lambda x: x**2, np.square],
    "inv_exp": [lambda x: 1 / ead.exp(x), lambda x: 1.0 / np.exp(x)],
}
CASES = [
    pytest.param(name, rewrite, id=f"{name}-{k}")
    for name, rewrites in REWRITES.items()
    for k, rewrite in enumerate(rewrites)
] + [
    # The formulas the diagnostics replay in place of the built-ins must be the built-ins.
    pytest.param(name, formula, id=f"{name}-diagnostics")
    for name, formula in BUILTIN_FORMULAS.items()
]
DTYPES = [np.float64, np.float32]


def test_every_builtin_has_a_rewrite() -> None:
    assert set(REWRITES) == set(ead.ACTIVATIONS) == set(BUILTIN_FORMULAS)


def assert_close(ours: Any, builtin: Any, dtype: Any, what: str) -> None:
    rtol = RTOL[np.dtype(dtype)]
    ours, builtin = np.asarray(ours), np.asarray(builtin)
    assert ours.dtype == builtin.dtype == np.dtype(dtype), what
    # Sums of terms of both signs: judged against the largest entry, as in _helpers.
    scale = float(np.max(np.abs(builtin), initial=0.0))
    np.testing.assert_allclose(ours, builtin, rtol=rtol, atol=rtol * scale, err_msg=what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "rewrite"), CASES)
def test_elementwise_value_and_derivative(
    name: str, rewrite: Callable[[Any], Any], dtype: Any, rng: np.random.Generator
) -> None:
    # Random points, the kinks and far out, where the stable forms matter.
    x = np.concatenate([rng.uniform(-4, 4, 200), [0.0, -0.0, 1.0, -1.0, 30.0, -30.0]])
    x = x.astype(dtype)
    value, slope = ead.derivative(rewrite, x)
    builtin_value, builtin_slope = ead.derivative(name, x)
    rtol = RTOL[np.dtype(dtype)]
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(value, builtin_value, rtol=rtol, atol=tiny, err_msg="value")
    np.testing.assert_allclose(slope, builtin_slope, rtol=rtol, atol=tiny, err_msg="derivative")
    assert value.dtype == slope.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "rewrite"), CASES)
def test_layer_output(
    name: str, rewrite: Callable[[Any], Any], dtype: Any, rng: np.random.Generator
) -> None:
    x, w = random_layer(rng, 7, 5, 4, dtype)
    assert_close(ead.forward(x, w, rewrite), ead.forward(x, w, name), dtype, "forward")
    layer = ead.CustomLayer(4, activation=rewrite, kernel=w)
    assert_close(layer(x), ead.forward(x, w, name), dtype, "CustomLayer")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "rewrite"), CASES)
def test_layer_gradients(
    name: str, rewrite: Callable[[Any], Any], dtype: Any, mode: Any, rng: np.random.Generator
) -> None:
    x, w = random_layer(rng, 6, 5, 3, dtype)
    loss, (dw, dx) = ead.value_and_grad(x, w, rewrite, wrt=("w", "x"), mode=mode)
    builtin_loss, (builtin_dw, builtin_dx) = ead.value_and_grad(
        x, w, name, wrt=("w", "x"), mode=mode
    )
    assert loss == pytest.approx(builtin_loss, rel=RTOL[np.dtype(dtype)])
    assert_close(dw, builtin_dw, dtype, "dL/dW")
    assert_close(dx, builtin_dx, dtype, "dL/dX")
