"""What is measured: layer sizes, dtypes, deterministic inputs, and the gradient check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Tasks. "reverse": the loss and both gradients, dL/dW and dL/dX, as a framework's backward pass
# computes them. "forward_w": dL/dW alone by forward mode (seeding W), the article's way.
# "jacobian_w": the Jacobian dY/dW of the layer's output Y = sin(X W), shape (B, M, N, M).
REVERSE = "reverse"
FORWARD_W = "forward_w"
JACOBIAN_W = "jacobian_w"
TASKS = (REVERSE, FORWARD_W, JACOBIAN_W)
TASK_TITLES = {
    REVERSE: "Reverse mode: loss, dL/dW and dL/dX",
    FORWARD_W: "Forward mode: dL/dW",
    JACOBIAN_W: "Jacobian dY/dW of Y = sin(X W), shape (B, M, N, M)",
}
TASK_SHORT = {REVERSE: "", FORWARD_W: "fwd dL/dW", JACOBIAN_W: "dY/dW"}

REVERSE_SIZES = ((3, 3, 2), (32, 64, 32), (256, 512, 256), (1024, 1024, 1024))
QUICK_REVERSE_SIZES = ((3, 3, 2), (32, 64, 32))
FORWARD_SIZES = ((16, 32, 16), (32, 64, 32), (64, 128, 64))
QUICK_FORWARD_SIZES = ((16, 32, 16),)
MEMORY_SIZE = (1024, 1024, 1024)
DTYPES = ("float32", "float64")

# Gradients are compared by their largest error relative to their largest entry; float32 results
# are compared with a float64 computation on the same (float32-rounded) inputs.
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}

Size = tuple[int, int, int]


@dataclass(frozen=True)
class Case:
    task: str
    size: Size  # (B, N, M): X is B x N, W is N x M
    dtype: str

    @property
    def label(self) -> str:
        return format_size(self.size)

    def as_dict(self) -> dict[str, Any]:
        return {"task": self.task, "size": list(self.size), "dtype": self.dtype}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Case:
        b, n, m = data["size"]
        return cls(task=data["task"], size=(int(b), int(n), int(m)), dtype=data["dtype"])


def parse_size(text: str) -> Size:
    parts = text.lower().replace("*", "x").split("x")
    if len(parts) != 3 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"size {text!r} is not BxNxM with positive integers, e.g. 32x64x32")
    b, n, m = (int(p) for p in parts)
    return (b, n, m)


def format_size(size: Size) -> str:
    return "x".join(str(d) for d in size)


def make_inputs(size: Size, dtype: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """X ~ N(0, 1) and W ~ N(0, 1/N), so that Z = X W is O(1) where sin is far from linear."""
    b, n, m = size
    rng = np.random.default_rng([seed, b, n, m])
    x = rng.standard_normal((b, n))
    w = rng.standard_normal((n, m)) / np.sqrt(n)
    return np.ascontiguousarray(x, dtype=dtype), np.ascontiguousarray(w, dtype=dtype)


def relative_error(got: Any, want: np.ndarray) -> float:
    got_array = np.asarray(got, dtype=np.float64)
    if got_array.shape != want.shape:
        return float("inf")
    scale = max(float(np.max(np.abs(want), initial=0.0)), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(got_array - want), initial=0.0)) / scale


def check(got: dict[str, Any], want: dict[str, Any], dtype: str) -> dict[str, Any]:
    """Compare the entries of ``got`` ("loss", "w", "x", "jac", whichever it has) with ``want``."""
    tolerance = TOLERANCE[dtype]
    errors: dict[str, float] = {}
    problems: list[str] = []
    for key, value in got.items():
        if key == "loss":
            errors[key] = relative_error(np.float64(value), np.float64(want[key]))
            continue
        array = np.asarray(value)
        if array.shape != want[key].shape:
            problems.append(f"{key} has shape {array.shape}, expected {want[key].shape}")
        if array.dtype != np.dtype(dtype):
            problems.append(f"{key} has dtype {array.dtype}, expected {dtype}")
        errors[key] = relative_error(array, want[key])
    for key, error in errors.items():
        if not error <= tolerance:
            problems.append(f"{key}: relative error {error:.3g} > {tolerance:g}")
    if not want.keys() - {"loss"} & got.keys():
        problems.append(f"none of {sorted(want.keys() - {'loss'})} returned")
    return {"ok": not problems, "errors": errors, "tolerance": tolerance, "problems": problems}
