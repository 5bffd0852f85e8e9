"""eigen-autodiff itself: reverse mode, its VJP, forward mode w.r.t. W, the Jacobian dY/dW."""

from __future__ import annotations

import datetime
import importlib
import os
from typing import Any, Callable

import numpy as np
from cases import FORWARD_W, JACOBIAN_W, REVERSE

import eigen_autodiff as ead
from peers import BASELINE_LABEL, Impl, PeerOptions, Step, ToNumpy

ValueAndGrad = Callable[..., tuple[float, tuple[np.ndarray, ...]]]


def has_mode(mode: str) -> bool:
    try:
        ead.value_and_grad(np.ones((1, 1)), np.ones((1, 1)), "sin", wrt=("w",), mode=mode)
    except ValueError:
        return False
    return True


def dynamic_forward_mode(x: np.ndarray, w: np.ndarray, **kwargs: Any) -> Any:
    """The article's forward mode (one dynamic derivative vector), where the build has it."""
    return ead.value_and_grad(x, w, **{**kwargs, "mode": "forward_dynamic"})


def resolve(spec: str | None) -> tuple[ValueAndGrad, str]:
    """``"module:function"`` -> the function; None -> the project's dynamic forward mode."""
    if spec is None:
        if has_mode("forward_dynamic"):
            return dynamic_forward_mode, "mode='forward_dynamic'"
        return ead.value_and_grad, "mode='forward' (this build has no 'forward_dynamic')"
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"baseline {spec!r} is not of the form module:function")
    function: ValueAndGrad = getattr(importlib.import_module(module_name), attribute)
    return function, spec


def setup(options: PeerOptions) -> dict[str, Any]:
    if options.threads is not None:
        ead.set_num_threads(options.threads)
    if options.memory_budget is not None:
        ead.set_memory_budget(options.memory_budget)
    try:
        baseline = resolve(options.baseline)[1]
    except Exception as error:  # reported again, per cell, by the baseline's cells
        baseline = f"unavailable: {type(error).__name__}"
    built = datetime.datetime.fromtimestamp(
        os.path.getmtime(ead._core.__file__), tz=datetime.timezone.utc
    )
    return {
        "version": ead.__version__,
        "built": built.strftime("%Y-%m-%d %H:%M UTC"),
        "threads": ead.get_num_threads(),
        "memory_budget_gib": round(ead.get_memory_budget() / 2**30, 3),
        "dynamic_baseline": baseline,
    }


def _prepare(function: ValueAndGrad, wrt: tuple[str, ...], mode: str) -> Any:
    def prepare(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
        def step() -> Any:
            return function(x, w, activation="sin", wrt=wrt, mode=mode)

        def to_numpy(result: tuple[float, tuple[np.ndarray, ...]]) -> dict[str, Any]:
            loss, grads = result
            return {"loss": loss, **dict(zip(wrt, grads))}

        return step, to_numpy

    return prepare


def _baseline(spec: str | None) -> Any:
    # Resolved per cell, so that a broken baseline fails its own cells only.
    def prepare(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
        return _prepare(resolve(spec)[0], ("w",), "forward")(x, w)

    return prepare


def _prepare_vjp(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
    # The loss's own upstream gradient, dL/dY = 2 Y, computed once outside the timing: the VJP
    # then does what value_and_grad does after the forward pass, for any upstream gradient.
    cotangent = (2 * np.sin(x.astype(np.float64) @ w.astype(np.float64))).astype(x.dtype)

    def to_numpy(grads: tuple[np.ndarray, ...]) -> dict[str, Any]:
        return dict(zip(("w", "x"), grads))

    return lambda: ead.vjp(x, w, "sin", cotangent, wrt=("w", "x")), to_numpy


def _prepare_jacobian(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
    return lambda: ead.jacobian(x, w, "sin", wrt="w"), lambda jac: {"jac": jac}


def implementations(options: PeerOptions) -> list[Impl]:
    impls = [
        Impl("project", REVERSE, _prepare(ead.value_and_grad, ("w", "x"), "reverse"), True),
        Impl("project-vjp", REVERSE, _prepare_vjp, True),
        Impl("project-forward", FORWARD_W, _prepare(ead.value_and_grad, ("w",), "forward"), True),
        Impl(BASELINE_LABEL, FORWARD_W, _baseline(options.baseline)),
    ]
    if hasattr(ead, "jacobian"):
        impls.append(Impl("project-jacobian", JACOBIAN_W, _prepare_jacobian, True))
    return impls
