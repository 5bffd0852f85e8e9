"""The examples in the docstrings of the optional modules run where their frameworks exist."""

from __future__ import annotations

import doctest
import importlib
from collections.abc import Iterator

import pytest

# Module -> the optional packages its examples need.
MODULES = {
    "eigen_autodiff.torch": ("torch",),
    "eigen_autodiff.jax": ("jax",),
    "eigen_autodiff.keras": ("keras", "tensorflow"),
    "eigen_autodiff._training": ("sklearn", "tqdm"),
}


@pytest.fixture
def jax_default_precision() -> Iterator[None]:
    """The JAX examples show float32 results, JAX's default, whatever other tests set."""
    jax = importlib.import_module("jax")
    previous = jax.config.jax_enable_x64
    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", previous)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_docstring_examples(name: str, request: pytest.FixtureRequest) -> None:
    for requirement in MODULES[name]:
        pytest.importorskip(requirement)
    if name == "eigen_autodiff.jax":
        request.getfixturevalue("jax_default_precision")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
