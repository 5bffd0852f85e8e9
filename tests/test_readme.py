"""The README's Python examples each run as written, on their own (a fresh namespace each).

Examples that import an optional framework (PyTorch, JAX, Keras) skip where the framework is
not installed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)

# A module an example imports -> the optional packages it needs.
OPTIONAL = {
    "torch": ("torch",),
    "jax": ("jax",),
    "keras": ("keras", "tensorflow"),
    "tensorflow": ("tensorflow",),
    "eigen_autodiff.torch": ("torch",),
    "eigen_autodiff.jax": ("jax",),
    "eigen_autodiff.keras": ("keras", "tensorflow"),
}


def requirements(block: str) -> tuple[str, ...]:
    """The optional packages the example imports, in a stable order."""
    needed: set[str] = set()
    for node in ast.walk(ast.parse(block)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            for prefix in (module, module.split(".")[0]):
                needed.update(OPTIONAL.get(prefix, ()))
    return tuple(sorted(needed))


CORE_BLOCKS = [block for block in BLOCKS if not requirements(block)]
FRAMEWORK_BLOCKS = [block for block in BLOCKS if requirements(block)]


def test_readme_has_python_examples() -> None:
    assert len(CORE_BLOCKS) >= 4
    assert {"torch", "jax", "keras"} <= {r for b in FRAMEWORK_BLOCKS for r in requirements(b)}


def test_readme_python_examples_run_on_their_own(capsys: pytest.CaptureFixture[str]) -> None:
    for number, block in enumerate(CORE_BLOCKS):
        exec(compile(block, f"README.md python block {number}", "exec"), {})
    shown = capsys.readouterr().out
    assert "Diagnosis(inv_exp: 3 points x float32, float64: 3 failures)" in shown


@pytest.mark.parametrize(
    "block", FRAMEWORK_BLOCKS, ids=["+".join(requirements(b)) for b in FRAMEWORK_BLOCKS]
)
def test_readme_framework_example_runs_on_its_own(block: str) -> None:
    for requirement in requirements(block):
        pytest.importorskip(requirement)
    exec(compile(block, "README.md framework example", "exec"), {})
