"""The framework layers are optional: importing the package never imports a framework, and a
missing framework gives an ImportError with the pip command."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

# eigen_autodiff's submodule -> the framework modules it imports.
FRAMEWORKS = {
    "torch": ("torch",),
    "jax": ("jax",),
    "keras": ("keras", "tensorflow"),
}


def test_importing_the_package_imports_no_framework() -> None:
    code = (
        "import sys, eigen_autodiff, eigen_autodiff._cli; "
        "print(sorted(m for m in ('torch', 'jax', 'keras', 'tensorflow', 'sklearn') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("submodule", sorted(FRAMEWORKS))
def test_a_missing_framework_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, submodule: str
) -> None:
    for name in FRAMEWORKS[submodule]:
        monkeypatch.setitem(sys.modules, name, None)  # import then raises ImportError
    monkeypatch.delitem(sys.modules, f"eigen_autodiff.{submodule}", raising=False)
    with pytest.raises(ImportError, match=rf"pip install 'eigen-autodiff\[{submodule}\]'"):
        importlib.import_module(f"eigen_autodiff.{submodule}")
