"""Tracing a Python activation: what it records, caching, constants, conditions, NumPy's
protocols, the primitives on plain numbers, threads, and the errors for what it cannot trace."""

from __future__ import annotations

import functools
import gc
import math
import threading
import weakref
from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff._diagnostics.finite_differences import central_difference
from eigen_autodiff._tracing import trace as _trace

X = np.ones((3, 4))
W = np.ones((4, 2))


# --- what is recorded ----------------------------------------------------------------------------


def test_listing_shows_shared_subexpressions_once() -> None:
    program = ead.trace(lambda x: ead.exp(x) / (1 + ead.exp(x)))
    listing = str(program)
    assert listing.count("= exp") == 1, listing
    assert listing.splitlines()[-1].startswith("return a")
    assert repr(program) == "<TracedProgram '<lambda>', 3 instructions>"


def test_constant_activation_has_zero_derivative() -> None:
    for constant in (lambda x: 2.5, lambda x: np.float32(2.5), lambda x: 0 * x + 2.5):
        value, slope = ead.derivative(constant, np.array([-1.0, 3.0]))
        np.testing.assert_array_equal(value, [2.5, 2.5])
        np.testing.assert_array_equal(slope, [0.0, 0.0])
        np.testing.assert_array_equal(ead.forward(X, W, constant), np.full((3, 2), 2.5))
        for mode in ("reverse", "forward"):
            loss, (dw, dx) = ead.value_and_grad(X, W, constant, wrt=("w", "x"), mode=mode)
            assert loss == 6 * 2.5**2
            assert not dw.any() and not dx.any()


def test_operators_with_constants_on_either_side(rng: np.random.Generator) -> None:
    x = rng.uniform(0.5, 2.0, 50)

    def every_operator(x: Any) -> Any:
        return (3 + x) * (x - 1) / (2 - x) + 4 / x - x / 5 + 1.5**x + x**2.5 - (-x) + (+x)

    value, slope = ead.derivative(every_operator, x)
    expected = (3 + x) * (x - 1) / (2 - x) + 4 / x - x / 5 + 1.5**x + x**2.5 + 2 * x
    d = (
        ((x - 1) + (3 + x)) / (2 - x)
        + (3 + x) * (x - 1) / (2 - x) ** 2
        - 4 / x**2
        - 0.2
        + math.log(1.5) * 1.5**x
        + 2.5 * x**1.5
        + 2
    )
    np.testing.assert_allclose(value, expected, rtol=1e-13)
    np.testing.assert_allclose(slope, d, rtol=1e-12)


def test_numpy_scalars_and_zero_d_arrays_are_constants() -> None:
    value, slope = ead.derivative(lambda x: np.float64(2.0) * x + np.array(1.0), 3.0)
    assert (value, slope) == (7.0, 2.0)
    value, slope = ead.derivative(lambda x: np.float32(2.0) ** x, 3.0)
    assert value == 8.0 and slope == pytest.approx(8 * math.log(2.0), rel=1e-15)


# --- conditions ----------------------------------------------------------------------------------


COMPARISONS = {
    "lt": (lambda x: x < 1.0, lambda x: x < 1.0),
    "le": (lambda x: x <= 1.0, lambda x: x <= 1.0),
    "gt": (lambda x: x > 1.0, lambda x: x > 1.0),
    "ge": (lambda x: x >= 1.0, lambda x: x >= 1.0),
    "eq": (lambda x: x == 1.0, lambda x: x == 1.0),
    "ne": (lambda x: x != 1.0, lambda x: x != 1.0),
    # The constant on the left: Python asks the traced value's reflected operator.
    "reflected": (lambda x: 1.0 < x, lambda x: 1.0 < x),  # noqa: SIM300
    "two values": (lambda x: x * x < x + 0.5, lambda x: x * x < x + 0.5),
    "and": (lambda x: (x > 0) & (x < 2), lambda x: (x > 0) & (x < 2)),
    "or": (lambda x: (x < 0) | (x >= 2), lambda x: (x < 0) | (x >= 2)),
    "not": (lambda x: ~(x > 1), lambda x: ~(x > 1)),
    "numpy": (
        lambda x: np.logical_and(np.greater_equal(x, 0), np.less(2, x)),
        lambda x: np.logical_and(x >= 0, x > 2),
    ),
    "numpy not": (
        lambda x: np.logical_not(np.equal(x, 1)),
        lambda x: np.logical_not(x == 1),
    ),
}


