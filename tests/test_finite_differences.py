"""Finite differences (``_finite_differences``): the loss gradient against them with gradcheck's
tolerances, and the estimates themselves against derivatives known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff._diagnostics import finite_differences as fd

from _helpers import EVERY_BUILTIN_AND_FAST_MODE, random_layer_off_kinks

ATOL, RTOL = 1e-5, 1e-3  # torch.autograd.gradcheck's defaults (its eps is fd.STEP)


@EVERY_BUILTIN_AND_FAST_MODE
def test_gradient_matches_central_differences(
    activation: str, mode: str, rng: np.random.Generator
) -> None:
    x, w = random_layer_off_kinks(rng, activation, 4, 3, 2)
    _, (dw, dx) = ead.value_and_grad(x, w, activation, wrt=("w", "x"), mode=mode)

    def loss_of_w(w_: np.ndarray) -> float:
        return ead.value_and_grad(x, w_, activation, wrt=())[0]

    def loss_of_x(x_: np.ndarray) -> float:
        return ead.value_and_grad(x_, w, activation, wrt=())[0]

    np.testing.assert_allclose(dw, fd.gradient_estimate(loss_of_w, w), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx, fd.gradient_estimate(loss_of_x, x), rtol=RTOL, atol=ATOL)


# --- the estimates ------------------------------------------------------------------------------


def sech2(x: np.ndarray) -> np.ndarray:
    # 1/cosh(x)**2 without overflow: 4 e / (1 + e)**2, e = exp(-2|x|).
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


@pytest.mark.parametrize(
    ("f", "exact"),
    [
        (np.sin, np.cos),
        (np.cos, lambda x: -np.sin(x)),
        (np.tanh, lambda x: sech2(x)),
        (lambda x: np.sin(x) * np.tanh(x), lambda x: np.cos(x) * np.tanh(x) + np.sin(x) * sech2(x)),
    ],
)
def test_estimate_is_accurate_near_and_far_from_zero(
    f: object, exact: object, rng: np.random.Generator
) -> None:
    # A step relative to |x| (1e-6 |x|: 1 at 1e6) is useless for sin there; the ladder is not.
    x = np.concatenate([rng.uniform(-1e6, 1e6, 500), rng.uniform(-10, 10, 500)])
    found = fd.derivative_estimate(f, x)  # type: ignore[arg-type]
    truth = exact(x)  # type: ignore[operator]
    np.testing.assert_allclose(found.derivative, truth, rtol=0, atol=1e-10)
    assert np.all(np.abs(found.derivative - truth) <= found.error + 1e-12)


def test_estimate_at_a_kink_is_the_symmetric_quotient() -> None:
    found = fd.derivative_estimate(lambda x: np.maximum(x, 0.0), [0.0, -1.0, 2.0])
    np.testing.assert_array_equal(found.derivative, [0.5, 0.0, 1.0])


def test_estimate_at_a_jump_says_it_is_unreliable() -> None:
    found = fd.derivative_estimate(lambda x: np.where(x > 0, 1.0, 0.0), [0.0])
    assert found.error[0] > abs(found.derivative[0]) / 2


def test_estimate_where_the_function_is_undefined_is_nan() -> None:
    with np.errstate(invalid="ignore"):
        found = fd.derivative_estimate(np.sqrt, [-1.0, 4.0])
    assert np.isnan(found.derivative[0]) and found.error[0] == np.inf
    assert found.derivative[1] == pytest.approx(0.25, rel=1e-10)


def test_estimate_of_exp_near_overflow_uses_the_small_steps() -> None:
    found = fd.derivative_estimate(np.exp, [709.0])
    assert found.derivative[0] == pytest.approx(np.exp(709.0), rel=1e-9)


def test_central_difference_with_the_fixed_step() -> None:
    # h = 1e-6 max(1, |x|): error about h**2 / 6 = 1.7e-13 of the derivative at 0.5.
    np.testing.assert_allclose(fd.central_difference(np.exp, [0.5]), np.exp(0.5), rtol=1e-9)


def test_directional_derivative_of_a_quadratic(rng: np.random.Generator) -> None:
    a = rng.standard_normal((5, 5))
    p = rng.standard_normal(5)
    v = fd.random_direction((5,), seed=4)
    assert float(np.sum(v**2)) == pytest.approx(1.0)
    slope, error = fd.directional_derivative(lambda q: float(q @ a @ q), p, v)
    assert slope == pytest.approx(float((a + a.T) @ p @ v), rel=1e-10, abs=1e-12)
    assert error < 1e-8
