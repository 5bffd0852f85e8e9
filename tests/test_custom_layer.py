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
