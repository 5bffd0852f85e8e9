"""The article's Keras layer, with its gradient computed by the C++ core instead of TensorFlow.

``CustomLayer(units, activation="sin", use_bias=False)`` is a Keras 3 layer for the TensorFlow
backend. Its call is a ``tf.custom_gradient`` around ``tf.numpy_function``: the forward pass is
``ead.forward`` and the gradient ``ead.vjp``, so ``model.fit`` trains it with Eigen's AutoDiff
derivatives. The layer runs on the host CPU and is not XLA-compilable (``supports_jit`` is
False, so ``model.compile(jit_compile="auto")`` leaves it out of XLA).

Example:
    >>> import keras, numpy as np
    >>> from eigen_autodiff.keras import CustomLayer
    >>> model = keras.Sequential([keras.Input((3,)), CustomLayer(2, activation="tanh")])
    >>> model(np.ones((4, 3), dtype="float32")).shape
    TensorShape([4, 2])

"""

from __future__ import annotations

from typing import Any

try:
    import keras
    import tensorflow as tf
except ImportError as error:  # the framework is an optional extra
    raise ImportError(
        "eigen_autodiff.keras needs Keras 3 with TensorFlow, which is not installed: "
        "pip install 'eigen-autodiff[keras]' (or pip install keras tensorflow-cpu)"
    ) from error

import numpy as np

import eigen_autodiff as ead
from eigen_autodiff import ActivationLike

__all__ = ["CustomLayer", "custom_layer"]


def _check_backend() -> None:
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"eigen_autodiff.keras needs Keras' TensorFlow backend, but Keras runs on "
            f"{keras.backend.backend()!r}: set KERAS_BACKEND=tensorflow before importing keras "
            f"(for JAX use eigen_autodiff.jax, for PyTorch eigen_autodiff.torch)"
        )


def custom_layer(x: Any, w: Any, activation: ActivationLike = "sin", bias: Any = None) -> Any:
    """``activation(x @ w + bias)`` as a TensorFlow op whose gradient is ``ead.vjp``.

    ``x`` has shape ``(..., inputs)`` with at least 2 dimensions, ``w`` ``(inputs, outputs)``,
    ``bias`` ``(outputs,)`` or None; tensors or variables of one dtype, float32 or float64.
    Works eagerly and inside ``tf.function`` (not under XLA: ``jit_compile=True`` fails).

    Example:
        >>> import tensorflow as tf
        >>> from eigen_autodiff.keras import custom_layer
        >>> x, w = tf.ones((2, 3)), tf.Variable(tf.fill((3, 1), 0.5))
        >>> with tf.GradientTape() as tape:
        ...     loss = tf.reduce_sum(custom_layer(x, w, "square"))
        >>> tape.gradient(loss, w).numpy().ravel()
        array([6., 6., 6.], dtype=float32)

    """
    x = tf.convert_to_tensor(x)
    w = tf.convert_to_tensor(w)
    tensors = [x, w] if bias is None else [x, w, tf.convert_to_tensor(bias)]
    dtype = x.dtype
    for name, tensor in zip(("x", "w", "bias"), tensors):
        if tensor.dtype not in (tf.float32, tf.float64) or tensor.dtype != dtype:
            raise TypeError(
                f"eigen_autodiff.keras.custom_layer: {name} has dtype {tensor.dtype.name}, x "
                f"{dtype.name}; the layer computes in float32 or float64, one dtype for all "
                f"inputs: cast with tf.cast(..., tf.float32)"
            )
    names = ("x", "w", "b")[: len(tensors)]
    out_shape = x.shape[:-1].concatenate(w.shape[-1:])

    def host_forward(*arrays: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        x, w, *bias = arrays
        y = ead.forward(x, w, activation, bias[0] if bias else None)
        return y.astype(dtype.as_numpy_dtype)

    def host_vjp(*arrays: np.ndarray[Any, Any]) -> list[np.ndarray[Any, Any]]:
        x, w, cotangent, *bias = arrays
        grads = ead.vjp(x, w, activation, cotangent, bias=bias[0] if bias else None, wrt=names)
        return [g.astype(dtype.as_numpy_dtype) for g in grads]

    @tf.custom_gradient  # type: ignore[untyped-decorator]
    def layer(*inputs: Any) -> tuple[Any, Any]:
        y = tf.numpy_function(host_forward, list(inputs), dtype, stateful=False)
        y.set_shape(out_shape)

        def grad(cotangent: Any) -> list[Any]:
            x, w, *bias = inputs
            grads = tf.numpy_function(
                host_vjp, [x, w, cotangent, *bias], [dtype] * len(inputs), stateful=False
            )
            for g, tensor in zip(grads, inputs):
                g.set_shape(tensor.shape)
            return list(grads)

        return y, grad

    return layer(*tensors)


@keras.saving.register_keras_serializable(package="eigen_autodiff")
class CustomLayer(keras.layers.Layer):
    """The article's layer ``activation(inputs @ kernel + bias)``, gradients from C++.

    Like ``keras.layers.Dense(units, use_bias=use_bias)``: ``kernel`` has shape
    ``(input_dim, units)`` and starts Glorot-uniform (Keras' default), ``bias`` zeros.
    ``activation`` is a built-in name (``ead.ACTIVATIONS``) or a Python function written with
    ``ead``'s primitives or NumPy ufuncs (not ``tf.sin``: it is traced into C++). The config
    holds ``units``, ``activation`` and ``use_bias``; a function activation is serialized by
    Keras (register it with ``keras.saving.register_keras_serializable`` to reload it).

    Example:
        >>> import keras, numpy as np
        >>> from eigen_autodiff.keras import CustomLayer
        >>> layer = CustomLayer(2, activation="sin", use_bias=True)
        >>> layer(np.ones((5, 3), dtype="float32")).shape
        TensorShape([5, 2])
        >>> [w.shape for w in layer.get_weights()]
        [(3, 2), (2,)]
        >>> CustomLayer.from_config(layer.get_config()).units
        2

    """

    def __init__(
        self,
        units: int,
        activation: ActivationLike = "sin",
        use_bias: bool = False,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        _check_backend()
        super().__init__(**kwargs)
        # Fails here, with the activation's name, rather than at the first call.
        ead.forward(np.zeros((1, 1)), np.zeros((1, 1)), activation)
        self.units = int(units)
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        # tf.numpy_function cannot be compiled by XLA.
        self.supports_jit = False

    def build(self, input_shape: Any) -> None:
        """Creates ``kernel`` (and ``bias``) for inputs of shape ``(..., input_dim)``."""
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer=self.kernel_initializer
        )
        self.bias = (
            self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer)
            if self.use_bias
            else None
        )

    def call(self, inputs: Any) -> Any:
        """``activation(inputs @ kernel + bias)``."""
        return custom_layer(inputs, self.kernel, self.activation, self.bias)

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        """``input_shape[:-1] + (units,)``."""
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        """The constructor's arguments (weights are separate, as in Keras)."""
        activation = self.activation
        if not isinstance(activation, str):
            activation = keras.saving.serialize_keras_object(activation)
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activation,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CustomLayer:
        """The layer described by ``get_config()``'s result, without weights."""
        config = dict(config)
        if not isinstance(config.get("activation", "sin"), str):
            config["activation"] = keras.saving.deserialize_keras_object(config["activation"])
        return cls(**config)
