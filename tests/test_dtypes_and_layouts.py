"""dtype rules, and every memory layout giving the result of its C-contiguous copy."""

from __future__ import annotations

import numpy as np
import pytest

import eigen_autodiff as ead


def layouts(a: np.ndarray) -> dict[str, np.ndarray]:
    """The same values in other memory layouts."""
    padded = np.zeros((a.shape[0] * 2, a.shape[1] * 3), dtype=a.dtype)
    padded[::2, ::3] = a
    reversed_ = np.ascontiguousarray(a[::-1, ::-1])[::-1, ::-1]
    read_only = a.copy()
    read_only.flags.writeable = False
    return {
        "fortran": np.asfortranarray(a),
        "strided": padded[::2, ::3],
        "negative strides": reversed_,
        "read-only": read_only,
        "transposed view": np.ascontiguousarray(a.T).T,
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_every_layout_gives_the_contiguous_result(
    dtype: type, mode: str, rng: np.random.Generator
) -> None:
    x = rng.standard_normal((5, 4)).astype(dtype)
    w = rng.standard_normal((4, 3)).astype(dtype)
    loss, (dw, dx) = ead.value_and_grad(x, w, "tanh", wrt=("w", "x"), mode=mode)
    y = ead.forward(x, w, "tanh")
    for name, x_layout in layouts(x).items():
        for w_name, w_layout in layouts(w).items():
            other_loss, (other_dw, other_dx) = ead.value_and_grad(
                x_layout, w_layout, "tanh", wrt=("w", "x"), mode=mode
            )
            assert other_loss == loss, (name, w_name)
            np.testing.assert_array_equal(other_dw, dw, err_msg=f"{name}, {w_name}")
            np.testing.assert_array_equal(other_dx, dx, err_msg=f"{name}, {w_name}")
        np.testing.assert_array_equal(ead.forward(x_layout, w, "tanh"), y, err_msg=name)
        value, slope = ead.derivative("tanh", x)
        other_value, other_slope = ead.derivative("tanh", x_layout)
        np.testing.assert_array_equal(other_value, value, err_msg=name)
        np.testing.assert_array_equal(other_slope, slope, err_msg=name)


def test_inputs_are_not_modified(rng: np.random.Generator) -> None:
    x, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x_copy, w_copy = x.copy(), w.copy()
    ead.value_and_grad(x, w, "sin", wrt=("w", "x"))
    ead.value_and_grad(x, w, "sin", wrt=("w", "x"), mode="forward")
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(w, w_copy)


@pytest.mark.parametrize(
    ("x_dtype", "w_dtype", "expected"),
    [
        (np.float32, np.float32, np.float32),
        (np.float64, np.float64, np.float64),
        (np.float32, np.float64, np.float64),
        (np.float64, np.float32, np.float64),
        (np.int64, np.float32, np.float64),
        (np.int32, np.int64, np.float64),
        (np.float16, np.float32, np.float64),
    ],
)
def test_result_is_float32_only_when_every_input_is(
    x_dtype: type, w_dtype: type, expected: type
) -> None:
    x = np.arange(6).reshape(2, 3).astype(x_dtype)
    w = np.arange(3).reshape(3, 1).astype(w_dtype)
    _loss, (dw, dx) = ead.value_and_grad(x, w, "sin", wrt=("w", "x"))
    assert dw.dtype == expected and dx.dtype == expected
    assert ead.forward(x, w, "sin").dtype == expected
    _exact_loss, (exact_dw,) = ead.value_and_grad(x.astype(np.float64), w.astype(np.float64), "sin")
    rtol = 1e-5 if expected == np.float32 else 1e-15
    np.testing.assert_allclose(dw, exact_dw, rtol=rtol, atol=rtol)


def test_integer_and_list_inputs_compute_in_float64() -> None:
    loss_list, (dw_list,) = ead.value_and_grad([[1, 2], [3, 4]], [[0.5], [0.25]], "sin")
    loss_array, (dw_array,) = ead.value_and_grad(
        np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.5], [0.25]]), "sin"
    )
    assert dw_list.dtype == np.float64
    assert loss_list == loss_array
    np.testing.assert_array_equal(dw_list, dw_array)


def test_derivative_keeps_the_shape_and_gives_scalars_for_scalars() -> None:
    value, slope = ead.derivative("sin", np.zeros((2, 3, 4)))
    assert value.shape == slope.shape == (2, 3, 4)
    scalar_value, scalar_slope = ead.derivative("cos", 0.0)
    assert np.ndim(scalar_value) == 0 and not isinstance(scalar_value, np.ndarray)
    assert (scalar_value, scalar_slope) == (1.0, 0.0)


