"""Finite differences: the one place where derivatives are estimated numerically.

``check_grad``, ``check_layer_grad``, ``diagnose``, the plot and the tests compare AD with these
estimates. Everything is computed in float64, independently of the AD rules:

- :func:`derivative_estimate`: an elementwise derivative, with the step chosen per point from the
  function's behaviour (Richardson extrapolation over a ladder of steps, keeping the rung where
  successive extrapolations agree best), so that periodic functions far from 0 (``sin`` at 1e6),
  where a step relative to ``|x|`` is far too coarse, are estimated as well as smooth ones near 0;
- :func:`directional_derivative`: the derivative of a scalar function along one direction, the
  check of ``jax.test_util.check_grads`` (a few function evaluations, whatever the size);
- :func:`central_difference` and :func:`gradient_estimate`: the plain central difference with a
  fixed step (``torch.autograd.gradcheck``'s), for small problems and the tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Float64Array = NDArray[np.float64]

STEP = 1e-6  # gradcheck's eps: the fixed step of central_difference, relative to max(1, |x|)
# The ladder of steps of derivative_estimate: h = top * 4**-k, k = 0..21, from top = 1/4 (or
# 2**27 units in the last place of x, if more) down to where rounding error dominates (4**-21 of
# the top, 1.1e-13). Steps relative to |x| would be useless for periodic functions far from 0
# (sin at 1e6 needs steps near 1e-3) and steps beyond a period can agree by coincidence.
_RUNGS = 22
_TOP = 0.25
_ULPS = 2.0**27
# Along a direction, a loss is smooth at the scale of its parameters: steps from 1/4 to 1e-6 of
# that scale bracket the best step of a fourth-order difference (about eps**(1/5) = 7e-4).
_DIRECTIONAL_RUNGS = 10
_EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class DerivativeEstimate:
    """Finite-difference derivatives and an estimate of their absolute error.

    ``fine`` is true where the steps went down to ``1/4 * 4**-(rungs - 1)`` (``|x|`` below about
    8e6): there the error estimate holds for functions varying on any scale down to far below
    1. Elsewhere float64's spacing forced larger steps, and a function that varies faster than
    them (sin at 1e20, where the spacing exceeds the period) aliases: the estimate and its error
    are then trustworthy only for functions smooth at that scale.
    """

    derivative: Float64Array
    error: Float64Array
    fine: NDArray[np.bool_]


def _exact_steps(
    x: Float64Array, h: Float64Array
) -> tuple[Float64Array, Float64Array, Float64Array]:
    # The step actually taken is (x + h) - (x - h), exactly representable: dividing by it rather
    # than by 2h removes the rounding of the arguments from the estimate.
    upper, lower = x + h, x - h
    return upper, lower, upper - lower


def central_difference(
    f: Callable[[Float64Array], ArrayLike], x: ArrayLike, step: float = STEP
) -> Float64Array:
    """``(f(x + h) - f(x - h)) / 2h`` elementwise, with ``h = step * max(1, |x|)``.

    Example:
        >>> import numpy as np
        >>> from eigen_autodiff._diagnostics.finite_differences import central_difference
        >>> bool(abs(central_difference(np.sin, 0.5) - np.cos(0.5)) < 1e-9)
        True

    """
    at = np.asarray(x, dtype=np.float64)
    with np.errstate(all="ignore"):
        upper, lower, width = _exact_steps(at, step * np.maximum(1.0, np.abs(at)))
        result: Float64Array = (
            np.asarray(f(upper), np.float64) - np.asarray(f(lower), np.float64)
        ) / width
    return result


def derivative_estimate(
    f: Callable[[Float64Array], ArrayLike], x: ArrayLike, rungs: int = _RUNGS
) -> DerivativeEstimate:
    """The derivative of the elementwise function ``f`` at every point of ``x``, and its error.

    Central differences ``D(h)`` at steps ``h = top * 4**-k`` for ``k < rungs``, with
    ``top = max(1/4, 2**27 ulp(x))``, are Richardson-extrapolated (``(16 D(h/4) - D(h)) / 15``,
    error O(h**4)). Per point, the extrapolation that agrees best with its neighbours on both
    sides (their disagreement plus the rounding error ``eps |f| / h``) is the estimate, and that
    sum is its error. Where ``f`` is not differentiable the result is the symmetric difference
    quotient (0.5 for relu at 0, as gradcheck finds), with a large error at a jump. Costs
    ``2 * rungs`` evaluations of ``f`` (44 by default); points where no rung is finite give NaN
    with an infinite error.

    Example:
        >>> import numpy as np
        >>> from eigen_autodiff._diagnostics.finite_differences import derivative_estimate
        >>> found = derivative_estimate(np.sin, [0.5, 1e6])
        >>> bool(np.allclose(found.derivative, np.cos([0.5, 1e6]), rtol=1e-9, atol=0))
        True

    """
    if rungs < 4:
        raise ValueError(f"derivative_estimate needs at least 4 rungs, got {rungs}")
    at = np.atleast_1d(np.asarray(x, dtype=np.float64))
    # The largest step: a quarter, or 2**27 units in the last place of x where that is more, so
    # that the smallest steps (4**-21 of it) still move x by tens of units in the last place.
    top = np.maximum(_TOP, _ULPS * np.spacing(np.abs(at)))
    quotient_list, magnitudes, widths = [], [], []
    with np.errstate(all="ignore"):
        for k in range(rungs):
            upper, lower, width = _exact_steps(at, top * 4.0**-k)
            f_upper = np.asarray(f(upper), np.float64).reshape(at.shape)
            f_lower = np.asarray(f(lower), np.float64).reshape(at.shape)
            quotient_list.append((f_upper - f_lower) / width)
            magnitudes.append(np.maximum(np.abs(f_upper), np.abs(f_lower)))
            widths.append(width)
        quotients = np.stack(quotient_list)
        # (16 D(h/4) - D(h)) / 15, written so as not to overflow where D is near the largest float.
        extrapolated = quotients[1:] + (quotients[1:] - quotients[:-1]) / 15.0
        # Rounding: each f value is off by about eps |f|, divided by the smallest step involved.
        rounding = _EPS * np.stack(magnitudes) / np.stack(widths)
        # A rung is trusted where it agrees with the extrapolations on both sides: one agreement
        # alone can be a coincidence (two quotients both near 0 at steps beyond a period).
        disagreement = np.abs(np.diff(extrapolated, axis=0))
        error = disagreement[:-1] + disagreement[1:] + 4.0 * rounding[3:]
        error = np.where(np.isfinite(error), error, np.inf)
        best = np.argmin(error, axis=0)
        chosen = np.take_along_axis(extrapolated[1:-1], best[None], axis=0)[0]
        chosen_error = np.take_along_axis(error, best[None], axis=0)[0]
    usable = np.isfinite(chosen) & np.isfinite(chosen_error)
    derivative = np.where(usable, chosen, np.nan)
    return DerivativeEstimate(derivative, np.where(usable, chosen_error, np.inf), top <= _TOP)


def gradient_estimate(
    loss: Callable[[Float64Array], float], point: ArrayLike, step: float = STEP
) -> Float64Array:
    """The gradient of the scalar ``loss`` at ``point`` by central differences, entry by entry.

    Two evaluations of ``loss`` per entry, with ``h = step * max(1, |entry|)``: for small
    problems and tests; :func:`directional_derivative` checks large ones.

    Example:
        >>> import numpy as np
        >>> from eigen_autodiff._diagnostics.finite_differences import gradient_estimate
        >>> bool(np.allclose(gradient_estimate(lambda p: float(np.sum(p**2)), [1.0, 2.0]), [2, 4]))
        True

    """
    base = np.array(point, dtype=np.float64)
    gradient = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        h = step * max(1.0, abs(float(base[index])))
        shifted = base.copy()
        shifted[index] = base[index] + h
        upper, width = loss(shifted), float(shifted[index])
        shifted[index] = base[index] - h
        width -= float(shifted[index])
        gradient[index] = (upper - loss(shifted)) / width
    return gradient


def random_direction(shape: tuple[int, ...], seed: int = 0) -> Float64Array:
    """A fixed pseudo-random unit vector of ``shape`` (normal entries, normalised).

    Example:
        >>> from eigen_autodiff._diagnostics.finite_differences import random_direction
        >>> v = random_direction((3, 2))
        >>> v.shape, round(float((v**2).sum()), 12)
        ((3, 2), 1.0)

    """
    direction = np.random.default_rng(seed).standard_normal(shape)
    norm = float(np.sqrt(np.sum(direction**2)))
    return direction / norm if norm > 0 else direction


def directional_derivative(
    loss: Callable[[Float64Array], float], point: ArrayLike, direction: ArrayLike
) -> tuple[float, float]:
    """The derivative of the scalar ``loss`` at ``point`` along ``direction``, and its error.

    The one-variable function ``t -> loss(point + t * direction)`` goes through
    :func:`derivative_estimate` with a short ladder: 20 evaluations of ``loss`` whatever the
    number of parameters (against two per parameter for :func:`gradient_estimate`). Compare with
    ``grad . direction``, as ``jax.test_util.check_grads`` does.

    Example:
        >>> import numpy as np
        >>> from eigen_autodiff._diagnostics.finite_differences import directional_derivative
        >>> p, v = np.array([1.0, 2.0]), np.array([0.6, 0.8])
        >>> slope, error = directional_derivative(lambda q: float(np.sum(q**2)), p, v)
        >>> bool(abs(slope - 2 * p @ v) < 1e-9)
        True

    """
    base = np.asarray(point, dtype=np.float64)
    along = np.asarray(direction, dtype=np.float64)
    # The step scale follows the parameters' size, as a per-entry step would.
    size = max(1.0, float(np.max(np.abs(base), initial=0.0)))

    def along_line(t: Float64Array) -> Float64Array:
        return np.array([loss(base + (float(s) * size) * along) for s in t.ravel()])

    found = derivative_estimate(along_line, np.zeros(1), rungs=_DIRECTIONAL_RUNGS)
    return float(found.derivative[0]) / size, float(found.error[0]) / size
