"""The layer ``activation(x @ w + bias)`` inside JAX programs, differentiated by the C++ core.

``custom_layer`` is a ``jax.custom_vjp`` function whose forward and backward passes call
``ead.forward`` and ``ead.vjp`` through ``jax.pure_callback``: it works under ``jax.jit``,
``jax.grad``, ``jax.value_and_grad`` and ``jax.vmap`` (per-example gradients included). The
callbacks run on the host CPU. Forward-mode transformations (``jax.jvp``, ``jax.jacfwd``) are
not available for a ``custom_vjp`` function; use ``ead.jvp`` for those.

Example:
    >>> import jax, jax.numpy as jnp
    >>> from eigen_autodiff.jax import custom_layer
    >>> x, w = jnp.ones((4, 3)), jnp.full((3, 2), 0.1)
    >>> loss = lambda w: jnp.sum(custom_layer(x, w, "tanh") ** 2)
    >>> jax.jit(jax.grad(loss))(w).shape
    (3, 2)

"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

try:
    import jax
    import jax.numpy as jnp
    from jax.custom_derivatives import SymbolicZero
except ImportError as error:  # the framework is an optional extra
    raise ImportError(
        "eigen_autodiff.jax needs JAX, which is not installed: "
        "pip install 'eigen-autodiff[jax]' (or pip install jax)"
    ) from error

import numpy as np

import eigen_autodiff as ead
from eigen_autodiff import ActivationLike
from eigen_autodiff._layer import vjp_of_vjp

__all__ = ["custom_layer"]

_NAMES = ("x", "w", "b")
_Array = np.ndarray[Any, Any]


def _batched(
    function: Callable[..., Sequence[_Array]],
    arrays: Sequence[_Array],
    core_ndims: Sequence[int],
    out_core_shapes: Sequence[tuple[int, ...]],
    dtype: Any,
) -> tuple[_Array, ...]:
    """``function`` over the leading axes ``jax.vmap`` added (vmap_method="expand_dims").

    Each vmap level puts one axis in front of every argument, of size 1 where the argument is
    not batched; the outputs must carry the full batch shape.
    """
    levels = arrays[0].ndim - core_ndims[0]
    if levels == 0:
        return tuple(np.asarray(out, dtype=dtype) for out in function(*arrays))
    batch = np.broadcast_shapes(*(a.shape[:levels] for a in arrays))
    outs = tuple(np.empty(batch + shape, dtype=dtype) for shape in out_core_shapes)
    for index in np.ndindex(*batch):
        # A size-1 axis broadcasts: the unbatched argument is the same for every element.
        parts = [a[tuple(i if n > 1 else 0 for i, n in zip(index, a.shape))] for a in arrays]
        for out, result in zip(outs, function(*parts)):
            out[index] = result
    return outs


def _forward_host(
    activation: ActivationLike, dtype: Any, x: _Array, w: _Array, *bias: _Array
) -> _Array:
    levels = w.ndim - 2
    if all(n == 1 for a in (w, *bias) for n in a.shape[:levels]):
        # Batched x only (the common vmap): one call, the batch axes become leading axes of x.
        core = [a.reshape(a.shape[levels:]) for a in (w, *bias)]
        return np.asarray(ead.forward(x, core[0], activation, *core[1:]), dtype=dtype)
    out_shape = x.shape[levels:-1] + w.shape[-1:]
    return _batched(
        lambda x, w, *b: (ead.forward(x, w, activation, *b),),
        (x, w, *bias),
        (x.ndim - levels, 2, *(1 for _ in bias)),
        (out_shape,),
        dtype,
    )[0]


def _core_shapes(x: _Array, w: _Array, cotangent: _Array) -> tuple[int, dict[str, Any]]:
    """The vmap levels in front of the arguments, and each argument's shape without them."""
    levels = w.ndim - 2
    shapes = {"x": x.shape[levels:], "w": w.shape[levels:], "b": w.shape[-1:]}
    return levels, {**shapes, "cotangent": cotangent.shape[levels:]}


