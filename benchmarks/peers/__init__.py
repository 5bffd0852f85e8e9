"""The registry of implementations that are timed, one module per peer library.

A peer module imports its library at import time (ImportError means "not installed") and has:

- ``setup(options: PeerOptions) -> dict``: configure threads, return facts worth reporting
  (version, threads, BLAS, ...);
- ``implementations(options: PeerOptions) -> list[Impl]``, each for one task of ``cases.TASKS``.

``Impl.prepare(x, w)`` converts the NumPy inputs to the library's own arrays once (not timed) and
returns ``(step, to_numpy)``: ``step()`` is the timed call, which must return finished results
(block on asynchronous dispatch), and ``to_numpy(result)`` gives a dict with "w" (dL/dW) and,
where computed, "x" (dL/dX) and "loss" (or "jac" for the Jacobian task), for the check. A limit
implementation (``Impl.is_limit``) returns "z", "w" and "x" products, of which only the shapes
are checked.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable

import numpy as np

Step = Callable[[], Any]
ToNumpy = Callable[[Any], dict[str, Any]]
Prepare = Callable[[np.ndarray, np.ndarray], tuple[Step, ToNumpy]]

# Peer name -> module. The project and NumPy come first; the others are optional installs.
PEERS: dict[str, str] = {
    "project": "peers.project",
    "numpy": "peers.numpy_peer",
    "torch": "peers.torch_peer",
    "jax": "peers.jax_peer",
    "tensorflow": "peers.tensorflow_peer",
}
PROJECT = "project"
BASELINE_LABEL = "dynamic-baseline"  # the project's forward-mode baseline (see peers.project)
ALWAYS = ("project", "numpy")


@dataclass(frozen=True)
class Impl:
    name: str  # the column label, e.g. "torch" or "jax-jacfwd"
    task: str  # cases.REVERSE or cases.FORWARD_W
    prepare: Prepare
    is_project: bool = False  # the project's own code, compared against the fastest other one
    # Not a gradient: the same three products alone (Z = X W, X^T Z, Z W^T), timed as the speed
    # limit of any reverse mode built on this library's BLAS ("limit" column of the report).
    is_limit: bool = False


@dataclass(frozen=True)
class PeerOptions:
    threads: int | None = None  # None: the library's default (all cores)
    # "module:function" with the signature of eigen_autodiff.value_and_grad, used as the
    # forward-mode "dynamic baseline"; None: the project's mode="forward_dynamic".
    baseline: str | None = None
    memory_budget: int | None = None  # bytes; the project's default budget if None
    extra: dict[str, Any] = field(default_factory=dict)


def load(name: str) -> ModuleType:
    if name not in PEERS:
        raise ValueError(f"unknown peer {name!r}; known: {', '.join(PEERS)}")
    return importlib.import_module(PEERS[name])
