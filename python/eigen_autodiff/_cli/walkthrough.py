"""The article, step by step, as text a newcomer can follow."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .. import reference
from .._custom_layer import CustomLayer
from .._derivative import derivative
from .._tracing.custom_derivative import custom_derivative
from .._tracing.primitives import exp

ARTICLE_INPUT = [[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]]


def _indent(array: NDArray[np.floating], prefix: str = "    ") -> str:
    text = np.array2string(np.asarray(array), precision=6, suppress_small=False)
    return "\n".join(prefix + line for line in text.splitlines())


def _beside_reference(title: str, ours: NDArray[np.floating], theirs: NDArray[np.floating]) -> str:
    difference = float(np.max(np.abs(np.asarray(ours, np.float64) - theirs), initial=0.0))
    return (
        f"  {title} (C++, Eigen AutoDiff):\n{_indent(ours)}\n"
        f"  {title} (NumPy reference):\n{_indent(theirs)}\n"
        f"  max |difference| = {difference:.3g}\n"
    )


def _sigmoid_section() -> str:
    value, slope = derivative("sigmoid", 2.0)
    exact_value, exact_slope = reference.activation("sigmoid", 2.0)
    return (
        "1. The sigmoid at x = 2, on an AutoDiffScalar seeded with derivative 1\n"
        f"   sigmoid(2)  = {value:.16g}   (article: 0.8808; reference {float(exact_value):.16g})\n"
        f"   sigmoid'(2) = {slope:.16g}   (article: 0.10499; reference {float(exact_slope):.16g})\n"
    )


def _layer_section(seed: int, dtype: str) -> str:
    x = np.array(ARTICLE_INPUT, dtype=dtype)
    layer = CustomLayer(2, activation="sin", seed=seed)
    y = layer(x)
    kernel = layer.kernel
    assert kernel is not None
    loss, (d_kernel, d_inputs) = layer.value_and_grad(x, wrt=("kernel", "inputs"))
    ref_loss, (ref_dw, ref_dx) = reference.value_and_grad(x, kernel, "sin", wrt=("w", "x"))
    return (
        f"2. The custom layer Y = sin(X @ W), loss L = sum(Y**2), in {dtype}\n"
        f"  X (the article's input):\n{_indent(x)}\n"
        f"  W (random kernel, seed {seed}):\n{_indent(kernel)}\n"
        + _beside_reference("Y", y, reference.forward(x, kernel, "sin"))
        + f"  L = {loss:.9g} (C++)   {ref_loss:.9g} (NumPy)\n"
        + _beside_reference("dL/dW", d_kernel, ref_dw)
        + _beside_reference("dL/dX", d_inputs, ref_dx)
    )


def _inv_exp_section() -> str:
    lines = ["3. Where autodiff breaks: f(x) = 1/exp(x) written naively, at x = 100"]
    for dtype in ("float32", "float64"):
        value, slope = derivative("inv_exp", np.array(100.0, dtype=dtype))
        lines.append(f"   {dtype}: f(100) = {value:.6g}, AD derivative f'(100) = {slope:.6g}")
    lines.append(f"   true derivative -exp(-100) = {-np.exp(-100.0):.6g}")
    lines.append(
        "   In float32, exp(100) overflows to inf: the value 1/inf = 0 is still right, but the\n"
        "   derivative -exp(x)/exp(x)**2 is -inf/inf = NaN. The cure is the derivative written\n"
        "   as -exp(-x), as the article's custom gradient does:\n"
        "   stable = ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))"
    )
    stable = custom_derivative(lambda x: 1 / exp(x), lambda x: -exp(-x))
    for dtype in ("float32", "float64"):
        value, slope = derivative(stable, np.array(100.0, dtype=dtype))
        lines.append(f"   {dtype}: f(100) = {value:.6g}, custom derivative f'(100) = {slope:.6g}")
    return "\n".join(lines) + "\n"


def walkthrough(seed: int = 0, dtype: str = "float32") -> str:
    """The walkthrough's text.

    Example:
        >>> from eigen_autodiff._walkthrough import walkthrough
        >>> "sigmoid(2)" in walkthrough(seed=0, dtype="float64")
        True

    """
    return "\n".join(
        [
            "eigen-autodiff: the article 'Automatic differentiation in Python and C++ for deep "
            "learning', step by step\n",
            _sigmoid_section(),
            _layer_section(seed, dtype),
            _inv_exp_section(),
        ]
    )
