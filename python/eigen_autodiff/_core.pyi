# Stub of the compiled module eigen_autodiff._core (cpp/bindings). tests/test_stub.py checks that
# it lists the module's names and each overload's parameters.
from collections.abc import Sequence
from typing import Any, NamedTuple, TypeVar, overload

import numpy as np
from numpy.typing import NDArray

_A = TypeVar("_A")

__version__: str
instruction_set: str
vector_instructions: str
ACTIVATIONS: tuple[str, ...]

# (op, lane, dst, a, b, c, constant); see cpp/include/eigen_autodiff/traced/program.hpp.
Instruction = tuple[str, str, int, int, int, int, float]
# (op, lane, operand node indices, constant): node k of a traced graph is nodes[k - 1].
GraphNode = tuple[str, str, tuple[int, ...], float]
# A register's (value, derivative w.r.t. x, NaN where it has none).
ReplayValue = tuple[float, float]

class Operation(NamedTuple):
    name: str
    arity: int
    operands: tuple[str, ...]
    result: str
    uses_constant: bool
    numpy: str
    doc: str

OPERATIONS: tuple[Operation, ...]

class TracedProgram:
    def __init__(
        self, instructions: Sequence[Instruction], output: int, name: str = ""
    ) -> None: ...
    @staticmethod
    def from_graph(nodes: Sequence[GraphNode], output: int, name: str = "") -> TracedProgram: ...
    @property
    def instructions(self) -> list[Instruction]: ...
    @property
    def output(self) -> int: ...
    @property
    def name(self) -> str: ...
    def replay(
        self, x: float, dtype: str
    ) -> list[tuple[Instruction, tuple[ReplayValue, ...], ReplayValue]]: ...

class Mode:
    reverse: Mode
    forward: Mode
    forward_dynamic: Mode
    __members__: dict[str, Mode]
    def __init__(self, value: int) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def value(self) -> int: ...

# (dL/dx, dL/dw, dL/db), None where not asked for.
Gradients = tuple[_A | None, _A | None, _A | None]

# A built-in activation's name, or a traced program.
ActivationSpec = str | TracedProgram

