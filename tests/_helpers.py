"""Tolerances and comparisons shared by the tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from eigen_autodiff import reference

# Relative agreement demanded of the C++ results against the float64 NumPy reference.
RTOL = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}


def assert_matches_reference(
    ours: Any, expected: Any, dtype: Any, what: str = "", elementwise: bool = False
) -> None:
    """Relative agreement, elementwise or with an absolute floor scaled to the result.

    A sum of terms of both signs can cancel, so an element of a contraction near zero is judged
    against the magnitude of the whole result rather than its own; an elementwise function's
    value is judged against itself alone, down to the smallest normal number of the dtype
    (below it a float32 result underflows where the float64 reference does not).
    """
    rtol = RTOL[np.dtype(dtype)]
    ours = np.asarray(ours, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert ours.shape == expected.shape, f"{what}: shape {ours.shape} != {expected.shape}"
    if elementwise:
        atol = float(np.finfo(dtype).tiny)
    else:
        atol = rtol * float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=atol, err_msg=what)


def random_layer(
    rng: np.random.Generator, batch: int, inputs: int, outputs: int, dtype: Any
) -> tuple[np.ndarray, np.ndarray]:
    """X and W with entries of order one, so that every activation stays in its finite range."""
    x = rng.uniform(-1.0, 1.0, size=(batch, inputs)).astype(dtype)
    w = rng.uniform(-1.0, 1.0, size=(inputs, outputs)).astype(dtype)
    return x, w


# Every built-in activation, in reverse and chunked forward mode.
EVERY_BUILTIN_AND_FAST_MODE = pytest.mark.parametrize(
    ("activation", "mode"),
    [(a, m) for a in sorted(reference.ACTIVATIONS) for m in ("reverse", "forward")],
)


def random_layer_off_kinks(
    rng: np.random.Generator, activation: str, batch: int, inputs: int, outputs: int
) -> tuple[np.ndarray, np.ndarray]:
    """random_layer in float64, with Z kept off relu's kink, where a finite difference
    straddles two slopes: every Z positive."""
    x, w = random_layer(rng, batch, inputs, outputs, np.float64)
    if activation == "relu":
        x, w = np.abs(x) + 0.1, np.abs(w) + 0.1
    return x, w
