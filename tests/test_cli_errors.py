"""The command line's exit statuses and errors (issue 10, items 5, 10, 11, 12 and 14).

0: every point passed (notes on documented conventions aside); 1: failures found; 2: bad input,
with a one-line error after diagnose's usage and no traceback. Every run is a child process with
a time limit: before the fixes some of these inputs ran forever.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# Generous: a run takes about a second; a regression that hangs fails at this limit.
TIME_LIMIT = 120
USAGE = "usage: python -m eigen_autodiff diagnose"
ERROR = "python -m eigen_autodiff diagnose: error: "


def run(*args: str, prologue: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m eigen_autodiff ARGS`` in a child, with ``prologue`` run first."""
    code = f"{prologue}\nimport sys\nfrom eigen_autodiff._cli import main\nsys.exit(main())"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True, text=True, timeout=TIME_LIMIT, check=False,
    )  # fmt: skip


def assert_bad_input(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(USAGE), result.stderr
    assert lines[-1].startswith(ERROR), result.stderr
    assert len(lines[-1]) < 400, "the error is one short line"
    for word in words:
        assert word in lines[-1], result.stderr


# --- item 5: constant arithmetic is bounded ------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("9**9**9", ["9 ** ", "outside float64's range"]),
        ("x*10**5000", ["10 ** 5000", "outside float64's range"]),
        ("10.0**400*x", ["10 ** 400", "outside float64's range"]),
        ("x*" + "7" * 5000, ["cannot parse"]),
        ("1e400*x", ["'1e400'", "outside float64's range"]),
        ("(-8)**(1/3)*x", ["not a real number"]),
    ],
)
def test_constant_arithmetic_is_folded_in_float64_with_limits(
    expression: str, words: list[str]
) -> None:
    assert_bad_input(run("diagnose", expression, "--at", "1"), *words)


def test_constants_within_range_are_folded() -> None:
    result = run("diagnose", "x * 2**10 / 1e3", "--at", "1", "2")
    assert result.returncode == 0, result.stderr
    assert "passed" in result.stdout


# --- item 10: bad expressions give a clean error and exit 2 --------------------------------------


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("x + 1/0", ["divides by zero"]),
        ("x**x", ["traced exponent"]),
        ("sin(x, x)", ["sin", "2 were given"]),
        ("sin()", ["sin", "missing"]),
        ("x < 1", ["condition"]),
        ("where(1, x, 0)", ["where", "condition"]),
        ("x * 2j", ["'2j' is not allowed"]),
        ("+".join(["x"] * 1500), ["nested more than"]),
        ("(" * 1500 + "x" + ")" * 1500, ["cannot parse"]),
        ("x" + "**1.0" * 5000, ["characters long"]),
        ("__import__('os')", ["unknown function '__import__'"]),
    ],
    ids=lambda value: value[:20] if isinstance(value, str) else None,
)
def test_bad_expressions_exit_2_with_one_line_and_no_traceback(
    expression: str, words: list[str]
) -> None:
    assert_bad_input(run("diagnose", expression, "--at", "1"), *words)


def test_failures_exit_1_and_a_pass_exits_0() -> None:
    failing = run("diagnose", "1/exp(x)", "--at", "100", "--dtype", "float32")
    assert failing.returncode == 1, failing.stderr
    assert "Diagnosis(1/exp(x): 1 point x float32: 1 failure)" in failing.stdout
    passing = run("diagnose", "sin", "--at", "0.5")
    assert passing.returncode == 0, passing.stderr


def test_documented_conventions_are_notes_and_exit_0() -> None:
    result = run("diagnose", "relu", "--at", "0", "1")
    assert result.returncode == 0, result.stdout
    assert "passed, 2 notes" in result.stdout
    assert "note: x = 0 (float32)" in result.stdout
    assert "relu'(0) = 0" in result.stdout
    result = run("diagnose", "sqrt(x) + abs(x)", "--at", "0", "--dtype", "float64")
    assert result.returncode == 0, result.stdout
    assert "1 note" in result.stdout


# --- item 11: negative and non-finite points; diagnose's usage -----------------------------------


def test_points_may_be_negative_or_not_finite() -> None:
    result = run("diagnose", "tanh(x)", "--at", "-1e5", "-3", "nan", "inf", "-inf", "-.5")
    assert result.returncode == 0, result.stderr
    assert "6 points" in result.stdout


def test_a_bad_point_is_named_with_diagnose_usage() -> None:
    assert_bad_input(run("diagnose", "x", "--at", "one"), "--at", "'one' is not a number")
    assert_bad_input(run("diagnose", "x", "--at", "1", "-q"), "--at", "'-q' is not a number")


def test_negative_expressions_are_expressions() -> None:
    result = run("diagnose", "-x", "--at", "-1", "-inf")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Diagnosis(-x: 2 points x float32, float64: passed)")


def test_a_negative_seed_is_refused_cleanly() -> None:
    result = run("--seed", "-1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "'-1' is not a non-negative integer" in result.stderr


# --- item 12: --plot ------------------------------------------------------------------------------


@pytest.mark.parametrize("matplotlib", ["installed", "missing"])
def test_plot_path_is_checked_before_the_diagnosis(tmp_path: Path, matplotlib: str) -> None:
    # A wrong folder is reported as such whether matplotlib is installed or not (it was reported
    # as "needs matplotlib" without it).
    if matplotlib == "installed":
        pytest.importorskip("matplotlib")
    hide = "import sys; sys.modules['matplotlib'] = None" if matplotlib == "missing" else ""
    assert_bad_input(
        run("diagnose", "x", "--at", "1", "--plot", str(tmp_path / "missing" / "p.png"),
            prologue=hide),
        "does not exist",
    )  # fmt: skip
    assert_bad_input(
        run("diagnose", "x", "--at", "1", "--plot", str(tmp_path), prologue=hide), "is a folder"
    )
    if matplotlib == "missing":
        return
    assert_bad_input(
        run("diagnose", "x", "--at", "1", "--plot", str(tmp_path / "p.xyz")), ".xyz", ".png"
    )


def test_plot_without_extension_prints_the_file_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    result = run("diagnose", "1/exp(x)", "--at", "90", "100", "--plot", str(tmp_path / "plot"))
    assert result.returncode == 1, result.stderr
    written = tmp_path / "plot.png"
    assert f"plot written to {written}" in result.stdout
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_without_matplotlib_says_pip_install_matplotlib(tmp_path: Path) -> None:
    hide = "import sys; sys.modules['matplotlib'] = None"
    result = run("diagnose", "x", "--at", "1", "--plot", str(tmp_path / "p.png"), prologue=hide)
    assert_bad_input(result, "pip install matplotlib")
    assert "eigen-autodiff[" not in result.stderr


# --- item 14: no warnings in the output ----------------------------------------------------------


def test_no_runtime_warnings_in_the_output() -> None:
    result = run("diagnose", "exp(x) * sin(x)", "--at", "1e300", "-1e300", "1e39", "nan", "100")
    assert result.returncode in (0, 1), result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stderr == ""
