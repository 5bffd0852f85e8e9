"""eigen-autodiff: exact gradients from Eigen's AutoDiff, called from Python.

The custom layer ``Y = activation(X @ W)`` (a Keras Dense without bias), its loss
``sum(Y**2)`` and the loss's gradients, plus elementwise activation derivatives, are computed by
a header-only C++ library built on ``Eigen::AutoDiffScalar`` and ``Eigen::Tensor`` contractions.

Example:
    >>> import numpy as np, eigen_autodiff as ead
    >>> x = np.array([[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]])
    >>> w = np.full((3, 2), 0.1)
    >>> loss, (dw, dx) = ead.value_and_grad(x, w, "sin", wrt=("w", "x"))
    >>> dw.shape, dx.shape
    ((3, 2), (3, 3))

"""

from ._activations import ACTIVATIONS, derivative
from ._check_grad import GradCheckError, GradCheckReport, check_grad
from ._custom_layer import CustomLayer
from ._layer import forward, jacobian, value_and_grad
from ._native import _core

__version__: str = _core.__version__

set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
set_memory_budget = _core.set_memory_budget
get_memory_budget = _core.get_memory_budget

__all__ = [
    "ACTIVATIONS",
    "CustomLayer",
    "GradCheckError",
    "GradCheckReport",
    "__version__",
    "check_grad",
    "derivative",
    "forward",
    "get_memory_budget",
    "get_num_threads",
    "jacobian",
    "set_memory_budget",
    "set_num_threads",
    "value_and_grad",
]
