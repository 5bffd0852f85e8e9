"""An activation's value and derivatives at every element, computed in C++."""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from ._arrays import FloatArray, contiguous_arrays, real_arrays, result_dtype
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
    spec, array = _elementwise_arguments(activation, x, "the derivative", 2)
    value, slope = _scalars_if_0d(array, _core.activation_value_and_derivative(spec, array))
    return value, slope


def second_derivative(activation: ActivationLike, x: ArrayLike) -> tuple[Any, Any, Any]:
    """Value, first and second derivative of ``activation`` at every element of ``x``.

    From nested ``Eigen::AutoDiffScalar`` (an AutoDiffScalar whose value and derivatives are
    AutoDiffScalars), for built-ins, traced callables and custom derivatives, whose derivative
    function is itself traced and differentiated. At 0, ``sqrt''`` is NaN (the IEEE result of
    the nested formulas, beside ``sqrt'(0) = +inf``).

    Example:
        >>> import eigen_autodiff as ead
        >>> value, first, second = ead.second_derivative("sigmoid", 2.0)
        >>> print(f"{second:.16f}")  # s(1 - s)(1 - 2s)
        -0.0799625010561531
        >>> [float(v) for v in ead.second_derivative(lambda x: x**3, 2.0)]
        [8.0, 12.0, 12.0]

    """
    spec, array = _elementwise_arguments(activation, x, "second derivatives", 3)
    value, first, second = _scalars_if_0d(array, _core.activation_second_derivative(spec, array))
    return value, first, second


def _elementwise_arguments(
    activation: ActivationLike, x: ArrayLike, what: str, outputs: int
) -> tuple[str | _core.TracedProgram, FloatArray]:
    spec = activation_spec(activation)
    label = activation if isinstance(activation, str) else spec.name  # type: ignore[union-attr]
    (raw,) = real_arrays(x=x)
    dtype = result_dtype(raw)
    (array,) = contiguous_arrays(
        dtype,
        f"{what} of {label} on {raw.size} entries",
        lambda: outputs * _core.elementwise_bytes(dtype.name, raw.size) // 2,
        x=raw,
    )
    return spec, array


def _scalars_if_0d(array: FloatArray, results: tuple[Any, ...]) -> tuple[Any, ...]:
    # A scalar x gives NumPy scalars, as a ufunc does.
    return tuple(r[()] for r in results) if array.ndim == 0 else results


__all__ = ["derivative", "second_derivative"]
