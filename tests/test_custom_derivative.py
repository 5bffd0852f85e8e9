"""ead.custom_derivative: the article's fix for 1/exp(x) in both dtypes, the chain rule when it is
used inside a larger activation, the decorator form, and misuse."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference
from eigen_autodiff._layer import MODES

from _helpers import assert_matches_reference, random_layer

# The article's fix: value 1/exp(x) as written, derivative -exp(-x) supplied by hand.
stable = ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))


def naive(x: Any) -> Any:
    return 1 / ead.exp(x)


def test_articles_fix_in_float64_to_the_last_digit() -> None:
    value, slope = ead.derivative(stable, 100.0)
    assert slope == -math.exp(-100.0)
    assert value == pytest.approx(math.exp(-100.0), rel=1e-15)
    # The naive AD derivative -exp(x)/exp(x)**2 is finite in float64 here, but not exact.
    _, naive_slope = ead.derivative(naive, 100.0)
    assert naive_slope == pytest.approx(-math.exp(-100.0), rel=1e-14)


def test_articles_fix_in_float32_is_finite_and_negative() -> None:
    x = np.float32(100.0)
    value, slope = ead.derivative(stable, x)
    assert value.dtype == slope.dtype == np.float32
    assert value == 0  # 1/exp(100): exp overflows to inf in float32; the value is still right
    # -exp(-100) = -3.7e-44 is a float32 subnormal (the smallest is 1.4e-45): it does not
    # underflow to -0.0, but it is rounded to a multiple of 1.4e-45.
    assert np.isfinite(slope) and np.signbit(slope) and slope < 0
    assert abs(slope - np.float32(-math.exp(-100.0))) <= np.spacing(np.float32(0))
    # Where the article's naive formula, traced or built in, gives NaN.
    for broken in (naive, "inv_exp"):
        naive_value, naive_slope = ead.derivative(broken, x)
        assert naive_value == 0 and np.isnan(naive_slope), broken


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_articles_fix_in_the_layer(mode: Any, dtype: Any) -> None:
    # Z = X W = 100: dL/dW = 2 f(100) f'(100) X; the naive derivative makes it NaN in float32.
    x = np.array([[100.0]], dtype=dtype)
    w = np.array([[1.0]], dtype=dtype)
    loss, (dw,) = ead.value_and_grad(x, w, stable, mode=mode)
    expected = 2 * math.exp(-100.0) * -math.exp(-100.0) * 100.0
    assert loss == pytest.approx(math.exp(-200.0) if dtype == np.float64 else 0.0, rel=1e-14)
    assert np.isfinite(dw).all()
    assert float(dw[0, 0]) == pytest.approx(expected if dtype == np.float64 else 0.0, rel=1e-14)
    if dtype == np.float32:
        _, (naive_dw,) = ead.value_and_grad(x, w, naive, mode=mode)
        assert np.isnan(naive_dw).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_reference_at_ordinary_points(dtype: Any, rng: np.random.Generator) -> None:
    x = rng.uniform(-5, 5, 100).astype(dtype)
    value, slope = ead.derivative(stable, x)
    expected_value, expected_slope = reference.activation("inv_exp", x)
    assert_matches_reference(value, expected_value, dtype, "value", elementwise=True)
    assert_matches_reference(slope, expected_slope, dtype, "derivative", elementwise=True)


def test_the_derivative_comes_from_df_not_from_f() -> None:
    # A deliberately different derivative shows which one is used.
    odd = ead.custom_derivative(ead.sin, lambda x: 2 * x + 1)
    value, slope = ead.derivative(odd, np.array([0.5, 2.0]))
    np.testing.assert_allclose(value, np.sin([0.5, 2.0]), rtol=1e-15)
    np.testing.assert_array_equal(slope, [2.0, 5.0])


def test_chain_rule_inside_a_larger_activation(rng: np.random.Generator) -> None:
    def composite(x: Any) -> Any:
        return x * stable(2 * x) + ead.tanh(stable(x))

    x = rng.uniform(-3, 3, 100)
    value, slope = ead.derivative(composite, x)
    e1, e2 = np.exp(-x), np.exp(-2 * x)
    np.testing.assert_allclose(value, x * e2 + np.tanh(e1), rtol=1e-13)
    # d/dx [x f(2x)] = f(2x) + 2x f'(2x); d/dx tanh(f(x)) = (1 - tanh(f)^2) f'(x), f' = -f.
    expected = e2 - 2 * x * e2 - (1 - np.tanh(e1) ** 2) * e1
    np.testing.assert_allclose(slope, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", MODES)
def test_chain_rule_in_the_layer(mode: Any, rng: np.random.Generator) -> None:
    x, w = random_layer(rng, 4, 3, 2, np.float64)

    def squashed(z: Any) -> Any:
        return ead.tanh(stable(z))

    loss, (dw, dx) = ead.value_and_grad(x, w, squashed, wrt=("w", "x"), mode=mode)
    z = x @ w
    y = np.tanh(np.exp(-z))
    dl_dz = 2 * y * (1 - y**2) * -np.exp(-z)
    assert loss == pytest.approx(float(np.sum(y**2)), rel=1e-12)
    # Sums of terms of both signs: judged at the scale of the whole gradient.
    assert_matches_reference(dw, x.T @ dl_dz, np.float64, "dL/dw")
    assert_matches_reference(dx, dl_dz @ w.T, np.float64, "dL/dx")


def test_decorator_form_is_the_same_activation() -> None:
    @ead.custom_derivative(df=lambda x: -ead.exp(-x))
    def inv_exp(x: Any) -> Any:
        return 1 / ead.exp(x)

    assert isinstance(inv_exp, ead.CustomDerivative)
    assert inv_exp.__name__ == "inv_exp"
    x = np.array([-2.0, 0.5, 100.0])
    for ours, theirs in zip(ead.derivative(inv_exp, x), ead.derivative(stable, x)):
        np.testing.assert_array_equal(ours, theirs)


def test_nested_custom_derivatives() -> None:
    # Inside f and df only values count: the inner custom derivative contributes its value.
    inner = ead.custom_derivative(ead.exp, lambda x: 0.0)
    outer = ead.custom_derivative(lambda x: inner(x) + 1, lambda x: inner(x))
    value, slope = ead.derivative(outer, np.array([0.0, 1.0]))
    np.testing.assert_allclose(value, np.exp([0.0, 1.0]) + 1, rtol=1e-15)
    np.testing.assert_allclose(slope, np.exp([0.0, 1.0]), rtol=1e-15)


def test_custom_derivative_of_a_custom_derivative_takes_the_outer_derivative() -> None:
    # Issue 10, item 6: the outer df wins, as in JAX (jax.custom_jvp of a custom_jvp gives 3.0).
    inner = ead.custom_derivative(lambda z: z * z, lambda z: 2 * z)
    outer = ead.custom_derivative(inner, lambda z: 3.0)
    assert ead.derivative(outer, 1.0) == (1.0, 3.0)
    # The chain rule through the outer one: d/dx outer(2x) = 3 * 2.
    assert ead.derivative(lambda x: outer(2 * x), 1.0)[1] == 6.0
    assert ead.derivative(inner, 1.0)[1] == 2.0  # the inner one is unchanged

    @ead.custom_derivative(df=lambda z: 3.0)
    @ead.custom_derivative(df=lambda z: 2 * z)
    def stacked(z: Any) -> Any:
        """Documentation of the innermost function."""
        return z * z

    assert ead.derivative(stacked, np.array([1.0, 2.0]))[1].tolist() == [3.0, 3.0]
    assert stacked.__name__ == "stacked"
    assert stacked.__doc__ == "Documentation of the innermost function."


def test_its_functions_cannot_be_reassigned() -> None:
    # The traced program is cached per custom derivative: f and df must stay what they were.
    stable = ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))
    with pytest.raises(AttributeError):
        stable.df = lambda x: 0.0  # type: ignore[misc]


def test_straight_through_estimator_with_constant_parts() -> None:
    # A step whose derivative is taken as 1: both functions return constants in places.
    step = ead.custom_derivative(lambda x: ead.where(x > 0, 1.0, 0.0), lambda x: 1.0)
    value, slope = ead.derivative(step, np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(value, [0.0, 1.0])
    np.testing.assert_array_equal(slope, [1.0, 1.0])


def test_called_on_numbers_it_gives_the_value() -> None:
    assert stable(3.0) == pytest.approx(math.exp(-3.0), rel=1e-15)
    np.testing.assert_allclose(stable(np.array([0.0, 1.0])), [1.0, math.exp(-1.0)], rtol=1e-15)


def test_plain_evaluation_skips_the_derivative_function() -> None:
    program = ead.trace(stable)
    listing = str(program)
    assert "chain" in listing and "value a0" in listing
    # forward() evaluates plain values: the derivative function's NaN-free or not, never run.
    poisoned = ead.custom_derivative(lambda x: 2 * x, lambda x: ead.log(-abs(x) - 1))
    y = ead.forward(np.ones((2, 2)), np.ones((2, 2)), poisoned)
    np.testing.assert_array_equal(y, np.full((2, 2), 4.0))
    _, slope = ead.derivative(poisoned, 1.0)
    assert np.isnan(slope)


def test_closures_over_the_outer_value_are_rejected() -> None:
    def leaky(x: Any) -> Any:
        return ead.custom_derivative(lambda v: v * x, lambda v: x)(x)

    with pytest.raises(
        TypeError, match=r"custom derivative's functions see only their own argument"
    ):
        ead.derivative(leaky, 1.0)

    def leaky_slope(x: Any) -> Any:
        return ead.custom_derivative(lambda v: v, lambda v: x)(x)

    with pytest.raises(TypeError, match=r"df: a custom derivative.s functions see only their own"):
        ead.derivative(leaky_slope, 1.0)


def test_misuse() -> None:
    with pytest.raises(TypeError, match="needs the derivative df"):
        ead.custom_derivative(ead.sin)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="needs two callables"):
        ead.custom_derivative(ead.sin, 2.0)  # type: ignore[arg-type]
    bad_df = ead.custom_derivative(ead.sin, lambda x: "cos")
    with pytest.raises(TypeError, match="result of df must be a traced value computed from"):
        ead.derivative(bad_df, 1.0)
    with pytest.raises(TypeError, match="argument must be a value, not a condition"):
        ead.derivative(lambda x: stable(x > 0), 1.0)
