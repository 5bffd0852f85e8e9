"""eigen_autodiff.jax against JAX's own autodiff of the same math."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402
from jax.test_util import check_grads  # noqa: E402

import eigen_autodiff as ead  # noqa: E402
from eigen_autodiff.jax import custom_layer  # noqa: E402

from framework_activations import jax_table  # noqa: E402


@pytest.fixture(autouse=True)
def x64() -> Iterator[None]:
    """float64 arrays stay float64 (JAX's default truncates them to float32)."""
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", previous)


JAX_ACTIVATIONS = jax_table(jax)

TOLERANCES = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-11, "atol": 1e-12}}


def test_every_builtin_is_in_the_table() -> None:
    assert set(ead.ACTIVATIONS) <= set(JAX_ACTIVATIONS)


def random_inputs(
    rng: np.random.Generator, x_shape: tuple[int, ...], outputs: int, dtype: str, bias: bool
) -> tuple[Any, Any, Any]:
    def array(*shape: int) -> Any:
        return jnp.asarray(0.5 * rng.standard_normal(shape), dtype=dtype)

    return array(*x_shape), array(x_shape[-1], outputs), array(outputs) if bias else None


def framework_layer(act: Callable[[Any], Any], x: Any, w: Any, b: Any) -> Any:
    z = x @ w
    return act(z if b is None else z + b)


def assert_close(ours: Any, expected: Any, dtype: str) -> None:
    assert ours.dtype == jnp.dtype(dtype)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(expected), **TOLERANCES[dtype])


@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("bias", [False, True], ids=["nobias", "bias"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(JAX_ACTIVATIONS))
def test_values_and_vjp_equal_jax_autodiff(
    rng: np.random.Generator, name: str, dtype: str, bias: bool, x_shape: tuple[int, ...]
) -> None:
    ours, theirs = JAX_ACTIVATIONS[name]
    x, w, b = random_inputs(rng, x_shape, 3, dtype, bias)
    y, vjp = jax.vjp(lambda x, w, b: custom_layer(x, w, ours, b), x, w, b)
    expected, expected_vjp = jax.vjp(partial_layer(theirs), x, w, b)
    assert y.shape == (*x_shape[:-1], 3)
    assert_close(y, expected, dtype)
    cotangent = jnp.asarray(rng.standard_normal(y.shape), dtype=dtype)
    for grad, expected_grad in zip(vjp(cotangent), expected_vjp(cotangent)):
        if expected_grad is None:
            assert grad is None
        else:
            assert_close(grad, expected_grad, dtype)


def partial_layer(act: Callable[[Any], Any]) -> Callable[[Any, Any, Any], Any]:
    return lambda x, w, b: framework_layer(act, x, w, b)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["sin", "tanh", "softplus", "traced_swish"])
def test_check_grads_reverse_mode(rng: np.random.Generator, name: str, dtype: str) -> None:
    ours, _ = JAX_ACTIVATIONS[name]
    x, w, b = random_inputs(rng, (2, 3, 4), 3, dtype, bias=True)
    # JAX's own tolerances for numerical differentiation in each dtype.
    tolerance = {"float32": 2e-3, "float64": 1e-5}[dtype]
    check_grads(
        lambda x, w, b: custom_layer(x, w, ours, b),
        (x, w, b),
        order=1,
        modes=["rev"],
        atol=tolerance,
        rtol=tolerance,
    )


def test_jit_grad_and_value_and_grad(rng: np.random.Generator) -> None:
    x, w, b = random_inputs(rng, (6, 4), 3, "float64", bias=True)

    def loss(layer: Callable[..., Any]) -> Callable[[Any, Any], Any]:
        return lambda w, b: jnp.sum((layer(x, w, b) - 1.0) ** 2)

    ours = loss(lambda x, w, b: custom_layer(x, w, "sigmoid", b))
    theirs = loss(partial_layer(jax.nn.sigmoid))
    value, grads = jax.jit(jax.value_and_grad(ours, argnums=(0, 1)))(w, b)
    expected_value, expected_grads = jax.value_and_grad(theirs, argnums=(0, 1))(w, b)
    assert_close(value, expected_value, "float64")
    for grad, expected in zip(grads, expected_grads):
        assert_close(grad, expected, "float64")
    assert_close(jax.jit(jax.grad(ours))(w, b), expected_grads[0], "float64")


def test_vmap_over_a_leading_axis_of_x(rng: np.random.Generator) -> None:
    x, w, b = random_inputs(rng, (5, 2, 4), 3, "float64", bias=True)
    ys = jax.vmap(lambda x: custom_layer(x, w, "tanh", b))(x)
    assert_close(ys, framework_layer(jnp.tanh, x, w, b), "float64")


def test_per_example_gradients_by_vmap_of_grad(rng: np.random.Generator) -> None:
    x, w, b = random_inputs(rng, (5, 2, 4), 3, "float64", bias=True)

    def loss(layer: Callable[..., Any]) -> Callable[[Any, Any, Any], Any]:
        return lambda w, b, x: jnp.sum(layer(x, w, b) ** 2)

    per_example = jax.jit(
        jax.vmap(
            jax.grad(loss(lambda x, w, b: custom_layer(x, w, "sin", b)), argnums=(0, 1)),
            in_axes=(None, None, 0),
        )
    )(w, b, x)
    expected = jax.vmap(
        jax.grad(loss(partial_layer(jnp.sin)), argnums=(0, 1)), in_axes=(None, None, 0)
    )(w, b, x)
    assert per_example[0].shape == (5, 4, 3)
    for grad, expected_grad in zip(per_example, expected):
        assert_close(grad, expected_grad, "float64")


def test_vmap_over_a_batch_of_kernels(rng: np.random.Generator) -> None:
    x, _, _ = random_inputs(rng, (2, 4), 3, "float64", bias=False)
    kernels = jnp.asarray(rng.standard_normal((3, 4, 3)))

    def ours(w: Any) -> Any:
        return jnp.sum(custom_layer(x, w, "cos") ** 2)

    def theirs(w: Any) -> Any:
        return jnp.sum(jnp.cos(x @ w) ** 2)

    assert_close(jax.vmap(ours)(kernels), jax.vmap(theirs)(kernels), "float64")
    assert_close(jax.vmap(jax.grad(ours))(kernels), jax.vmap(jax.grad(theirs))(kernels), "float64")


def test_float32_without_x64_stays_float32(rng: np.random.Generator) -> None:
    jax.config.update("jax_enable_x64", False)
    x, w, _ = random_inputs(rng, (3, 4), 2, "float32", bias=False)
    y = custom_layer(x, w, "sin")
    grad = jax.grad(lambda w: jnp.sum(custom_layer(x, w, "sin")))(w)
    assert y.dtype == grad.dtype == jnp.float32


def test_integer_inputs_raise_with_the_fix() -> None:
    with pytest.raises(TypeError, match=r"int32.*astype"):
        custom_layer(jnp.ones((2, 3), dtype=jnp.int32), jnp.ones((3, 2)), "sin")
