"""JAX, jit-compiled: value_and_grad (reverse) and jacfwd w.r.t. W (forward)."""

from __future__ import annotations

import os
from typing import Any

import jax

jax.config.update("jax_enable_x64", True)  # float64 inputs stay float64; float32 stay float32

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from cases import FORWARD_W, REVERSE  # noqa: E402

from peers import Impl, PeerOptions, Step, ToNumpy  # noqa: E402


def loss(w: Any, x: Any) -> Any:
    return jnp.sum(jnp.sin(x @ w) ** 2)


_value_and_grad = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
_jacfwd = jax.jit(jax.jacfwd(loss, argnums=0))


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


def _prepare_jacfwd(x_np: np.ndarray, w_np: np.ndarray) -> tuple[Step, ToNumpy]:
    x, w = jax.device_put(x_np), jax.device_put(w_np)

    def step() -> Any:
        return jax.block_until_ready(_jacfwd(w, x))

    return step, lambda dw: {"w": np.asarray(dw)}


def implementations(options: PeerOptions) -> list[Impl]:
    return [
        Impl("jax", REVERSE, _prepare_reverse),
        Impl("jax-jacfwd", FORWARD_W, _prepare_jacfwd),
    ]
