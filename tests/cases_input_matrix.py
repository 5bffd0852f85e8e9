"""The input matrix, property-based: whatever NumPy hands the public functions (any dtype, any
memory layout, zero-size and degenerate shapes, NaN and infinities, scalars, 0-d arrays, lists),
each call either gives exactly the result of the same call on C-contiguous float64 copies
(float32 when every input is float32) or raises ValueError/TypeError naming the argument.

Not collected directly: tests/test_input_matrix.py runs this file in a child process, so that a
crash is a failed test rather than a lost run.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import eigen_autodiff as ead

# Reproducible and fast: the same examples on every run, no example database, no deadline (the
# machine is shared and sanitizer builds are slow).
MATRIX_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

DTYPES = [
    np.dtype(name)
    for name in (
        "float16",
        "float32",
        "float64",
        "int8",
        "int32",
        "int64",
        "uint8",
        "uint64",
        "bool",
        "complex64",
        "complex128",
        "object",
    )
]
LAYOUTS = [
    "C",
    "fortran",
    "strided",
    "negative strides",
    "read-only",
    "slice of a larger array",
    "view of a bytearray",
    "transposed copy",
    "broadcast",
    "list",
]
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-310, 1e30]
NON_FINITE = [math.nan, math.inf, -math.inf]
MODES = ["reverse", "forward", "forward_dynamic"]


# --- Inputs -----------------------------------------------------------------------------------


def base_array(values: list[float], shape: tuple[int, ...], dtype: np.dtype[Any]) -> np.ndarray:
    """The values in the dtype: integers rounded and clipped, non-finite ones zero for them."""
    a = np.array(values, dtype=np.float64).reshape(shape)
    if dtype.kind in "biu":
        a = np.where(np.isfinite(a), np.clip(np.round(a), -4, 4), 0.0)
        if dtype.kind == "u":
            a = np.abs(a)
    if dtype.kind == "O":
        return a.astype(object)
    with np.errstate(over="ignore", invalid="ignore"):
        return a.astype(dtype)


def in_layout(base: np.ndarray, layout: str) -> Any:
    """The same values in another memory layout, or as another kind of array-like."""
    if base.ndim != 2:
        return base.tolist() if layout == "list" else base.copy()
    rows, cols = base.shape
    if layout == "fortran":
        return np.asfortranarray(base)
    if layout == "strided":
        padded = np.zeros((rows * 2, cols * 3), dtype=base.dtype)
        padded[::2, ::3] = base
        return padded[::2, ::3]
    if layout == "negative strides":
        return np.ascontiguousarray(base[::-1, ::-1])[::-1, ::-1]
    if layout == "read-only":
        read_only = base.copy()
        read_only.flags.writeable = False
        return read_only
    if layout == "slice of a larger array":
        larger = np.zeros((rows + 2, cols + 3), dtype=base.dtype)
        larger[1 : rows + 1, 2 : cols + 2] = base
        return larger[1 : rows + 1, 2 : cols + 2]
    if layout == "view of a bytearray" and base.dtype.kind != "O":
        return np.frombuffer(bytearray(base.tobytes()), dtype=base.dtype).reshape(base.shape)
    if layout == "transposed copy":
        return np.ascontiguousarray(base.T).T
    if layout == "broadcast" and base.size > 0:
        # Zero strides: one element seen everywhere (read-only).
        return np.broadcast_to(base[:1, :1], base.shape)
    if layout == "list":
        return base.tolist()
    return base.copy()


@dataclass
class Drawn:
    """An argument as handed to the function, with how it was made (shown on failure)."""

    value: Any
    dtype: np.dtype[Any]
    layout: str

    def __repr__(self) -> str:
        shape = np.shape(self.value) if self.dtype.kind != "O" else "?"
        return f"<{self.dtype} {self.layout} shape={shape}: {self.value!r}>"


@st.composite
def arrays(draw: st.DrawFn, shape: tuple[int, ...]) -> Drawn:
    dtype = draw(st.sampled_from(DTYPES))
    finite = draw(st.booleans())
    special = SPECIAL if finite else SPECIAL + NON_FINITE
    entry = st.one_of(st.floats(-3.0, 3.0), st.sampled_from(special))
    size = math.prod(shape)
    values = draw(st.lists(entry, min_size=size, max_size=size))
    layout = draw(st.sampled_from(LAYOUTS))
    return Drawn(in_layout(base_array(values, shape, dtype), layout), dtype, layout)


# Arrays of the wrong rank for the layer: Python and NumPy scalars, 0-d, 1-D and 3-D arrays.
WRONG_RANK = [
    3.0,
    2,
    True,
    np.float32(2.0),
    np.float64(-1.0),
    np.array(1.5),
    np.ones(3),
    np.ones((2, 2, 2)),
    [1.0, 2.0],
    [[[1.0]]],
    [],
]


@st.composite
def layer_arguments(draw: st.DrawFn) -> tuple[Drawn, Drawn]:
    """x (B, N) and w (N', M): matching most of the time, sizes 0 to 5, now and then of the
    wrong rank."""
    batch, inputs, outputs = (draw(st.integers(0, 5)) for _ in range(3))
    w_rows = inputs if draw(st.integers(0, 9)) > 0 else draw(st.integers(0, 5))
    drawn = []
    for shape in ((batch, inputs), (w_rows, outputs)):
        if draw(st.integers(0, 14)) == 0:
            value = draw(st.sampled_from(WRONG_RANK))
            drawn.append(Drawn(value, np.asarray(value).dtype, "wrong rank"))
        else:
            drawn.append(draw(arrays(shape)))
    return drawn[0], drawn[1]


# --- What to expect ---------------------------------------------------------------------------


@dataclass
class Rejected:
    error: type[Exception]
    name: str


def contiguous_inputs(named: dict[str, Any], layer: bool) -> Rejected | dict[str, np.ndarray]:
    """The arguments as the contract says they are computed on, or the error they must raise.

    Independent of the library: only NumPy's view of the arguments and the documented rules.
    """
    arrays = {name: np.asarray(value) for name, value in named.items()}
    for name, a in arrays.items():
        if a.dtype.kind not in "biuf":
            return Rejected(TypeError, name)
    if layer:
        # x is (..., inputs) with at least 2 dimensions, w is (inputs, outputs).
        (x_name, x), (w_name, w) = arrays.items()
        if x.ndim < 2:
            return Rejected(ValueError, x_name)
        if w.ndim != 2:
            return Rejected(ValueError, w_name)
        if x.shape[-1] != w.shape[0]:
            return Rejected(ValueError, x_name)
    all_float32 = all(a.dtype == np.float32 for a in arrays.values())
    dtype = np.dtype(np.float32 if all_float32 else np.float64)
    return {name: np.array(a, dtype=dtype, order="C") for name, a in arrays.items()}


def check_rejected(call: Callable[[], Any], rejected: Rejected) -> None:
    try:
        call()
    except (TypeError, ValueError) as error:
        assert isinstance(error, rejected.error), f"{type(error).__name__}: {error}"
        assert re.search(rf"\b{rejected.name}\b", str(error)), (
            f"message does not name {rejected.name!r}: {error}"
        )
    else:
        raise AssertionError(f"no {rejected.error.__name__} for a bad {rejected.name}")


def assert_same(got: Any, expected: Any, where: str = "result") -> None:
    """Identical results: same types, dtypes, shapes and bits (NaN where NaN)."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), where
        for k, (g, e) in enumerate(zip(got, expected)):
            assert_same(g, e, f"{where}[{k}]")
    elif isinstance(expected, float):
        assert isinstance(got, float), (where, type(got))
        assert got == expected or (math.isnan(got) and math.isnan(expected)), (where, got, expected)
    else:
        assert type(got) is type(expected), (where, type(got), type(expected))
        got, expected = np.asarray(got), np.asarray(expected)
        assert got.dtype == expected.dtype, (where, got.dtype, expected.dtype)
        np.testing.assert_array_equal(got, expected, err_msg=where, strict=True)


def result_dtypes(result: Any) -> set[np.dtype[Any]]:
    if isinstance(result, tuple):
        return set().union(*(result_dtypes(r) for r in result))
    return {np.asarray(result).dtype} if isinstance(result, (np.ndarray, np.generic)) else set()


def check_against_contiguous(
    call: Callable[..., Any], named: dict[str, Any], layer: bool = True
) -> tuple[Any, dict[str, np.ndarray]] | None:
    """Runs ``call`` on the arguments as given and on their contiguous copies; the same result,
    or the same documented error. Returns (result, copies) when it computed."""
    inputs = contiguous_inputs(named, layer)
    if isinstance(inputs, Rejected):
        check_rejected(lambda: call(**named), inputs)
        return None
    result = call(**named)
    assert_same(result, call(**inputs))
    dtype = next(iter(inputs.values())).dtype
    assert result_dtypes(result) <= {dtype}, (result_dtypes(result), dtype)
    return result, inputs


def check_layer_semantics(
    loss: float, grads: tuple[np.ndarray, ...], wrt: tuple[str, ...], x: np.ndarray, w: np.ndarray
) -> None:
    """Zero-size layers have loss 0 and zero gradients; gradients are shaped like parameters;
    a NaN that reaches Z reaches the loss."""
    batch, outputs = math.prod(x.shape[:-1]), w.shape[1]
    for item, grad in zip(wrt, grads):
        assert grad.shape == (x if item == "x" else w).shape
    if batch * outputs == 0:
        assert loss == 0.0
        for grad in grads:
            assert not grad.any()
    nan_in_x = bool(np.isnan(x).any()) and outputs > 0
    nan_in_w = bool(np.isnan(w).any()) and batch > 0
    if nan_in_x or nan_in_w:
        assert math.isnan(loss)


# --- The matrix -------------------------------------------------------------------------------

activations = st.sampled_from(sorted(ead.ACTIVATIONS))
layer_wrts = st.sampled_from([("w",), ("x",), ("x", "w"), ("w", "x"), "w", ["x"], ()])


@MATRIX_SETTINGS
@given(arguments=layer_arguments(), activation=activations)
def test_forward(arguments: tuple[Drawn, Drawn], activation: str) -> None:
    x, w = arguments
    computed = check_against_contiguous(
        lambda x, w: ead.forward(x, w, activation), {"x": x.value, "w": w.value}
    )
    if computed is not None:
        y, inputs = computed
        assert y.shape == (*inputs["x"].shape[:-1], inputs["w"].shape[1])


@MATRIX_SETTINGS
@given(
    arguments=layer_arguments(),
    activation=activations,
    mode=st.sampled_from(MODES),
    wrt=layer_wrts,
)
def test_value_and_grad(
    arguments: tuple[Drawn, Drawn], activation: str, mode: Any, wrt: Any
) -> None:
    x, w = arguments
    computed = check_against_contiguous(
        lambda x, w: ead.value_and_grad(x, w, activation, wrt=wrt, mode=mode),
        {"x": x.value, "w": w.value},
    )
    if computed is not None:
        (loss, grads), inputs = computed
        items = (wrt,) if isinstance(wrt, str) else tuple(wrt)
        check_layer_semantics(loss, grads, items, inputs["x"], inputs["w"])


@MATRIX_SETTINGS
@given(arguments=layer_arguments(), activation=activations, wrt=st.sampled_from(["w", "x"]))
def test_jacobian(arguments: tuple[Drawn, Drawn], activation: str, wrt: str) -> None:
    x, w = arguments
    computed = check_against_contiguous(
        lambda x, w: ead.jacobian(x, w, activation, wrt=wrt), {"x": x.value, "w": w.value}
    )
    if computed is not None:
        jac, inputs = computed
        parameter = inputs[wrt]
        y_shape = (*inputs["x"].shape[:-1], inputs["w"].shape[1])
        assert jac.shape == (*y_shape, *parameter.shape)


@MATRIX_SETTINGS
@given(
    x=st.one_of(
        st.lists(st.integers(0, 4), min_size=0, max_size=3).flatmap(
            lambda shape: arrays(tuple(shape))
        ),
        st.sampled_from(WRONG_RANK).map(lambda v: Drawn(v, np.asarray(v).dtype, "scalar")),
    ),
    activation=activations,
)
def test_derivative(x: Drawn, activation: str) -> None:
    computed = check_against_contiguous(
        lambda x: ead.derivative(activation, x), {"x": x.value}, layer=False
    )
    if computed is not None:
        (value, slope), inputs = computed
        assert np.shape(value) == np.shape(slope) == inputs["x"].shape
        # Scalars in, NumPy scalars out, as from a ufunc.
        assert isinstance(value, np.ndarray) == (inputs["x"].ndim > 0)


def layer_call(activation: str, wrt: Any, mode: Any) -> Callable[..., Any]:
    """CustomLayer with the kernel given, called and differentiated."""

    def call(inputs: Any, kernel: Any) -> Any:
        outputs = np.shape(kernel)[-1] if np.ndim(kernel) > 0 else 1
        layer = ead.CustomLayer(outputs, activation=activation, kernel=kernel)
        return layer(inputs), layer.value_and_grad(inputs, wrt=wrt, mode=mode)

    return call


@MATRIX_SETTINGS
@given(
    arguments=layer_arguments(),
    activation=activations,
    mode=st.sampled_from(MODES),
    wrt=st.sampled_from([("kernel",), ("inputs",), ("inputs", "kernel"), "kernel"]),
)
def test_custom_layer_with_kernel(
    arguments: tuple[Drawn, Drawn], activation: str, mode: Any, wrt: Any
) -> None:
    x, w = arguments
    # The kernel is checked when the layer is made, before the inputs are.
    named = {"kernel": w.value, "inputs": x.value}
    kernel_only = contiguous_inputs({"kernel": w.value}, layer=False)
    if not isinstance(kernel_only, Rejected) and kernel_only["kernel"].ndim != 2:
        kernel_only = Rejected(ValueError, "kernel")
    if isinstance(kernel_only, Rejected):
        check_rejected(lambda: layer_call(activation, wrt, mode)(**named), kernel_only)
        return
    computed = check_against_contiguous(
        lambda inputs, kernel: layer_call(activation, wrt, mode)(inputs, kernel),
        {"inputs": x.value, "kernel": w.value},
    )
    if computed is not None:
        (_, (loss, grads)), inputs = computed
        items = (wrt,) if isinstance(wrt, str) else wrt
        check_layer_semantics(
            loss,
            grads,
            tuple("x" if item == "inputs" else "w" for item in items),
            inputs["inputs"],
            inputs["kernel"],
        )


@MATRIX_SETTINGS
@given(arguments=layer_arguments(), activation=activations, outputs=st.integers(0, 3))
def test_custom_layer_builds_its_kernel(
    arguments: tuple[Drawn, Drawn], activation: str, outputs: int
) -> None:
    x, _ = arguments

    def call(inputs: Any) -> Any:
        layer = ead.CustomLayer(outputs, activation=activation, seed=1)
        try:
            return layer(inputs), layer.value_and_grad(inputs, wrt=("kernel", "inputs"))
        except ValueError:
            # Rejected inputs leave the layer unbuilt.
            assert layer.kernel is None
            raise

    inputs = contiguous_inputs({"inputs": x.value}, layer=False)
    # Inputs are (..., features), at least 2-D, like a Keras Dense layer's.
    if not isinstance(inputs, Rejected) and inputs["inputs"].ndim < 2:
        check_rejected(lambda: call(x.value), Rejected(ValueError, "inputs"))
        return
    computed = check_against_contiguous(call, {"inputs": x.value}, layer=False)
    if computed is None:
        return
    (y, _), inputs = computed
    assert y.shape == (*inputs["inputs"].shape[:-1], outputs)


# --- Explicit cases -----------------------------------------------------------------------------


def test_zero_size_layers_have_zero_loss_and_zero_gradients() -> None:
    for shapes in [((0, 3), (3, 2)), ((3, 2), (2, 0)), ((0, 0), (0, 0)), ((2, 0), (0, 3))]:
        x, w = np.ones(shapes[0]), np.ones(shapes[1])
        for mode in MODES:
            loss, (dw, dx) = ead.value_and_grad(x, w, "cos", wrt=("w", "x"), mode=mode)
            assert dw.shape == w.shape and dx.shape == x.shape
            assert not dw.any() and not dx.any()
            if 0 in (x.shape[0], w.shape[1]):
                assert loss == 0.0
            else:
                # No inputs: Z = 0 and Y = cos(0) = 1 everywhere.
                assert loss == x.shape[0] * w.shape[1]
        y = ead.forward(x, w, "cos")
        assert y.shape == (x.shape[0], w.shape[1])
        assert ead.jacobian(x, w, "cos", "w").shape == (*y.shape, *w.shape)
        assert ead.jacobian(x, w, "cos", "x").shape == (*y.shape, *x.shape)


def test_nan_and_infinity_propagate() -> None:
    x = np.array([[np.nan, 1.0], [0.5, 1.0], [np.inf, 0.0]])
    w = np.ones((2, 2))
    for mode in MODES:
        loss, (dw, dx) = ead.value_and_grad(x, w, "sin", wrt=("w", "x"), mode=mode)
        assert math.isnan(loss)
        assert np.isnan(dw).all()
        assert np.isnan(dx[[0, 2]]).all()
        if mode == "forward_dynamic":
            # One derivative vector holds every parameter: d(Y**2) = 2 Y dY with a NaN Y gives
            # NaN * 0 = NaN in every slot, also those of the rows that NaN never reached.
            assert np.isnan(dx[1]).all()
        else:
            assert np.isfinite(dx[1]).all()
    y = ead.forward(x, w, "sin")
    assert np.isnan(y[[0, 2]]).all() and np.isfinite(y[1]).all()
    value, slope = ead.derivative("exp", np.array([np.nan, np.inf, -np.inf]))
    np.testing.assert_array_equal(value, [np.nan, np.inf, 0.0])
    np.testing.assert_array_equal(slope, [np.nan, np.inf, 0.0])


def test_bad_wrt_and_mode_name_the_argument() -> None:
    x, w = np.ones((2, 3)), np.ones((3, 1))
    for wrt in (None, 3, [1], [("w",)], {"w": 1}.values()):
        check_rejected(
            lambda wrt=wrt: ead.value_and_grad(x, w, wrt=wrt), Rejected(TypeError, "wrt")
        )
    for mode in (None, [], "backward", 0):
        check_rejected(
            lambda mode=mode: ead.value_and_grad(x, w, mode=mode), Rejected(ValueError, "mode")
        )
    for wrt in (None, ["w"], "kernel"):
        check_rejected(lambda wrt=wrt: ead.jacobian(x, w, wrt=wrt), Rejected(ValueError, "wrt"))
    layer = ead.CustomLayer(1, seed=0)
    check_rejected(lambda: layer.value_and_grad(x, mode="sideways"), Rejected(ValueError, "mode"))
    check_rejected(lambda: layer.value_and_grad(x, wrt=None), Rejected(TypeError, "wrt"))
    assert layer.kernel is None


def test_masked_entries_are_refused_rather_than_silently_used() -> None:
    x = np.ma.masked_array([[1.0, 2.0]], mask=[[False, True]])
    check_rejected(lambda: ead.forward(x, np.ones((2, 1))), Rejected(TypeError, "x"))
    check_rejected(lambda: ead.derivative("sin", x), Rejected(TypeError, "x"))
    # Without masked entries, a masked array is its data.
    unmasked = np.ma.masked_array([[1.0, 2.0]], mask=[[False, False]])
    assert_same(ead.forward(unmasked, np.ones((2, 1))), ead.forward(unmasked.data, np.ones((2, 1))))


def test_custom_layer_inputs_that_do_not_fit_the_kernel_leave_it_unchanged() -> None:
    layer = ead.CustomLayer(2, seed=0)
    layer(np.ones((1, 3)))
    kernel = layer.kernel
    check_rejected(lambda: layer(np.ones((1, 4))), Rejected(ValueError, "inputs"))
    check_rejected(lambda: layer(np.ones(3)), Rejected(ValueError, "inputs"))
    assert layer.kernel is kernel


def test_extended_precision_and_large_integers_compute_in_float64() -> None:
    x = np.array([[2**64 - 1, 3]], dtype=np.uint64)
    w = np.array([[1e-19], [0.5]], dtype=np.longdouble)
    assert_same(
        ead.forward(x, w, "identity"),
        ead.forward(x.astype(np.float64), w.astype(np.float64), "identity"),
    )
