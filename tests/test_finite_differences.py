"""The loss gradient against central finite differences in float64 (gradcheck's tolerances)."""

from __future__ import annotations

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import reference

from _helpers import random_layer

EPS, ATOL, RTOL = 1e-6, 1e-5, 1e-3  # torch.autograd.gradcheck's defaults


def numerical_gradient(loss_of: object, array: np.ndarray) -> np.ndarray:
    gradient = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        plus, minus = array.copy(), array.copy()
        plus[index] += EPS
        minus[index] -= EPS
        gradient[index] = (loss_of(plus) - loss_of(minus)) / (2 * EPS)  # type: ignore[operator]
    return gradient


@pytest.mark.parametrize("activation", sorted(reference.ACTIVATIONS))
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_gradient_matches_central_differences(
    activation: str, mode: str, rng: np.random.Generator
) -> None:
    x, w = random_layer(rng, 4, 3, 2, np.float64)
    if activation == "relu":
        # Keep Z away from the kink, where a finite difference straddles two slopes.
        w = np.abs(w) + 0.1
        x = np.abs(x) * np.sign(rng.uniform(-1, 1, size=(x.shape[0], 1)))
    _, (dw, dx) = ead.value_and_grad(x, w, activation, wrt=("w", "x"), mode=mode)

    def loss_of_w(w_: np.ndarray) -> float:
        return ead.value_and_grad(x, w_, activation, wrt=())[0]

    def loss_of_x(x_: np.ndarray) -> float:
        return ead.value_and_grad(x_, w, activation, wrt=())[0]

    np.testing.assert_allclose(dw, numerical_gradient(loss_of_w, w), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(dx, numerical_gradient(loss_of_x, x), rtol=RTOL, atol=ATOL)
