"""diagnose: find the points where an activation's AD derivative is wrong, and say why.

At every point, in float32 and float64, the AD derivative is compared with an independent
estimate: central finite differences of the same function evaluated in float64. A point fails
where the derivative is NaN or infinite while the value is finite, or where it disagrees with
the estimate beyond tolerance, including a derivative that underflows to zero while the true one
is representable. For a failure, the activation's trace is replayed instruction by instruction
to name the first operation whose derivative went wrong, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._activations import derivative
from ._blame import Blame, blame

STEP = 1e-6  # central differences with h = STEP * max(1, |x|)
RTOL = {np.dtype(np.float32): 1e-3, np.dtype(np.float64): 1e-5}


@dataclass(frozen=True)
class Failure:
    """One point where the AD derivative is wrong."""

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


@dataclass(frozen=True)
class Diagnosis:
    """What diagnose found: ``passed`` when no point failed."""

    activation: str
    points: int
    dtypes: tuple[str, ...]
    failures: tuple[Failure, ...]

    @property
    def passed(self) -> bool:
        """Whether the derivative was right at every point in every dtype."""
        return not self.failures

    def __repr__(self) -> str:
        head = f"Diagnosis({self.activation}: {self.points} points x {', '.join(self.dtypes)}: " + (
            "passed)" if self.passed else f"{len(self.failures)} failures)"
        )
        return "\n".join([head, *(f"  {failure}" for failure in self.failures)])


def finite_difference_estimate(activation: Any, x64: NDArray[np.float64]) -> NDArray[np.float64]:
    """Central finite differences of the float64 function: independent of the AD rules."""
    step = STEP * np.maximum(1.0, np.abs(x64))
    plus, _ = derivative(activation, x64 + step)
    minus, _ = derivative(activation, x64 - step)
    with np.errstate(invalid="ignore", over="ignore"):
        estimate: NDArray[np.float64] = (np.asarray(plus) - np.asarray(minus)) / (2 * step)
    return estimate


def _failing(
    value: NDArray[Any], slope: NDArray[Any], expected: NDArray[np.float64], x64: NDArray[Any]
) -> NDArray[np.bool_]:
    dtype = value.dtype
    value64, slope64 = value.astype(np.float64), slope.astype(np.float64)
    broken = np.isfinite(value64) & ~np.isfinite(slope64)
    # A derivative is judged against its own size and against the function's scale at x (so
    # that a derivative far below the value's precision, which float arithmetic cannot carry,
    # is no false alarm), down to the dtype's smallest normal number.
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.maximum(np.abs(expected), np.abs(value64) / np.maximum(1.0, np.abs(x64)))
        tolerance = RTOL[dtype] * scale + np.finfo(dtype).tiny
        wrong = np.isfinite(expected) & ~(np.abs(slope64 - expected) <= tolerance)
    failing: NDArray[np.bool_] = broken | wrong
    return failing


def diagnose(
    activation: Any,
    x: ArrayLike,
    dtypes: Sequence[str] = ("float32", "float64"),
) -> Diagnosis:
    """Points where the AD derivative of ``activation`` is wrong, with the operation to blame.

    ``activation`` is a built-in name or a Python callable (traced). Each failure records ``x``,
    ``dtype``, ``value``, ``derivative``, ``expected`` (central finite differences in float64),
    ``op`` (the first operation of the trace whose derivative went wrong), ``reason`` and, where
    one is known, a ``suggestion``.

    Example:
        >>> import eigen_autodiff as ead
        >>> report = ead.diagnose("inv_exp", [1.0, 100.0])
        >>> report.passed, report.failures[0].x, report.failures[0].dtype
        (False, 100.0, 'float32')
        >>> report.failures[0].reason.startswith("overflow")
        True

    """
    points = np.atleast_1d(np.asarray(x, dtype=np.float64)).ravel()
    failures: list[Failure] = []
    for name in dtypes:
        dtype = np.dtype(name)
        if dtype not in RTOL:
            raise ValueError(f"dtypes holds {name!r}; expected 'float32' and/or 'float64'")
        at = points.astype(dtype)
        at64 = at.astype(np.float64)
        value, slope = derivative(activation, at)
        expected = finite_difference_estimate(activation, at64)
        for index in np.flatnonzero(_failing(value, slope, expected, at64)):
            found: Blame = blame(activation, float(at64[index]), dtype)
            failures.append(
                Failure(
                    x=float(at64[index]),
                    dtype=dtype.name,
                    value=float(value[index]),
                    derivative=float(slope[index]),
                    expected=float(expected[index]),
                    op=found.op,
                    reason=found.reason,
                    suggestion=found.suggestion,
                )
            )
    label = activation if isinstance(activation, str) else getattr(activation, "__name__", "f")
    return Diagnosis(str(label), int(points.size), tuple(dtypes), tuple(failures))


__all__ = ["Diagnosis", "Failure", "diagnose"]
