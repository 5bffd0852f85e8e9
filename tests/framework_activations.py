"""Every built-in activation, and a traced one, beside the same function in a framework, for
comparisons with the framework's own autodiff."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import eigen_autodiff as ead

Function = Callable[[Any], Any]


def swish(v: Any) -> Any:
    return v * ead.sigmoid(v)


def activation_table(
    module: Any, sigmoid: Function, relu: Function, softplus: Function
) -> dict[str, tuple[Any, Function]]:
    """ead's activation (a built-in name or a traced function) -> the framework's function.

    ``module`` (torch, jax.numpy, tensorflow) has sin, cos, tanh, exp and square.
    """
    sin, cos, tanh, exp, square = (
        getattr(module, f) for f in ("sin", "cos", "tanh", "exp", "square")
    )
    return {
        "identity": ("identity", lambda v: v),
        "sin": ("sin", sin),
        "cos": ("cos", cos),
        "tanh": ("tanh", tanh),
        "sigmoid": ("sigmoid", sigmoid),
        "relu": ("relu", relu),
        "softplus": ("softplus", softplus),
        "exp": ("exp", exp),
        "square": ("square", square),
        "inv_exp": ("inv_exp", lambda v: 1 / exp(v)),
        "traced_swish": (swish, lambda v: v * sigmoid(v)),
    }


def jax_table(jax: Any) -> dict[str, tuple[Any, Function]]:
    """The table for JAX (imported by the caller, which may skip without it)."""
    return activation_table(jax.numpy, jax.nn.sigmoid, jax.nn.relu, jax.nn.softplus)


def jax_with_x64() -> Any:
    """JAX in float64, or the test skips where it is not installed."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax
