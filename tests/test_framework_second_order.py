"""The framework layers differentiate twice: torch double backward (gradgradcheck, a gradient
penalty) and jax.jacrev(jax.grad(...)), their second derivatives from the VJP of the VJP."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus", "swish"])
def test_torch_gradgradcheck(activation: str) -> None:
    torch = pytest.importorskip("torch")
    from eigen_autodiff.torch import custom_layer

    act: Any = (lambda v: v * ead.sigmoid(v)) if activation == "swish" else activation
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, dtype=torch.float64, generator=generator, requires_grad=True)
    w = torch.randn(4, 2, dtype=torch.float64, generator=generator, requires_grad=True)
    b = torch.randn(2, dtype=torch.float64, generator=generator, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda x, w, b: custom_layer(x, w, act, b), (x, w, b))


def test_torch_gradient_penalty_matches_pure_torch() -> None:
    torch = pytest.importorskip("torch")
    from eigen_autodiff.torch import custom_layer

    generator = torch.Generator().manual_seed(1)
    x = torch.randn(8, 3, dtype=torch.float64, generator=generator, requires_grad=True)
    w = torch.randn(3, 2, dtype=torch.float64, generator=generator, requires_grad=True)

    def penalised(layer: Any) -> Any:
        y = layer(x, w)
        (dx,) = torch.autograd.grad(y.sum(), x, create_graph=True)
        return (y**2).mean() + (dx**2).sum()  # a gradient penalty on the inputs

    ours = penalised(lambda x, w: custom_layer(x, w, "tanh"))
    (grad_w,) = torch.autograd.grad(ours, w)
    theirs = penalised(lambda x, w: torch.tanh(x @ w))
    (grad_w_torch,) = torch.autograd.grad(theirs, w)
    torch.testing.assert_close(grad_w, grad_w_torch, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["sin", "tanh", "softplus"])
def test_jax_hessian_by_jacrev_of_grad(activation: str) -> None:
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from eigen_autodiff.jax import custom_layer

    functions = {"sin": jax.numpy.sin, "tanh": jax.numpy.tanh, "softplus": jax.nn.softplus}
    rng = np.random.default_rng(2)
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)

    def loss(x: Any, w: Any, b: Any) -> Any:
        return jax.numpy.mean((custom_layer(x, w, activation, b) - 0.5) ** 2)

    def loss_jax(x: Any, w: Any, b: Any) -> Any:
        return jax.numpy.mean((functions[activation](x @ w + b) - 0.5) ** 2)

    for argnum in range(3):
        ours = jax.jit(jax.jacrev(jax.grad(loss, argnums=argnum), argnums=argnum))(x, w, b)
        theirs = jax.hessian(loss_jax, argnums=argnum)(x, w, b)
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
