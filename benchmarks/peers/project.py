"""eigen-autodiff itself: reverse mode (the default) and forward mode w.r.t. W."""

from __future__ import annotations

import importlib
from typing import Any, Callable

import eigen_autodiff as ead
import numpy as np
from cases import FORWARD_W, REVERSE

from peers import Impl, PeerOptions, Step, ToNumpy

ValueAndGrad = Callable[..., tuple[float, tuple[np.ndarray, ...]]]

BASELINE_LABEL = "dynamic-baseline"


def current_forward_mode(x: np.ndarray, w: np.ndarray, **kwargs: Any) -> Any:
    """The dynamic baseline until a separate one exists: the project's forward mode as it is."""
    return ead.value_and_grad(x, w, **kwargs)


def resolve(spec: str | None) -> ValueAndGrad:
    """``"module:function"`` -> the function; None -> the current forward mode."""
    if spec is None:
        return current_forward_mode
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"baseline {spec!r} is not of the form module:function")
    function: ValueAndGrad = getattr(importlib.import_module(module_name), attribute)
    return function


def setup(options: PeerOptions) -> dict[str, Any]:
    if options.threads is not None:
        ead.set_num_threads(options.threads)
    return {
        "version": ead.__version__,
        "threads": ead.get_num_threads(),
        "baseline": options.baseline or "current forward mode (peers.project.current_forward_mode)",
    }


def _to_numpy(result: tuple[float, tuple[np.ndarray, ...]], keys: tuple[str, ...]) -> dict:
    loss, grads = result
    return {"loss": loss, **dict(zip(keys, grads))}


def _prepare(function: ValueAndGrad, wrt: tuple[str, ...], mode: str) -> Any:
    def prepare(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
        def step() -> Any:
            return function(x, w, activation="sin", wrt=wrt, mode=mode)

        return step, lambda result: _to_numpy(result, wrt)

    return prepare


def implementations(options: PeerOptions) -> list[Impl]:
    return [
        Impl("project", REVERSE, _prepare(ead.value_and_grad, ("w", "x"), "reverse"), True),
        Impl("project-forward", FORWARD_W, _prepare(ead.value_and_grad, ("w",), "forward"), True),
        Impl(BASELINE_LABEL, FORWARD_W, _prepare(resolve(options.baseline), ("w",), "forward")),
    ]
