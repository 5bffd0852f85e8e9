"""Built-in activations, evaluated with their derivatives in C++."""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from ._arrays import check_activation_name, contiguous_arrays, real_arrays, result_dtype
from ._native import _core

ACTIVATIONS: tuple[str, ...] = tuple(_core.ACTIVATIONS)


def derivative(activation: str, x: ArrayLike) -> tuple[Any, Any]:
    """Value and derivative of ``activation`` at every element of ``x``.

    Both results have the shape of ``x``; a scalar ``x`` gives NumPy scalars, as a ufunc does.
    The derivative comes from a one-derivative ``Eigen::AutoDiffScalar``.

    Example:
        >>> import eigen_autodiff as ead
        >>> value, slope = ead.derivative("sigmoid", 2.0)
        >>> print(f"{value:.4f} {slope:.5f}")
        0.8808 0.10499

    """
    name = check_activation_name(activation)
    (raw,) = real_arrays(x=x)
    dtype = result_dtype(raw)
    (array,) = contiguous_arrays(
        dtype,
        f"the derivative of {name} on {raw.size} entries",
        lambda: _core.memory_estimate("elementwise", dtype.name, raw.size, 1, 1, False, False),
        x=raw,
    )
    value, slope = _core.activation_value_and_derivative(name, array)
    if array.ndim == 0:
        return value[()], slope[()]
    return value, slope


__all__ = ["ACTIVATIONS", "derivative"]
