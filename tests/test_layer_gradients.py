"""Every built-in activation, both dtypes, both modes, every wrt: against the NumPy reference."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference

from _helpers import assert_matches_reference, random_layer

DTYPES = [np.float32, np.float64]
MODES = ["reverse", "forward", "forward_dynamic"]
WRTS = [("w",), ("x",), ("w", "x"), ("x", "w")]
# (batch, inputs, outputs): 1x1, a single row, a single column, and a few irregular shapes.
# Every built-in activation in both dtypes, as (activation, dtype).
EVERY_ACTIVATION_AND_DTYPE = pytest.mark.parametrize(
    ("activation", "dtype"),
    [(a, d) for a in sorted(reference.ACTIVATIONS) for d in DTYPES],
    ids=lambda v: v if isinstance(v, str) else np.dtype(v).name,
)
SHAPES = [(1, 1, 1), (1, 4, 3), (5, 3, 1), (3, 3, 2), (7, 5, 4), (2, 9, 6)]


def test_every_builtin_activation_is_covered() -> None:
    assert set(ead.ACTIVATIONS) == set(reference.ACTIVATIONS)
    assert {
        "identity",
        "sin",
        "cos",
        "tanh",
        "sigmoid",
        "relu",
        "softplus",
        "exp",
        "square",
        "inv_exp",
    } <= set(ead.ACTIVATIONS)


@EVERY_ACTIVATION_AND_DTYPE
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("wrt", WRTS, ids="+".join)
def test_value_and_grad_matches_reference(
    activation: str, dtype: type, mode: str, wrt: tuple[str, ...], rng: np.random.Generator
) -> None:
    for shape in SHAPES:
        x, w = random_layer(rng, *shape, dtype=dtype)
        loss, grads = ead.value_and_grad(x, w, activation, wrt=wrt, mode=mode)
        expected_loss, expected_grads = reference.value_and_grad(x, w, activation, wrt=wrt)
        assert isinstance(loss, float)
        assert_matches_reference(loss, expected_loss, dtype, f"loss at {shape}")
        assert len(grads) == len(wrt)
        for item, grad, expected in zip(wrt, grads, expected_grads):
            assert grad.dtype == dtype
            assert grad.shape == (x if item == "x" else w).shape
            assert_matches_reference(grad, expected, dtype, f"dL/d{item} at {shape}")


@EVERY_ACTIVATION_AND_DTYPE
def test_forward_and_reverse_modes_agree(
    activation: str, dtype: type, rng: np.random.Generator
) -> None:
    # Sizes around the chunk width (8), so that chunks are full, partial and several.
    for _ in range(5):
        batch, inputs, outputs = rng.integers(1, 20, size=3)
        x, w = random_layer(rng, batch, inputs, outputs, dtype)
        loss_r, grads_r = ead.value_and_grad(x, w, activation, wrt=("w", "x"), mode="reverse")
        for mode in ("forward", "forward_dynamic"):
            loss_f, grads_f = ead.value_and_grad(x, w, activation, wrt=("w", "x"), mode=mode)
            assert_matches_reference(loss_f, loss_r, dtype, f"{mode} loss")
            for forward_grad, reverse_grad in zip(grads_f, grads_r):
                assert_matches_reference(forward_grad, reverse_grad, dtype, f"{mode} gradient")


@EVERY_ACTIVATION_AND_DTYPE
def test_forward_output_matches_reference(
    activation: str, dtype: type, rng: np.random.Generator
) -> None:
    for shape in SHAPES:
        x, w = random_layer(rng, *shape, dtype=dtype)
        y = ead.forward(x, w, activation)
        assert y.dtype == dtype
        assert_matches_reference(y, reference.forward(x, w, activation), dtype, f"Y at {shape}")


@EVERY_ACTIVATION_AND_DTYPE
def test_elementwise_derivative_matches_reference(activation: str, dtype: type) -> None:
    # A grid through zero and the kinks, and out to where exp is still finite in float32.
    x = np.concatenate([np.linspace(-20, 20, 401), [0.0, -0.0, 1e-30, -1e-30]]).astype(dtype)
    value, slope = ead.derivative(activation, x)
    expected_value, expected_slope = reference.activation(activation, x)
    assert value.dtype == dtype and slope.dtype == dtype
    assert_matches_reference(value, expected_value, dtype, "value", elementwise=True)
    assert_matches_reference(slope, expected_slope, dtype, "derivative", elementwise=True)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_larger_layer_on_many_threads_matches_reference(
    mode: str, rng: np.random.Generator
) -> None:
    # Large enough for the contractions and the elementwise pass to be split across threads.
    x, w = random_layer(rng, 96, 70, 130, np.float64)
    for activation, wrt in itertools.product(["sin", "softplus"], [("w", "x")]):
        loss, grads = ead.value_and_grad(x, w, activation, wrt=wrt, mode=mode)
        expected_loss, expected_grads = reference.value_and_grad(x, w, activation, wrt=wrt)
        assert_matches_reference(loss, expected_loss, np.float64, "loss")
        for grad, expected in zip(grads, expected_grads):
            assert_matches_reference(grad, expected, np.float64, "gradient")
