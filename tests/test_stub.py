"""_core.pyi lists exactly the compiled module's names, with each overload's parameters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import eigen_autodiff
from eigen_autodiff import _core

STUB = Path(eigen_autodiff.__file__).with_name("_core.pyi")


def stub_definitions() -> tuple[dict[str, list[list[str]]], set[str]]:
    """Functions (name -> parameter names of each definition) and annotated attributes."""
    tree = ast.parse(STUB.read_text())
    functions: dict[str, list[list[str]]] = {}
    attributes: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions.setdefault(node.name, []).append([a.arg for a in node.args.args])
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            attributes.add(node.target.id)
    return functions, attributes


def module_signatures(function: object) -> list[list[str]]:
    """Parameter names of each overload, read from pybind11's docstring signatures."""
    name = function.__name__  # type: ignore[attr-defined]
    signatures = re.findall(rf"^(?:\d+\. )?{name}\((.*)\) ->", function.__doc__ or "", re.M)
    signatures = [s for s in signatures if s != "*args, **kwargs"]
    return [[p.split(":")[0].strip() for p in s.split(", ") if p] for s in signatures]


def test_stub_has_every_name_of_the_module_and_no_other() -> None:
    functions, attributes = stub_definitions()
    public = {name for name in dir(_core) if not name.startswith("_")} | {"__version__"}
    assert set(functions) | attributes == public


def test_stub_overloads_have_the_modules_parameters() -> None:
    functions, _ = stub_definitions()
    for name, definitions in functions.items():
        assert definitions == module_signatures(getattr(_core, name)), name
