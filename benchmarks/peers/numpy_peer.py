"""A hand-written NumPy gradient: the speed floor of three BLAS calls, and the oracle."""

from __future__ import annotations

from typing import Any

import numpy as np
from cases import JACOBIAN_W, REVERSE

from peers import Impl, PeerOptions, Step, ToNumpy


def value_and_grad(x: np.ndarray, w: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
    """L = sum(sin(Z)**2) with Z = X W; G = dL/dZ = 2 sin(Z) cos(Z); dW = X^T G; dX = G W^T."""
    z = x @ w
    s = np.sin(z)
    loss = np.dot(s.ravel(), s.ravel())
    g = s * np.cos(z)
    g *= 2
    return loss, x.T @ g, g @ w.T


def products(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three products of any reverse mode of the layer, with Z standing in for dL/dZ."""
    z = x @ w
    return z, x.T @ z, z @ w.T


def jacobian_w(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """dY/dW for Y = sin(X W): J[b, j, i, k] = cos(Z[b, j]) X[b, i] if j == k, else 0."""
    batch, inputs = x.shape
    outputs = w.shape[1]
    jac = np.zeros((batch, outputs, inputs, outputs), dtype=np.result_type(x, w))
    columns = np.arange(outputs)
    jac[:, columns, :, columns] = np.cos(x @ w).T[:, :, None] * x[None, :, :]
    return jac


def blas_info() -> list[dict[str, Any]]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"note": "threadpoolctl not installed; see numpy.show_config()"}]
    keys = ("internal_api", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keys} for info in threadpool_info()]


def setup(options: PeerOptions) -> dict[str, Any]:
    facts: dict[str, Any] = {"version": np.__version__, "blas": blas_info()}
    if options.threads is not None:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(options.threads)
        except ImportError:
            facts["note"] = "threads set through OPENBLAS_NUM_THREADS/OMP_NUM_THREADS only"
    facts["threads"] = [b.get("num_threads") for b in blas_info() if "num_threads" in b]
    return facts


def _prepare(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
    def step() -> Any:
        return value_and_grad(x, w)

    return step, lambda r: {"loss": r[0], "w": r[1], "x": r[2]}


def _prepare_jacobian(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
    return lambda: jacobian_w(x, w), lambda jac: {"jac": jac}


def _prepare_products(x: np.ndarray, w: np.ndarray) -> tuple[Step, ToNumpy]:
    return lambda: products(x, w), lambda r: {"z": r[0], "w": r[1], "x": r[2]}


def implementations(options: PeerOptions) -> list[Impl]:
    return [
        Impl("numpy", REVERSE, _prepare),
        Impl("numpy-products", REVERSE, _prepare_products, is_limit=True),
        Impl("numpy", JACOBIAN_W, _prepare_jacobian),
    ]