def _vjp_host(
    activation: ActivationLike,
    wrt: tuple[str, ...],
    dtype: Any,
    x: _Array,
    w: _Array,
    cotangent: _Array,
    *bias: _Array,
) -> tuple[_Array, ...]:
    levels, shapes = _core_shapes(x, w, cotangent)
    return _batched(
        lambda x, w, ct, *b: ead.vjp(x, w, activation, ct, bias=b[0] if b else None, wrt=wrt),
        (x, w, cotangent, *bias),
        (x.ndim - levels, 2, cotangent.ndim - levels, *(1 for _ in bias)),
        tuple(shapes[name] for name in wrt),
        dtype,
    )


def _check(name: str, array: Any) -> None:
    if jnp.dtype(array.dtype) not in (jnp.float32, jnp.float64):
        raise TypeError(
            f"eigen_autodiff.jax.custom_layer: {name} has dtype {array.dtype}; the layer "
            f"computes in float32 or float64: convert with .astype(jnp.float32)"
        )


def _forward(activation: ActivationLike, x: Any, w: Any, bias: Any) -> Any:
    extra = () if bias is None else (bias,)
    dtype = jnp.result_type(x, w, *extra)
    shape = jax.ShapeDtypeStruct(x.shape[:-1] + w.shape[-1:], dtype)
    return jax.pure_callback(
        partial(_forward_host, activation, dtype), shape, x, w, *extra, vmap_method="expand_dims"
    )


@partial(jax.custom_vjp, nondiff_argnums=(0,))
def _layer(activation: ActivationLike, x: Any, w: Any, bias: Any) -> Any:
    return _forward(activation, x, w, bias)


def _layer_fwd(activation: ActivationLike, x: Any, w: Any, bias: Any) -> tuple[Any, Any]:
    # symbolic_zeros: each argument comes as CustomVJPPrimal(value, perturbed), so the backward
    # pass computes only the gradients a transformation asked for (torch's needs_input_grad).
    values = (x.value, w.value, None if bias is None else bias.value)
    # Residuals must be JAX values: the flags travel as pytree structure, () for a wanted
    # gradient and None for the others, which stays static under jit.
    wanted = tuple(() if arg is not None and arg.perturbed else None for arg in (x, w, bias))
    # Y through _layer itself, not the callback: under an outer differentiation (a Hessian by
    # jax.jacrev(jax.grad(...))) the outer level then takes _layer's own rule.
    return _layer(activation, *values), (values, wanted)


def _layer_bwd(activation: ActivationLike, residuals: Any, cotangent: Any) -> tuple[Any, ...]:
    (x, w, bias), wanted = residuals
    inputs = {"x": x, "w": w, "b": bias}
    wrt = tuple(name for name, flag in zip(_NAMES, wanted) if flag is not None)
    grads = {
        name: None if value is None else jnp.zeros_like(value) for name, value in inputs.items()
    }
    if wrt and not isinstance(cotangent, SymbolicZero):
        # The backward pass is itself differentiable (jax.jacrev(jax.grad(...))): _vjp's own
        # backward is the VJP of the VJP.
        computed = _vjp(activation, wrt, x, w, bias, cotangent)
        for name, grad in zip(wrt, computed):
            grads[name] = grad.astype(inputs[name].dtype)
    return grads["x"], grads["w"], grads["b"]


def _vjp_callback(
    activation: ActivationLike, wrt: tuple[str, ...], x: Any, w: Any, bias: Any, cotangent: Any
) -> tuple[Any, ...]:
    inputs = {"x": x, "w": w, "b": bias}
    extra = () if bias is None else (bias,)
    dtype = jnp.result_type(x, w, *extra)
    shapes = tuple(jax.ShapeDtypeStruct(inputs[name].shape, dtype) for name in wrt)
    return tuple(
        jax.pure_callback(
            partial(_vjp_host, activation, wrt, dtype),
            shapes,
            x,
            w,
            cotangent.astype(dtype),
            *extra,
            vmap_method="expand_dims",
        )
    )


@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _vjp(
    activation: ActivationLike, wrt: tuple[str, ...], x: Any, w: Any, bias: Any, cotangent: Any
) -> tuple[Any, ...]:
    return _vjp_callback(activation, wrt, x, w, bias, cotangent)


