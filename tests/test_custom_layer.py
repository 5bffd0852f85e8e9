"""CustomLayer behaves like the article's Keras layer."""

from __future__ import annotations

import numpy as np
import pytest
from _isolation import run_isolated

import eigen_autodiff as ead
from eigen_autodiff import reference

from _helpers import assert_matches_reference

ARTICLE_INPUT = np.array([[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]], dtype=np.float32)


def test_kernel_is_built_on_first_call_from_the_inputs_last_dimension() -> None:
    layer = ead.CustomLayer(2, seed=0)
    assert layer.kernel is None
    assert layer.trainable_variables == []
    y = layer(ARTICLE_INPUT)
    assert layer.kernel is not None
    assert layer.kernel.shape == (3, 2)
    assert layer.kernel.dtype == np.float32
    assert y.shape == (3, 2)
    assert layer.trainable_variables[0] is layer.kernel
    # Keras' default initializer: Glorot uniform, limit sqrt(6 / (fan_in + fan_out)).
    assert np.all(np.abs(layer.kernel) <= np.sqrt(6 / 5))


def test_seed_makes_the_kernel_reproducible() -> None:
    first, second = ead.CustomLayer(2, seed=7), ead.CustomLayer(2, seed=7)
    first(ARTICLE_INPUT)
    second(ARTICLE_INPUT)
    assert first.kernel is not None and second.kernel is not None
    np.testing.assert_array_equal(first.kernel, second.kernel)


def test_value_and_grad_matches_reference_for_kernel_and_inputs() -> None:
    kernel = np.array([[0.5, -0.25], [1.0, 0.75], [-0.5, 0.125]])
    layer = ead.CustomLayer(2, activation="sin", kernel=kernel)
    x = ARTICLE_INPUT.astype(np.float64)
    loss, (d_kernel, d_inputs) = layer.value_and_grad(x, wrt=("kernel", "inputs"))
    expected_loss, (dw, dx) = reference.value_and_grad(x, kernel, "sin", wrt=("w", "x"))
    assert_matches_reference(loss, expected_loss, np.float64)
    assert_matches_reference(d_kernel, dw, np.float64)
    assert_matches_reference(d_inputs, dx, np.float64)
    assert_matches_reference(layer(x), reference.forward(x, kernel, "sin"), np.float64)


def test_given_kernel_must_fit_num_outputs() -> None:
    with pytest.raises(ValueError, match=r"kernel must have shape \(inputs, 3\); got \(3, 2\)"):
        ead.CustomLayer(3, kernel=np.zeros((3, 2)))


def test_unknown_wrt_names_the_layers_parameters() -> None:
    layer = ead.CustomLayer(2, seed=0)
    with pytest.raises(ValueError, match=r"unknown wrt item 'w'.*'kernel', 'inputs'"):
        layer.value_and_grad(ARTICLE_INPUT, wrt=("w",))


def test_building_the_kernel_respects_the_memory_budget() -> None:
    # Issue 10, item 9: CustomLayer(10**7) on inputs with 4 features needs a 4 x 10**7 kernel
    # (320 MB in float64); under a 100 MiB budget that must be refused before allocating. In a
    # child, so that the peak memory measured is this request's alone.
    output = run_isolated(
        """
        import resource
        import numpy as np
        import eigen_autodiff as ead

        ead.set_memory_budget(100 << 20)
        layer = ead.CustomLayer(10**7, seed=0)
        inputs = np.ones((1, 4), dtype=np.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            layer(inputs)
        except MemoryError as error:
            print("MemoryError:", error)
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        print("kernel", layer.kernel, "grown KiB", grown)
        """,
        timeout=120,
    ).stdout
    assert "MemoryError: building the kernel of CustomLayer(10000000)" in output
    assert "(4, 10000000) in float32 needs an estimated" in output
    assert "kernel None" in output
    grown = int(output.split("grown KiB")[1])
    assert grown < 50 * 1024, output


# --- Keras-like behaviour (issue 11) ------------------------------------------------------------


def relu_at_module_level(x: object) -> object:
    return ead.maximum(x, 0.0)


def test_kernel_and_bias_are_copied_assignable_and_checked() -> None:
    kernel = np.ones((3, 2))
    layer = ead.CustomLayer(2, kernel=kernel, use_bias=True, bias=[0.5, -0.5])
    kernel[0, 0] = 7.0  # the layer holds a copy
    assert layer.kernel is not None and layer.kernel[0, 0] == 1.0
    gradient = np.full((3, 2), 2.0)
    layer.kernel -= 0.25 * gradient  # a training step, in place then assigned back
    np.testing.assert_array_equal(layer.kernel, np.full((3, 2), 0.5))
    layer.bias = np.zeros(2, np.float32)  # converted to the layer's dtype
    assert layer.bias is not None and layer.bias.dtype == np.float64
    with pytest.raises(ValueError, match=r"kernel must have shape \(3, 2\); got \(4, 2\)"):
        layer.kernel = np.ones((4, 2))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\); got \(3,\)"):
        layer.bias = np.ones(3)
    with pytest.raises(TypeError, match="kernel has dtype complex128"):
        layer.kernel = np.ones((3, 2), complex)
    with pytest.raises(ValueError, match="this layer has no bias"):
        ead.CustomLayer(2).bias = np.ones(2)
    with pytest.raises(ValueError, match="pass use_bias=True"):
        ead.CustomLayer(2, bias=np.ones(2))


