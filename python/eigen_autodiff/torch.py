"""The layer ``activation(x @ w + bias)`` inside PyTorch models, differentiated by the C++ core.

``custom_layer`` is a ``torch.autograd.Function``: its forward calls ``ead.forward`` and its
backward ``ead.vjp``, for the inputs that need a gradient only. ``CustomLayer`` is the
``nn.Module`` around it. CPU tensors of float32 or float64, any leading dimensions; it works
under ``torch.compile`` (the layer runs outside the compiled graph, a graph break) and inside
``DistributedDataParallel``.

Example:
    >>> import torch
    >>> from eigen_autodiff.torch import CustomLayer
    >>> _ = torch.manual_seed(0)
    >>> layer = CustomLayer(3, 2, activation="tanh", bias=True)
    >>> y = layer(torch.ones(4, 3))
    >>> y.sum().backward()
    >>> y.shape, layer.kernel.grad.shape, layer.bias.grad.shape
    (torch.Size([4, 2]), torch.Size([3, 2]), torch.Size([2]))

"""

from __future__ import annotations

import math
from typing import Any

try:
    import torch
except ImportError as error:  # the framework is an optional extra
    raise ImportError(
        "eigen_autodiff.torch needs PyTorch, which is not installed: "
        "pip install 'eigen-autodiff[torch]' (or pip install torch)"
    ) from error

import numpy as np

import eigen_autodiff as ead
from eigen_autodiff import ActivationLike
from eigen_autodiff._layer import vjp_of_vjp

__all__ = ["CustomLayer", "custom_layer"]

_DTYPES = (torch.float32, torch.float64)
_NAMES = ("x", "w", "b")


def _as_numpy(tensor: torch.Tensor) -> np.ndarray[Any, Any]:
    # A view, no copy: detach drops the graph, resolve_* materialise lazy conj/neg bits only.
    array: np.ndarray[Any, Any] = tensor.detach().resolve_conj().resolve_neg().numpy()
    return array


def _check(name: str, tensor: Any) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(
            f"eigen_autodiff.torch.custom_layer: {name} must be a torch.Tensor, "
            f"got {type(tensor).__name__}; wrap it with torch.as_tensor(...)"
        )
    if tensor.device.type != "cpu":
        raise ValueError(
            f"eigen_autodiff.torch.custom_layer: {name} is on {tensor.device}, but the layer "
            f"runs in C++ on the CPU; move the tensors and the module with .cpu()"
        )
    if tensor.dtype not in _DTYPES:
        raise TypeError(
            f"eigen_autodiff.torch.custom_layer: {name} has dtype {tensor.dtype}; the layer "
            f"computes in float32 or float64: convert with .float() or .double()"
        )


class _LayerFunction(torch.autograd.Function):
    """``activation(x @ w + bias)``; backward by ``ead.vjp``."""

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        w: torch.Tensor,
        bias: torch.Tensor | None,
        activation: ActivationLike,
    ) -> torch.Tensor:
        y = ead.forward(
            _as_numpy(x),
            _as_numpy(w),
            activation,
            bias=None if bias is None else _as_numpy(bias),
        )
        ctx.save_for_backward(x, w, bias)
        ctx.activation = activation
        return torch.from_numpy(y)

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, w, bias = ctx.saved_tensors
        inputs = (x, w, bias)
        wrt = tuple(name for name, needed in zip(_NAMES, ctx.needs_input_grad) if needed)
        grads: list[torch.Tensor | None] = [None, None, None, None]
        if not wrt:
            return tuple(grads)
        if torch.is_grad_enabled():
            # create_graph=True (double backward, a gradient penalty): the backward pass itself
            # is a differentiable function, whose own backward is the VJP of the VJP.
            computed_tensors = _VJPFunction.apply(x, w, bias, grad_y, ctx.activation, wrt)
            for name, grad in zip(wrt, computed_tensors):
                grads[_NAMES.index(name)] = grad
            return tuple(grads)
        computed = ead.vjp(
            _as_numpy(x),
            _as_numpy(w),
            ctx.activation,
            _as_numpy(grad_y),
            bias=None if bias is None else _as_numpy(bias),
            wrt=wrt,
        )
        for name, grad in zip(wrt, computed):
            index = _NAMES.index(name)
            # The C++ result is float64 when the inputs' dtypes are mixed: each gradient takes
            # its own input's dtype, as autograd requires.
            grads[index] = torch.from_numpy(grad).to(inputs[index].dtype)
        return tuple(grads)


