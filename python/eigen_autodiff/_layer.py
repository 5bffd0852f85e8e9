"""The layer Y = act(X @ W + b): values, loss and gradients, VJP, JVP, Jacobian, in C++.

The loss is ``reduce((Y - target)**2)``; every computation runs in the C++ core.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from operator import itemgetter
from typing import Literal, NamedTuple, Optional, TypeVar, Union, cast

from numpy.typing import ArrayLike

from ._arrays import ExtraKind, FloatArray, LayerArrays, RequestBytes, layer_arrays
from ._native import _core
from ._tracing.activation_spec import ActivationLike, activation_spec

WRT_ITEMS = ("w", "x", "b")
Mode = Literal["reverse", "forward", "forward_dynamic"]
# mode= by name, each the name of its C++ function value_and_grad_<mode> (read once: the
# enumeration's __members__ builds a new dictionary on every access).
_MODE_OF: dict[str, _core.Mode] = dict(_core.Mode.__members__)
MODES: tuple[str, ...] = tuple(_MODE_OF)
Reduction = Literal["sum", "mean"]
REDUCTIONS = ("sum", "mean")

Wrt = Union[str, Sequence[str]]


def forward(
    x: ArrayLike, w: ArrayLike, activation: ActivationLike = "sin", bias: ArrayLike | None = None
) -> FloatArray:
    """The layer's output ``activation(x @ w + bias)``, shape ``x.shape[:-1] + (outputs,)``.

    ``x`` has shape ``(..., inputs)`` with at least 2 dimensions (like a Keras ``Dense``
    layer's input), ``w`` ``(inputs, outputs)`` and ``bias`` ``(outputs,)`` or None.
    ``activation`` is a built-in name or a Python callable, traced into C++ (see ``ead.trace``).

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> ead.forward(np.array([[0.0, 1.0]]), np.array([[1.0], [2.0]]), "square")
        array([[4.]])
        >>> ead.forward(np.array([[0.0, 1.0]]), np.array([[1.0], [2.0]]), lambda x: x**3, [1.0])
        array([[27.]])

    """
    spec = activation_spec(activation)
    arrays = layer_arrays(
        x,
        w,
        "the layer's values",
        lambda dtype, b, n, m: _core.layer_values_bytes(dtype.name, b, m),
        bias=(bias, "b"),
    )
    y = _core.layer_values(arrays.x, arrays.w, arrays.extras["bias"], spec)
    return y.reshape(arrays.y_shape)


def parse_wrt(wrt: Wrt, allowed: Sequence[str] = WRT_ITEMS) -> tuple[str, ...]:
    """The items of ``wrt`` as a tuple; ValueError for unknown or repeated items.

    TypeError when ``wrt`` is neither a name nor a sequence of names.
    """
    try:
        # The common case, a string or tuple already seen, costs one cache lookup.
        return _parsed_wrt(wrt, allowed)
    except TypeError:  # unhashable (a list), or items that are not names
        return _parsed_wrt.__wrapped__(wrt, allowed)


@lru_cache(maxsize=64)
def _parsed_wrt(wrt: Wrt, allowed: Sequence[str]) -> tuple[str, ...]:
    if isinstance(wrt, str):
        items: tuple[object, ...] = (wrt,)
    else:
        try:
            items = tuple(wrt)
        except TypeError:
            items = (wrt,)
    if not all(isinstance(item, str) for item in items):
        raise TypeError(
            f"wrt must be a name or a sequence of names from {tuple(allowed)}, got {wrt!r}"
        )
    return _checked_items(items, tuple(allowed))


@lru_cache(maxsize=64)
def _checked_items(items: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    for item in items:
        if item not in allowed:
            raise ValueError(f"unknown wrt item {item!r}; expected items from {tuple(allowed)}")
    if len(set(items)) != len(items):
        raise ValueError(f"wrt names an item twice: {items}")
    return items


def check_mode(mode: object) -> _core.Mode:
    """The compiled module's ``Mode`` named ``mode``; ValueError naming it for anything else."""
    found = _MODE_OF.get(mode) if isinstance(mode, str) else None
    if found is None:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    return found


def _check_one_parameter(what: str, wrt: object) -> None:
    """ValueError unless ``wrt`` names one parameter, as the Jacobian and Hessians take."""
    if not isinstance(wrt, str) or wrt not in WRT_ITEMS:
        raise ValueError(
            f"{what}'s wrt is one parameter name, one of {WRT_ITEMS}, got {wrt!r} (for "
            "several, call it once per name)"
        )


# The computed (dx, dw, db) at some positions, as a tuple.
_Pick = Callable[[tuple[Optional[FloatArray], ...]], tuple[FloatArray, ...]]


def _picker(items: tuple[str, ...]) -> _Pick:
    """What takes the gradients of ``items`` out of the computed (dx, dw, db), in their order."""
    positions = tuple("xwb".index(item) for item in items)
    # The C++ side returns None only for the items it was not asked for.
    if len(positions) > 1:
        return itemgetter(*positions)  # a tuple for two items or more
    if positions:
        only = positions[0]
        return lambda computed: (computed[only],)  # type: ignore[return-value]
    return lambda computed: ()


def _gradients(
    x_shape: tuple[int, ...], pick: _Pick, computed: tuple[FloatArray | None, ...]
) -> tuple[FloatArray, ...]:
    """The computed (dx, dw, db) that ``pick`` takes, dx in x's own shape."""
    dx = computed[0]
    if dx is not None and dx.ndim != len(x_shape):
        computed = (dx.reshape(x_shape), *computed[1:])
    return pick(computed)


_Taken = TypeVar("_Taken")


def _taken(computed: _Taken | None) -> _Taken:
    """What a binding computed from arrays that ``layer_arrays`` converted for it.

    The bindings return None for arrays they do not take as they are; after the conversion,
    that would be a disagreement between ``passes_through`` and the bindings' own check.
    """
    if computed is None:
        raise RuntimeError(
            "eigen_autodiff's compiled module refused arrays its facade converted for it; "
            "please report this as a bug"
        )
    return computed


def _wanted(items: tuple[str, ...]) -> tuple[bool, bool, bool]:
    return "x" in items, "w" in items, "b" in items


class _Request(NamedTuple):
    """What a gradient call needs of its wrt, mode and reduction, checked once per combination."""

    mode: _core.Mode
    wanted: tuple[bool, bool, bool]  # x, w, b
    pick: _Pick
    mean: bool


_REQUESTS: dict[tuple[object, object, object], _Request] = {}
_MOST_REQUESTS = 256


def _request(wrt: object, mode: object = "reverse", reduction: object = "sum") -> _Request:
    """The checked request: for a combination already seen, one dictionary lookup.

    For a small layer, the argument checks are a large part of the whole call's cost.
    """
    key = (wrt, mode, reduction)
    try:
        return _REQUESTS[key]
    except KeyError:
        remember = len(_REQUESTS) < _MOST_REQUESTS
    except TypeError:  # unhashable: wrt a list
        remember = False
    items = parse_wrt(cast(Wrt, wrt))
    compiled_mode = check_mode(mode)
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; expected one of {REDUCTIONS}")
    request = _Request(compiled_mode, _wanted(items), _picker(items), reduction == "mean")
    if remember:
        _REQUESTS[key] = request
    return request


def value_and_grad(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike = "sin",
    wrt: Wrt = ("w",),
    mode: Mode = "reverse",
    bias: ArrayLike | None = None,
    target: ArrayLike | None = None,
    reduction: Reduction = "sum",
) -> tuple[float, tuple[FloatArray, ...]]:
    """The loss ``reduce((forward(x, w, activation, bias) - target)**2)`` and its gradients.

    ``target=None`` is zeros, the article's ``sum(Y**2)``; otherwise it has Y's shape or
    broadcasts to it. ``reduction="sum"`` sums over every element of Y, ``"mean"`` averages
    over every element (as ``torch.nn.MSELoss`` does). ``wrt`` holds ``"w"``, ``"x"`` and/or
    ``"b"``; the gradients come in that order, each shaped like its parameter (``"b"`` with
    ``bias=None`` is the gradient at a zero bias).

    ``mode="reverse"`` (default) uses three contractions like a framework's backward pass.
    ``mode="forward"`` is forward-mode AD with derivatives in fixed-size chunks and seed
    compression (N/K passes of B*M AutoDiffScalars). ``mode="forward_dynamic"`` is the
    article's method, every parameter seeded in one dynamic derivative vector: exact but slow,
    kept as the baseline. Memory needs are checked against ``get_memory_budget()``.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> loss, (dw,) = ead.value_and_grad(np.array([[1.0]]), np.array([[2.0]]), "square")
        >>> loss, dw
        (16.0, array([[32.]]))
        >>> x, w = np.ones((4, 3)), np.full((3, 2), 0.1)
        >>> loss, (dw, db) = ead.value_and_grad(x, w, "tanh", wrt=("w", "b"), bias=np.zeros(2),
        ...                                     target=np.ones(2), reduction="mean")
        >>> dw.shape, db.shape
        ((3, 2), (2,))

    """
    spec = activation_spec(activation)
    request = _request(wrt, mode, reduction)
    computed = _core.layer_value_and_grad(
        x, w, bias, spec, request.mode, target, request.mean, *request.wanted
    )
    if computed is not None:  # taken as they are: the common case, and a small layer's fast one
        loss, gradients = computed
        return loss, request.pick(gradients)
    arrays = layer_arrays(
        x,
        w,
        f"{mode} mode",
        lambda dtype, b, n, m: _core.value_and_grad_bytes(
            request.mode, dtype.name, b, n, m, *request.wanted
        ),
        bias=(bias, "b"),
        target=(target, "target"),
    )
    converted = _core.layer_value_and_grad(
        arrays.x,
        arrays.w,
        arrays.extras["bias"],
        spec,
        request.mode,
        arrays.extras["target"],
        request.mean,
        *request.wanted,
    )
    loss, gradients = _taken(converted)
    return loss, _gradients(arrays.x_shape, request.pick, gradients)


def vjp(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike,
    cotangent: ArrayLike,
    bias: ArrayLike | None = None,
    wrt: Wrt = ("w",),
) -> tuple[FloatArray, ...]:
    """The vector-Jacobian product of ``Y = forward(x, w, activation, bias)`` with ``cotangent``.

    ``cotangent`` is an upstream gradient dL/dY of Y's shape; the result holds dL/d(item) for
    each item of ``wrt`` (``"x"``, ``"w"``, ``"b"``), in that order, each shaped like its
    parameter. This is the general reverse mode (``value_and_grad`` is its special case): the
    backward pass of the layer inside a model. ``"b"`` with ``bias=None`` is the gradient at a
    zero bias.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> x, w = np.ones((2, 3)), np.full((3, 4), 0.5)
        >>> dx, dw, db = ead.vjp(x, w, "identity", np.ones((2, 4)), wrt=("x", "w", "b"))
        >>> dx
        array([[2., 2., 2.],
               [2., 2., 2.]])
        >>> db
        array([2., 2., 2., 2.])

    """
    spec = activation_spec(activation)
    request = _request(wrt)
    if cotangent is None:
        raise TypeError("vjp needs a cotangent of Y's shape (the upstream gradient dL/dY)")
    computed = _core.layer_vjp(x, w, bias, spec, cotangent, *request.wanted)
    if computed is not None:  # taken as they are
        return request.pick(computed)
    arrays = layer_arrays(
        x,
        w,
        "the VJP",
        lambda dtype, b, n, m: _core.vjp_bytes(dtype.name, b, n, m, *request.wanted),
        bias=(bias, "b"),
        cotangent=(cotangent, "y"),
    )
    converted = _core.layer_vjp(
        arrays.x, arrays.w, arrays.extras["bias"], spec, arrays.extras["cotangent"], *request.wanted
    )
    return _gradients(arrays.x_shape, request.pick, _taken(converted))


def jvp(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike,
    tangents: Sequence[ArrayLike],
    bias: ArrayLike | None = None,
    wrt: Wrt = ("w",),
) -> tuple[FloatArray, FloatArray]:
    """``(Y, dY)``: the layer's output and its derivative along ``tangents``, by forward mode.

    ``tangents`` holds one array per item of ``wrt`` (``"x"``, ``"w"``, ``"b"``), in that
    order, each shaped like its parameter; the parameters not in ``wrt`` do not move.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> x, w = np.array([[1.0, 2.0]]), np.array([[0.5], [0.25]])
        >>> y, dy = ead.jvp(x, w, "square", [np.array([[1.0], [0.0]])], wrt=("w",))
        >>> y, dy
        (array([[1.]]), array([[2.]]))

    """
    spec = activation_spec(activation)
    items = parse_wrt(wrt)
    if isinstance(tangents, (str, bytes)) or not isinstance(tangents, Sequence):
        raise TypeError(
            f"tangents must be a sequence of arrays, one per item of wrt {items}, got "
            f"{type(tangents).__name__}"
        )
    if len(tangents) != len(items):
        raise ValueError(
            f"tangents has {len(tangents)} arrays; expected one per item of wrt {items}"
        )
    given = dict(zip(items, tangents))
    arrays = layer_arrays(
        x,
        w,
        "the JVP",
        lambda dtype, b, n, m: _core.jvp_bytes(dtype.name, b, m),
        bias=(bias, "b"),
        **{f"tangent_{item}": (given.get(item), item) for item in WRT_ITEMS},  # type: ignore[arg-type]
    )
    y, dy = _core.layer_jvp(
        arrays.x,
        arrays.w,
        arrays.extras["bias"],
        spec,
        arrays.extras["tangent_x"],
        arrays.extras["tangent_w"],
        arrays.extras["tangent_b"],
    )
    return y.reshape(arrays.y_shape), dy.reshape(arrays.y_shape)


def jacobian(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike = "sin",
    wrt: str = "w",
    bias: ArrayLike | None = None,
) -> FloatArray:
    """The Jacobian of ``Y = forward(x, w, activation, bias)`` w.r.t. one parameter.

    ``wrt`` is one name, ``"w"``, ``"x"`` or ``"b"``. The result has shape
    ``Y.shape + parameter.shape``, the layout of ``jax.jacfwd``; computed by forward mode. Its
    size, ``Y.size`` times the parameter's, is checked against ``get_memory_budget()`` before
    anything is allocated.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> ead.jacobian(np.ones((2, 3)), np.ones((3, 4)), "identity", wrt="w").shape
        (2, 4, 3, 4)

    """
    spec = activation_spec(activation)
    _check_one_parameter("jacobian", wrt)
    arrays = layer_arrays(
        x,
        w,
        f"the Jacobian w.r.t. {wrt}",
        lambda dtype, b, n, m: _core.jacobian_bytes(dtype.name, b, n, m, wrt),
        bias=(bias, "b"),
    )
    jac = _core.layer_jacobian(arrays.x, arrays.w, arrays.extras["bias"], spec, wrt)
    parameter_shape = {"w": arrays.w.shape, "x": arrays.x_shape, "b": (arrays.w.shape[1],)}[wrt]
    return jac.reshape(arrays.y_shape + tuple(parameter_shape))


def _loss_arguments(
    x: ArrayLike,
    w: ArrayLike,
    what: str,
    wrt: str,
    request_bytes: RequestBytes,
    bias: ArrayLike | None,
    target: ArrayLike | None,
    reduction: Reduction,
    **extras: tuple[ArrayLike | None, ExtraKind],
) -> tuple[LayerArrays, float, tuple[int, ...]]:
    """The arrays of a second-order request, the loss's scale, and the shape of ``wrt``."""
    _check_one_parameter(what, wrt)
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; expected one of {REDUCTIONS}")
    arrays = layer_arrays(
        x, w, what, request_bytes, bias=(bias, "b"), target=(target, "target"), **extras
    )
    scale = 1.0 if reduction == "sum" else 1.0 / max(1, math.prod(arrays.y_shape))
    shape = {"w": arrays.w.shape, "x": arrays.x_shape, "b": (arrays.w.shape[1],)}[wrt]
    return arrays, scale, tuple(shape)


def hvp(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike,
    vector: ArrayLike,
    wrt: str = "w",
    bias: ArrayLike | None = None,
    target: ArrayLike | None = None,
    reduction: Reduction = "sum",
) -> FloatArray:
    """``H @ vector`` for the Hessian H of ``value_and_grad``'s loss w.r.t. one parameter.

    ``wrt`` is ``"w"``, ``"x"`` or ``"b"``, ``vector`` has that parameter's shape, and so has
    the result. By forward-over-reverse: a tangent AutoDiffScalar along ``vector`` rides
    through the reverse pass (nested AutoDiffScalars), not finite differences.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> x, w = np.array([[1.0, 2.0]]), np.array([[0.5], [0.25]])
        >>> ead.hvp(x, w, "identity", np.array([[1.0], [0.0]]))  # H = 2 x^T x
        array([[2.],
               [4.]])

    """
    spec = activation_spec(activation)
    kind = cast(ExtraKind, wrt if wrt in WRT_ITEMS else "w")
    arrays, scale, shape = _loss_arguments(
        x,
        w,
        "hvp",
        wrt,
        lambda dtype, b, n, m: _core.hvp_bytes(dtype.name, b, n, m, wrt),
        bias,
        target,
        reduction,
        vector=(vector, kind),
    )
    extras = arrays.extras
    flat = cast(FloatArray, extras["vector"]).reshape(-1)
    result = _core.layer_hvp(
        arrays.x, arrays.w, extras["bias"], spec, extras["target"], scale, wrt, flat
    )
    return result.reshape(shape)


def hessian(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike,
    wrt: str = "w",
    bias: ArrayLike | None = None,
    target: ArrayLike | None = None,
    reduction: Reduction = "sum",
) -> FloatArray:
    """The Hessian of ``value_and_grad``'s loss w.r.t. one parameter p, shape ``p.shape * 2``.

    The layout of ``jax.hessian``. The layer's structure gives it without a pass per entry
    (W's Hessian is block diagonal over output columns, X's over rows, b's diagonal), the
    curvature of each loss term from nested AutoDiffScalars. Its size is checked against
    ``get_memory_budget()`` before anything is allocated.

    Example:
        >>> import numpy as np, eigen_autodiff as ead
        >>> ead.hessian(np.array([[1.0, 2.0]]), np.ones((2, 1)), "identity").reshape(2, 2)
        array([[2., 4.],
               [4., 8.]])

    """
    spec = activation_spec(activation)
    arrays, scale, shape = _loss_arguments(
        x,
        w,
        "hessian",
        wrt,
        lambda dtype, b, n, m: _core.hessian_bytes(dtype.name, b, n, m, wrt),
        bias,
        target,
        reduction,
    )
    extras = arrays.extras
    result = _core.layer_hessian(
        arrays.x, arrays.w, extras["bias"], spec, extras["target"], scale, wrt
    )
    return result.reshape(shape + shape)


def vjp_of_vjp(
    x: ArrayLike,
    w: ArrayLike,
    activation: ActivationLike,
    cotangent: ArrayLike,
    grads: Sequence[ArrayLike | None],
    bias: ArrayLike | None = None,
    wrt: Wrt = ("x", "w", "b", "cotangent"),
) -> tuple[FloatArray, ...]:
    """The VJP of ``vjp(x, w, activation, cotangent, bias, ("x", "w", "b"))``.

    ``grads`` are the upstream gradients of vjp's three results (None: zero). The result holds
    the gradients w.r.t. the items of ``wrt`` (``"x"``, ``"w"``, ``"b"``, ``"cotangent"``), in
    that order: what a framework layer's backward rule needs to be differentiable itself.
    """
    spec = activation_spec(activation)
    items = parse_wrt(wrt, allowed=(*WRT_ITEMS, "cotangent"))
    gx, gw, gb = grads
    wanted = _wanted(items)
    arrays = layer_arrays(
        x,
        w,
        "the VJP of the VJP",
        lambda dtype, b, n, m: _core.vjp_of_vjp_bytes(dtype.name, b, n, m, *wanted),
        bias=(bias, "b"),
        cotangent=(cotangent, "y"),
        grad_x=(gx, "x"),
        grad_w=(gw, "w"),
        grad_b=(gb, "b"),
    )
    extras = arrays.extras
    computed, d_cotangent = _core.layer_vjp_of_vjp(
        arrays.x,
        arrays.w,
        extras["bias"],
        spec,
        cast(FloatArray, extras["cotangent"]),
        extras["grad_x"],
        extras["grad_w"],
        extras["grad_b"],
        *wanted,
        "cotangent" in items,
    )
    parameters = tuple(i for i in items if i != "cotangent")
    first = _gradients(arrays.x_shape, _picker(parameters), computed)
    by_item = dict(zip(parameters, first))
    if d_cotangent is not None:
        by_item["cotangent"] = d_cotangent.reshape(arrays.y_shape)
    return tuple(by_item[item] for item in items)


__all__ = ["forward", "hessian", "hvp", "jacobian", "jvp", "value_and_grad", "vjp"]
