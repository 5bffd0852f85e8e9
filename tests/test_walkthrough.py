"""`python -m eigen_autodiff`, the main job, runs and shows the article's numbers."""

from __future__ import annotations

import re
import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eigen_autodiff", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_walkthrough_prints_the_articles_steps_with_small_differences() -> None:
    result = run_cli("--seed", "3", "--dtype", "float64")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "sigmoid(2)  = 0.88079707797788" in out
    assert "sigmoid'(2) = 0.10499358540350" in out
    for quantity in ("Y", "dL/dW", "dL/dX"):
        assert f"{quantity} (NumPy reference)" in out
    differences = [float(d) for d in re.findall(r"max \|difference\| = (\S+)", out)]
    assert len(differences) == 3
    assert max(differences) < 1e-12
    assert "float32: f(100) = 0, AD derivative f'(100) = nan" in out
    # The article's fix, ead.custom_derivative: finite and negative in float32 too.
    assert "float32: f(100) = 0, custom derivative f'(100) = -3.78351e-44" in out
    assert "float64: f(100) = 3.72008e-44, custom derivative f'(100) = -3.72008e-44" in out


def test_walkthrough_in_float32_stays_within_float32_accuracy() -> None:
    result = run_cli()
    assert result.returncode == 0, result.stderr
    differences = [float(d) for d in re.findall(r"max \|difference\| = (\S+)", result.stdout)]
    assert len(differences) == 3
    assert max(differences) < 1e-4


def test_help_explains_the_options() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "--seed" in result.stdout and "--dtype" in result.stdout


def test_bad_dtype_is_rejected_with_usage() -> None:
    result = run_cli("--dtype", "float16")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
