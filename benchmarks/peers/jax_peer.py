"""JAX, jit-compiled: value_and_grad (reverse), jacfwd of the loss and of Y w.r.t. W."""

from __future__ import annotations

import os
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)  # float64 inputs stay float64; float32 stay float32

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from cases import FORWARD_W, JACOBIAN_W, REVERSE  # noqa: E402

from peers import Impl, PeerOptions, Step, ToNumpy  # noqa: E402


def loss(w: Any, x: Any) -> Any:
    return jnp.sum(jnp.sin(x @ w) ** 2)


_value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))


def layer(w: Any, x: Any) -> Any:
    return jnp.sin(x @ w)


_jacfwd = jax.jit(jax.jacfwd(loss, argnums=0))
_layer_jacfwd = jax.jit(jax.jacfwd(layer, argnums=0))


def setup(options: PeerOptions) -> dict[str, Any]:
    # XLA's CPU thread pool is sized at start-up; run.py sets XLA_FLAGS for --threads 1.
    return {
        "version": jax.__version__,
        "backend": jax.default_backend(),
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
    }


def _prepare_reverse(x_np: np.ndarray, w_np: np.ndarray) -> tuple[Step, ToNumpy]:
    x, w = jax.device_put(x_np), jax.device_put(w_np)

    def step() -> Any:
        return jax.block_until_ready(_value_and_grad(w, x))

    def to_numpy(result: Any) -> dict[str, Any]:
        value, (dw, dx) = result
        return {"loss": float(value), "w": np.asarray(dw), "x": np.asarray(dx)}

    return step, to_numpy


def _prepare_jacfwd(function: Any, key: str) -> Any:
    def prepare(x_np: np.ndarray, w_np: np.ndarray) -> tuple[Step, ToNumpy]:
        x, w = jax.device_put(x_np), jax.device_put(w_np)

        def step() -> Any:
            return jax.block_until_ready(function(w, x))

        return step, lambda result: {key: np.asarray(result)}

    return prepare


def implementations(options: PeerOptions) -> list[Impl]:
    return [
        Impl("jax", REVERSE, _prepare_reverse),
        Impl("jax-jacfwd", FORWARD_W, _prepare_jacfwd(_jacfwd, "w")),
        Impl("jax-jacfwd", JACOBIAN_W, _prepare_jacfwd(_layer_jacfwd, "jac")),
    ]
