"""DistributedDataParallel training with eigen_autodiff.torch equals one process on the batch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
dist = pytest.importorskip("torch.distributed")

import _ddp_training  # noqa: E402

WORKER = Path(__file__).with_name("_ddp_training.py")
WORLD_SIZE = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.skipif(not dist.is_available(), reason="torch built without torch.distributed")
@pytest.mark.skipif(not dist.is_gloo_available(), reason="torch built without gloo")
def test_two_process_ddp_equals_single_process_training(tmp_path: Path) -> None:
    out = tmp_path / "weights.npz"
    port = free_port()
    # Loopback only: gloo would otherwise pick the interface the host name resolves to.
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "OMP_NUM_THREADS": "1"}
    ranks = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(rank), str(WORLD_SIZE), str(port), str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in range(WORLD_SIZE)
    ]
    try:
        outputs = [process.communicate(timeout=90)[0] for process in ranks]
    except subprocess.TimeoutExpired:
        for process in ranks:
            process.kill()
        outputs = [process.communicate()[0] for process in ranks]
        pytest.fail("DDP training did not finish in 90 s:\n" + "\n".join(outputs))
    for rank, (process, output) in enumerate(zip(ranks, outputs)):
        assert process.returncode == 0, f"rank {rank} failed:\n{output}"

    distributed = dict(np.load(out))
    single = _ddp_training.model()
    x, target = _ddp_training.problem()
    _ddp_training.train(single, x, target)
    expected = _ddp_training.weights(single)
    assert distributed.keys() == expected.keys()
    initial = _ddp_training.weights(_ddp_training.model())
    for name, weight in expected.items():
        assert not np.allclose(weight, initial[name]), f"{name} did not train"
        np.testing.assert_allclose(distributed[name], weight, rtol=1e-12, atol=0, err_msg=name)
