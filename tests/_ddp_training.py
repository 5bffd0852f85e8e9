"""Data-parallel training of a model built from eigen_autodiff.torch.CustomLayer.

Imported by tests/test_framework_torch_ddp.py for the single-process run, and run as a script
by it, once per rank: ``python _ddp_training.py RANK WORLD_SIZE PORT OUT.npz``.
"""

from __future__ import annotations

import gc
import sys
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from eigen_autodiff.torch import CustomLayer

STEPS = 5
BATCH = 16


def problem() -> tuple[torch.Tensor, torch.Tensor]:
    """The whole batch: inputs and regression targets, float64."""
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.standard_normal((BATCH, 6)), dtype=torch.float64)
    target = torch.tensor(rng.standard_normal((BATCH, 2)), dtype=torch.float64)
    return x, target


def model() -> torch.nn.Module:
    """Two layers of the library, with the same initial weights in every process."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        CustomLayer(6, 8, activation="tanh", bias=True, dtype=torch.float64),
        CustomLayer(8, 2, activation="identity", dtype=torch.float64),
    )


def train(net: torch.nn.Module, x: torch.Tensor, target: torch.Tensor) -> None:
    """STEPS steps of SGD with momentum on the mean squared error."""
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(STEPS):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(net(x), target).backward()
        optimizer.step()


def weights(net: torch.nn.Module) -> dict[str, Any]:
    """The parameters as NumPy arrays, by name without DDP's ``module.`` prefix."""
    return {
        name.removeprefix("module."): p.detach().numpy().copy()
        for name, p in net.named_parameters()
    }


def main(rank: int, world_size: int, port: int, out: str) -> None:
    """One rank: its equal share of the batch; DDP averages the gradients over the ranks."""
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=60),
    )
    try:
        x, target = problem()
        net = DistributedDataParallel(model())
        train(net, x.chunk(world_size)[rank], target.chunk(world_size)[rank])
        if rank == 0:
            np.savez(out, **weights(net))
        # Neither rank tears down gloo while the other still uses it.
        dist.barrier()
        # DDP's reducer holds the process group. Were it the last holder, the group would be
        # destroyed with the reducer, under the GIL, and join gloo's thread, which may still need
        # the GIL to drop the barrier's work: a deadlock (pytorch/pytorch#56297; it hung here 2
        # runs in 21). Dropped first, the group goes with destroy_process_group, without the GIL.
        del net
        gc.collect()
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