@pytest.mark.parametrize("name", sorted(COMPARISONS))
def test_where_with_each_condition(name: str) -> None:
    traced_condition, numpy_condition = COMPARISONS[name]
    # Exactly 1.0 and 2.0 are among the points, so equality and ties are exercised.
    x = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0])

    def activation(x: Any) -> Any:
        return ead.where(traced_condition(x), 3 * x, x * x)

    value, slope = ead.derivative(activation, x)
    chosen = numpy_condition(x)
    np.testing.assert_array_equal(value, np.where(chosen, 3 * x, x * x))
    np.testing.assert_array_equal(slope, np.where(chosen, 3.0, 2 * x))


def test_numpy_where_and_clip() -> None:
    x = np.array([-3.0, -0.5, 0.5, 3.0])
    value, slope = ead.derivative(lambda x: np.where(x > 0, np.sqrt(x), 0.0), x)
    np.testing.assert_array_equal(value, np.where(x > 0, np.sqrt(np.abs(x)), 0.0))
    # sqrt's derivative at negative x is NaN, but the branch not chosen does not leak.
    np.testing.assert_array_equal(slope, np.where(x > 0, 0.5 / np.sqrt(np.abs(x)), 0.0))
    value, slope = ead.derivative(lambda x: np.clip(x, -1, 1), x)
    np.testing.assert_array_equal(value, [-1.0, -0.5, 0.5, 1.0])
    np.testing.assert_array_equal(slope, [0.0, 1.0, 1.0, 0.0])
    value, _ = ead.derivative(lambda x: np.clip(x, a_min=None, a_max=0.0), x)
    np.testing.assert_array_equal(value, [-3.0, -0.5, 0.0, 0.0])


def test_constant_branches_and_conditions() -> None:
    value, slope = ead.derivative(lambda x: ead.where(x > 0, 1.0, -1.0), np.array([-2.0, 2.0]))
    np.testing.assert_array_equal(value, [-1.0, 1.0])
    np.testing.assert_array_equal(slope, [0.0, 0.0])
    assert ead.derivative(lambda x: ead.where(True, x, 0.0), 2.0) == (2.0, 1.0)


def test_maximum_and_minimum_conventions() -> None:
    # maximum(a, b) is where(a > b, a, b): at a tie the derivative is b's; NaN propagates.
    assert ead.derivative(lambda x: ead.maximum(x, 0.0), 0.0) == (0.0, 0.0)  # relu'(0) = 0
    assert ead.derivative(lambda x: ead.maximum(0.0, x), 0.0) == (0.0, 1.0)
    assert ead.derivative(lambda x: ead.minimum(x, 0.0), 0.0) == (0.0, 0.0)
    # The result is then the NaN argument itself, with its derivative (as the built-in relu).
    for f in (lambda x: ead.maximum(x, 0.0), lambda x: ead.minimum(0.0, x)):
        value, slope = ead.derivative(f, np.nan)
        assert np.isnan(value) and slope == 1.0
    assert ead.derivative(lambda x: ead.maximum(x, x * x), 2.0) == (4.0, 4.0)


def test_abs_at_zero_is_eigens_convention() -> None:
    assert ead.derivative(lambda x: abs(x), 0.0) == (0.0, 1.0)
    assert ead.derivative(np.abs, -0.0)[1] == 1.0


# --- caching -------------------------------------------------------------------------------------


def test_a_callable_is_traced_once() -> None:
    calls = []

    def counted(x: Any) -> Any:
        calls.append(x)
        return x * x

    first = ead.trace(counted)
    ead.forward(X, W, counted)
    ead.value_and_grad(X, W, counted)
    ead.derivative(counted, 1.0)
    layer = ead.CustomLayer(2, activation=counted)
    layer(X)
    assert len(calls) == 1
    assert ead.trace(counted) is first
    assert ead.trace(first) is first


def test_callables_without_weak_references_are_cached_too() -> None:
    # NumPy ufuncs and builtins cannot be weakly referenced.
    assert ead.trace(np.sin) is ead.trace(np.sin)
    assert ead.trace(abs) is ead.trace(abs)


class Scaled:
    """A callable instance with a bound method: both read state that can change."""

    def __init__(self, k: float) -> None:
        self.k = k

    def act(self, x: Any) -> Any:
        return self.k * ead.sin(x)

    def __call__(self, x: Any) -> Any:
        return self.k * ead.sin(x)


