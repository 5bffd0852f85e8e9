"""Every built-in activation, and a traced one, beside the same function in a framework, for
comparisons with the framework's own autodiff."""

from __future__ import annotations

from typing import Any, Callable

import eigen_autodiff as ead

Function = Callable[[Any], Any]


def swish(v: Any) -> Any:
    return v * ead.sigmoid(v)


def activation_table(
    *,
    sin: Function,
    cos: Function,
    tanh: Function,
    exp: Function,
    square: Function,
    sigmoid: Function,
    relu: Function,
    softplus: Function,
) -> dict[str, tuple[Any, Function]]:
    """ead's activation (a built-in name or a traced function) -> the framework's function."""
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
    jnp = jax.numpy
    return activation_table(
        sin=jnp.sin,
        cos=jnp.cos,
        tanh=jnp.tanh,
        exp=jnp.exp,
        square=jnp.square,
        sigmoid=jax.nn.sigmoid,
        relu=jax.nn.relu,
        softplus=jax.nn.softplus,
    )
