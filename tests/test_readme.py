"""The README's Python examples each run as written, on their own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 4


def test_readme_python_examples_run_on_their_own(capsys: pytest.CaptureFixture[str]) -> None:
    for number, block in enumerate(BLOCKS):
        exec(compile(block, f"README.md python block {number}", "exec"), {})
    shown = capsys.readouterr().out
    assert "Diagnosis(inv_exp: 3 points x float32, float64: 3 failures)" in shown
