"""ead.check_grad passes where AD is right and fails, usefully, where it is not."""

from __future__ import annotations

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference
from eigen_autodiff._diagnostics.finite_differences import gradient_estimate

from _helpers import EVERY_BUILTIN_AND_FAST_MODE, random_layer, random_layer_off_kinks


@EVERY_BUILTIN_AND_FAST_MODE
def test_check_grad_passes_on_every_builtin_at_random_layers(
    activation: str, mode: str, rng: np.random.Generator
) -> None:
    x, w = random_layer_off_kinks(rng, activation, 3, 4, 2)
    report = ead.check_grad(x, w, activation, wrt=("w", "x"), mode=mode)
    assert report.passed, report
    # Central differences with h = 1e-6 are good to about 1e-9 here; relative errors of small
    # entries can be larger, so the absolute error is what is bounded.
    assert report.max_abs_error < 1e-6
    assert len(report.comparisons) == 4  # finite differences and reference, for w and x


@pytest.mark.parametrize("activation", sorted(reference.ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_grad_passes_on_every_builtin_elementwise(activation: str, dtype: type) -> None:
    x = np.linspace(-4.0, 4.0, 41).astype(dtype) + dtype(0.05)  # avoids relu's kink at 0
    report = ead.check_grad(activation, x)
    assert report.passed, report
    assert report.dtype == np.dtype(dtype).name


def test_float32_layer_is_also_compared_with_float64(rng: np.random.Generator) -> None:
    x, w = random_layer(rng, 2, 3, 2, np.float32)
    report = ead.check_grad(x, w, "tanh")
    assert report.passed, report
    assert [c.against for c in report.comparisons][-1] == "the float64 AD dL/dw"
    assert (report.rtol, report.atol) == (2e-3, 2e-3)


def test_kink_fails_with_the_index_of_the_kink() -> None:
    report = ead.check_grad("relu", np.array([-1.0, 0.0, 1.0]))
    assert not report.passed
    assert report.worst_index == (1,)
    assert report.max_abs_error == pytest.approx(0.5)
    assert "FAILED against central finite differences" in repr(report)


def test_naive_inverse_exponential_fails_in_float32_at_100() -> None:
    report = ead.check_grad("inv_exp", np.array([1.0, 100.0], dtype=np.float32))
    assert not report.passed
    assert report.worst_index == (1,)


def test_raise_on_failure() -> None:
    with pytest.raises(ead.GradCheckError, match="FAILED") as info:
        ead.check_grad("relu", np.zeros(2), raise_on_failure=True)
    assert not info.value.report.passed


# --- check_layer_grad (issue 9) ------------------------------------------------------------------


def test_layer_form_needs_the_activation() -> None:
    x, w = np.ones((2, 3)), np.ones((3, 2))
    with pytest.raises(TypeError, match="needs its activation"):
        ead.check_grad(x, w)
    assert ead.check_grad(x, w, "sin").passed  # the old call with the activation still works


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_layer_grad_on_a_real_sized_layer_costs_a_few_loss_evaluations(
    dtype: type, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eigen_autodiff._diagnostics import check_grad as _check_grad

    x, w = random_layer(rng, 64, 128, 32, dtype)  # 4096 + 8192 parameters
    calls = []
    counted = _check_grad.value_and_grad

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("wrt"))
        return counted(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_check_grad, "value_and_grad", counting)
    report = ead.check_layer_grad(x, w, "tanh", wrt=("w", "x"))
    assert report.passed, report
    losses = sum(1 for wrt in calls if wrt == ())
    assert losses <= 2 * 2 * 20  # two directions for each of w and x, about 20 losses each
    assert report.dtype == np.dtype(dtype).name


def test_check_layer_grad_finds_a_wrong_gradient(rng: np.random.Generator) -> None:
    x, w = random_layer(rng, 8, 6, 4, np.float64)
    flipped = ead.custom_derivative(lambda z: ead.sin(z), lambda z: -ead.cos(z))
    report = ead.check_layer_grad(x, w, flipped, wrt=("w", "x"))
    assert not report.passed
    assert [c.passed for c in report.comparisons] == [False, False]  # no reference: a callable
    assert report.worst_index is not None and report.worst_index[0] in ("w", "x")
    with pytest.raises(ead.GradCheckError):
        ead.check_layer_grad(x, w, flipped, raise_on_failure=True)


def test_check_layer_grad_agrees_with_entrywise_differences(rng: np.random.Generator) -> None:
    # The directional check and the gradient by two losses per entry see the same gradient.
    x, w = random_layer(rng, 3, 4, 2, np.float64)
    _, (dw,) = ead.value_and_grad(x, w, "sigmoid")
    entrywise = gradient_estimate(lambda w_: ead.value_and_grad(x, w_, "sigmoid", wrt=())[0], w)
    np.testing.assert_allclose(dw, entrywise, rtol=1e-6, atol=1e-8)
    assert ead.check_layer_grad(x, w, "sigmoid", directions=5, seed=3).passed


def test_check_layer_grad_rejects_bad_directions() -> None:
    with pytest.raises(ValueError, match="directions must be a positive int"):
        ead.check_layer_grad(np.ones((1, 1)), np.ones((1, 1)), "sin", directions=0)
