"""diagnose: find the points where an activation's AD derivative is wrong, and say why.

At every point, in float32 and float64, the AD derivative is compared with an independent
estimate: finite differences of the same function evaluated in float64, with the step chosen per
point (``_finite_differences.derivative_estimate``). A point fails where the derivative is NaN
or infinite while the value is finite, where it disagrees with the estimate beyond tolerance, or
where it is zero while the true derivative is representable in the dtype (subnormals included):
a silent underflow. For a failure, the activation's trace is replayed instruction by instruction
to name the first operation whose derivative went wrong, and why. Where the derivative is
undefined and the library applied a documented convention (relu'(0) = 0, abs'(0) = 1,
sqrt'(0) = +inf), the point is a note, not a failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._derivative import derivative
from .blame import Blame, blame
from .finite_differences import DerivativeEstimate
from .finite_differences import derivative_estimate as _derivative_estimate

RTOL = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-5}


@dataclass(frozen=True)
class Failure:
    """One point where the AD derivative is wrong (or, in ``Diagnosis.notes``, undefined).

    Example:
        >>> import eigen_autodiff as ead
        >>> failure = ead.diagnose("inv_exp", [100.0]).failures[0]
        >>> failure.x, failure.dtype, failure.op
        (100.0, 'float32', 'exp')
        >>> print(failure.derivative)
        nan

    """

    x: float
    dtype: str
    value: float
    derivative: float
    expected: float
    op: str
    reason: str
    suggestion: str

    def __str__(self) -> str:
        text = (
            f"x = {self.x:.6g} ({self.dtype}): value {self.value:.6g}, AD derivative "
            f"{self.derivative:.6g}, expected {self.expected:.6g}\n    at {self.op}: {self.reason}"
        )
        return text + (f"\n    fix: {self.suggestion}" if self.suggestion else "")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


@dataclass(frozen=True)
class Diagnosis:
    """What diagnose found: ``passed`` when no point failed.

    ``notes`` lists the points where the derivative is undefined and a documented convention
    was applied (relu'(0) = 0, abs'(0) = 1, sqrt'(0) = +inf): records like ``failures`` that do
    not count against ``passed``.

    Example:
        >>> import eigen_autodiff as ead
        >>> report = ead.diagnose("relu", [-1.0, 0.0])
        >>> report.passed, len(report.failures), len(report.notes)
        (True, 0, 2)
        >>> print(str(report).splitlines()[0])
        Diagnosis(relu: 2 points x float32, float64: passed, 2 notes)

    """

    activation: str
    points: int
    dtypes: tuple[str, ...]
    failures: tuple[Failure, ...]
    notes: tuple[Failure, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether the derivative was right at every point in every dtype (notes aside)."""
        return not self.failures

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else _count(len(self.failures), "failure")
        if self.notes:
            verdict += f", {_count(len(self.notes), 'note')}"
        head = (
            f"Diagnosis({self.activation}: {_count(self.points, 'point')} x "
            f"{', '.join(self.dtypes)}: {verdict})"
        )
        return "\n".join(
            [
                head,
                *(f"  {failure}" for failure in self.failures),
                *(f"  note: {note}" for note in self.notes),
            ]
        )


def derivative_estimate(activation: Any, x64: NDArray[np.float64]) -> DerivativeEstimate:
    """Finite differences of the float64 function, step chosen per point: independent of AD."""
    return _derivative_estimate(lambda at: derivative(activation, at)[0], x64)


def finite_difference_estimate(activation: Any, x64: NDArray[np.float64]) -> NDArray[np.float64]:
    """The derivative estimated by finite differences of the float64 function (see above)."""
    return derivative_estimate(activation, x64).derivative


def _failing(
    value: NDArray[Any], slope: NDArray[Any], found: DerivativeEstimate, x64: NDArray[Any]
) -> NDArray[np.bool_]:
    dtype = value.dtype
    expected, error = found.derivative, found.error
    value64, slope64 = value.astype(np.float64), slope.astype(np.float64)
    broken = np.isfinite(value64) & ~np.isfinite(slope64)
    # A derivative is judged against its own size and against the function's scale at x (so
    # that a derivative far below the value's precision, which float arithmetic cannot carry,
    # is no false alarm), down to the dtype's smallest normal number, allowing for the
    # estimate's own error. Only where that error is small: beside the tolerance, or beside the
    # derivatives compared where the steps were fine enough to trust it. A coarse ruler cannot
    # judge: at a jump, or sin at 1e20, where float64's spacing exceeds the period and every
    # step aliases (the estimate is then near 0 with a small but meaningless error).
    rtol = RTOL[dtype]
    scale = np.maximum(np.abs(expected), np.abs(value64) / np.maximum(1.0, np.abs(x64)))
    tolerance = rtol * scale + np.finfo(dtype).tiny
    small_error = (error <= tolerance) | (
        found.fine & (error <= rtol * np.maximum(np.abs(expected), np.abs(slope64)))
    )
    judged = np.isfinite(expected) & small_error
    wrong = judged & ~(np.abs(slope64 - expected) <= tolerance + error)
    # Below the smallest normal number the tolerance cannot tell zero from the truth: a zero
    # derivative fails wherever the true one, reliably estimated, is representable.
    representable = np.abs(expected) >= float(np.finfo(dtype).smallest_subnormal)
    reliable = np.abs(expected) > 2 * error
    underflow = (slope64 == 0) & representable & reliable & np.isfinite(expected)
    failing: NDArray[np.bool_] = broken | wrong | underflow
    return failing


def _dtype_names(dtypes: str | Sequence[str]) -> tuple[str, ...]:
    names = (dtypes,) if isinstance(dtypes, str) else tuple(dtypes)
    if not names:
        raise ValueError("dtypes is empty: name at least one of 'float32' and 'float64'")
    for name in names:
        if name not in ("float32", "float64"):
            raise ValueError(f"dtypes holds {name!r}; expected 'float32' and/or 'float64'")
    return names


def diagnose(
    activation: Any,
    x: ArrayLike,
    dtypes: str | Sequence[str] = ("float32", "float64"),
) -> Diagnosis:
    """Points where the AD derivative of ``activation`` is wrong, with the operation to blame.

    ``activation`` is a built-in name or a Python callable (traced); ``dtypes`` is one dtype
    name or a sequence of them. Each failure records ``x``, ``dtype``, ``value``,
    ``derivative``, ``expected`` (finite differences in float64), ``op`` (the first operation
    of the trace whose derivative went wrong), ``reason`` and, where one is known, a
    ``suggestion``. Points where the derivative is undefined and a documented convention
    applies are in ``notes`` instead, which ``passed`` ignores.

    Example:
        >>> import eigen_autodiff as ead
        >>> report = ead.diagnose("inv_exp", [1.0, 100.0])
        >>> report.passed, report.failures[0].x, report.failures[0].dtype
        (False, 100.0, 'float32')
        >>> report.failures[0].reason.startswith("overflow")
        True
        >>> relu = ead.diagnose("relu", [0.0, 1.0], dtypes="float64")
        >>> relu
        Diagnosis(relu: 2 points x float64: passed, 1 note)
          note: x = 0 (float64): value 0, AD derivative 0, expected 0.5
            at select: a kink: ...

    """
    names = _dtype_names(dtypes)
    # Points beyond float32's range become inf there, on purpose: no warning about it.
    with np.errstate(all="ignore"):
        points = np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()
        failures: list[Failure] = []
        notes: list[Failure] = []
        for name in names:
            dtype = np.dtype(name)
            at = points.astype(dtype)
            at64 = at.astype(np.float64)
            value, slope = derivative(activation, at)
            found = derivative_estimate(activation, at64)
            for index in np.flatnonzero(_failing(value, slope, found, at64)):
                culprit: Blame = blame(activation, float(at64[index]), dtype)
                record = Failure(
                    x=float(at64[index]),
                    dtype=dtype.name,
                    value=float(value[index]),
                    derivative=float(slope[index]),
                    expected=float(found.derivative[index]),
                    op=culprit.op,
                    reason=culprit.reason,
                    suggestion=culprit.suggestion,
                )
                (notes if culprit.convention else failures).append(record)
    label = activation if isinstance(activation, str) else getattr(activation, "__name__", "f")
    return Diagnosis(str(label), int(points.size), names, tuple(failures), tuple(notes))


__all__ = ["Diagnosis", "Failure", "diagnose"]