def test_bias_enters_the_output_and_the_gradients(rng: np.random.Generator) -> None:
    layer = ead.CustomLayer(3, activation="tanh", seed=1, use_bias=True)
    x = rng.normal(size=(2, 4, 5))
    y = layer(x)
    assert layer.bias is not None
    np.testing.assert_array_equal(layer.bias, np.zeros(3))  # Keras' default: zeros
    layer.bias = np.array([0.1, -0.2, 0.3])
    assert y.shape == (2, 4, 3)
    kernel, bias = layer.get_weights()
    assert_matches_reference(layer(x), reference.forward(x, kernel, "tanh", bias), np.float64)
    target = rng.normal(size=3)
    loss, grads = layer.value_and_grad(x, wrt=("bias", "kernel", "inputs"), target=target)
    exact_loss, exact = reference.value_and_grad(x, kernel, "tanh", ("b", "w", "x"), bias, target)
    assert_matches_reference(loss, exact_loss, np.float64)
    for grad, expected in zip(grads, exact):
        assert_matches_reference(grad, expected, np.float64)
    cotangent = rng.normal(size=(2, 4, 3))
    for grad, expected in zip(
        layer.vjp(x, cotangent, wrt=("kernel", "bias")),
        reference.vjp(x, kernel, "tanh", cotangent, bias, ("w", "b")),
    ):
        assert_matches_reference(grad, expected, np.float64)
    with pytest.raises(ValueError, match="wrt names 'bias', but this layer has no bias"):
        ead.CustomLayer(3).value_and_grad(x, wrt="bias")


def test_weights_and_config_round_trip_as_in_keras() -> None:
    layer = ead.CustomLayer(2, activation="sigmoid", seed=3, use_bias=True)
    y = layer(ARTICLE_INPUT)
    config = layer.get_config()
    assert config == {"units": 2, "activation": "sigmoid", "use_bias": True, "seed": 3}
    rebuilt = ead.CustomLayer.from_config(config)
    assert rebuilt.kernel is None  # weights are separate, as in Keras
    rebuilt.set_weights(layer.get_weights())
    np.testing.assert_array_equal(rebuilt(ARTICLE_INPUT), y)
    with pytest.raises(ValueError, match=r"set_weights takes 2 arrays, \[kernel, bias\]; got 1"):
        rebuilt.set_weights([np.ones((3, 2))])


@pytest.mark.parametrize("activation", ["softplus", relu_at_module_level])
def test_pickle_and_copies_round_trip(activation: object) -> None:
    import copy
    import pickle

    layer = ead.CustomLayer(2, activation=activation, seed=4, use_bias=True)  # type: ignore[arg-type]
    y = layer(ARTICLE_INPUT)
    for clone in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer)):
        np.testing.assert_array_equal(clone(ARTICLE_INPUT), y)
        assert clone.get_config() == layer.get_config()


def test_pickling_a_lambda_activation_names_it() -> None:
    import pickle

    layer = ead.CustomLayer(2, activation=lambda x: x * ead.sigmoid(x))
    with pytest.raises(pickle.PicklingError, match=r"<lambda>' is a lambda or a local function"):
        pickle.dumps(layer)


def test_activation_is_checked_at_construction() -> None:
    with pytest.raises(
        ValueError, match=r"unknown activation 'sigmod' \(did you mean 'sigmoid'\?\)"
    ):
        ead.CustomLayer(2, activation="sigmod")
    x = ARTICLE_INPUT.astype(np.float64)
    for identity in ("linear", None):
        layer = ead.CustomLayer(2, activation=identity, kernel=np.ones((3, 2)))
        np.testing.assert_array_equal(layer(x), x @ np.ones((3, 2)))


def test_repr_says_what_the_layer_is() -> None:
    layer = ead.CustomLayer(2, activation="tanh", use_bias=True)
    assert repr(layer) == "CustomLayer(units=2, activation='tanh', use_bias=True; unbuilt)"
    layer(ARTICLE_INPUT)
    assert repr(layer) == (
        "CustomLayer(units=2, activation='tanh', use_bias=True; kernel (3, 2) float32, bias (2,))"
    )
