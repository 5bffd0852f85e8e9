"""The numbers the article publishes, and their exact values derived independently."""

from __future__ import annotations

from decimal import Decimal, getcontext

import numpy as np
import pytest

import eigen_autodiff as ead


def exact_sigmoid_and_slope(x: int) -> tuple[float, float]:
    getcontext().prec = 50
    s = 1 / (1 + Decimal(-x).exp())
    return float(s), float(s * (1 - s))


def test_sigmoid_at_two_has_the_articles_value_and_derivative() -> None:
    value, slope = ead.derivative("sigmoid", 2.0)
    # The article prints 0.8808 and 0.10499.
    assert round(float(value), 4) == 0.8808
    assert round(float(slope), 5) == 0.10499
    # DESIGN.md quotes 0.8807970779778823 and 0.10499358540350662; the latter is sigmoid*(1-sigmoid)
    # evaluated in double. The exact derivative, 0.104993585403506517..., rounds to
    # 0.1049935854035065, which is what AutoDiff gives.
    assert float(value) == pytest.approx(0.8807970779778823, rel=1e-15)
    assert float(slope) == pytest.approx(0.10499358540350662, rel=2e-15)
    exact_value, exact_slope = exact_sigmoid_and_slope(2)
    assert float(value) == pytest.approx(exact_value, rel=2e-16)
    assert float(slope) == pytest.approx(exact_slope, rel=2e-16)


def test_sigmoid_at_two_in_float32() -> None:
    value, slope = ead.derivative("sigmoid", np.float32(2.0))
    assert value.dtype == np.float32
    exact_value, exact_slope = exact_sigmoid_and_slope(2)
    assert float(value) == pytest.approx(exact_value, rel=1e-6)
    assert float(slope) == pytest.approx(exact_slope, rel=1e-6)


def test_naive_inverse_exponential_breaks_in_float32_at_100() -> None:
    # The article: 1/exp(x) at x = 100 has a fine value and a NaN gradient in float32.
    value, slope = ead.derivative("inv_exp", np.float32(100.0))
    assert value == 0.0
    assert np.isnan(slope)


def test_naive_inverse_exponential_is_right_in_float64_at_100() -> None:
    value, slope = ead.derivative("inv_exp", 100.0)
    getcontext().prec = 50
    exact = float(Decimal(-100).exp())
    assert float(value) == pytest.approx(exact, rel=1e-15)
    assert float(slope) == pytest.approx(-exact, rel=1e-15)
