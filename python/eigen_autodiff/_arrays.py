"""Argument checks shared by the public functions: dtypes, dimensions, shapes."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._native import _core

FloatArray = NDArray[np.floating[Any]]

# The largest estimate the compiled module's budget check takes (an unsigned 64-bit count).
_MAX_BYTES = 2**64 - 1


def _as_array(name: str, value: ArrayLike) -> NDArray[Any]:
    if isinstance(value, np.ma.MaskedArray) and np.ma.is_masked(value):
        # np.asarray would silently compute on the values under the mask.
        raise TypeError(
            f"{name} is a masked array with masked entries; fill them first "
            f"(for example {name}.filled(0.0))"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be array-like with a real numeric dtype: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} has dtype {array.dtype}; expected real numbers "
            "(float32, float64, or integers, which become float64)"
        )
    return array


def result_dtype(*arrays: NDArray[Any]) -> np.dtype[Any]:
    """float32 when every input is float32, float64 otherwise (integers become float64)."""
    if arrays and all(array.dtype == np.float32 for array in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def real_arrays(**named: ArrayLike) -> tuple[NDArray[Any], ...]:
    """Each argument as an array of real numbers, not yet converted: views stay views.

    TypeError, naming the argument, for anything else (complex, object, strings, masked entries).
    """
    return tuple(_as_array(name, value) for name, value in named.items())


def contiguous_arrays(
    dtype: np.dtype[Any], what: str, request_bytes: Callable[[], int], **named: NDArray[Any]
) -> tuple[FloatArray, ...]:
    """The arrays as C-contiguous arrays of ``dtype``, copied only where needed.

    A copy can be far larger than its source (a broadcast view of one element can have any
    shape), so the copies' size plus the request's own estimate (``request_bytes()``, from the
    compiled module) is checked against the memory budget before anything is copied.
    """
    copies = [
        name
        for name, array in named.items()
        if array.dtype != dtype or not array.flags.c_contiguous
    ]
    if copies:
        copy_bytes = sum(named[name].size for name in copies) * dtype.itemsize
        need = min(copy_bytes + request_bytes(), _MAX_BYTES)
        _core.check_memory_budget(
            need, f"{what}, with C-contiguous {dtype} copies of {' and '.join(copies)},"
        )
    return tuple(np.asarray(array, dtype=dtype, order="C") for array in named.values())


def as_float_arrays(**named: ArrayLike) -> tuple[FloatArray, ...]:
    """Converts each argument to a C-contiguous array of the common result dtype.

    Arrays that already have that dtype and layout are passed on without a copy; copies are
    checked against the memory budget first.
    """
    arrays = real_arrays(**named)
    dtype = result_dtype(*arrays)
    return contiguous_arrays(
        dtype, "converting " + " and ".join(named), lambda: 0, **dict(zip(named, arrays))
    )


_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)


# The memory estimate of a layer computation for its dtype, batch, inputs and outputs: one of
# _core's *_bytes functions.
RequestBytes = Callable[[np.dtype[Any], int, int, int], int]


def layer_arrays(
    x: ArrayLike, w: ArrayLike, what: str, request_bytes: RequestBytes
) -> tuple[FloatArray, FloatArray]:
    """The arrays checked and converted for the layer: 2-D, matching, C-contiguous, one dtype.

    Arrays that are already so pass straight through: for a small layer, this function's cost
    is a large part of the whole call's. Others are checked (dtype, then shapes) before they are
    converted, and the conversion's copies with the request's own memory need (``what``, e.g.
    "reverse mode", estimated by ``request_bytes``) before they are made.
    """
    if (
        type(x) is np.ndarray
        and type(w) is np.ndarray
        and x.dtype is w.dtype
        and (x.dtype is _FLOAT64 or x.dtype is _FLOAT32)
        and x.ndim == 2
        and w.ndim == 2
        and x.shape[1] == w.shape[0]
        and x.flags.c_contiguous
        and w.flags.c_contiguous
    ):
        return x, w
    x_array, w_array = real_arrays(x=x, w=w)
    check_layer_shapes(x_array, w_array)
    dtype = result_dtype(x_array, w_array)
    batch, inputs = x_array.shape
    outputs = w_array.shape[1]
    x_array, w_array = contiguous_arrays(
        dtype,
        f"{what} on X {(batch, inputs)} and W {(inputs, outputs)}",
        lambda: request_bytes(dtype, batch, inputs, outputs),
        x=x_array,
        w=w_array,
    )
    return x_array, w_array


def check_layer_shapes(x: NDArray[Any], w: NDArray[Any]) -> None:
    """Raises ValueError unless x is (batch, n) and w is (n, m)."""
    if x.ndim != 2:
        raise ValueError(
            f"x must be a 2-D array of shape (batch, inputs); got {x.ndim}-D with shape {x.shape}"
        )
    if w.ndim != 2:
        raise ValueError(
            f"w must be a 2-D array of shape (inputs, outputs); got {w.ndim}-D with shape {w.shape}"
        )
    if x.shape[1] != w.shape[0]:
        raise ValueError(
            f"x has shape {x.shape} and w has shape {w.shape}: "
            f"x.shape[1] ({x.shape[1]}) must equal w.shape[0] ({w.shape[0]})"
        )