def set_num_threads(n: int) -> None: ...
def get_num_threads() -> int: ...
def set_memory_budget(bytes: int) -> None: ...
def get_memory_budget() -> int: ...
def layer_values_bytes(dtype: str, batch: int, outputs: int) -> int: ...
def value_and_grad_bytes(
    mode: Mode,
    dtype: str,
    batch: int,
    inputs: int,
    outputs: int,
    wrt_x: bool,
    wrt_w: bool,
    wrt_b: bool,
) -> int: ...
def vjp_bytes(
    dtype: str, batch: int, inputs: int, outputs: int, wrt_x: bool, wrt_w: bool, wrt_b: bool
) -> int: ...
def jvp_bytes(dtype: str, batch: int, outputs: int) -> int: ...
def jacobian_bytes(dtype: str, batch: int, inputs: int, outputs: int, wrt: str) -> int: ...
def elementwise_bytes(dtype: str, n: int) -> int: ...
def hvp_bytes(dtype: str, batch: int, inputs: int, outputs: int, wrt: str) -> int: ...
def hessian_bytes(dtype: str, batch: int, inputs: int, outputs: int, wrt: str) -> int: ...
def vjp_of_vjp_bytes(
    dtype: str, batch: int, inputs: int, outputs: int, wrt_x: bool, wrt_w: bool, wrt_b: bool
) -> int: ...
def check_memory_budget(bytes: int, what: str, hint: str = "") -> None: ...
@overload
def activation_value_and_derivative(  # type: ignore[overload-overlap]
    activation: ActivationSpec, x: NDArray[np.float32]
) -> tuple[NDArray[np.float32], NDArray[np.float32]]: ...
@overload
def activation_value_and_derivative(
    activation: ActivationSpec, x: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def layer_values(  # type: ignore[overload-overlap]
    x: NDArray[np.float32],
    w: NDArray[np.float32],
    bias: NDArray[np.float32] | None,
    activation: ActivationSpec,
) -> NDArray[np.float32]: ...
@overload
def layer_values(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    bias: NDArray[np.float64] | None,
    activation: ActivationSpec,
) -> NDArray[np.float64]: ...
def layer_value_and_grad(
    x: object,
    w: object,
    bias: object,
    activation: ActivationSpec,
    mode: Mode,
    target: object,
    mean: bool,
    wrt_x: bool,
    wrt_w: bool,
    wrt_b: bool,
) -> tuple[float, Gradients[NDArray[np.floating[Any]]]] | None: ...
def layer_vjp(
    x: object,
    w: object,
    bias: object,
    activation: ActivationSpec,
    cotangent: object,
    wrt_x: bool,
    wrt_w: bool,
    wrt_b: bool,
) -> Gradients[NDArray[np.floating[Any]]] | None: ...
@overload
def layer_jvp(  # type: ignore[overload-overlap]
    x: NDArray[np.float32],
    w: NDArray[np.float32],
    bias: NDArray[np.float32] | None,
    activation: ActivationSpec,
    tangent_x: NDArray[np.float32] | None,
    tangent_w: NDArray[np.float32] | None,
    tangent_b: NDArray[np.float32] | None,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]: ...
@overload
def layer_jvp(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    bias: NDArray[np.float64] | None,
    activation: ActivationSpec,
    tangent_x: NDArray[np.float64] | None,
    tangent_w: NDArray[np.float64] | None,
    tangent_b: NDArray[np.float64] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def layer_jacobian(  # type: ignore[overload-overlap]
    x: NDArray[np.float32],
    w: NDArray[np.float32],
    bias: NDArray[np.float32] | None,
    activation: ActivationSpec,
    wrt: str,
) -> NDArray[np.float32]: ...
@overload
def layer_jacobian(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    bias: NDArray[np.float64] | None,
    activation: ActivationSpec,
    wrt: str,
) -> NDArray[np.float64]: ...
@overload
def activation_second_derivative(  # type: ignore[overload-overlap]
    activation: ActivationSpec, x: NDArray[np.float32]
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]: ...
@overload
def activation_second_derivative(
    activation: ActivationSpec, x: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def layer_hvp(  # type: ignore[overload-overlap]
    x: NDArray[np.float32],
    w: NDArray[np.float32],
    bias: NDArray[np.float32] | None,
    activation: ActivationSpec,
    target: NDArray[np.float32] | None,
    scale: float,
    wrt: str,
    vector: NDArray[np.float32],
) -> NDArray[np.float32]: ...
@overload
def layer_hvp(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    bias: NDArray[np.float64] | None,
    activation: ActivationSpec,
    target: NDArray[np.float64] | None,
    scale: float,
    wrt: str,
    vector: NDArray[np.float64],
) -> NDArray[np.float64]: ...
@overload
def layer_hessian(  # type: ignore[overload-overlap]
    x: NDArray[np.float32],
    w: NDArray[np.float32],
    bias: NDArray[np.float32] | None,
    activation: ActivationSpec,
    target: NDArray[np.float32] | None,
    scale: float,
    wrt: str,
) -> NDArray[np.float32]: ...
@overload
def layer_hessian(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    bias: NDArray[np.float64] | None,
    activation: ActivationSpec,
    target: NDArray[np.float64] | None,
    scale: float,
    wrt: str,
) -> NDArray[np.float64]: ...
@overload
def layer_vjp_of_vjp(  # type: ignore[overload-overlap]
    x: NDArray[np.float32],
    w: NDArray[np.float32],
    bias: NDArray[np.float32] | None,
    activation: ActivationSpec,
    cotangent: NDArray[np.float32],
    grad_x: NDArray[np.float32] | None,
    grad_w: NDArray[np.float32] | None,
    grad_b: NDArray[np.float32] | None,
    wrt_x: bool,
    wrt_w: bool,
    wrt_b: bool,
    wrt_cotangent: bool,
) -> tuple[Gradients[NDArray[np.float32]], NDArray[np.float32] | None]: ...
@overload
def layer_vjp_of_vjp(
    x: NDArray[np.float64],
    w: NDArray[np.float64],
    bias: NDArray[np.float64] | None,
    activation: ActivationSpec,
    cotangent: NDArray[np.float64],
    grad_x: NDArray[np.float64] | None,
    grad_w: NDArray[np.float64] | None,
    grad_b: NDArray[np.float64] | None,
    wrt_x: bool,
    wrt_w: bool,
    wrt_b: bool,
    wrt_cotangent: bool,
) -> tuple[Gradients[NDArray[np.float64]], NDArray[np.float64] | None]: ...
