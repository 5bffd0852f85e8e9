"""Mistakes a framework user makes get errors that say the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead


def test_a_torch_function_as_activation_says_use_numpy_or_ead() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(
        ead.TracingError, match=r"np\.sin\(x\) or ead\.sin\(x\).*eigen_autodiff\.torch"
    ):
        ead.forward(np.ones((2, 3)), np.ones((3, 2)), lambda x: torch.sin(x))


def test_a_jax_function_as_activation_says_use_numpy_or_ead() -> None:
    jnp = pytest.importorskip("jax.numpy")
    with pytest.raises(
        ead.TracingError, match=r"np\.sin\(x\) or ead\.sin\(x\).*eigen_autodiff\.jax"
    ):
        ead.forward(np.ones((2, 3)), np.ones((3, 2)), lambda x: jnp.sin(x))


def test_ead_inside_jax_jit_says_use_the_jax_layer() -> None:
    jax = pytest.importorskip("jax")

    @jax.jit
    def loss(w: Any) -> Any:
        return ead.forward(np.ones((2, 3)), w, "sin").sum()

    with pytest.raises(TypeError, match=r"w is a .*eigen_autodiff\.jax\.custom_layer"):
        loss(np.ones((3, 2)))


def test_a_torch_tensor_that_requires_grad_says_use_the_torch_layer() -> None:
    torch = pytest.importorskip("torch")
    w = torch.ones((3, 2), requires_grad=True)
    with pytest.raises(TypeError, match=r"w is a Tensor .*eigen_autodiff\.torch\.custom_layer"):
        ead.forward(np.ones((2, 3)), w, "sin")


def test_numpy_methods_on_traced_values() -> None:
    x = np.array([-2.0, 0.5, 3.0])
    value, slope = ead.derivative(lambda v: v.clip(-1.0, 1.0), x)
    np.testing.assert_array_equal(value, np.clip(x, -1.0, 1.0))
    np.testing.assert_array_equal(slope, [0.0, 1.0, 0.0])
    value, slope = ead.derivative(lambda v: abs(v) ** 3, x)
    np.testing.assert_allclose(value, np.abs(x) ** 3, rtol=1e-15)
    np.testing.assert_allclose(slope, 3 * x * np.abs(x), rtol=1e-15)
