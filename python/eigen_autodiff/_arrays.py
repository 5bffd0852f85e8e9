"""Argument checks shared by the public functions: dtypes, dimensions, shapes."""

from __future__ import annotations

from typing import Any, Callable, Literal, NamedTuple, Optional, cast

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
    except Exception as error:
        hint = framework_hint(type(value).__module__)
        if hint:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise TypeError(
                f"{name} is a {type(value).__name__} that NumPy cannot read ({reason}); "
                f"eigen_autodiff's functions compute on NumPy arrays: {hint}"
            ) from None
        if isinstance(error, (TypeError, ValueError)):
            raise TypeError(
                f"{name} must be array-like with a real numeric dtype: {error}"
            ) from None
        raise
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} has dtype {array.dtype}; expected real numbers "
            "(float32, float64, or integers, which become float64)"
        )
    return array


# The frameworks whose values reach the library by mistake, and where their layers are.
_FRAMEWORK_LAYERS = {
    "torch": "inside PyTorch autograd use eigen_autodiff.torch.custom_layer (or CustomLayer)",
    "jax": "inside jax.jit, jax.grad or jax.vmap use eigen_autodiff.jax.custom_layer",
    "jaxlib": "inside jax.jit, jax.grad or jax.vmap use eigen_autodiff.jax.custom_layer",
    "tensorflow": "inside a Keras model use eigen_autodiff.keras.CustomLayer",
    "keras": "inside a Keras model use eigen_autodiff.keras.CustomLayer",
}


def framework_hint(module: str) -> str:
    """Where to go instead, for a value or a function of the framework ``module`` belongs to."""
    return _FRAMEWORK_LAYERS.get(module.partition(".")[0], "")


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

# What shape an extra argument of a layer computation has: "b" (outputs,), "x" and "w" the
# parameters' shapes, "y" exactly the output's, "target" anything that broadcasts to the output's.
ExtraKind = Literal["b", "x", "w", "y", "target"]


class LayerArrays(NamedTuple):
    """The layer's arrays as the compiled module takes them, and the shapes to give results.

    ``x`` is 2-D (the leading dimensions of the caller's x flattened into rows), every array is
    C-contiguous and of one float dtype; ``extras`` holds the extra arguments by name (2-D where
    they are shaped like x or Y, None where not given).
    """

    x: FloatArray
    w: FloatArray
    extras: dict[str, FloatArray | None]
    x_shape: tuple[int, ...]
    y_shape: tuple[int, ...]


def _expected_shape(
    kind: ExtraKind, x_shape: tuple[int, ...], w_shape: tuple[int, ...]
) -> tuple[int, ...]:
    if kind == "b":
        return (w_shape[1],)
    if kind == "x":
        return x_shape
    if kind == "w":
        return w_shape
    return (*x_shape[:-1], w_shape[1])  # "y" and "target"


def passes_through(x: object, w: object, *extras: tuple[object, ExtraKind]) -> bool:
    """Whether x, w and the extras (value, kind) are already as the compiled module takes them.

    Decided in a few attribute reads: for a small layer the argument checks are a large part of
    the whole call's cost. None extras pass; a target must have Y's exact shape here.
    """
    if not (
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
        return False
    for value, kind in extras:
        if value is not None and not (
            type(value) is np.ndarray
            and value.dtype is x.dtype
            and value.flags.c_contiguous
            and value.shape == _expected_shape(kind, x.shape, w.shape)
        ):
            return False
    return True


def layer_arrays(
    x: ArrayLike,
    w: ArrayLike,
    what: str,
    request_bytes: RequestBytes,
    **extras: tuple[ArrayLike | None, ExtraKind],
) -> LayerArrays:
    """The arrays checked and converted for the layer: x ``(..., N)``, w ``(N, M)``, one dtype.

    ``extras`` are further arrays of the computation by name, each with the kind of its shape
    (bias, target, cotangent, tangents); None is passed on. Arrays that are already as the
    compiled module takes them pass straight through: for a small layer, this function's cost is
    a large part of the whole call's. Others are checked (dtype, then shapes) before they are
    converted, and the conversion's copies with the request's own memory need (``what``, e.g.
    "reverse mode", estimated by ``request_bytes``) before they are made.
    """
    if passes_through(x, w, *extras.values()):
        x_array, w_array = cast(FloatArray, x), cast(FloatArray, w)
        passed = {name: cast(Optional[FloatArray], value) for name, (value, _) in extras.items()}
        return LayerArrays(
            x_array, w_array, passed, x_array.shape, (x_array.shape[0], w_array.shape[1])
        )
    given = {name: value for name, (value, _) in extras.items() if value is not None}
    arrays = dict(zip(["x", "w", *given], real_arrays(x=x, w=w, **given)))
    x_array, w_array = arrays["x"], arrays["w"]
    check_layer_shapes(x_array, w_array)
    for name, array in list(arrays.items())[2:]:
        kind = extras[name][1]
        expected = _expected_shape(kind, x_array.shape, w_array.shape)
        if kind == "target":
            try:
                arrays[name] = np.broadcast_to(array, expected)
            except ValueError:
                raise ValueError(
                    f"{name} has shape {array.shape}, which does not broadcast to the output's "
                    f"shape {expected}"
                ) from None
        elif array.shape != expected:
            raise ValueError(f"{name} has shape {array.shape}; expected {expected}")
    dtype = result_dtype(*arrays.values())
    batch = int(np.prod(x_array.shape[:-1]))
    inputs, outputs = w_array.shape
    converted = dict(
        zip(
            arrays,
            contiguous_arrays(
                dtype,
                f"{what} on X {x_array.shape} and W {w_array.shape}",
                lambda: request_bytes(dtype, batch, inputs, outputs),
                **arrays,
            ),
        )
    )
    y_shape = (*x_array.shape[:-1], outputs)

    def as_rows(name: str) -> FloatArray | None:
        array = converted.get(name)
        if array is None or extras[name][1] == "b" or extras[name][1] == "w":
            return array
        return array.reshape(batch, -1)

    return LayerArrays(
        converted["x"].reshape(batch, inputs),
        converted["w"],
        {name: as_rows(name) for name in extras},
        x_array.shape,
        y_shape,
    )


def check_layer_shapes(x: NDArray[Any], w: NDArray[Any]) -> None:
    """Raises ValueError unless x is (..., n), at least 2-D, and w is (n, m)."""
    if x.ndim < 2:
        raise ValueError(
            "x must be an array of shape (..., inputs) with at least 2 dimensions, like a Keras "
            f"Dense layer's input; got {x.ndim}-D with shape {x.shape}"
        )
    if w.ndim != 2:
        raise ValueError(
            f"w must be a 2-D array of shape (inputs, outputs); got {w.ndim}-D with shape {w.shape}"
        )
    if x.shape[-1] != w.shape[0]:
        raise ValueError(
            f"x has shape {x.shape} and w has shape {w.shape}: "
            f"x.shape[-1] ({x.shape[-1]}) must equal w.shape[0] ({w.shape[0]})"
        )
