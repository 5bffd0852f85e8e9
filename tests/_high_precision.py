"""Values and derivatives of the built-in activations in high precision, with Python's decimal.

An oracle independent of the library and of the C library's float math: every function is
evaluated with 420 significant digits (enough to reduce sin and cos arguments up to 1e300
exactly), then rounded once to float64. The derivatives are the textbook formulas, written so
that no digit is lost to cancellation (the sigmoid's s(1 - s) as e/(1 + e)**2 with e = exp(-x)).
"""

from __future__ import annotations

import decimal
from decimal import Decimal

PRECISION = 420
_CONTEXT = decimal.Context(prec=PRECISION, Emin=-(10**6), Emax=10**6)


def _pi() -> Decimal:
    # The series of the decimal module's documentation (recipes), at this precision.
    with decimal.localcontext(_CONTEXT) as context:
        context.prec += 10
        three = Decimal(3)
        lasts, t, s, n, na, d, da = Decimal(0), three, Decimal(3), 1, 0, 0, 24
        while s != lasts:
            lasts = s
            n, na = n + na, na + 8
            d, da = d + da, da + 32
            t = (t * n) / d
            s += t
        return +s


_PI = _pi()


def _sin_cos(x: Decimal) -> tuple[Decimal, Decimal]:
    with decimal.localcontext(_CONTEXT) as context:
        context.prec += 10
        # Reduce to [-pi, pi]: x is at most 1e300, and pi has 420 digits.
        turns = (x / (2 * _PI)).to_integral_value(rounding=decimal.ROUND_HALF_EVEN)
        r = x - turns * 2 * _PI
        sine, cosine = Decimal(0), Decimal(0)
        term, k = Decimal(1), 0  # r**k / k!
        while True:
            if k % 4 == 0:
                cosine += term
            elif k % 4 == 1:
                sine += term
            elif k % 4 == 2:
                cosine -= term
            else:
                sine -= term
            k += 1
            term = term * r / k
            if term == 0 or abs(term) < Decimal(10) ** (-(PRECISION + 20)):
                break
        return +sine, +cosine


def _exp(x: Decimal) -> Decimal:
    return x.exp(_CONTEXT)


def _value_and_derivative(name: str, x: Decimal) -> tuple[Decimal, Decimal]:
    with decimal.localcontext(_CONTEXT):
        if name == "identity":
            return x, Decimal(1)
        if name == "sin":
            sine, cosine = _sin_cos(x)
            return sine, cosine
        if name == "cos":
            sine, cosine = _sin_cos(x)
            return cosine, -sine
        if name == "tanh":
            # sech(x)**2 = (2 / (e**x + e**-x))**2, and tanh = (e**x - e**-x) / (e**x + e**-x).
            plus, minus = _exp(x), _exp(-x)
            return (plus - minus) / (plus + minus), (2 / (plus + minus)) ** 2
        if name == "sigmoid":
            e = _exp(-x)
            return 1 / (1 + e), e / (1 + e) ** 2
        if name == "relu":
            return (x, Decimal(1)) if x > 0 else (Decimal(0), Decimal(0))
        if name == "softplus":
            e = _exp(x)
            return (1 + e).ln(_CONTEXT), e / (1 + e)
        if name == "exp":
            e = _exp(x)
            return e, e
        if name == "square":
            return x * x, 2 * x
        if name == "inv_exp":
            e = _exp(-x)
            return e, -e
    raise ValueError(f"no high-precision formula for {name!r}")


def value_and_derivative(name: str, x: float) -> tuple[float, float]:
    """The built-in ``name``'s value and derivative at ``x``, each rounded once to float64."""
    value, slope = _value_and_derivative(name, Decimal(x))
    return float(value), float(slope)


NAMES: tuple[str, ...] = (
    "identity", "sin", "cos", "tanh", "sigmoid", "relu", "softplus", "exp", "square", "inv_exp"
)  # fmt: skip
