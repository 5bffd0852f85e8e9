"""PyTorch eager autograd (CPU)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from cases import REVERSE

from peers import Impl, PeerOptions, Step, ToNumpy


def setup(options: PeerOptions) -> dict[str, Any]:
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    return {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "parallel": torch.__config__.parallel_info().splitlines()[-1].strip(),
    }


def _prepare(x_np: np.ndarray, w_np: np.ndarray) -> tuple[Step, ToNumpy]:
    x = torch.from_numpy(x_np).requires_grad_(True)
    w = torch.from_numpy(w_np).requires_grad_(True)

    def step() -> Any:
        loss = torch.sin(x @ w).square().sum()
        dw, dx = torch.autograd.grad(loss, (w, x))
        return loss.detach(), dw, dx

    def to_numpy(result: Any) -> dict[str, Any]:
        loss, dw, dx = result
        return {"loss": float(loss), "w": dw.numpy(), "x": dx.numpy()}

    return step, to_numpy


def _prepare_products(x_np: np.ndarray, w_np: np.ndarray) -> tuple[Step, ToNumpy]:
    x = torch.from_numpy(x_np)
    w = torch.from_numpy(w_np)

    def step() -> Any:
        z = x @ w
        return z, x.T @ z, z @ w.T

    return step, lambda r: {"z": r[0].numpy(), "w": r[1].numpy(), "x": r[2].numpy()}


def implementations(options: PeerOptions) -> list[Impl]:
    return [
        Impl("torch", REVERSE, _prepare),
        Impl("torch-products", REVERSE, _prepare_products, is_limit=True),
    ]
