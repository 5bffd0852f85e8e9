"""CustomLayer: the article's Keras layer (a Dense, with or without bias) on eigen-autodiff."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._arrays import FloatArray, as_float_arrays, real_arrays, result_dtype
from ._layer import Mode, Reduction, check_mode, forward, parse_wrt, value_and_grad, vjp
from ._native import _core
from ._tracing.activation_spec import ActivationLike, activation_spec

_MAX_BYTES = 2**64 - 1  # what the budget check takes; larger requests are refused anyway

# The layer's names for its parameters and input, as in Keras, and the functions' names.
_PARAMETER_OF = {"kernel": "w", "inputs": "x", "bias": "b"}


class CustomLayer:
    """``Y = activation(inputs @ kernel + bias)``, like the article's ``tf.keras`` custom layer.

    ``activation`` is a built-in name, ``"linear"`` or None (identity, as in Keras), or a Python
    callable such as the article's ``sin_activation``, traced into C++ once (see ``ead.trace``);
    it is checked here, so a misspelled name fails at construction. The kernel is created on the
    first call, shaped ``(inputs.shape[-1], num_outputs)`` and drawn like Keras' default (Glorot
    uniform) from ``numpy.random.default_rng(seed)``, unless one is given; with
    ``use_bias=True`` the bias starts at zeros (Keras' default) unless one is given. ``kernel``
    and ``bias`` are copied, and can be assigned (``layer.kernel -= lr * grad`` works). Inputs
    have shape ``(..., features)``.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> layer = ead.CustomLayer(2, activation="sin", seed=0, use_bias=True)
        >>> x = np.array([[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]])
        >>> layer(x).shape, layer.kernel.shape, layer.bias.shape
        ((3, 2), (3, 2), (2,))
        >>> loss, (d_kernel, d_bias) = layer.value_and_grad(x, wrt=("kernel", "bias"))
        >>> layer.kernel -= 0.1 * d_kernel
        >>> layer.bias -= 0.1 * d_bias
        >>> same = ead.CustomLayer.from_config(layer.get_config())
        >>> same.set_weights(layer.get_weights())
        >>> bool(np.allclose(same(x), layer(x)))
        True

    """

    def __init__(
        self,
        num_outputs: int,
        activation: ActivationLike | None = "sin",
        kernel: ArrayLike | None = None,
        seed: int | None = None,
        use_bias: bool = False,
        bias: ArrayLike | None = None,
    ) -> None:
        if isinstance(num_outputs, bool) or not isinstance(num_outputs, (int, np.integer)):
            raise TypeError(f"num_outputs must be an int, got {type(num_outputs).__name__}")
        if num_outputs < 0:
            raise ValueError(f"num_outputs must be non-negative, got {num_outputs}")
        if bias is not None and not use_bias:
            raise ValueError("bias is given but use_bias is False; pass use_bias=True")
        self.num_outputs = int(num_outputs)
        activation_spec(activation)  # a bad activation fails here, a callable is traced once
        self.activation = activation
        self.seed = seed
        self.use_bias = bool(use_bias)
        self._kernel: FloatArray | None = None
        self._bias: FloatArray | None = None
        if kernel is not None:
            self.kernel = kernel
        if bias is not None:
            self.bias = bias

    # --- the weights ---------------------------------------------------------------------------

    @property
    def kernel(self) -> FloatArray | None:
        """The weights, shape ``(inputs, num_outputs)``; None until built. Assigning copies."""
        return self._kernel

    @kernel.setter
    def kernel(self, value: ArrayLike) -> None:
        kernel = self._copied("kernel", value, ndim=2)
        if kernel.shape[1] != self.num_outputs or (
            self._kernel is not None and kernel.shape != self._kernel.shape
        ):
            expected = "(inputs, " + str(self.num_outputs) + ")"
            if self._kernel is not None:
                expected = str(self._kernel.shape)
            raise ValueError(f"kernel must have shape {expected}; got {kernel.shape}")
        self._kernel = kernel

    @property
    def bias(self) -> FloatArray | None:
        """The bias, shape ``(num_outputs,)``; None without ``use_bias`` or until built."""
        return self._bias

    @bias.setter
    def bias(self, value: ArrayLike) -> None:
        if not self.use_bias:
            raise ValueError("this layer has no bias (use_bias=False)")
        bias = self._copied("bias", value, ndim=1)
        if bias.shape != (self.num_outputs,):
            raise ValueError(f"bias must have shape ({self.num_outputs},); got {bias.shape}")
        self._bias = bias

    def _copied(self, name: str, value: ArrayLike, ndim: int) -> FloatArray:
        """``value`` as a new array of the layer's dtype (float32 or float64) and ``ndim``."""
        (array,) = as_float_arrays(**{name: value})
        if array.ndim != ndim:
            raise ValueError(f"{name} must be a {ndim}-D array; got shape {array.shape}")
        current = self._kernel if self._kernel is not None else self._bias
        dtype = current.dtype if current is not None else array.dtype
        return np.array(array, dtype=dtype, copy=True)

    @property
    def trainable_variables(self) -> list[FloatArray]:
        """``[kernel]`` or ``[kernel, bias]`` once built, as in Keras."""
        return self.get_weights()

    def get_weights(self) -> list[FloatArray]:
        """The weights in Keras' order, ``[kernel]`` or ``[kernel, bias]``; ``[]`` until built."""
        if self._kernel is None:
            return []
        return [self._kernel] if self._bias is None else [self._kernel, self._bias]

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Sets ``[kernel]`` or ``[kernel, bias]`` (Keras' order), copied and checked."""
        expected = 2 if self.use_bias else 1
        if len(weights) != expected:
            names = "[kernel, bias]" if self.use_bias else "[kernel]"
            raise ValueError(f"set_weights takes {expected} arrays, {names}; got {len(weights)}")
        self.kernel = weights[0]
        if self.use_bias:
            self.bias = weights[1]

    def build(self, input_shape: Sequence[int], dtype: DTypeLike = np.float64) -> None:
        """Creates the kernel (and bias) for inputs whose last dimension is ``input_shape[-1]``."""
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
        if self.use_bias and self._bias is None:
            self._bias = np.zeros(fan_out, dtype=kernel_dtype)
        elif self._bias is not None:
            self._bias = self._bias.astype(kernel_dtype)

    # --- computing -----------------------------------------------------------------------------

    def _checked_inputs(self, inputs: ArrayLike) -> NDArray[Any]:
        # Checked before the kernel is built from them, so that inputs of the wrong shape leave
        # the layer unbuilt. Not converted here: the functions convert them after their memory
        # check.
        (array,) = real_arrays(inputs=inputs)
        if array.ndim < 2:
            raise ValueError(
                "inputs must be an array of shape (..., features) with at least 2 dimensions; "
                f"got {array.ndim}-D with shape {array.shape}"
            )
        if self._kernel is not None and array.shape[-1] != self._kernel.shape[0]:
            raise ValueError(
                f"inputs have shape {array.shape}, but the kernel has shape {self._kernel.shape}: "
                f"inputs.shape[-1] ({array.shape[-1]}) must equal kernel.shape[0] "
                f"({self._kernel.shape[0]})"
            )
        return array

    def _built_kernel(self, inputs: NDArray[Any]) -> FloatArray:
        if self._kernel is None:
            self.build(inputs.shape, result_dtype(inputs))
        assert self._kernel is not None
        return self._kernel

    def _wrt(self, wrt: str | Sequence[str]) -> list[str]:
        items = parse_wrt(wrt, allowed=tuple(_PARAMETER_OF))
        if "bias" in items and not self.use_bias:
            raise ValueError("wrt names 'bias', but this layer has no bias (use_bias=False)")
        return [_PARAMETER_OF[item] for item in items]

    def __call__(self, inputs: ArrayLike) -> FloatArray:
        """The layer's output for ``inputs`` of shape ``(..., features)``."""
        array = self._checked_inputs(inputs)
        return forward(array, self._built_kernel(array), self.activation, self._bias)

    def value_and_grad(
        self,
        inputs: ArrayLike,
        wrt: str | Sequence[str] = ("kernel",),
        mode: Mode = "reverse",
        target: ArrayLike | None = None,
        reduction: Reduction = "sum",
    ) -> tuple[float, tuple[FloatArray, ...]]:
        """The loss ``reduce((self(inputs) - target)**2)`` and its gradients.

        ``wrt`` names ``"kernel"``, ``"bias"`` and/or ``"inputs"``; see
        :func:`eigen_autodiff.value_and_grad` for ``mode``, ``target`` and ``reduction``.
        """
        items = self._wrt(wrt)
        check_mode(mode)
        array = self._checked_inputs(inputs)
        kernel = self._built_kernel(array)
        return value_and_grad(
            array,
            kernel,
            self.activation,
            wrt=items,
            mode=mode,
            bias=self._bias,
            target=target,
            reduction=reduction,
        )

    def vjp(
        self, inputs: ArrayLike, cotangent: ArrayLike, wrt: str | Sequence[str] = ("kernel",)
    ) -> tuple[FloatArray, ...]:
        """The gradients of ``sum(cotangent * self(inputs))``: the layer's backward pass.

        ``cotangent`` is the upstream gradient dL/dY; ``wrt`` names ``"kernel"``, ``"bias"``
        and/or ``"inputs"``, and the gradients come in that order.
        """
        items = self._wrt(wrt)
        array = self._checked_inputs(inputs)
        kernel = self._built_kernel(array)
        return vjp(array, kernel, self.activation, cotangent, self._bias, wrt=items)

    # --- configuration and persistence ---------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """``units``, ``activation``, ``use_bias`` (and ``seed``); the weights are separate."""
        return {
            "units": self.num_outputs,
            "activation": self.activation,
            "use_bias": self.use_bias,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CustomLayer:
        """A new, unbuilt layer from :meth:`get_config`'s dictionary, as in Keras."""
        return cls(
            config["units"],
            activation=config.get("activation", "sin"),
            use_bias=config.get("use_bias", False),
            seed=config.get("seed"),
        )

    def __getstate__(self) -> dict[str, Any]:
        activation = self.activation
        if callable(activation) and not isinstance(activation, _core.TracedProgram):
            qualname = getattr(activation, "__qualname__", "")
            if "<lambda>" in qualname or "<locals>" in qualname:
                raise pickle.PicklingError(
                    f"CustomLayer's activation {qualname!r} is a lambda or a local function, "
                    "which pickle cannot save: define it at module level (as Keras requires of "
                    "custom objects), or use a built-in name"
                )
        return {"config": self.get_config(), "weights": self.get_weights()}

    def __setstate__(self, state: dict[str, Any]) -> None:
        config = state["config"]
        self.__init__(  # type: ignore[misc]
            config["units"],
            activation=config["activation"],
            use_bias=config["use_bias"],
            seed=config["seed"],
        )
        if state["weights"]:
            self.set_weights(state["weights"])

    def __repr__(self) -> str:
        activation = self.activation
        shown = (
            activation
            if isinstance(activation, str) or activation is None
            else getattr(activation, "__name__", type(activation).__name__)
        )
        weights = (
            "unbuilt"
            if self._kernel is None
            else f"kernel {self._kernel.shape} {self._kernel.dtype}"
            + ("" if self._bias is None else f", bias {self._bias.shape}")
        )
        return (
            f"CustomLayer(units={self.num_outputs}, activation={shown!r}, "
            f"use_bias={self.use_bias}; {weights})"
        )


__all__ = ["CustomLayer"]
