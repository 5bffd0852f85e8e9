"""Every built-in activation's value and derivative against 420-digit values (issue 10, item 13).

Over each function's whole range in float32 and float64: tiny and huge arguments, the tails
where derivatives become subnormal (tanh at 46 in float32: 4.4e-40; at 360 in float64:
8.1e-313), and beyond, where the true values round to zero or overflow. The oracle is
``tests/_high_precision.py`` (Python's decimal), independent of the library and of the C math
library. The tolerance is a few units in the last place of the correctly rounded result.
"""

from __future__ import annotations

import numpy as np
import pytest
from _high_precision import NAMES, value_and_derivative

import eigen_autodiff as ead

ULPS = 4  # measured: at most 3 (the sigmoid's derivative), most are within 1

# The largest |x| checked, (float32, float64): as far as the function has anything to show.
# inv_exp is 1/exp(x) written naively on purpose (the article's failure): its derivative is only
# right where exp(x)**2 does not overflow, and diagnose's tests cover what happens beyond.
REACH = {
    "identity": (1e38, 1e308),
    "sin": (1e30, 1e300),
    "cos": (1e30, 1e300),
    "tanh": (120.0, 800.0),
    "sigmoid": (120.0, 800.0),
    "relu": (1e38, 1e308),
    "softplus": (120.0, 800.0),
    "exp": (120.0, 800.0),
    "square": (1e19, 1e154),
    "inv_exp": (44.0, 354.0),
}
# The points of the issue: where Eigen's tanh' = 1/cosh(x)**2 underflowed to 0.
TAILS = [46.0, 60.0, 88.0, 100.0, 103.0, 360.0, 372.0, 700.0]


def points(reach: float, dtype: type) -> np.ndarray:
    magnitudes = np.geomspace(1e-30, reach, 160)
    tails = [t for t in TAILS if t <= reach]
    x = np.concatenate(
        [magnitudes, -magnitudes, [0.0], np.linspace(-10, 10, 81), tails, np.negative(tails)]
    )
    return np.unique(x.astype(dtype))


def assert_within_ulps(ours: np.ndarray, exact: np.ndarray, x: np.ndarray, what: str) -> None:
    dtype = ours.dtype
    with np.errstate(over="ignore"):
        rounded = exact.astype(dtype)  # the correctly rounded result (double rounding aside)
    overflow = np.isinf(rounded)
    # Where the true value overflows the dtype, the only right answer is an infinity of its sign.
    np.testing.assert_array_equal(ours[overflow], rounded[overflow], err_msg=what)
    finite = ~overflow
    ulp = np.spacing(np.abs(rounded[finite])).astype(np.float64)  # the smallest subnormal at 0
    error = np.abs(ours[finite].astype(np.float64) - rounded[finite].astype(np.float64)) / ulp
    worst = int(np.argmax(error))
    assert error[worst] <= ULPS, (
        f"{what} at x = {x[finite][worst]!r}: {ours[finite][worst]!r}, correctly rounded "
        f"{rounded[finite][worst]!r} ({error[worst]:.3g} ulps)"
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", NAMES)
def test_value_and_derivative_within_a_few_ulps_over_the_whole_range(
    name: str, dtype: type
) -> None:
    x = points(REACH[name][dtype is np.float64], dtype)
    value, slope = ead.derivative(name, x)
    exact = np.array([value_and_derivative(name, float(p)) for p in x])
    assert_within_ulps(value, exact[:, 0], x, f"{name} value in {np.dtype(dtype)}")
    assert_within_ulps(slope, exact[:, 1], x, f"{name}' in {np.dtype(dtype)}")


def test_every_builtin_is_covered() -> None:
    assert set(NAMES) == set(ead.ACTIVATIONS) == set(REACH)


def test_the_oracle_itself() -> None:
    # Values known independently of the formulas above.
    assert value_and_derivative("sin", np.pi / 6)[0] == pytest.approx(0.5, rel=1e-15)
    # A famous hard case of argument reduction: cos(10**22) = 0.52321478539513894549759447...
    assert value_and_derivative("cos", 1e22)[0] == float("0.52321478539513894549759447338")
    assert value_and_derivative("tanh", 46.0)[1] == pytest.approx(4 * np.exp(-92.0), rel=1e-15)
    assert value_and_derivative("sigmoid", 2.0) == pytest.approx(
        (0.8807970779778823, 0.10499358540350662), rel=1e-15
    )