def _vjp_fwd(
    activation: ActivationLike, wrt: tuple[str, ...], x: Any, w: Any, bias: Any, cotangent: Any
) -> tuple[tuple[Any, ...], Any]:
    return _vjp_callback(activation, wrt, x, w, bias, cotangent), (x, w, bias, cotangent)


def _vjp_of_vjp_host(
    activation: ActivationLike, has_bias: bool, dtype: Any, *arrays: _Array
) -> tuple[_Array, ...]:
    # x, w, the cotangent, the upstream gradients of vjp's three results, and b if any.
    x, w, cotangent, grad_x, _, _, *bias = arrays
    levels, shapes = _core_shapes(x, w, cotangent)
    wrt = ("x", "w", "b", "cotangent") if has_bias else ("x", "w", "cotangent")
    return _batched(
        lambda x, w, ct, gx, gw, gb, *b: vjp_of_vjp(
            x, w, activation, ct, (gx, gw, gb), bias=b[0] if b else None, wrt=wrt
        ),
        arrays,
        (
            x.ndim - levels,
            2,
            cotangent.ndim - levels,
            grad_x.ndim - levels,
            2,
            1,
            *(1 for _ in bias),
        ),
        tuple(shapes[name] for name in wrt),
        dtype,
    )


def _vjp_bwd(
    activation: ActivationLike, wrt: tuple[str, ...], residuals: Any, upstream: Any
) -> tuple[Any, ...]:
    x, w, bias, cotangent = residuals
    extra = () if bias is None else (bias,)
    dtype = jnp.result_type(x, w, *extra)
    # Upstream gradients of the items not computed are zero.
    given = dict(zip(wrt, upstream))
    grads = [
        jnp.zeros(shape, dtype) if given.get(name) is None else given[name].astype(dtype)
        for name, shape in (("x", x.shape), ("w", w.shape), ("b", w.shape[-1:]))
    ]
    outputs = [x, w, *extra, cotangent]
    computed = jax.pure_callback(
        partial(_vjp_of_vjp_host, activation, bias is not None, dtype),
        tuple(jax.ShapeDtypeStruct(a.shape, dtype) for a in outputs),
        x,
        w,
        cotangent.astype(dtype),
        *grads,
        *extra,
        vmap_method="expand_dims",
    )
    d_x, d_w, *rest = computed
    d_bias = rest[0].astype(bias.dtype) if bias is not None else None
    return d_x.astype(x.dtype), d_w.astype(w.dtype), d_bias, rest[-1].astype(cotangent.dtype)


_vjp.defvjp(_vjp_fwd, _vjp_bwd)


_layer.defvjp(_layer_fwd, _layer_bwd, symbolic_zeros=True)


def custom_layer(x: Any, w: Any, activation: ActivationLike = "sin", bias: Any = None) -> Any:
    """``activation(x @ w + bias)`` with its derivatives from the C++ core (``jax.custom_vjp``).

    ``x`` has shape ``(..., inputs)`` with at least 2 dimensions, ``w`` ``(inputs, outputs)``
    and ``bias`` ``(outputs,)`` or None; float32 or float64 (float64 needs
    ``jax.config.update("jax_enable_x64", True)``). ``activation`` is a built-in name
    (``ead.ACTIVATIONS``) or a Python function written with ``ead``'s primitives or NumPy
    ufuncs, not ``jnp.sin``: it is traced into C++, outside JAX.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from eigen_autodiff.jax import custom_layer
        >>> x, w = jnp.ones((2, 3)), jnp.full((3, 1), 0.5)
        >>> custom_layer(x, w, "square").ravel()
        Array([2.25, 2.25], dtype=float32)
        >>> jax.grad(lambda w: custom_layer(x, w, "square").sum())(w).ravel()
        Array([6., 6., 6.], dtype=float32)

    """
    x, w = jnp.asarray(x), jnp.asarray(w)
    _check("x", x)
    _check("w", w)
    if bias is not None:
        bias = jnp.asarray(bias)
        _check("bias", bias)
    return _layer(activation, x, w, bias)
