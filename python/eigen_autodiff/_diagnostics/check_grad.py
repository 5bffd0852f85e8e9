"""check_grad, check_layer_grad: AD derivatives against finite differences, reference, float64.

Finite differences in float64 (``_finite_differences``), the NumPy reference for built-in
activations and, for float32, the float64 AD result are each an independent estimate of the same
derivative. An elementwise derivative is compared point by point; a layer's gradients along
fixed random directions (as ``jax.test_util.check_grads`` does), so that checking a layer costs
a few dozen loss evaluations whatever its size, and entry by entry against the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import reference
from .._arrays import as_float_arrays
from .._derivative import derivative, second_derivative
from .._layer import Mode, Wrt, hvp, parse_wrt, value_and_grad
from . import finite_differences as fd

# Tolerances of torch.autograd.gradcheck (float64) and jax.test_util.check_grads (float32).
TOLERANCES = {
    np.dtype(np.float64): (1e-3, 1e-5),  # (rtol, atol)
    np.dtype(np.float32): (2e-3, 2e-3),
}
# Kept for callers of the old name: the step of plain central differences (gradcheck's eps).
STEP = fd.STEP


@dataclass(frozen=True)
class Comparison:
    """One comparison of the AD derivative with an independent estimate."""

    against: str
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[Any, ...] | None
    passed: bool


@dataclass(frozen=True)
class GradCheckReport:
    """What check_grad found. ``passed`` holds when every comparison passed.

    Example:
        >>> import eigen_autodiff as ead
        >>> report = ead.check_grad("sin", [0.5, 1.0])
        >>> report.passed, report.max_abs_error < 1e-10
        (True, True)
        >>> print(str(report).splitlines()[0])
        GradCheckReport(activation sin, float64: passed; rtol=0.001, atol=1e-05, ...)

    """

    what: str
    dtype: str
    rtol: float
    atol: float
    step: float
    comparisons: tuple[Comparison, ...] = field(default_factory=tuple)
    method: str = ""

    @property
    def passed(self) -> bool:
        """Whether every comparison stayed within the tolerances."""
        return all(c.passed for c in self.comparisons)

    def _worst(self) -> Comparison | None:
        failing = [c for c in self.comparisons if not c.passed] or list(self.comparisons)
        return max(failing, key=lambda c: c.max_abs_error, default=None)

    @property
    def max_abs_error(self) -> float:
        """Largest ``|AD - estimate|`` over all comparisons."""
        return max((c.max_abs_error for c in self.comparisons), default=0.0)

    @property
    def max_rel_error(self) -> float:
        """Largest ``|AD - estimate| / |estimate|`` over all comparisons."""
        return max((c.max_rel_error for c in self.comparisons), default=0.0)

    @property
    def worst_index(self) -> tuple[Any, ...] | None:
        """Where the worst comparison was worst: an index of x, or (parameter, index)."""
        worst = self._worst()
        return None if worst is None else worst.worst_index

    def __repr__(self) -> str:
        method = self.method or f"finite-difference step {self.step:g} * max(1, |p|)"
        lines = [
            f"GradCheckReport({self.what}, {self.dtype}: "
            f"{'passed' if self.passed else 'FAILED'}; rtol={self.rtol:g}, atol={self.atol:g}, "
            f"{method})"
        ]
        for c in self.comparisons:
            lines.append(
                f"  {'ok    ' if c.passed else 'FAILED'} against {c.against}: "
                f"max abs error {c.max_abs_error:.3g}, max rel error {c.max_rel_error:.3g}"
                + ("" if c.worst_index is None else f", worst at {c.worst_index}")
            )
        return "\n".join(lines)


class GradCheckError(AssertionError):
    """Raised by check_grad(..., raise_on_failure=True) when a comparison fails.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> ead.check_grad("inv_exp", np.float32([100.0]), raise_on_failure=True)
        Traceback (most recent call last):
        ...
        eigen_autodiff._diagnostics.check_grad.GradCheckError: GradCheckReport(activation inv_exp...

    """

    def __init__(self, report: GradCheckReport) -> None:
        super().__init__(repr(report))
        self.report = report


def _compare(
    against: str,
    ours: NDArray[Any],
    expected: NDArray[Any],
    rtol: float,
    atol: float,
    label: str | None = None,
) -> Comparison:
    ours64 = np.asarray(ours, np.float64)
    expected64 = np.asarray(expected, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        error = np.abs(ours64 - expected64)
        # Equal infinities agree; NaN anywhere disagrees.
        error = np.where(ours64 == expected64, 0.0, error)
        error = np.where(np.isnan(error), np.inf, error)
        relative = error / np.maximum(np.abs(expected64), np.finfo(np.float64).tiny)
        excess = error / (atol + rtol * np.abs(expected64))
    if error.size == 0:
        return Comparison(against, 0.0, 0.0, None, True)
    worst = np.unravel_index(int(np.argmax(np.nan_to_num(excess, nan=np.inf))), error.shape)
    index = tuple(int(i) for i in worst)
    return Comparison(
        against,
        float(np.max(error)),
        float(np.max(relative)),
        (label, index) if label is not None else index,
        bool(np.all(excess <= 1.0)),
    )


_ELEMENTWISE_METHOD = "finite differences with the step chosen per point (Richardson)"


def _report(
    what: str,
    dtype: np.dtype[Any],
    comparisons: list[Comparison],
    raise_on_failure: bool,
    method: str,
) -> GradCheckReport:
    rtol, atol = TOLERANCES[dtype]
    report = GradCheckReport(
        what, dtype.name, rtol, atol, fd.STEP, tuple(comparisons), method=method
    )
    if raise_on_failure and not report.passed:
        raise GradCheckError(report)
    return report


def _check_order(order: object) -> int:
    if order not in (1, 2) or isinstance(order, bool):
        raise ValueError(f"order must be 1 (gradients) or 2 (second derivatives), got {order!r}")
    return int(order)


def _activation_check(
    activation: Any, x: ArrayLike, raise_on_failure: bool, order: int
) -> GradCheckReport:
    (points,) = as_float_arrays(x=x)
    dtype = points.dtype
    rtol, atol = TOLERANCES[dtype]

    def ad(at: NDArray[Any]) -> Any:
        """The derivative of the order checked, and the function finite differences take."""
        if order == 1:
            return derivative(activation, at)[1], derivative(activation, at)[0]
        _, first, second = second_derivative(activation, at)
        return second, first

    slope, _ = ad(points)
    # Finite differences in float64 at the points as the dtype represents them.
    at = points.astype(np.float64)
    estimate = fd.derivative_estimate(lambda p: ad(p)[1], at).derivative
    against = "central finite differences" + ("" if order == 1 else " of the AD derivative")
    comparisons = [_compare(f"{against} (float64)", slope, estimate.reshape(at.shape), rtol, atol)]
    if isinstance(activation, str) and activation in reference.ACTIVATIONS:
        exact = reference.second_derivative(activation, at)[order]
        comparisons.append(_compare("the NumPy reference", slope, exact, rtol, atol))
    if dtype == np.float32:
        comparisons.append(_compare("the float64 AD derivative", slope, ad(at)[0], rtol, atol))
    what = f"activation {_name(activation)}" + ("" if order == 1 else ", second derivative")
    return _report(what, dtype, comparisons, raise_on_failure, _ELEMENTWISE_METHOD)


def check_layer_grad(
    x: ArrayLike,
    w: ArrayLike,
    activation: str | Callable[..., Any],
    wrt: Wrt = ("w",),
    *,
    mode: Mode = "reverse",
    raise_on_failure: bool = False,
    directions: int = 2,
    seed: int = 0,
    order: int = 1,
) -> GradCheckReport:
    """Check the gradients of the layer's loss ``sum(activation(x @ w)**2)`` computed by AD.

    For each item of ``wrt``, the AD gradient ``g`` (in the dtype of the inputs) is dotted with
    ``directions`` fixed pseudo-random unit directions ``v`` (from ``seed``) and compared with
    the derivative of the float64 loss along ``v`` by finite differences (the check of
    ``jax.test_util.check_grads``): about 20 loss evaluations per direction, whatever the size of
    the layer. For built-in activations the whole gradient is also compared with the NumPy
    reference, and in float32 with the float64 AD gradient. Tolerances: gradcheck's in float64
    (rtol 1e-3, atol 1e-5), check_grads' in float32 (2e-3). With ``raise_on_failure=True`` a
    failure raises :class:`GradCheckError`.

    With ``order=2`` the second derivatives are checked instead: the Hessian-vector product
    ``H v`` (``ead.hvp``) dotted with a second direction ``u`` against finite differences of
    ``u . gradient`` along ``v``, and for built-ins against the reference's Hessian.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> x, w = np.linspace(-1, 1, 6).reshape(2, 3), np.full((3, 2), 0.5)
        >>> ead.check_layer_grad(x, w, "tanh", wrt=("w", "x"), order=2).passed
        True
        >>> report = ead.check_layer_grad(x, w, "tanh", wrt=("w", "x"))
        >>> report.passed, len(report.comparisons)  # directions and reference, for w and x
        (True, 4)
        >>> ead.check_layer_grad(x, w, lambda z: 2 * ead.tanh(z)).passed
        True

    """
    if isinstance(directions, bool) or not isinstance(directions, int) or directions < 1:
        raise ValueError(f"directions must be a positive int, got {directions!r}")
    if _check_order(order) == 2:
        return _layer_second_order_check(x, w, activation, wrt, raise_on_failure, directions, seed)
    items = parse_wrt(wrt)
    x_array, w_array = as_float_arrays(x=x, w=w)
    dtype = x_array.dtype
    rtol, atol = tol = TOLERANCES[dtype]
    _, grads = value_and_grad(x_array, w_array, activation, wrt=items, mode=mode)
    x64, w64 = x_array.astype(np.float64), w_array.astype(np.float64)
    parameters = {"x": x64, "w": w64}

    def loss_of(name: str) -> Callable[[NDArray[np.float64]], float]:
        def loss(value: NDArray[np.float64]) -> float:
            args = {**parameters, name: value}
            return value_and_grad(args["x"], args["w"], activation, wrt=())[0]

        return loss

    comparisons = []
    for number, (name, grad) in enumerate(zip(items, grads)):

        def along(k: int, name: str = name, grad: Any = grad) -> tuple[float, float]:
            base = parameters[name]
            v = fd.random_direction(base.shape, seed=k)
            ad = float(np.sum(np.asarray(grad, np.float64) * v))
            return ad, fd.directional_derivative(loss_of(name), base, v)[0]

        against = f"central finite differences of dL/d{name}"
        seeds = seed + 1000 * number
        comparisons.append(_directional_comparison(against, name, directions, seeds, along, tol))
        if isinstance(activation, str) and activation in reference.ACTIVATIONS:
            _, (exact,) = reference.value_and_grad(x64, w64, activation, wrt=(name,))
            comparisons.append(
                _compare(f"the NumPy reference dL/d{name}", grad, exact, rtol, atol, label=name)
            )
        if dtype == np.float32:
            _, (grad64,) = value_and_grad(x64, w64, activation, wrt=(name,), mode=mode)
            comparisons.append(
                _compare(f"the float64 AD dL/d{name}", grad, grad64, rtol, atol, label=name)
            )
    what = f"layer {_name(activation)}, mode {mode}, X {x_array.shape}, W {w_array.shape}"
    method = f"directional finite differences, {directions} directions per parameter"
    return _report(what, dtype, comparisons, raise_on_failure, method)


def _directional_comparison(
    against: str,
    name: str,
    directions: int,
    first_seed: int,
    along: Callable[[int], tuple[float, float]],
    tolerances: tuple[float, float],
) -> Comparison:
    """AD against finite differences along random directions, seeded from ``first_seed``.

    ``along(seed)`` gives the (AD, finite-difference) pair for one direction.
    """
    pairs = np.array([along(first_seed + k) for k in range(directions)])
    what = f"{against} along {directions} random directions (float64)"
    return _compare(what, pairs[:, 0], pairs[:, 1], *tolerances, label=name)


def _layer_second_order_check(
    x: ArrayLike,
    w: ArrayLike,
    activation: Any,
    wrt: Wrt,
    raise_on_failure: bool,
    directions: int,
    seed: int,
) -> GradCheckReport:
    items = parse_wrt(wrt)
    x_array, w_array = as_float_arrays(x=x, w=w)
    dtype = x_array.dtype
    rtol, atol = tol = TOLERANCES[dtype]
    x64, w64 = x_array.astype(np.float64), w_array.astype(np.float64)
    parameters = {"x": x64, "w": w64, "b": np.zeros(w64.shape[1])}
    comparisons = []
    for number, name in enumerate(items):
        base = parameters[name]

        def along(k: int, name: str = name) -> tuple[float, float]:
            base = parameters[name]
            v = fd.random_direction(base.shape, seed=k)
            u = fd.random_direction(base.shape, seed=k + 500)
            hv = hvp(x_array, w_array, activation, v.astype(dtype), wrt=name)

            def gradient_along_u(value: NDArray[np.float64]) -> float:
                args = {**parameters, name: value}
                _, (grad,) = value_and_grad(
                    args["x"], args["w"], activation, wrt=(name,), bias=args["b"]
                )
                return float(np.sum(grad * u))

            ad = float(np.sum(np.asarray(hv, np.float64) * u))
            return ad, fd.directional_derivative(gradient_along_u, base, v)[0]

        against = f"central finite differences of the AD gradient w.r.t. {name}"
        seeds = seed + 1000 * number
        comparisons.append(_directional_comparison(against, name, directions, seeds, along, tol))
        if isinstance(activation, str) and activation in reference.ACTIVATIONS:
            h = reference.hessian(x64, w64, activation, name)
            v = fd.random_direction(base.shape, seed=seed)
            ours = hvp(x_array, w_array, activation, v.astype(dtype), wrt=name)
            exact = np.tensordot(h, v, axes=v.ndim)
            comparisons.append(
                _compare(
                    f"the NumPy reference Hessian w.r.t. {name}",
                    ours,
                    exact,
                    rtol,
                    atol,
                    label=name,
                )
            )
    what = f"layer {_name(activation)}, second derivatives, X {x_array.shape}, W {w_array.shape}"
    method = f"directional finite differences of the gradient, {directions} directions"
    return _report(what, dtype, comparisons, raise_on_failure, method)


def _name(activation: Any) -> str:
    return activation if isinstance(activation, str) else getattr(activation, "__name__", "f")


def check_grad(
    first: str | Callable[..., Any] | ArrayLike,
    second: ArrayLike,
    activation: str | Callable[..., Any] | None = None,
    wrt: Wrt = ("w",),
    *,
    mode: Mode = "reverse",
    raise_on_failure: bool = False,
    order: int = 1,
) -> GradCheckReport:
    """Check AD derivatives against finite differences, the reference and float64.

    Two forms:

    - ``check_grad(activation, x)``: the elementwise derivative of ``activation`` at ``x``;
    - ``check_grad(x, w, activation, wrt=("w",), mode="reverse")``: the gradients of the layer's
      loss ``sum(activation(x @ w)**2)``, the same as :func:`check_layer_grad` (the activation
      is required: there is no default).

    The elementwise derivative, in the dtype of the inputs, is compared with finite differences
    computed in float64 with the step chosen per point (so ``sin`` at 1e6 is judged as well as
    at 1), with the NumPy reference for built-in activations, and for float32 with the float64
    AD result, using gradcheck's tolerances in float64 (rtol 1e-3, atol 1e-5) and check_grads'
    in float32 (2e-3). At a kink the finite difference is the symmetric quotient, so relu at 0
    is reported as a disagreement, as gradcheck does. ``order=2`` checks second derivatives:
    ``ead.second_derivative`` against finite differences of the AD derivative, and for the
    layer as :func:`check_layer_grad` does.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> ead.check_grad("tanh", np.linspace(-3, 3, 7)).passed
        True
        >>> report = ead.check_grad(np.ones((2, 3)), np.full((3, 2), 0.5), "sin", wrt=("w", "x"))
        >>> report.passed, report.max_rel_error < 1e-6
        (True, True)
        >>> ead.check_grad("sigmoid", np.linspace(-3, 3, 7), order=2).passed
        True

    """
    if activation is None and (isinstance(first, str) or callable(first)):
        return _activation_check(first, second, raise_on_failure, _check_order(order))
    if activation is None:
        raise TypeError(
            "check_grad(x, w, activation, ...) checks a layer and needs its activation (there is "
            "no default): pass it, e.g. check_grad(x, w, 'sin'), or call "
            "check_layer_grad(x, w, activation); for an elementwise derivative call "
            "check_grad(activation, x)"
        )
    return check_layer_grad(
        first,  # type: ignore[arg-type]
        second,
        activation,
        wrt,
        mode=mode,
        raise_on_failure=raise_on_failure,
        order=order,
    )


__all__ = ["GradCheckError", "GradCheckReport", "check_grad", "check_layer_grad"]