def candidate_arguments() -> dict[str, tuple[object, object, object, object]]:
    """(x, w, bias, Y-shaped array) for each case the fast check must tell apart."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((5, 4)), rng.standard_normal((4, 3))
    bias, y = rng.standard_normal(3), rng.standard_normal((5, 3))

    class Subclass(np.ndarray):
        pass

    return {
        "as taken": (x, w, None, y),
        "with bias": (x, w, bias, y),
        "float32": (x.astype(np.float32), w.astype(np.float32), None, y.astype(np.float32)),
        "mixed dtypes": (x.astype(np.float32), w, None, y),
        "bias of another dtype": (x, w, bias.astype(np.float32), y),
        "Y-shaped of another dtype": (x, w, None, y.astype(np.float32)),
        "Fortran x": (np.asfortranarray(x), w, None, y),
        "strided w": (x, np.repeat(w, 2, axis=1)[:, ::2], None, y),
        "byte-swapped x": (x.astype(">f8"), w, None, y),
        "dtype with metadata": (x.astype(np.dtype("f8", metadata={"unit": "m"})), w, None, y),
        "subclass": (x.view(Subclass), w, None, y),
        "3-D x": (x.reshape(5, 1, 4), w, None, y.reshape(5, 1, 3)),
        "lists": (x.tolist(), w.tolist(), None, y.tolist()),
        "mismatched": (x, w[:3], None, y),
        "Y-shaped broadcast": (x, w, None, y[0]),
        "Y-shaped transposed": (x, w, None, np.ascontiguousarray(y.T)),
        "bias 2-D": (x, w, bias.reshape(1, 3), y),
        "int x": (np.arange(20).reshape(5, 4) - 10, w, None, y),
    }


@pytest.mark.parametrize("case", list(candidate_arguments()))
def test_the_bindings_take_as_they_are_exactly_what_passes_through(case: str) -> None:
    # value_and_grad and vjp check their arrays in C++ (None: convert first); every other call
    # relies on passes_through. Both rules must agree, or arrays would be converted for nothing,
    # or refused after their conversion.
    from eigen_autodiff import _core
    from eigen_autodiff._arrays import passes_through
    from eigen_autodiff._layer import _request

    x, w, bias, y = candidate_arguments()[case]
    request = _request(("w", "x"))
    taken = _core.layer_value_and_grad(
        x, w, bias, "tanh", request.mode, y, False, True, True, False
    )
    assert (taken is not None) == passes_through(x, w, (bias, "b"), (y, "target"))
    taken = _core.layer_vjp(x, w, bias, "tanh", y, True, True, False)
    assert (taken is not None) == passes_through(x, w, (bias, "b"), (y, "y"))


@pytest.mark.parametrize("case", list(candidate_arguments()))
def test_every_argument_case_gives_the_result_of_its_converted_arrays(case: str) -> None:
    x, w, bias, y = candidate_arguments()[case]
    given = [a for a in (x, w, bias, y) if a is not None]
    every_float32 = all(getattr(a, "dtype", None) == np.float32 for a in given)
    dtype = np.float32 if every_float32 else np.float64
    cx, cw, cbias, cy = (
        None if a is None else np.ascontiguousarray(a, dtype) for a in (x, w, bias, y)
    )
    try:
        expected = ead.value_and_grad(cx, cw, "tanh", ("w", "x"), bias=cbias, target=cy)
    except ValueError:  # shapes that do not fit: the call refuses them too
        with pytest.raises(ValueError):
            ead.value_and_grad(x, w, "tanh", ("w", "x"), bias=bias, target=y)
        return
    loss, gradients = ead.value_and_grad(x, w, "tanh", ("w", "x"), bias=bias, target=y)
    assert loss == expected[0]
    for got, want in zip(gradients, expected[1]):
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, want.reshape(got.shape))
    if np.shape(y) == np.shape(cx @ cw):
        got_vjp = ead.vjp(x, w, "tanh", y, bias=bias, wrt=("w", "x"))
        for got, want in zip(got_vjp, ead.vjp(cx, cw, "tanh", cy, bias=cbias, wrt=("w", "x"))):
            np.testing.assert_array_equal(got, want.reshape(got.shape))


def test_results_start_on_a_boundary_of_the_largest_simd_packet(rng: np.random.Generator) -> None:
    # Every copy of the module is compiled with EIGEN_MAX_ALIGN_BYTES=64: products written into
    # differently aligned outputs could differ in the last bit from one call to the next.
    x, w = rng.standard_normal((7, 5)), rng.standard_normal((5, 3))
    results = [
        *ead.value_and_grad(x, w, "tanh", wrt=("w", "x", "b"))[1],
        *ead.vjp(x, w, "tanh", np.ones((7, 3)), wrt=("w", "x", "b")),
        *ead.jvp(x, w, "tanh", [np.ones((5, 3))]),
        ead.forward(x, w, "tanh"),
        ead.jacobian(x, w, "tanh"),
        ead.hvp(x, w, "tanh", np.ones((5, 3))),
    ]
    for result in results:
        assert result.ctypes.data % 64 == 0
        assert result.flags.c_contiguous and result.flags.writeable


def test_results_live_in_memory_from_numpys_allocator(rng: np.random.Generator) -> None:
    # NumPy's allocator asks the kernel for huge pages for large arrays; a large block from
    # malloc comes as fresh 4 KiB pages on every call (measured: 8400 page faults per 32x64x32
    # float64 Hessian, 3.5x its time).
    x, w = rng.standard_normal((7, 5)), rng.standard_normal((5, 3))
    for result in [
        ead.value_and_grad(x, w, "tanh", wrt=("w",))[1][0],
        ead.hessian(x, w, "tanh"),
        ead.forward(x, w, "tanh"),
    ]:
        owner = result  # the array that owns the memory, NumPy's when it is an ndarray
        while not owner.flags.owndata:
            assert isinstance(owner.base, np.ndarray), type(owner.base)
            owner = owner.base


def test_results_keep_their_memory_after_every_other_reference_is_gone(
    rng: np.random.Generator,
) -> None:
    import gc

    x, w = rng.standard_normal((40, 30)), rng.standard_normal((30, 20))
    expected = ead.value_and_grad(x, w, "tanh", wrt=("w", "x"))[1]
    dw = ead.value_and_grad(x, w, "tanh", wrt=("w", "x"))[1][0]
    gc.collect()
    ead.value_and_grad(x * 2, w * 2, "tanh", wrt=("w", "x"))  # would reuse freed memory
    np.testing.assert_array_equal(dw, expected[0])