def test_bound_methods_partials_and_callable_instances_see_changed_state() -> None:
    # Issue 10, item 7: an equality-keyed cache returned the program traced before the change.
    s = Scaled(1.0)
    method = s.act  # kept alive, as a layer or a user's variable would
    assert ead.derivative(method, 0.0)[1] == 1.0
    assert ead.derivative(s, 0.0)[1] == 1.0
    s.k = 5.0
    assert ead.derivative(s.act, 0.0)[1] == 5.0
    assert ead.derivative(method, 0.0)[1] == 5.0
    assert ead.derivative(s, 0.0)[1] == 5.0

    state = {"k": 1.0}

    def scaled(x: Any, table: dict[str, float]) -> Any:
        return table["k"] * x

    partial = functools.partial(scaled, table=state)
    assert ead.derivative(partial, 0.0)[1] == 1.0
    state["k"] = 7.0
    assert ead.derivative(partial, 0.0)[1] == 7.0
    layer = ead.CustomLayer(2, activation=s.act, kernel=W)
    before = layer(X)
    s.k = 2.0
    np.testing.assert_allclose(layer(X), before * 2.0 / 5.0, rtol=1e-14)


def test_plain_functions_and_custom_derivatives_stay_cached() -> None:
    def square(x: Any) -> Any:
        return x * x

    stable = ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))
    assert ead.trace(square) is ead.trace(square)
    assert ead.trace(stable) is ead.trace(stable)
    # A custom derivative built from a bound method follows the method's state.
    s = Scaled(1.0)
    wrapped = ead.custom_derivative(s.act, lambda x: s.k * ead.cos(x))
    assert ead.trace(wrapped) is not ead.trace(wrapped)


def test_the_cache_does_not_keep_callables_alive() -> None:
    def make() -> Any:
        return lambda x: x + 1.0

    f = make()
    ead.trace(f)
    assert f in _trace._weak_cache
    alive = weakref.ref(f)
    del f
    gc.collect()
    assert alive() is None


# --- primitives on numbers -----------------------------------------------------------------------


def test_primitives_on_numbers_and_arrays() -> None:
    x = np.linspace(-0.5, 2, 9)
    for primitive, numpy_function in [
        (ead.sin, np.sin),
        (ead.exp, np.exp),
        (ead.tanh, np.tanh),
        (ead.log1p, np.log1p),
        (ead.abs, np.abs),
    ]:
        np.testing.assert_allclose(primitive(x), numpy_function(x), rtol=1e-15)
    assert ead.sigmoid(np.float32(0.0)) == 0.5 and ead.sigmoid(np.float32(0.0)).dtype == np.float32
    assert ead.erf(0.0) == 0.0
    assert ead.maximum(2.0, 3.0) == 3.0 and ead.minimum(2.0, 3.0) == 2.0
    assert ead.pow(2.0, 3) == 8.0
    np.testing.assert_array_equal(ead.where(x > 0, x, 0.0), np.maximum(x, 0.0))
    # So an activation can be tried on data as it is.
    swish = lambda x: x * ead.sigmoid(x)  # noqa: E731
    np.testing.assert_allclose(swish(x), ead.forward(x[:, None], np.ones((1, 1)), swish)[:, 0])


def test_float32_stays_float32() -> None:
    x = np.ones((2, 3), np.float32)
    w = np.ones((3, 2), np.float32)
    y = ead.forward(x, w, lambda z: ead.sqrt(z) + 1)
    assert y.dtype == np.float32
    _, (dw,) = ead.value_and_grad(x, w, lambda z: ead.sqrt(z) + 1)
    assert dw.dtype == np.float32


# --- programs the registers on the stack do not hold ---------------------------------------------


