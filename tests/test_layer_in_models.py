"""The layer as a building block: bias, targets, reductions, N-D inputs, VJP and JVP, against the
NumPy reference (derivatives written by hand) and, where JAX is installed, jax.vjp and jax.jvp."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference
from eigen_autodiff._layer import MODES

from _helpers import assert_matches_reference
from composite_activations import EXACT
from framework_activations import jax_table, jax_with_x64

DTYPES = [np.float32, np.float64]
# Every built-in, and a traced composite written with the library's primitives; for each, what
# the NumPy reference takes (a built-in's name, or the composite's hand-derived pair).
ACTIVATIONS: dict[str, Any] = {name: name for name in sorted(reference.ACTIVATIONS)}
ACTIVATIONS["swish"] = lambda v: v * ead.sigmoid(v)
EXACT_OF = {**{name: name for name in reference.ACTIVATIONS}, "swish": EXACT["swish"]}
# x of 2 and 3 dimensions: (batch, inputs) and (2, batch, inputs).
X_SHAPES = [(5, 4), (2, 3, 4)]


def layer(rng: np.random.Generator, x_shape: tuple[int, ...], outputs: int, dtype: Any) -> Any:
    x = rng.uniform(-1, 1, size=x_shape).astype(dtype)
    w = rng.uniform(-1, 1, size=(x_shape[-1], outputs)).astype(dtype)
    b = rng.uniform(-0.5, 0.5, size=outputs).astype(dtype)
    return x, w, b


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("x_shape", X_SHAPES, ids=str)
def test_forward_vjp_and_jvp_match_the_reference(
    name: str, dtype: Any, x_shape: tuple[int, ...], rng: np.random.Generator
) -> None:
    activation = ACTIVATIONS[name]
    x, w, b = layer(rng, x_shape, 3, dtype)
    y = ead.forward(x, w, activation, bias=b)
    assert y.shape == (*x_shape[:-1], 3) and y.dtype == dtype
    assert_matches_reference(y, reference.forward(x, w, EXACT_OF[name], b), dtype, "Y")
    cotangent = rng.normal(size=y.shape).astype(dtype)
    wrt = ("x", "w", "b")
    grads = ead.vjp(x, w, activation, cotangent, bias=b, wrt=wrt)
    expected = reference.vjp(x, w, EXACT_OF[name], cotangent, b, wrt)
    for item, grad, exact in zip(wrt, grads, expected):
        assert grad.dtype == dtype
        assert_matches_reference(grad, exact, dtype, f"VJP d/d{item}")
    tangents = [rng.normal(size=p.shape).astype(dtype) for p in (x, w, b)]
    for items in [("x",), ("w",), ("b",), ("w", "b", "x")]:
        chosen = [tangents["xwb".index(item)] for item in items]
        y_jvp, dy = ead.jvp(x, w, activation, chosen, bias=b, wrt=items)
        y_exact, dy_exact = reference.jvp(x, w, EXACT_OF[name], chosen, b, items)
        assert_matches_reference(y_jvp, y_exact, dtype, "JVP's Y")
        assert_matches_reference(dy, dy_exact, dtype, f"JVP along {items}")


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_value_and_grad_with_bias_target_and_reduction(
    name: str, dtype: Any, mode: Any, reduction: Any, rng: np.random.Generator
) -> None:
    activation = ACTIVATIONS[name]
    x, w, b = layer(rng, (2, 3, 4), 3, dtype)
    # A target of Y's shape, and one that broadcasts to it (one row).
    for target in (rng.normal(size=(2, 3, 3)).astype(dtype), rng.normal(size=3).astype(dtype)):
        wrt = ("b", "w", "x")
        loss, grads = ead.value_and_grad(
            x, w, activation, wrt=wrt, mode=mode, bias=b, target=target, reduction=reduction
        )
        exact_loss, exact = reference.value_and_grad(
            x, w, EXACT_OF[name], wrt, b, target, reduction
        )
        assert isinstance(loss, float)
        assert_matches_reference(loss, exact_loss, dtype, "loss")
        for item, grad, expected in zip(wrt, grads, exact):
            assert grad.dtype == dtype and grad.shape == expected.shape
            assert_matches_reference(grad, expected, dtype, f"dL/d{item} ({mode}, {reduction})")


def test_value_and_grad_is_the_vjp_of_its_loss(rng: np.random.Generator) -> None:
    x, w, b = layer(rng, (6, 5), 4, np.float64)
    target = rng.normal(size=(6, 4))
    loss, grads = ead.value_and_grad(x, w, "tanh", ("x", "w", "b"), bias=b, target=target)
    y = ead.forward(x, w, "tanh", b)
    assert loss == pytest.approx(float(np.sum((y - target) ** 2)), rel=1e-13)
    for ours, theirs in zip(grads, ead.vjp(x, w, "tanh", 2 * (y - target), b, ("x", "w", "b"))):
        np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


def test_bias_gradient_without_a_bias_is_at_zero(rng: np.random.Generator) -> None:
    x, w, _ = layer(rng, (4, 3), 2, np.float64)
    (db,) = ead.vjp(x, w, "sin", np.ones((4, 2)), wrt="b")
    (db_at_zero,) = ead.vjp(x, w, "sin", np.ones((4, 2)), bias=np.zeros(2), wrt="b")
    np.testing.assert_array_equal(db, db_at_zero)


def test_jacobian_wrt_the_bias(rng: np.random.Generator) -> None:
    x, w, b = layer(rng, (2, 3, 4), 3, np.float64)
    jac = ead.jacobian(x, w, "sigmoid", wrt="b", bias=b)
    assert jac.shape == (2, 3, 3, 3)
    _, slope = reference.activation("sigmoid", x @ w + b)
    np.testing.assert_allclose(jac, slope[..., None] * np.eye(3), rtol=1e-14, atol=1e-300)


def test_bad_extra_arguments_are_named(rng: np.random.Generator) -> None:
    x, w, _ = layer(rng, (4, 3), 2, np.float64)
    with pytest.raises(ValueError, match=r"bias has shape \(3,\); expected \(2,\)"):
        ead.forward(x, w, "sin", bias=np.ones(3))
    with pytest.raises(ValueError, match=r"target has shape .* does not broadcast"):
        ead.value_and_grad(x, w, "sin", target=np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"cotangent has shape \(4, 3\); expected \(4, 2\)"):
        ead.vjp(x, w, "sin", np.ones((4, 3)))
    with pytest.raises(ValueError, match="tangents has 1 arrays; expected one per item"):
        ead.jvp(x, w, "sin", [np.ones_like(w)], wrt=("w", "x"))
    with pytest.raises(ValueError, match="unknown reduction 'avg'"):
        ead.value_and_grad(x, w, "sin", reduction="avg")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="target has dtype complex128"):
        ead.value_and_grad(x, w, "sin", target=np.ones(2, complex))


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_vjp_and_jvp_match_jax(name: str, dtype: Any, rng: np.random.Generator) -> None:
    jax = jax_with_x64()
    jnp = jax.numpy
    functions = {name: theirs for name, (_, theirs) in jax_table(jax).items()}
    functions["swish"] = functions["traced_swish"]
    x, w, b = layer(rng, (2, 3, 4), 3, dtype)

    def layer_jax(x: Any, w: Any, b: Any) -> Any:
        return functions[name](x @ w + b)

    y, pullback = jax.vjp(layer_jax, x, w, b)
    cotangent = rng.normal(size=y.shape).astype(dtype)
    for ours, theirs, item in zip(
        ead.vjp(x, w, ACTIVATIONS[name], cotangent, b, ("x", "w", "b")),
        pullback(jnp.asarray(cotangent)),
        "xwb",
    ):
        assert_matches_reference(ours, np.asarray(theirs), dtype, f"VJP d/d{item} vs JAX")
    tangents = [rng.normal(size=p.shape).astype(dtype) for p in (x, w, b)]
    y_jax, dy_jax = jax.jvp(layer_jax, (x, w, b), tuple(tangents))
    y_ours, dy_ours = ead.jvp(x, w, ACTIVATIONS[name], tangents, b, ("x", "w", "b"))
    assert_matches_reference(y_ours, np.asarray(y_jax), dtype, "JVP's Y vs JAX")
    assert_matches_reference(dy_ours, np.asarray(dy_jax), dtype, "JVP vs JAX")
