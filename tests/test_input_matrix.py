"""The input matrix of cases_input_matrix.py, each test in a child process: a crash in one of
its thousands of generated calls fails that test instead of ending the run."""

from __future__ import annotations

import ast
import re

import pytest
from _isolation import TESTS, run_pytest_isolated

CASES = "cases_input_matrix.py"


def case_names() -> list[str]:
    tree = ast.parse((TESTS / CASES).read_text())
    return [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    ]


def test_the_matrix_has_cases() -> None:
    assert len(case_names()) >= 6


@pytest.mark.parametrize("name", case_names())
def test_input_matrix(name: str) -> None:
    output = run_pytest_isolated(f"{CASES}::{name}")
    assert re.search(r"^1 passed", output, re.MULTILINE), output
