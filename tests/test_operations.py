"""The C++ table of traced operations (_core.OPERATIONS) is the one place an operation is
declared: the tracer, the public functions, the command line and the README follow it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import eigen_autodiff as ead
from eigen_autodiff._cli import build_parser
from eigen_autodiff._tracing import primitives as _primitives
from eigen_autodiff._tracing.symbolic import OPERATIONS

README = Path(__file__).resolve().parents[1] / "README.md"

# Functions of one argument: recorded by ead.<name>. neg is the operator -x.
FUNCTIONS = [
    op.name
    for op in OPERATIONS.values()
    if op.arity == 1 and op.operands == ("same",) and op.result == "same"
    and not op.uses_constant and op.name != "neg"
]  # fmt: skip


def test_the_table_describes_every_operation() -> None:
    for op in OPERATIONS.values():
        assert op.arity == len(op.operands), op
        assert op.doc, op
        assert set(op.operands) <= {"same", "ad", "value", "condition"}, op


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_of_the_table_is_public_and_recorded(name: str) -> None:
    function = getattr(ead, name)
    assert name in _primitives.__all__
    assert OPERATIONS[name].doc.split(";")[0] in function.__doc__.lower()
    program = ead.trace(lambda x: function(x))
    assert program.instructions == [(name, "ad", 1, 0, 0, 0, 0.0)]


@pytest.mark.parametrize("op", [op for op in OPERATIONS.values() if op.numpy], ids=str)
def test_numpy_ufuncs_record_their_operation(op: ead._core.Operation) -> None:
    ufunc = getattr(np, op.numpy)
    if op.result == "condition":
        # A condition is recorded through the where that consumes it.
        if op.operands == ("condition",):
            program = ead.trace(lambda x: ead.where(ufunc(x > 0), x, 0.0))
        elif op.operands[0] == "condition":
            program = ead.trace(lambda x: ead.where(ufunc(x > 0, x < 1), x, 0.0))
        else:
            program = ead.trace(lambda x: ead.where(ufunc(x, ead.sin(x)), x, 0.0))
    elif op.arity == 1:
        program = ead.trace(lambda x: ufunc(x))
    else:
        program = ead.trace(lambda x: ufunc(x, ead.sin(x)))
    assert op.name in [instruction[0] for instruction in program.instructions]


def test_the_command_line_and_readme_list_the_functions() -> None:
    functions = [*FUNCTIONS, "maximum", "minimum", "pow", "where"]
    assert sorted(_primitives.__all__) == sorted(functions)
    diagnose_help = build_parser()._subparsers._group_actions[0].choices["diagnose"].description
    assert all(re.search(rf"\b{name}\b", diagnose_help) for name in functions)
    listed = re.search(r"- `ead\.([a-z0-9_, \n]+)` and the NumPy ufuncs", README.read_text())
    assert listed is not None
    assert sorted(re.split(r",\s*", listed.group(1))) == sorted(functions)


def test_atan_and_its_derivative() -> None:
    # The operation added through the table alone (docs/layout.md), against NumPy and the
    # derivative written by hand.
    x = np.linspace(-30.0, 30.0, 121)
    value, slope = ead.derivative(ead.atan, x)
    np.testing.assert_allclose(value, np.arctan(x), rtol=1e-15)
    np.testing.assert_allclose(slope, 1.0 / (1.0 + x**2), rtol=1e-15)
    value, slope = ead.derivative(lambda v: np.arctan(2 * v), x)
    np.testing.assert_allclose(slope, 2.0 / (1.0 + 4 * x**2), rtol=1e-15)
