"""CustomLayer: the article's Keras layer (a Dense without bias) on eigen-autodiff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._activation_spec import ActivationLike, activation_spec
from ._arrays import FloatArray, as_float_arrays, real_arrays, result_dtype
from ._layer import Mode, check_mode, forward, parse_wrt, value_and_grad
from ._native import _core

_MAX_BYTES = 2**64 - 1  # what the budget check takes; larger requests are refused anyway

# The layer's names for the two parameters, as in Keras.
_PARAMETER_OF = {"kernel": "w", "inputs": "x"}


class CustomLayer:
    """``Y = activation(inputs @ kernel)``, like the article's ``tf.keras`` custom layer.

    ``activation`` is a built-in name or a Python callable such as the article's
    ``sin_activation``, traced into C++ once (see ``ead.trace``). The kernel is created on the
    first call, shaped ``(inputs.shape[-1], num_outputs)`` and drawn like Keras' default (Glorot
    uniform) from ``numpy.random.default_rng(seed)``, unless one is given.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> layer = ead.CustomLayer(2, activation="sin", seed=0)
        >>> x = np.array([[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]])
        >>> layer(x).shape, layer.kernel.shape
        ((3, 2), (3, 2))
        >>> loss, (d_kernel,) = layer.value_and_grad(x)
        >>> def sin_activation(x):
        ...     return np.sin(x)
        >>> same = ead.CustomLayer(2, activation=sin_activation, kernel=layer.kernel)
        >>> bool(np.allclose(same(x), layer(x)))
        True

    """

    def __init__(
        self,
        num_outputs: int,
        activation: ActivationLike = "sin",
        kernel: ArrayLike | None = None,
        seed: int | None = None,
    ) -> None:
        if isinstance(num_outputs, bool) or not isinstance(num_outputs, (int, np.integer)):
            raise TypeError(f"num_outputs must be an int, got {type(num_outputs).__name__}")
        if num_outputs < 0:
            raise ValueError(f"num_outputs must be non-negative, got {num_outputs}")
        self.num_outputs = int(num_outputs)
        activation_spec(activation)  # a bad activation fails here, a callable is traced once
        self.activation = activation
        self.seed = seed
        self._kernel: FloatArray | None = None
        if kernel is not None:
            (kernel_array,) = as_float_arrays(kernel=kernel)
            if kernel_array.ndim != 2 or kernel_array.shape[1] != self.num_outputs:
                raise ValueError(
                    f"kernel must have shape (inputs, {self.num_outputs}); got {kernel_array.shape}"
                )
            self._kernel = kernel_array

    @property
    def kernel(self) -> FloatArray | None:
        """The weights, shape ``(inputs, num_outputs)``; None until built."""
        return self._kernel

    @property
    def trainable_variables(self) -> list[FloatArray]:
        """``[kernel]`` once built, as in Keras."""
        return [] if self._kernel is None else [self._kernel]

    def build(self, input_shape: Sequence[int], dtype: DTypeLike = np.float64) -> None:
        """Creates the kernel for inputs whose last dimension is ``input_shape[-1]``."""
        if len(input_shape) == 0:
            raise ValueError("inputs must have at least one dimension")
        fan_in, fan_out = int(input_shape[-1]), self.num_outputs
        kernel_dtype = np.dtype(dtype)
        # Drawn in float64, then cast (a copy) unless float64 was asked for: both count, and are
        # checked before NumPy allocates them.
        itemsize = 8 + (0 if kernel_dtype == np.float64 else kernel_dtype.itemsize)
        _core.check_memory_budget(
            min(fan_in * fan_out * itemsize, _MAX_BYTES),
            f"building the kernel of CustomLayer({self.num_outputs}) with shape "
            f"({fan_in}, {fan_out}) in {kernel_dtype}",
        )
        limit = np.sqrt(6.0 / max(1, fan_in + fan_out))
        rng = np.random.default_rng(self.seed)
        self._kernel = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(kernel_dtype)

    def _checked_inputs(self, inputs: ArrayLike) -> NDArray[Any]:
        # Checked before the kernel is built from them, so that inputs of the wrong shape leave
        # the layer unbuilt. Not converted here: forward/value_and_grad convert them after their
        # memory check.
        (array,) = real_arrays(inputs=inputs)
        if array.ndim != 2:
            raise ValueError(
                "inputs must be a 2-D array of shape (batch, features); "
                f"got {array.ndim}-D with shape {array.shape}"
            )
        if self._kernel is not None and array.shape[1] != self._kernel.shape[0]:
            raise ValueError(
                f"inputs have shape {array.shape}, but the kernel has shape {self._kernel.shape}: "
                f"inputs.shape[1] ({array.shape[1]}) must equal kernel.shape[0] "
                f"({self._kernel.shape[0]})"
            )
        return array

    def _built_kernel(self, inputs: NDArray[Any]) -> FloatArray:
        if self._kernel is None:
            self.build(inputs.shape, result_dtype(inputs))
        assert self._kernel is not None
        return self._kernel

    def __call__(self, inputs: ArrayLike) -> FloatArray:
        """The layer's output for ``inputs`` of shape ``(batch, features)``."""
        array = self._checked_inputs(inputs)
        return forward(array, self._built_kernel(array), self.activation)

    def value_and_grad(
        self,
        inputs: ArrayLike,
        wrt: str | Sequence[str] = ("kernel",),
        mode: Mode = "reverse",
    ) -> tuple[float, tuple[FloatArray, ...]]:
        """The loss ``sum(self(inputs)**2)`` and its gradients w.r.t. ``"kernel"``/``"inputs"``."""
        items = parse_wrt(wrt, allowed=tuple(_PARAMETER_OF))
        check_mode(mode)
        array = self._checked_inputs(inputs)
        kernel = self._built_kernel(array)
        return value_and_grad(
            array, kernel, self.activation, wrt=[_PARAMETER_OF[item] for item in items], mode=mode
        )

    def __repr__(self) -> str:
        shape = None if self._kernel is None else self._kernel.shape
        return (
            f"CustomLayer(num_outputs={self.num_outputs}, activation={self.activation!r}, "
            f"kernel shape={shape})"
        )


__all__ = ["CustomLayer"]