class _VJPFunction(torch.autograd.Function):
    """``ead.vjp`` as a differentiable function; its backward by ``vjp_of_vjp`` (nested AD)."""

    @staticmethod
    def forward(
        ctx: Any,
        x: torch.Tensor,
        w: torch.Tensor,
        bias: torch.Tensor | None,
        grad_y: torch.Tensor,
        activation: ActivationLike,
        wrt: tuple[str, ...],
    ) -> tuple[torch.Tensor, ...]:
        computed = ead.vjp(
            _as_numpy(x),
            _as_numpy(w),
            activation,
            _as_numpy(grad_y),
            None if bias is None else _as_numpy(bias),
            wrt=wrt,
        )
        inputs = {"x": x, "w": w, "b": bias}
        ctx.save_for_backward(x, w, bias, grad_y)
        ctx.activation = activation
        ctx.wrt = wrt
        return tuple(torch.from_numpy(g).to(inputs[name].dtype) for name, g in zip(wrt, computed))

    @staticmethod
    @torch.autograd.function.once_differentiable  # type: ignore[untyped-decorator]
    def backward(ctx: Any, *upstream: torch.Tensor | None) -> tuple[torch.Tensor | None, ...]:
        x, w, bias, grad_y = ctx.saved_tensors
        by_name = dict(zip(ctx.wrt, upstream))
        grads = tuple(None if (g := by_name.get(name)) is None else _as_numpy(g) for name in _NAMES)
        inputs = {"x": x, "w": w, "b": bias, "cotangent": grad_y}
        wanted = [
            name
            for name, needed in zip(("x", "w", "b", "cotangent"), ctx.needs_input_grad)
            if needed
        ]
        result: list[torch.Tensor | None] = [None] * 6
        if not wanted:
            return tuple(result)
        computed = vjp_of_vjp(
            _as_numpy(x),
            _as_numpy(w),
            ctx.activation,
            _as_numpy(grad_y),
            grads,
            bias=None if bias is None else _as_numpy(bias),
            wrt=tuple(wanted),
        )
        for name, grad in zip(wanted, computed):
            index = ("x", "w", "b", "cotangent").index(name)
            result[index] = torch.from_numpy(grad).to(inputs[name].dtype)
        return tuple(result)


# Dynamo cannot trace into NumPy and C++: the layer runs eagerly, with a graph break around it,
# and the code before and after it is still compiled.
@torch.compiler.disable  # type: ignore[untyped-decorator]
def custom_layer(
    x: torch.Tensor,
    w: torch.Tensor,
    activation: ActivationLike = "sin",
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """``activation(x @ w + bias)``, differentiable by autograd through the C++ core.

    ``x`` has shape ``(..., in_features)`` with at least 2 dimensions, ``w``
    ``(in_features, out_features)`` (the Keras kernel layout, the transpose of
    ``torch.nn.Linear.weight``) and ``bias`` ``(out_features,)`` or None. The tensors must be on
    the CPU, float32 or float64; the result is float32 only when all of them are. ``activation``
    is a built-in name (``ead.ACTIVATIONS``) or a Python function written with ``ead``'s
    primitives or NumPy ufuncs (not ``torch.sin``: the function is traced into C++).

    Example:
        >>> import torch
        >>> from eigen_autodiff.torch import custom_layer
        >>> x = torch.ones(2, 3, dtype=torch.float64)
        >>> w = torch.full((3, 1), 0.5, dtype=torch.float64, requires_grad=True)
        >>> y = custom_layer(x, w, "square")
        >>> y.sum().backward()
        >>> y.detach().numpy().ravel(), w.grad.numpy().ravel()
        (array([2.25, 2.25]), array([6., 6., 6.]))

    """
    _check("x", x)
    _check("w", w)
    if bias is not None:
        _check("bias", bias)
    result: torch.Tensor = _LayerFunction.apply(x, w, bias, activation)
    return result


class CustomLayer(torch.nn.Module):
    """A dense layer ``activation(x @ kernel + bias)`` whose gradients come from the C++ core.

    ``kernel`` has shape ``(in_features, out_features)``, the Keras layout and the transpose of
    ``torch.nn.Linear.weight`` (it is named ``kernel`` so that a Linear's ``state_dict`` does
    not load into it silently transposed). Initialised as ``torch.nn.Linear``: every entry and
    the bias from ``U(-1/sqrt(in_features), 1/sqrt(in_features))``, drawn in the same order, so
    under the same ``torch.manual_seed`` ``kernel`` equals ``Linear(...).weight.T``.

    Example:
        >>> import torch
        >>> from eigen_autodiff.torch import CustomLayer
        >>> _ = torch.manual_seed(0)
        >>> layer = CustomLayer(4, 2, activation="sin")
        >>> _ = torch.manual_seed(0)
        >>> torch.equal(layer.kernel, torch.nn.Linear(4, 2, bias=False).weight.T)
        True
        >>> layer
        CustomLayer(in_features=4, out_features=2, activation='sin', bias=False)

    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        activation: ActivationLike = "sin",
        bias: bool = False,
        *,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        # Fails here, with the activation's name, rather than at the first forward.
        ead.forward(np.zeros((1, 1)), np.zeros((1, 1)), activation)
        self.in_features = in_features
        self.out_features = out_features
        self.activation = activation
        weight = torch.empty(out_features, in_features, dtype=dtype)
        torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # torch.nn.Linear's draw
        self.kernel = torch.nn.Parameter(weight.T.contiguous())
        if bias:
            bound = 1 / math.sqrt(in_features) if in_features > 0 else 0.0
            self.bias: torch.nn.Parameter | None = torch.nn.Parameter(
                torch.empty(out_features, dtype=dtype).uniform_(-bound, bound)
            )
        else:
            self.register_parameter("bias", None)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``activation(inputs @ kernel + bias)``, shape ``inputs.shape[:-1] + (out,)``."""
        return custom_layer(inputs, self.kernel, self.activation, self.bias)

    def extra_repr(self) -> str:
        """The arguments shown by ``repr``."""
        activation = self.activation
        name = activation if isinstance(activation, str) else getattr(activation, "__name__", "?")
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"activation={name!r}, bias={self.bias is not None}"
        )
