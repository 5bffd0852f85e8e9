"""_core.pyi lists exactly the compiled module's names, with each overload's parameters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import eigen_autodiff
from eigen_autodiff import _core

STUB = Path(eigen_autodiff.__file__).with_name("_core.pyi")


def stub_definitions() -> tuple[dict[str, list[list[str]]], set[str], set[str]]:
    """Functions (name -> parameter names of each definition), attributes and classes, members.

    A class's methods and properties are listed as "Class.method", its annotated fields and
    enumerators among the members, as "Class.field". Type aliases (plain
    assignments) are the stub's own and not listed.
    """
    tree = ast.parse(STUB.read_text())
    functions: dict[str, list[list[str]]] = {}
    attributes: set[str] = set()
    members: set[str] = set()

    def add_functions(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef):
                parameters = [a.arg for a in node.args.args]
                functions.setdefault(prefix + node.name, []).append(parameters)
            elif prefix and isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                # A class's fields and enumerators: listed like its methods, with no parameters.
                members.add(prefix + node.target.id)

    add_functions(tree.body, "")
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            attributes.add(node.target.id)
        elif isinstance(node, ast.ClassDef):
            attributes.add(node.name)
            add_functions(node.body, node.name + ".")
    return functions, attributes, members


def module_signatures(function: object) -> list[list[str]]:
    """Parameter names of each overload, read from pybind11's docstring signatures."""
    if isinstance(function, property):
        return [["self"]]
    name = function.__name__  # type: ignore[attr-defined]
    signatures = re.findall(rf"^(?:\d+\. )?{name}\((.*)\) ->", function.__doc__ or "", re.M)
    signatures = [s for s in signatures if s != "*args, **kwargs"]
    return [[p.split(":")[0].strip() for p in s.split(", ") if p] for s in signatures]


def module_attribute(dotted: str) -> object:
    owner, _, name = dotted.rpartition(".")
    if owner:
        member = vars(getattr(_core, owner))[name]
        return member.__func__ if isinstance(member, staticmethod) else member
    return getattr(_core, name)


def test_stub_has_every_name_of_the_module_and_no_other() -> None:
    functions, attributes, _ = stub_definitions()
    public = {name for name in dir(_core) if not name.startswith("_")} | {"__version__"}
    top_level = {name for name in functions if "." not in name}
    assert top_level | attributes == public


def test_stub_overloads_have_the_modules_parameters() -> None:
    functions, _, _ = stub_definitions()
    for name, definitions in functions.items():
        assert definitions == module_signatures(module_attribute(name)), name


def test_stub_lists_every_public_method_of_the_classes() -> None:
    functions, attributes, members = stub_definitions()
    for cls in attributes:
        value = getattr(_core, cls)
        if isinstance(value, type):
            methods = {n for n in vars(value) if not n.startswith("_")}
            listed = {n.split(".")[1] for n in [*functions, *members] if n.startswith(cls + ".")}
            assert {n for n in listed if not n.startswith("_")} == methods, cls