def test_many_live_values(rng: np.random.Generator) -> None:
    # Twenty sines, all computed before they are summed: more live registers than the stack holds.
    def wide(x: Any) -> Any:
        terms = [ead.sin(k * x) for k in range(1, 21)]
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        return total

    x = rng.uniform(-2, 2, 50)
    k = np.arange(1, 21)[:, None]
    value, slope = ead.derivative(wide, x)
    np.testing.assert_allclose(value, np.sin(k * x).sum(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(slope, (k * np.cos(k * x)).sum(axis=0), rtol=1e-12, atol=1e-12)
    for mode in ("reverse", "forward"):
        _, (dw,) = ead.value_and_grad(X * 0.1, W, wide, mode=mode)
        _, (expected,) = ead.value_and_grad(X * 0.1, W, lambda x: wide(x) * 1.0, mode="reverse")
        np.testing.assert_allclose(dw, expected, rtol=1e-12)


def test_long_chain() -> None:
    def chain(x: Any) -> Any:
        for _ in range(300):
            x = ead.sin(x) + 0.5 * x
        return x

    _, slope = ead.derivative(chain, 0.3)
    numeric = central_difference(lambda x: ead.derivative(chain, x)[0], 0.3)
    assert slope == pytest.approx(float(numeric), rel=1e-6)


# --- threads -------------------------------------------------------------------------------------


def test_one_program_from_many_python_threads(rng: np.random.Generator) -> None:
    x = rng.uniform(-1, 1, (256, 64))
    w = rng.uniform(-1, 1, (64, 128))

    def gelu(z: Any) -> Any:
        return 0.5 * z * (1 + ead.tanh(0.7978845608 * (z + 0.044715 * z**3)))

    expected = ead.value_and_grad(x, w, gelu, wrt=("w", "x"))
    results: list[Any] = [None] * 6

    def work(k: int) -> None:
        results[k] = ead.value_and_grad(x, w, gelu, wrt=("w", "x"))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for loss, (dw, dx) in results:
        assert loss == expected[0]
        np.testing.assert_array_equal(dw, expected[1][0])
        np.testing.assert_array_equal(dx, expected[1][1])


# --- what cannot be traced -----------------------------------------------------------------------


def test_python_control_flow_points_to_where() -> None:
    def branchy(x: Any) -> Any:
        if x > 0:
            return x
        return 0.1 * x

    with pytest.raises(TypeError, match=r"control flow .* ead\.where\(condition, a, b\)"):
        ead.forward(X, W, branchy)
    with pytest.raises(TypeError, match="truth value of a traced value"):
        ead.derivative(lambda x: max(x, 0.0), 1.0)
    with pytest.raises(TypeError, match="truth value of a traced value"):
        ead.derivative(lambda x: x > 0 and x < 1, 1.0)


@pytest.mark.parametrize(
    ("activation", "named"),
    [
        (lambda x: x % 2, "the operator %"),
        (lambda x: x // 2, "the operator //"),
        (lambda x: round(x), r"round\(\)"),
        (lambda x: math.floor(x), r"math\.floor\(\)"),
        (np.floor, "numpy.floor"),
        (lambda x: np.arctan2(x, 1.0), "numpy.arctan2"),
        (lambda x: np.sum(x), "numpy.sum"),
        (lambda x: np.add.reduce(x), r"numpy\.add\.reduce"),
        (lambda x: np.exp(x, dtype=np.float32), "numpy.exp with keyword arguments"),
        (lambda x: np.where(x > 0), "numpy.where with one argument"),
        (lambda x: x & x, "the operator & on a value"),
    ],
)
def test_unsupported_operations_are_named_with_what_is_supported(
    activation: Any, named: str
) -> None:
    with pytest.raises(TypeError, match=named + r".* not supported .* Supported: .*ead\.where"):
        ead.derivative(activation, 1.0)


def test_unsupported_message_lists_the_primitives() -> None:
    with pytest.raises(TypeError) as info:
        ead.derivative(np.floor, 1.0)
    message = str(info.value)
    for name in ("ead.sin", "ead.sigmoid", "ead.custom_derivative", "numpy.exp", "numpy.where"):
        assert name in message


@pytest.mark.parametrize(
    ("activation", "message"),
    [
        (lambda x: math.sin(x), "not a number yet"),
        (lambda x: float(x), "not a number yet"),
        (lambda x: x**x, "traced exponent"),
        (lambda x: np.asarray(x), "cannot become a NumPy array"),
        (lambda x: x + np.ones(3), "constants are scalars"),
        (lambda x: x * 1j, "constants are scalars"),
        (lambda x: ead.where(np.array([True]), x, 0.0), "condition must be a comparison"),
        (lambda x: (x > 0) & True, "combines conditions"),
        (lambda x: ead.sin(x > 0), "of a condition"),
        (lambda x: (x > 0) * 2.0, "unsupported operand"),
        (lambda x: x > 0, "result of activation .* is a condition"),
        (lambda x: "x", "must be a traced value computed from"),
        (lambda x: None, "must be a traced value computed from"),
        (lambda x: np.ones(2), "must be a traced value computed from"),
    ],
)
def test_misuse_is_a_clear_type_error(activation: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        ead.derivative(activation, 1.0)


def test_values_of_another_trace_are_rejected() -> None:
    kept = []

    def first(x: Any) -> Any:
        kept.append(x)
        return x

    ead.trace(first)
    with pytest.raises(TypeError, match="another trace"):
        ead.derivative(lambda x: x + kept[0], 1.0)
    with pytest.raises(TypeError, match="a value from another trace"):
        ead.derivative(lambda x: kept[0], 1.0)


def test_activation_of_the_wrong_type() -> None:
    for bad in (3, [np.sin]):
        with pytest.raises(TypeError, match="built-in activation or a callable"):
            ead.forward(X, W, bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="built-in activation or a callable"):
            ead.CustomLayer(2, activation=bad)  # type: ignore[arg-type]
