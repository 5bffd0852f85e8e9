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

from . import _custom_layer, _derivative, _layer, _paths
from ._custom_layer import *
from ._derivative import *
from ._diagnostics import check_grad as _check_grad
from ._diagnostics import diagnose as _diagnose
from ._diagnostics.check_grad import *
from ._diagnostics.diagnose import *
from ._layer import *
from ._native import _core, show_config
from ._paths import *
from ._tracing import activation_spec as _activation_spec
from ._tracing import custom_derivative as _custom_derivative
from ._tracing import errors as _errors
from ._tracing import primitives as _primitives
from ._tracing import symbolic as _symbolic
from ._tracing import trace as _trace
from ._tracing.activation_spec import *
from ._tracing.custom_derivative import *
from ._tracing.errors import *
from ._tracing.primitives import *
from ._tracing.symbolic import *
from ._tracing.trace import *

#: The package's version (pyproject.toml's), as compiled into the extension module.
__version__: str = _core.__version__

set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
set_memory_budget = _core.set_memory_budget
get_memory_budget = _core.get_memory_budget

TracedProgram = _core.TracedProgram

__all__ = [
    "TracedProgram",
    "__version__",
    "get_memory_budget",
    "get_num_threads",
    "set_memory_budget",
    "set_num_threads",
    "show_config",
]
__all__ += _activation_spec.__all__
__all__ += _derivative.__all__
__all__ += _check_grad.__all__
__all__ += _custom_derivative.__all__
__all__ += _custom_layer.__all__
__all__ += _diagnose.__all__
__all__ += _errors.__all__
__all__ += _layer.__all__
__all__ += _paths.__all__
__all__ += _primitives.__all__
__all__ += _symbolic.__all__
__all__ += _trace.__all__
