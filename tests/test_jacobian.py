"""ead.jacobian: the full Jacobian of Y by forward mode, in jax.jacfwd's layout."""

from __future__ import annotations

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference

from _helpers import assert_matches_reference, random_layer


def reference_jacobian(x: np.ndarray, w: np.ndarray, activation: str, wrt: str) -> np.ndarray:
    """dY[b, j]/dW[i, l] = act'(Z[b, j]) X[b, i] [j == l]; dY[b, j]/dX[c, i] likewise."""
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    _, slope = reference.activation(activation, x64 @ w64)
    batch, outputs = slope.shape
    inputs = x.shape[1]
    if wrt == "w":
        jac = np.zeros((batch, outputs, inputs, outputs))
        for j in range(outputs):
            jac[:, j, :, j] = slope[:, j, None] * x64
    else:
        jac = np.zeros((batch, outputs, batch, inputs))
        for b in range(batch):
            jac[b, :, b, :] = slope[b, :, None] * w64.T
    return jac


@pytest.mark.parametrize("activation", sorted(reference.ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("wrt", ["w", "x"])
def test_jacobian_matches_reference(
    activation: str, dtype: type, wrt: str, rng: np.random.Generator
) -> None:
    for shape in [(1, 1, 1), (3, 3, 2), (4, 11, 5), (2, 17, 3)]:
        x, w = random_layer(rng, *shape, dtype=dtype)
        jac = ead.jacobian(x, w, activation, wrt=wrt)
        assert jac.dtype == dtype
        expected = reference_jacobian(x, w, activation, wrt)
        assert jac.shape == expected.shape
        # Each entry is act'(Z) times an input; Z is a float32 sum that may cancel, so entries
        # are judged against the Jacobian's magnitude, as the gradients are.
        assert_matches_reference(jac, expected, dtype, f"{wrt} at {shape}")


def test_jacobian_contracts_to_the_gradient(rng: np.random.Generator) -> None:
    x, w = random_layer(rng, 5, 9, 4, np.float64)
    y = ead.forward(x, w, "tanh")
    _, (dw, dx) = ead.value_and_grad(x, w, "tanh", wrt=("w", "x"))
    # dL/dP = sum over outputs of 2 Y dY/dP.
    assert_matches_reference(
        np.einsum("bj,bjil->il", 2 * y, ead.jacobian(x, w, "tanh", "w")), dw, np.float64
    )
    assert_matches_reference(
        np.einsum("bj,bjci->ci", 2 * y, ead.jacobian(x, w, "tanh", "x")), dx, np.float64
    )


def test_jacobian_of_empty_shapes() -> None:
    assert ead.jacobian(np.ones((0, 3)), np.ones((3, 2)), wrt="w").shape == (0, 2, 3, 2)
    assert ead.jacobian(np.ones((2, 0)), np.ones((0, 2)), wrt="x").shape == (2, 2, 2, 0)


def test_jacobian_rejects_unknown_wrt() -> None:
    with pytest.raises(
        ValueError, match=r"wrt is one parameter name, one of \('w', 'x', 'b'\), got 'k"
    ):
        ead.jacobian(np.ones((2, 3)), np.ones((3, 2)), wrt="kernel")


def test_jacobian_too_large_for_the_budget_raises_memory_error() -> None:
    # 2**20 x 2**20 outputs times 2**21 parameters: far beyond any memory, and beyond 2**63
    # bytes, so the size arithmetic must saturate rather than wrap around.
    x = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(1 << 20, 2), strides=(0, 0))
    w = np.lib.stride_tricks.as_strided(np.zeros(1), shape=(2, 1 << 20), strides=(0, 0))
    with pytest.raises(MemoryError, match=r"the Jacobian w.r.t. w .* needs an estimated"):
        ead.jacobian(x, w, "sin", wrt="w")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_jacobian_and_forward_gradient_match_jax_jacfwd(
    dtype: type, rng: np.random.Generator
) -> None:
    # JAX is a benchmark-only extra, not a test dependency: this runs where it is installed.
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = pytest.importorskip("jax.numpy")
    for shape in [(3, 5, 2), (4, 11, 3)]:
        x, w = random_layer(rng, *shape, dtype=dtype)
        for wrt, argnum in (("w", 1), ("x", 0)):
            expected = jax.jacfwd(lambda x_, w_: jnp.tanh(x_ @ w_), argnums=argnum)(x, w)
            jac = ead.jacobian(x, w, "tanh", wrt=wrt)
            assert_matches_reference(jac, np.asarray(expected), dtype, f"dY/d{wrt} at {shape}")
        loss_grad = jax.jacfwd(lambda x_, w_: jnp.sum(jnp.tanh(x_ @ w_) ** 2), argnums=1)(x, w)
        _, (dw,) = ead.value_and_grad(x, w, "tanh", mode="forward")
        assert_matches_reference(dw, np.asarray(loss_grad), dtype, f"dL/dw at {shape}")
