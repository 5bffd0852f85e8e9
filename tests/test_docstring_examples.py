"""The examples in the docstrings of the public API run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    # The compiled module: its docstrings (set_num_threads, TracedProgram, ...) are in C++.
    "eigen_autodiff._core",
    "eigen_autodiff._tracing.activation_spec",
    "eigen_autodiff._derivative",
    "eigen_autodiff._diagnostics.check_grad",
    "eigen_autodiff._cli.command_line",
    "eigen_autodiff._tracing.custom_derivative",
    "eigen_autodiff._tracing.errors",
    "eigen_autodiff._custom_layer",
    "eigen_autodiff._diagnostics.diagnose",
    "eigen_autodiff._tracing.expression",
    "eigen_autodiff._diagnostics.finite_differences",
    "eigen_autodiff._layer",
    "eigen_autodiff._paths",
    "eigen_autodiff._tracing.primitives",
    "eigen_autodiff._tracing.symbolic",
    "eigen_autodiff._tracing.trace",
    "eigen_autodiff.reference",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
