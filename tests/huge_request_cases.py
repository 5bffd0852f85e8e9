"""Requests far larger than memory, run in a child by tests/test_huge_requests.py: each must
raise MemoryError from the budget check, before anything large is allocated or copied.

Inputs of any shape cost nothing as broadcast views of one element (zero strides); making them
C-contiguous would allocate their full size, so the check must come before the copy. Sizes go
up to 2**63 elements, where size arithmetic that wraps around would let a request through.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from typing import Any

import numpy as np

import eigen_autodiff as ead

MODES = ("reverse", "forward", "forward_dynamic")


def huge(*shape: int, dtype: Any = np.float64) -> np.ndarray:
    """A read-only array of any shape that costs one element of memory."""
    return np.lib.stride_tricks.as_strided(np.zeros(1, dtype=dtype), shape=shape, strides=(0, 0))


def layer_requests(x: np.ndarray, w: np.ndarray) -> dict[str, Callable[[], Any]]:
    """Every public function of the layer on (x, w)."""
    requests: dict[str, Callable[[], Any]] = {
        "forward": lambda: ead.forward(x, w, "sin"),
        "jacobian w": lambda: ead.jacobian(x, w, "sin", wrt="w"),
        "jacobian x": lambda: ead.jacobian(x, w, "sin", wrt="x"),
        "CustomLayer": lambda: ead.CustomLayer(w.shape[1], kernel=w)(x),
    }
    for mode in MODES:
        for wrt in (("w",), ("x",), ("w", "x")):
            requests[f"{mode} {wrt}"] = lambda mode=mode, wrt=wrt: ead.value_and_grad(
                x, w, "sin", wrt=wrt, mode=mode
            )
    return requests


def cases() -> dict[str, Callable[[], Any]]:
    near_2_31 = 1 << 31
    near_2_63 = (1 << 63) - 1
    all_cases: dict[str, Callable[[], Any]] = {}
    shapes = {
        # 2**31 elements of float64: 16 GiB once copied.
        "2**31 float64": (huge(1 << 16, 1 << 15), huge(1 << 15, 1)),
        "2**31 float32": (huge(1 << 16, 1 << 15, dtype=np.float32), huge(1 << 15, 3)),
        # Just past 2**31 - 1, where 32-bit sizes wrap around.
        "2**31+1 outputs": (huge(near_2_31 + 1, 1), huge(1, 1)),
        # About 2**63 one-byte elements, the most NumPy can describe: 2**66 bytes as float64.
        "2**63 uint8": (huge(1 << 32, (1 << 31) - 1, dtype=np.uint8), huge((1 << 31) - 1, 1)),
        "2**63-1 bool": (huge(near_2_63, 1, dtype=np.bool_), huge(1, 1, dtype=np.bool_)),
        # Small contiguous inputs whose outputs or Jacobians are huge: 2**40 outputs.
        "2**40 outputs": (np.ones((1 << 20, 1)), np.ones((1, 1 << 20))),
    }
    for shape_name, (x, w) in shapes.items():
        for request, call in layer_requests(x, w).items():
            all_cases[f"{request} on {shape_name}"] = call
    all_cases["derivative on 2**31"] = lambda: ead.derivative("sin", huge(1 << 16, 1 << 15))
    all_cases["derivative on 2**63"] = lambda: ead.derivative(
        "sin", huge(1 << 32, (1 << 31) - 1, dtype=np.uint8)
    )
    all_cases["CustomLayer kernel of 2**31"] = lambda: ead.CustomLayer(1, kernel=huge(1 << 31, 1))
    all_cases["CustomLayer building on 2**31"] = lambda: ead.CustomLayer(2, seed=0)(
        huge(1 << 16, 1 << 15)
    )
    return all_cases


def peak_memory_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def every_huge_request_raises_memory_error(budget_bits: int) -> int:
    """Each case raises MemoryError from the budget check; returns the number of cases.

    With the budget at 2**budget_bits bytes; at 64 (no budget at all) a request must still be
    refused when its size cannot be allocated whatever the budget (beyond 2**63 bytes) or fail
    to allocate with MemoryError.
    """
    ead.set_memory_budget(min(1 << budget_bits, 2**64 - 1))
    baseline = peak_memory_bytes()
    refused = 0
    for name, call in cases().items():
        try:
            call()
        except MemoryError as error:
            message = str(error)
            ours = "needs an estimated" in message
            assert ours or budget_bits == 64, f"{name}: not the budget check: {message}"
            refused += 1
        else:
            raise AssertionError(f"{name}: no MemoryError")
    # Refused before allocating: the peak memory of the process barely moved.
    grown = peak_memory_bytes() - baseline
    assert grown < 1 << 30, f"peak memory grew by {grown} bytes"
    return refused


def size_estimates_saturate() -> None:
    """The estimates the facade asks for never wrap around to small numbers."""
    core = ead._core
    requests = {
        "layer_values": lambda dtype, n: core.layer_values_bytes(dtype, n, n),
        **{
            f"value_and_grad {name}": (
                lambda dtype, n, m=mode: core.value_and_grad_bytes(
                    m, dtype, n, n, n, True, True, True
                )
            )
            for name, mode in core.Mode.__members__.items()
        },
        "vjp": lambda dtype, n: core.vjp_bytes(dtype, n, n, n, True, True, True),
        "jvp": lambda dtype, n: core.jvp_bytes(dtype, n, n),
        "jacobian w": lambda dtype, n: core.jacobian_bytes(dtype, n, n, n, "w"),
        "jacobian b": lambda dtype, n: core.jacobian_bytes(dtype, n, n, n, "b"),
        "jacobian x": lambda dtype, n: core.jacobian_bytes(dtype, n, n, n, "x"),
        "elementwise": lambda dtype, n: core.elementwise_bytes(dtype, n),
    }
    for request, estimate_of in requests.items():
        for dtype in ("float32", "float64"):
            previous = 0
            for bits in (16, 31, 32, 40, 62, 63):
                size = (1 << bits) - 1 if bits == 63 else 1 << bits
                estimate = estimate_of(dtype, size)
                assert estimate >= previous, (request, dtype, bits, estimate, previous)
                assert 0 <= estimate <= 2**64 - 1
                previous = estimate
            assert previous == 2**64 - 1, (request, dtype, previous)
