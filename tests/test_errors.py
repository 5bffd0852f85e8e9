"""Bad arguments raise ValueError or TypeError whose message names the problem."""

from __future__ import annotations

import numpy as np
import pytest

import eigen_autodiff as ead

X = np.ones((3, 4))
W = np.ones((4, 2))


def test_shape_mismatch_names_both_shapes() -> None:
    with pytest.raises(ValueError, match=r"x has shape \(3, 4\) and w has shape \(5, 2\)"):
        ead.value_and_grad(X, np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"x.shape\[-1\] \(4\) must equal w.shape\[0\] \(5\)"):
        ead.forward(X, np.ones((5, 2)))


@pytest.mark.parametrize("bad_x", [np.ones(4), np.float64(1.0)])
def test_wrong_ndim_of_x(bad_x: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"at least 2 dimensions.* got \d-D with shape"):
        ead.value_and_grad(bad_x, W)


def test_wrong_ndim_of_w() -> None:
    with pytest.raises(ValueError, match=r"w must be a 2-D array .* got 1-D with shape \(4,\)"):
        ead.forward(X, np.ones(4))


def test_unknown_activation_lists_the_builtins() -> None:
    with pytest.raises(
        ValueError, match=r"unknown activation 'swish'; built-in activations: .*sin"
    ):
        ead.value_and_grad(X, W, "swish")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ead.forward(X, W, "swish")
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        ead.derivative("swish", 1.0)


def test_activation_of_wrong_type() -> None:
    with pytest.raises(TypeError, match="activation must be the name of a built-in activation"):
        ead.forward(X, W, 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("wrt", [("bias",), ("w", "kernel"), "z"])
def test_unknown_wrt_item(wrt: tuple[str, ...]) -> None:
    with pytest.raises(
        ValueError, match=r"unknown wrt item '.*'; expected items from \('w', 'x', 'b'\)"
    ):
        ead.value_and_grad(X, W, wrt=wrt)


def test_repeated_wrt_item() -> None:
    with pytest.raises(ValueError, match="wrt names an item twice"):
        ead.value_and_grad(X, W, wrt=("w", "w"))


def test_unknown_mode() -> None:
    with pytest.raises(ValueError, match=r"unknown mode 'backward'; expected one of"):
        ead.value_and_grad(X, W, mode="backward")  # type: ignore[arg-type]


def test_checks_hold_on_every_call_of_a_combination() -> None:
    """The checked (wrt, mode, reduction) are remembered: a bad one raises every time, a good
    one gives the same gradients as its list spelling, which cannot be remembered."""
    for _ in range(2):
        with pytest.raises(ValueError, match="unknown mode 'backward'"):
            ead.value_and_grad(X, W, mode="backward")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="unknown reduction 'avg'"):
            ead.value_and_grad(X, W, reduction="avg")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="wrt names an item twice"):
            ead.vjp(X, W, "sin", np.ones((X.shape[0], W.shape[1])), wrt=["x", "x"])
    _, as_tuple = ead.value_and_grad(X, W, wrt=("x", "w"), reduction="mean")
    _, as_list = ead.value_and_grad(X, W, wrt=["x", "w"], reduction="mean")
    _, (dw,) = ead.value_and_grad(X, W, wrt="w", reduction="mean")
    for a, b in zip(as_tuple, as_list):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(as_tuple[1], dw)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_input_is_a_type_error(dtype: type) -> None:
    with pytest.raises(TypeError, match=r"x has dtype complex\d+; expected real numbers"):
        ead.value_and_grad(X.astype(dtype), W)
    with pytest.raises(TypeError, match=r"w has dtype complex\d+"):
        ead.forward(X, W.astype(dtype))
    with pytest.raises(TypeError, match=r"x has dtype complex\d+"):
        ead.derivative("sin", np.ones(3, dtype=dtype))


@pytest.mark.parametrize("value", [np.array([["a", "b"]]), np.array([[object()]], dtype=object)])
def test_strings_and_objects_are_type_errors(value: np.ndarray) -> None:
    with pytest.raises(TypeError, match="x has dtype"):
        ead.forward(value, np.ones((value.shape[1], 1)))


def test_ragged_list_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="x must be array-like"):
        ead.forward([[1.0, 2.0], [3.0]], W)


@pytest.mark.parametrize(
    ("mode", "description"),
    [
        ("forward_dynamic", r"forward_dynamic mode on X \(64, 64\)"),
        ("forward", r"forward mode on X \(64, 64\)"),
        ("reverse", r"reverse mode on X \(64, 64\)"),
    ],
)
def test_memory_budget_is_checked_before_allocating(mode: str, description: str) -> None:
    budget = ead.get_memory_budget()
    try:
        # Below the gradients themselves (32 KiB each), so every mode is refused.
        ead.set_memory_budget(1 << 12)
        with pytest.raises(MemoryError, match=description + ".*needs an estimated"):
            ead.value_and_grad(np.ones((64, 64)), np.ones((64, 64)), mode=mode)  # type: ignore[arg-type]
    finally:
        ead.set_memory_budget(budget)
    # The article's forward mode needs the most: with a budget of 1 MiB only it is refused.
    try:
        ead.set_memory_budget(1 << 20)
        with pytest.raises(MemoryError):
            ead.value_and_grad(np.ones((64, 64)), np.ones((64, 64)), mode="forward_dynamic")
        ead.value_and_grad(np.ones((64, 64)), np.ones((64, 64)), mode="forward")
    finally:
        ead.set_memory_budget(budget)


def test_set_num_threads_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ead.set_num_threads(0)
