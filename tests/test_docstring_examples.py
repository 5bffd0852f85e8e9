"""The examples in the docstrings of the activation API run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "eigen_autodiff._activation_spec",
    "eigen_autodiff._activations",
    "eigen_autodiff._check_grad",
    "eigen_autodiff._cli",
    "eigen_autodiff._custom_derivative",
    "eigen_autodiff._custom_layer",
    "eigen_autodiff._diagnose",
    "eigen_autodiff._expression",
    "eigen_autodiff._finite_differences",
    "eigen_autodiff._layer",
    "eigen_autodiff._primitives",
    "eigen_autodiff._symbolic",
    "eigen_autodiff._trace",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
