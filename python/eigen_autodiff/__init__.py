"""eigen-autodiff: exact gradients from Eigen's AutoDiff, called from Python.

The custom layer ``Y = activation(X @ W)`` (a Keras Dense without bias), its loss
``sum(Y**2)`` and the loss's gradients, plus elementwise activation derivatives, are computed by
a header-only C++ library built on ``Eigen::AutoDiffScalar`` and ``Eigen::Tensor`` contractions.
An activation is a built-in name or a Python function written with ``ead.sin``, ``ead.where``,
... or NumPy ufuncs: it is traced once into a program that C++ differentiates per element.
``ead.custom_derivative`` supplies a derivative where the automatic one is numerically wrong.

Example:
    >>> import numpy as np, eigen_autodiff as ead
    >>> x = np.array([[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]])
    >>> w = np.full((3, 2), 0.1)
    >>> loss, (dw, dx) = ead.value_and_grad(x, w, "sin", wrt=("w", "x"))
    >>> dw.shape, dx.shape
    ((3, 2), (3, 3))

"""

from ._activation_spec import ActivationLike
from ._activations import ACTIVATIONS, derivative
from ._check_grad import GradCheckError, GradCheckReport, check_grad, check_layer_grad
from ._custom_derivative import CustomDerivative, custom_derivative
from ._custom_layer import CustomLayer
from ._diagnose import Diagnosis, Failure, diagnose
from ._layer import forward, jacobian, value_and_grad
from ._native import _core
from ._primitives import (
    abs,
    cos,
    cosh,
    erf,
    exp,
    expm1,
    log,
    log1p,
    maximum,
    minimum,
    pow,
    sigmoid,
    sin,
    sinh,
    softplus,
    sqrt,
    tan,
    tanh,
    where,
)
from ._symbolic import TracedCondition, TracedValue
from ._trace import trace

__version__: str = _core.__version__

set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
set_memory_budget = _core.set_memory_budget
get_memory_budget = _core.get_memory_budget

TracedProgram = _core.TracedProgram

__all__ = [
    "ACTIVATIONS",
    "ActivationLike",
    "CustomDerivative",
    "CustomLayer",
    "Diagnosis",
    "Failure",
    "GradCheckError",
    "GradCheckReport",
    "TracedCondition",
    "TracedProgram",
    "TracedValue",
    "__version__",
    "abs",
    "check_grad",
    "check_layer_grad",
    "cos",
    "cosh",
    "custom_derivative",
    "derivative",
    "diagnose",
    "erf",
    "exp",
    "expm1",
    "forward",
    "get_memory_budget",
    "get_num_threads",
    "jacobian",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "pow",
    "set_memory_budget",
    "set_num_threads",
    "sigmoid",
    "sin",
    "sinh",
    "softplus",
    "sqrt",
    "tan",
    "tanh",
    "trace",
    "value_and_grad",
    "where",
]
