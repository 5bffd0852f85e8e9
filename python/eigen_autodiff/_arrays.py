"""Argument checks shared by the public functions: dtypes, dimensions, shapes."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.floating[Any]]


def _as_array(name: str, value: ArrayLike) -> NDArray[Any]:
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


def as_float_arrays(**named: ArrayLike) -> tuple[FloatArray, ...]:
    """Converts each argument to a C-contiguous array of the common result dtype.

    Arrays that already have that dtype and layout are passed on without a copy.
    """
    arrays = {name: _as_array(name, value) for name, value in named.items()}
    dtype = result_dtype(*arrays.values())
    return tuple(np.asarray(array, dtype=dtype, order="C") for array in arrays.values())


_FLOAT32 = np.dtype(np.float32)
_FLOAT64 = np.dtype(np.float64)


def layer_arrays(x: ArrayLike, w: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """The arrays checked and converted for the layer: 2-D, matching, C-contiguous, one dtype.

    Arrays that are already so pass straight through: for a small layer, this function's cost
    is a large part of the whole call's.
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
    x_array, w_array = as_float_arrays(x=x, w=w)
    check_layer_shapes(x_array, w_array)
    return x_array, w_array


def check_layer_shapes(x: FloatArray, w: FloatArray) -> None:
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
