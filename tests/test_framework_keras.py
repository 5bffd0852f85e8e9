"""eigen_autodiff.keras against TensorFlow's own autodiff of the same layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "tensorflow":
    pytest.skip("eigen_autodiff.keras needs KERAS_BACKEND=tensorflow", allow_module_level=True)

import eigen_autodiff as ead  # noqa: E402
from eigen_autodiff.keras import CustomLayer, custom_layer  # noqa: E402

from framework_activations import activation_table  # noqa: E402

# ead's activation (a built-in name or a traced function) -> the same function in TensorFlow.
TF_ACTIVATIONS = activation_table(tf, tf.sigmoid, tf.nn.relu, tf.nn.softplus)

TOLERANCES = {"float32": {"rtol": 1e-4, "atol": 1e-5}, "float64": {"rtol": 1e-11, "atol": 1e-12}}


def test_every_builtin_is_in_the_table() -> None:
    assert set(ead.ACTIVATIONS) <= set(TF_ACTIVATIONS)


def tf_layer(act: Callable[[Any], Any], x: Any, w: Any, b: Any) -> Any:
    z = tf.matmul(x, w)
    return act(z if b is None else z + b)


def assert_close(ours: Any, expected: Any, dtype: str) -> None:
    assert ours.dtype == tf.as_dtype(dtype)
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), **TOLERANCES[dtype])


@pytest.mark.parametrize("x_shape", [(5, 4), (2, 3, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("bias", [False, True], ids=["nobias", "bias"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(TF_ACTIVATIONS))
def test_values_and_gradients_equal_tensorflow(
    rng: np.random.Generator, name: str, dtype: str, bias: bool, x_shape: tuple[int, ...]
) -> None:
    ours, theirs = TF_ACTIVATIONS[name]

    def tensor(*shape: int) -> Any:
        return tf.constant(0.5 * rng.standard_normal(shape), dtype=dtype)

    x, w = tensor(*x_shape), tensor(x_shape[-1], 3)
    b = tensor(3) if bias else None
    inputs = [x, w] if b is None else [x, w, b]
    cotangent = tensor(*x_shape[:-1], 3)
    results = []
    for layer in (lambda: custom_layer(x, w, ours, b), lambda: tf_layer(theirs, x, w, b)):
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            y = layer()
        results.append((y, tape.gradient(y, inputs, output_gradients=cotangent)))
    (y, grads), (expected, expected_grads) = results
    assert y.shape == (*x_shape[:-1], 3)
    assert_close(y, expected, dtype)
    for grad, expected_grad in zip(grads, expected_grads):
        assert_close(grad, expected_grad, dtype)


class TFLayer(keras.layers.Layer):  # type: ignore[misc]
    """The article's layer differentiated by TensorFlow: tf.matmul and the activation."""

    def __init__(self, units: int, activation: Callable[[Any], Any], use_bias: bool) -> None:
        super().__init__()
        self.units, self.activation, self.use_bias = units, activation, use_bias

    def build(self, input_shape: Any) -> None:
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
        self.bias = self.add_weight(shape=(self.units,)) if self.use_bias else None

    def call(self, inputs: Any) -> Any:
        return tf_layer(self.activation, inputs, self.kernel, self.bias)


def twin_models(activation: str, use_bias: bool) -> tuple[Any, Any]:
    """The same two-layer model built from CustomLayer and from TFLayer, same weights."""
    _, tf_activation = TF_ACTIVATIONS[activation]
    ours = keras.Sequential(
        [keras.Input((4,)), CustomLayer(8, activation, use_bias), CustomLayer(2, "identity")]
    )
    theirs = keras.Sequential(
        [keras.Input((4,)), TFLayer(8, tf_activation, use_bias), TFLayer(2, tf.identity, False)]
    )
    theirs.set_weights([w + 0.1 for w in ours.get_weights()])  # a nonzero bias too
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.mark.parametrize("use_bias", [False, True], ids=["nobias", "bias"])
def test_layer_gradient_equals_a_pure_tensorflow_layer(
    rng: np.random.Generator, use_bias: bool
) -> None:
    ours, theirs = twin_models("sin", use_bias)
    x = tf.constant(rng.standard_normal((16, 4)), dtype="float32")
    grads = []
    for model in (ours, theirs):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(model(x) ** 2)
        grads.append(tape.gradient(loss, model.trainable_variables))
    assert len(grads[0]) == len(grads[1]) == (3 if use_bias else 2)
    for grad, expected in zip(*grads):
        assert_close(grad, expected, "float32")


def test_model_fit_lowers_the_loss_like_a_pure_tensorflow_model() -> None:
    rng = np.random.default_rng(1)  # one fixed problem: how far 5 epochs get depends on it
    x = rng.standard_normal((64, 4)).astype("float32")
    y = np.sin(x @ rng.standard_normal((4, 2))).astype("float32")
    histories = []
    for model in twin_models("tanh", use_bias=True):
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss="mse")
        fit = model.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0)
        histories.append(fit.history["loss"])
    ours, theirs = histories
    assert ours[-1] < 0.7 * ours[0]
    np.testing.assert_allclose(ours, theirs, rtol=1e-4)


# Keras' saving converts TensorFlow variables with np.array(x, copy=False), which NumPy 2
# deprecates for their __array__: Keras' and TensorFlow's affair, not the layer's.
@pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword")
def test_config_and_saved_model_round_trip(tmp_path: Path, rng: np.random.Generator) -> None:
    layer = CustomLayer(3, activation="tanh", use_bias=True)
    config = layer.get_config()
    assert (config["units"], config["activation"], config["use_bias"]) == (3, "tanh", True)
    assert CustomLayer.from_config(config).get_config() == config

    model = keras.Sequential([keras.Input((4,)), layer])
    x = rng.standard_normal((5, 4)).astype("float32")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.layers[0], CustomLayer)
    np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())


def test_mixed_dtypes_raise_with_the_fix() -> None:
    with pytest.raises(TypeError, match=r"float64.*tf\.cast"):
        custom_layer(tf.ones((2, 3)), tf.ones((3, 2), dtype="float64"), "sin")


def test_an_unknown_activation_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="sinn"):
        CustomLayer(2, activation="sinn")
