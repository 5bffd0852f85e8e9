"""Second derivatives by nested AutoDiffScalar: of activations, Hessian-vector products and
Hessians of the layer's loss, and the VJP of the VJP, against hand-written NumPy formulas (the
reference) and, where JAX is installed, jax.hessian and jax.jvp(jax.grad)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference
from eigen_autodiff._layer import vjp_of_vjp

from _helpers import assert_matches_reference
from framework_activations import jax_table, jax_with_x64

DTYPES = [np.float32, np.float64]
RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}
BUILTINS = sorted(reference.ACTIVATIONS)


def assert_close_at_scale(ours: Any, expected: Any, dtype: Any, what: str) -> None:
    """rtol per dtype and atol = rtol * max|expected|: entries that cancel across the batch."""
    rtol = RTOL[np.dtype(dtype)]
    expected = np.asarray(expected, np.float64)
    atol = rtol * float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(np.asarray(ours, np.float64), expected, rtol=rtol, atol=atol,
                               err_msg=what)  # fmt: skip


def layer(rng: np.random.Generator, dtype: Any) -> Any:
    x = rng.uniform(-1, 1, size=(2, 3, 4)).astype(dtype)
    w = rng.uniform(-1, 1, size=(4, 3)).astype(dtype)
    b = rng.uniform(-0.5, 0.5, size=3).astype(dtype)
    target = rng.uniform(-1, 1, size=(2, 3, 3)).astype(dtype)
    return x, w, b, target


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_builtin_second_derivatives_match_the_formulas(name: str, dtype: Any) -> None:
    # Through zero and the kinks, and out to where exp is still finite in float32.
    x = np.concatenate([np.linspace(-6, 6, 49), [-1e-3, 1e-3, 0.5]]).astype(dtype)
    value, first, second = ead.second_derivative(name, x)
    expected = reference.second_derivative(name, x.astype(np.float64))
    for ours, exact, what in zip((value, first, second), expected, ("f", "f'", "f''")):
        assert ours.dtype == dtype
        assert_matches_reference(ours, exact, dtype, f"{name} {what}", elementwise=True)


def test_known_points() -> None:
    # relu'' is 0 away from 0; sqrt'' at 0 is NaN with nested AutoDiffScalar (the IEEE result
    # of -1/4 x^(-3/2) through the chain rule, beside sqrt'(0) = +inf).
    _, _, relu_second = ead.second_derivative("relu", np.array([-2.0, 3.0]))
    np.testing.assert_array_equal(relu_second, [0.0, 0.0])
    _, first, second = ead.second_derivative(ead.sqrt, 0.0)
    assert first == np.inf and np.isnan(second)
    # The article's fix: 1/exp(x) with its derivative -exp(-x) supplied; the derivative function
    # is itself differentiated, so f'' = exp(-x), finite at 100 in float64.
    stable = ead.custom_derivative(lambda v: 1 / ead.exp(v), lambda v: -ead.exp(-v))
    value, first, second = ead.second_derivative(stable, 100.0)
    assert value == pytest.approx(np.exp(-100.0), rel=1e-15)
    assert first == -np.exp(-100.0)
    assert second == pytest.approx(np.exp(-100.0), rel=1e-15)
    # sigmoid'' at 2 = s(1 - s)(1 - 2s).
    s = 1 / (1 + np.exp(-2.0))
    assert ead.second_derivative("sigmoid", 2.0)[2] == pytest.approx(s * (1 - s) * (1 - 2 * s))


def test_traced_composites_differentiate_twice() -> None:
    x = np.linspace(-3, 3, 13)
    _, _, second = ead.second_derivative(lambda v: v * ead.sigmoid(v), x)  # swish
    sig = 1 / (1 + np.exp(-x))
    exact = 2 * sig * (1 - sig) + x * sig * (1 - sig) * (1 - 2 * sig)
    np.testing.assert_allclose(second, exact, rtol=1e-13, atol=1e-15)
    _, _, second = ead.second_derivative(lambda v: 2.0**v + abs(v) ** 3 + v.clip(-1, 1), x)
    np.testing.assert_allclose(second, np.log(2.0) ** 2 * 2.0**x + 6 * np.abs(x), rtol=1e-13)


@pytest.mark.parametrize("name", BUILTINS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("wrt", ["w", "x", "b"])
def test_hessian_and_hvp_match_the_reference(
    name: str, dtype: Any, wrt: str, rng: np.random.Generator
) -> None:
    x, w, b, target = layer(rng, dtype)
    for reduction in ("sum", "mean"):
        h = ead.hessian(x, w, name, wrt, bias=b, target=target, reduction=reduction)
        exact = reference.hessian(x, w, name, wrt, b, target, reduction)
        assert h.dtype == dtype and h.shape == exact.shape
        assert_close_at_scale(h, exact, dtype, f"Hessian w.r.t. {wrt}")
        parameter = {"w": w, "x": x, "b": b}[wrt]
        v = rng.normal(size=parameter.shape).astype(dtype)
        hv = ead.hvp(x, w, name, v, wrt, bias=b, target=target, reduction=reduction)
        assert hv.shape == parameter.shape
        expected = np.tensordot(exact, v.astype(np.float64), axes=v.ndim)
        assert_close_at_scale(hv, expected, dtype, f"HVP w.r.t. {wrt}")


JAX_FUNCTIONS = [*BUILTINS, "swish", "gelu"]


@pytest.mark.parametrize("name", JAX_FUNCTIONS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_against_jax(name: str, dtype: Any, rng: np.random.Generator) -> None:
    jax = jax_with_x64()
    jnp = jax.numpy
    ours = {
        "swish": lambda v: v * ead.sigmoid(v),
        "gelu": lambda v: 0.5 * v * (1 + ead.erf(v / np.sqrt(2.0))),
    }.get(name, name)
    table = {name: function for name, (_, function) in jax_table(jax).items()}
    table["swish"] = table["traced_swish"]
    table["gelu"] = lambda v: jax.nn.gelu(v, approximate=False)
    theirs = table[name]
    x, w, b, target = layer(rng, dtype)

    def loss(x: Any, w: Any, b: Any) -> Any:
        return jnp.mean((theirs(x @ w + b) - target) ** 2)

    for argnum, wrt in enumerate("xwb"):
        h_jax = np.asarray(jax.hessian(loss, argnums=argnum)(x, w, b))
        h = ead.hessian(x, w, ours, wrt, bias=b, target=target, reduction="mean")
        assert_close_at_scale(h, h_jax, dtype, f"Hessian w.r.t. {wrt} vs jax.hessian")
        parameter = (x, w, b)[argnum]
        v = rng.normal(size=parameter.shape).astype(dtype)

        def gradient(p: Any, argnum: int = argnum) -> Any:
            args = [x, w, b]
            args[argnum] = p
            return jax.grad(loss, argnums=argnum)(*args)

        _, hv_jax = jax.jvp(gradient, (parameter,), (v,))
        hv = ead.hvp(x, w, ours, v, wrt, bias=b, target=target, reduction="mean")
        assert_close_at_scale(hv, np.asarray(hv_jax), dtype, f"HVP w.r.t. {wrt} vs JAX")


@pytest.mark.parametrize("name", ["sin", "tanh", "softplus"])
def test_vjp_of_vjp_matches_jax(name: str, rng: np.random.Generator) -> None:
    jax = jax_with_x64()
    functions = {"sin": jax.numpy.sin, "tanh": jax.numpy.tanh, "softplus": jax.nn.softplus}
    x, w, b, _ = layer(rng, np.float64)
    cotangent = rng.normal(size=(2, 3, 3))

    def backward(x: Any, w: Any, b: Any, cotangent: Any) -> Any:
        return jax.vjp(lambda *p: functions[name](p[0] @ p[1] + p[2]), x, w, b)[1](cotangent)

    grads = (rng.normal(size=x.shape), rng.normal(size=w.shape), rng.normal(size=b.shape))
    expected = jax.vjp(backward, x, w, b, cotangent)[1](grads)
    ours = vjp_of_vjp(x, w, name, cotangent, grads, bias=b)
    for item, got, want in zip(("x", "w", "b", "cotangent"), ours, expected):
        assert_close_at_scale(got, np.asarray(want), np.float64, f"d/d{item}")


def test_second_order_arguments_are_checked(rng: np.random.Generator) -> None:
    x, w, _, _ = layer(rng, np.float64)
    with pytest.raises(ValueError, match="hessian's wrt is one parameter name"):
        ead.hessian(x, w, "sin", wrt="kernel")
    with pytest.raises(ValueError, match=r"vector has shape \(3,\); expected \(4, 3\)"):
        ead.hvp(x, w, "sin", np.ones(3))
    budget = ead.get_memory_budget()
    ead.set_memory_budget(1000)
    try:
        with pytest.raises(MemoryError, match=r"Hessian w\.r\.t\. x"):
            ead.hessian(x, w, "sin", "x")
    finally:
        ead.set_memory_budget(budget)


def test_supplied_derivatives_hold_on_both_nested_levels() -> None:
    # Z = 0 exactly (x = 0, no bias): softplus's value formula goes through abs at 0, whose
    # derivative convention would give -1/2 on the inner level; the supplied derivative (the
    # sigmoid, 1/2) must hold on both levels, or the Hessian's f'^2 term is wrong.
    x, w = np.zeros((3, 2)), np.ones((2, 2))
    _, first, second = ead.second_derivative("softplus", 0.0)
    assert (first, second) == (0.5, 0.25)
    for wrt in "wxb":
        h = ead.hessian(x + 1.0, w, "softplus", wrt, bias=np.full(2, -2.0), target=np.ones(2))
        exact = reference.hessian(x + 1.0, w, "softplus", wrt, np.full(2, -2.0), np.ones(2))
        assert_close_at_scale(h, exact, np.float64, f"softplus Hessian at Z = 0 w.r.t. {wrt}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_check_grad_checks_second_derivatives(dtype: Any, rng: np.random.Generator) -> None:
    x = np.linspace(-3, 3, 13).astype(dtype)
    for activation in ("sigmoid", "tanh", lambda v: v * ead.sigmoid(v)):
        assert ead.check_grad(activation, x, order=2).passed
    # A jump in the first derivative (relu' at 0), where f'' = 0 by convention: reported, as a
    # kink is at first order.
    assert not ead.check_grad("relu", np.array([0.0], dtype), order=2).passed
    layer_x, w, _, _ = layer(rng, dtype)
    report = ead.check_layer_grad(layer_x, w, "tanh", wrt=("w", "x", "b"), order=2)
    assert report.passed, report
    with pytest.raises(ValueError, match=r"order must be 1 .* or 2"):
        ead.check_grad("sin", x, order=3)


def test_tanh_second_derivative_is_accurate_near_zero() -> None:
    # tanh' was supplied as 4e/(1+e)**2 with e = exp(-2|x|) everywhere; differentiating that
    # subtracts two nearly equal terms near 0, and float32 tanh''(1e-3) was 677 ulps off. The
    # exact -2 tanh(x) sech(x)**2, in float64 (no cancellation there), rounded to float32.
    x = np.concatenate([np.geomspace(1e-6, 10, 60), -np.geomspace(1e-6, 10, 60)]).astype(np.float32)
    _, _, second = ead.second_derivative("tanh", x)
    wide = x.astype(np.float64)
    exact = (-2.0 * np.tanh(wide) / np.cosh(wide) ** 2).astype(np.float32)
    ulps = np.abs(second.astype(np.float64) - exact) / np.spacing(np.abs(exact)).astype(np.float64)
    assert ulps.max() <= 8, f"{ulps.max():.3g} ulps at x = {x[np.argmax(ulps)]}"
