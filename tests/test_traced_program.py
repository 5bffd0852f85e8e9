"""TracedProgram as a Python object: pickling and copying, the limit on live values, and messages
built only when an error is raised (issue 10)."""

from __future__ import annotations

import copy
import pickle
import struct
from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff import _core


def sample(x: Any) -> Any:
    # Constants whose bits a decimal round trip could lose, -0.0 and a conditional branch.
    y = ead.sin(x) * (1.0 / 3.0) + ead.exp(-x) * -0.0
    return ead.where(x > 0.1, y, ead.custom_derivative(ead.tanh, lambda z: 0.1 + 0 * z)(x))


def bits(program: _core.TracedProgram) -> list[tuple[Any, ...]]:
    return [(*fields[:6], struct.pack("<d", fields[6])) for fields in program.instructions]


def same_program(a: _core.TracedProgram, b: _core.TracedProgram) -> None:
    assert a is not b
    assert bits(a) == bits(b)
    assert (a.output, a.name, str(a), repr(a)) == (b.output, b.name, str(b), repr(b))
    x = np.linspace(-2.0, 2.0, 101)
    for dtype in (np.float32, np.float64):
        for got, expected in zip(
            ead.derivative(b, x.astype(dtype)), ead.derivative(a, x.astype(dtype))
        ):
            assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_traced_program_pickles_bit_for_bit(protocol: int) -> None:
    program = ead.trace(sample)
    same_program(program, pickle.loads(pickle.dumps(program, protocol=protocol)))


def test_traced_program_copies_and_deep_copies() -> None:
    program = ead.trace(sample)
    same_program(program, copy.copy(program))
    same_program(program, copy.deepcopy(program))
    holder = copy.deepcopy({"a": program, "b": program})
    assert holder["a"] is holder["b"], "deepcopy keeps shared references shared"


def test_custom_layer_with_a_traced_activation_pickles() -> None:
    x = np.linspace(-1.0, 1.0, 12).reshape(4, 3)
    layer = ead.CustomLayer(2, activation=ead.trace(sample), seed=0)
    expected = layer(x)
    for clone in (pickle.loads(pickle.dumps(layer)), copy.deepcopy(layer), copy.copy(layer)):
        assert clone(x).tobytes() == expected.tobytes()
        loss, (d_kernel,) = clone.value_and_grad(x)
        expected_loss, (expected_d_kernel,) = layer.value_and_grad(x)
        assert loss == expected_loss and d_kernel.tobytes() == expected_d_kernel.tobytes()


def test_too_many_live_values_are_named_as_such() -> None:
    def wide(x: Any) -> Any:
        # Every term stays live until the sum reaches it: 70000 values at once.
        return sum([x * (1.0 + k * 1e-6) for k in range(70_000)])

    message = r"activation too large: 700\d\d live values, at most 65535"
    with pytest.raises(ValueError, match=message):
        ead.trace(wide)


def test_messages_are_built_only_when_raising() -> None:
    # The disassembly of a large program took most of the time of a derivative() call, for a
    # message that was never shown.
    described = []

    class Watched(_core.TracedProgram):
        def __str__(self) -> str:
            described.append(True)
            return super().__str__()

    program = ead.trace(sample)
    watched = Watched(program.instructions, program.output, program.name)
    value, slope = ead.derivative(watched, np.linspace(-1.0, 1.0, 5))
    assert value.shape == slope.shape == (5,)
    assert not described
