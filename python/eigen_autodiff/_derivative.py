"""``derivative``: an activation's value and derivative at every element, computed in C++."""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from ._arrays import contiguous_arrays, real_arrays, result_dtype
from ._native import _core
from ._tracing.activation_spec import ActivationLike, activation_spec


def derivative(activation: ActivationLike, x: ArrayLike) -> tuple[Any, Any]:
    """Value and derivative of ``activation`` at every element of ``x``.

    ``activation`` is a built-in name or a Python callable (traced into C++, see
    ``ead.trace``). Both results have the shape of ``x``; a scalar ``x`` gives NumPy scalars,
    as a ufunc does. The derivative comes from a one-derivative ``Eigen::AutoDiffScalar``.

    Example:
        >>> import eigen_autodiff as ead
        >>> value, slope = ead.derivative("sigmoid", 2.0)
        >>> print(f"{value:.4f} {slope:.5f}")
        0.8808 0.10499
        >>> value, slope = ead.derivative(lambda x: x * ead.sigmoid(x), 0.0)  # swish
        >>> print(value, slope)
        0.0 0.5

    """
    spec = activation_spec(activation)
    label = activation if isinstance(activation, str) else spec.name  # type: ignore[union-attr]
    (raw,) = real_arrays(x=x)
    dtype = result_dtype(raw)
    (array,) = contiguous_arrays(
        dtype,
        f"the derivative of {label} on {raw.size} entries",
        lambda: _core.elementwise_bytes(dtype.name, raw.size),
        x=raw,
    )
    value, slope = _core.activation_value_and_derivative(spec, array)
    if array.ndim == 0:
        return value[()], slope[()]
    return value, slope


__all__ = ["derivative"]
