"""ead.diagnose finds where AD derivatives go wrong, names the operation, else stays quiet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import eigen_autodiff as ead

STABLE_INV_EXP = ead.custom_derivative(lambda x: 1 / ead.exp(x), lambda x: -ead.exp(-x))


def failures_at(report: ead.Diagnosis, dtype: str) -> dict[float, ead.Failure]:
    return {f.x: f for f in report.failures if f.dtype == dtype}


def test_naive_inverse_exponential_in_float32_at_100_blames_exp_overflow() -> None:
    report = ead.diagnose("inv_exp", [1.0, 100.0])
    assert not report.passed
    failure = failures_at(report, "float32")[100.0]
    assert np.isnan(failure.derivative) and failure.value == 0.0
    assert failure.expected == pytest.approx(-np.exp(-100.0), rel=1e-6)
    assert failure.op == "exp"
    assert failure.reason.startswith("overflow of an intermediate: exp(100) = inf in float32")
    assert "custom_derivative" in failure.suggestion
    assert 1.0 not in failures_at(report, "float32")
    assert failures_at(report, "float64") == {}


def test_naive_inverse_exponential_in_float64_at_710_and_where_it_silently_underflows() -> None:
    report = ead.diagnose("inv_exp", [700.0, 710.0, 400.0], dtypes=("float64",))
    found = failures_at(report, "float64")
    assert np.isnan(found[710.0].derivative)
    assert found[710.0].op == "exp" and "overflow" in found[710.0].reason
    # At 400, exp(400)**2 overflows inside the derivative rule: -0 instead of -exp(-400).
    assert found[400.0].derivative == 0.0
    assert found[400.0].expected == pytest.approx(-np.exp(-400.0), rel=1e-6)
    assert found[400.0].op == "const_div"
    assert found[400.0].reason.startswith("silent underflow")
    assert "exp(-x)" in found[400.0].suggestion


def test_the_same_expression_traced_from_python_is_diagnosed_alike() -> None:
    report = ead.diagnose(lambda x: 1 / ead.exp(x), [100.0], dtypes=("float32",))
    (failure,) = report.failures
    assert (failure.op, failure.x) == ("exp", 100.0)


def test_custom_derivative_form_passes_everywhere() -> None:
    grid = np.concatenate([np.linspace(-80.0, 800.0, 2001), [100.0, 400.0, 710.0]])
    report = ead.diagnose(STABLE_INV_EXP, grid)
    assert report.passed, report


@pytest.mark.parametrize(
    ("activation", "op", "convention"),
    [
        (lambda x: ead.sqrt(x), "sqrt", "sqrt'(0) = +inf"),
        ("relu", "select", "relu'(0) = 0"),
        (lambda x: ead.abs(x), "abs", "abs'(0) = 1"),
    ],
)
def test_kinks_and_undefined_derivatives_at_zero_are_notes_with_the_convention(
    activation: object, op: str, convention: str
) -> None:
    # Issue 10, item 10: documented conventions are notes, not failures.
    report = ead.diagnose(activation, [0.0, 1.5])
    assert report.passed, report
    assert report.failures == ()
    assert {(note.x, note.dtype) for note in report.notes} == {
        (0.0, "float32"),
        (0.0, "float64"),
    }
    for note in report.notes:
        assert note.op == op
        assert convention in note.reason
    assert "2 notes" in repr(report)


@pytest.mark.parametrize("activation", ["sin", "tanh", lambda x: ead.tanh(x) * ead.sin(x)])
def test_well_behaved_activations_raise_no_false_alarm_over_a_dense_grid(
    activation: object,
) -> None:
    report = ead.diagnose(activation, np.linspace(-50.0, 50.0, 4001))
    assert report.passed, report
    assert report.points == 4001


def test_wrong_custom_derivative_is_found() -> None:
    wrong = ead.custom_derivative(lambda x: ead.sin(x), lambda x: -ead.cos(x))
    report = ead.diagnose(wrong, [0.5], dtypes=("float64",))
    (failure,) = report.failures
    assert failure.derivative == pytest.approx(-np.cos(0.5))
    assert failure.expected == pytest.approx(np.cos(0.5), rel=1e-8)
    assert "supplied derivative" in failure.reason


def test_unknown_dtype_is_rejected() -> None:
    with pytest.raises(ValueError, match="dtypes holds 'float16'"):
        ead.diagnose("sin", [0.0], dtypes=("float16",))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eigen_autodiff", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_cli_diagnoses_an_expression_and_exits_1_on_failure() -> None:
    result = run_cli("diagnose", "1/exp(x)", "--at", "100", "--dtype", "float32")
    assert result.returncode == 1, result.stderr
    assert "x = 100 (float32)" in result.stdout
    assert "at exp: overflow of an intermediate" in result.stdout


def test_cli_passes_with_exit_0() -> None:
    result = run_cli("diagnose", "tanh(x) * 2", "--at", "0", "1", "-3")
    assert result.returncode == 0, result.stderr
    assert "passed" in result.stdout


def test_cli_refuses_code_that_is_not_an_activation() -> None:
    result = run_cli("diagnose", "__import__('os').system('echo hacked')", "--at", "1")
    assert result.returncode == 2
    assert "is not allowed" in result.stderr
    assert "hacked" not in result.stdout
    result = run_cli("diagnose", "__import__('os')", "--at", "1")
    assert result.returncode == 2
    assert "unknown function '__import__'" in result.stderr


def test_cli_draws_the_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")  # the test extra installs it; the plot extra too
    path = tmp_path / "inv_exp.png"
    result = run_cli("diagnose", "inv_exp", "--at", "90", "100", "--plot", str(path))
    assert result.returncode == 1, result.stderr
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


# --- issue 10 ------------------------------------------------------------------------------------


def sin_tanh(x: Any) -> Any:
    return ead.sin(x) * ead.tanh(x)


def far_points(top: float, rng: np.random.Generator) -> np.ndarray:
    # Evenly spread, random, and every decade up to top, both signs.
    decades = np.geomspace(1.0, top, 600)
    return np.concatenate(
        [np.linspace(-top, top, 2001), rng.uniform(-top, top, 2000), decades, -decades]
    )


@pytest.mark.parametrize("activation", ["sin", "cos", "tanh", sin_tanh])
@pytest.mark.parametrize(("dtype", "top"), [("float64", 1e6), ("float32", 1e4)])
def test_no_false_alarm_far_from_zero(
    activation: object, dtype: str, top: float, rng: np.random.Generator
) -> None:
    # Issue 10, item 8: a step of 1e-6 |x| is far too coarse for a periodic function at 1e4.
    report = ead.diagnose(activation, far_points(top, rng), dtypes=dtype)
    assert report.passed, report
    assert ead.check_grad(activation, far_points(top, rng).astype(dtype)).passed


def test_far_from_zero_the_known_failures_are_still_caught() -> None:
    assert ead.diagnose("sin", [1e4]).passed  # the false alarm
    assert ead.check_grad("sin", np.array([1e6])).passed
    flipped = ead.custom_derivative(lambda x: ead.sin(x), lambda x: -ead.cos(x))
    report = ead.diagnose(flipped, [1e4, 1e6], dtypes="float64")
    assert {f.x for f in report.failures} == {1e4, 1e6}
    assert not ead.check_grad(flipped, np.array([1e6])).passed
    report = ead.diagnose("inv_exp", [100.0], dtypes="float32")
    assert [f.op for f in report.failures] == ["exp"]
    # A kink is still a disagreement for check_grad, as for torch.autograd.gradcheck.
    kink = ead.check_grad("relu", np.array([0.0]))
    assert not kink.passed
    assert kink.comparisons[0].max_abs_error == 0.5


def test_every_underflow_to_zero_is_flagged_subnormals_included() -> None:
    # Issue 10, item 13: at 88 and 88.5 the true derivative, -exp(-x), is a float32 subnormal
    # (-6.1e-39, -3.7e-39); the naive 1/exp(x) gives -0 there as at 80 and 87.
    points = [80.0, 87.0, 88.0, 88.5]
    report = ead.diagnose("inv_exp", points, dtypes="float32")
    assert [f.x for f in report.failures] == points
    for failure in report.failures:
        assert failure.derivative == 0.0
        assert failure.expected == pytest.approx(-np.exp(-failure.x), rel=1e-6)
        assert failure.reason.startswith("silent underflow")
    # Where the true derivative is below float32's smallest subnormal, -0 is right.
    assert ead.diagnose(STABLE_INV_EXP, [104.0, 120.0], dtypes="float32").passed


def test_builtins_pass_their_own_underflow_rule() -> None:
    grid = np.linspace(-120.0, 120.0, 4801)
    for name in ("tanh", "sigmoid", "softplus", "exp"):
        report = ead.diagnose(name, grid[grid < 88] if name == "exp" else grid)
        assert report.passed, report
    # Eigen's tanh' = 1/cosh(x)**2 gave 0 here; the true values are representable.
    assert ead.derivative("tanh", np.float32(46.0))[1] > 0
    assert ead.derivative("tanh", 360.0)[1] > 0


def test_dtypes_as_one_name_and_not_empty() -> None:
    # Issue 10, item 14.
    report = ead.diagnose("sin", [0.5], dtypes="float32")
    assert report.dtypes == ("float32",)
    with pytest.raises(ValueError, match="dtypes is empty"):
        ead.diagnose("sin", [0.5], dtypes=())


def test_report_grammar() -> None:
    assert repr(ead.diagnose("sin", [0.5])) == "Diagnosis(sin: 1 point x float32, float64: passed)"
    report = ead.diagnose("inv_exp", [100.0, 1.0], dtypes="float32")
    assert repr(report).startswith("Diagnosis(inv_exp: 2 points x float32: 1 failure)\n")


def test_where_finite_differences_cannot_resolve_there_is_no_false_alarm() -> None:
    # At 1e20 float64's spacing (16384) exceeds sin's period: every step aliases. At a jump no
    # step converges. Neither can judge a derivative, so neither raises an alarm ...
    assert ead.diagnose("sin", [1e20, 1e300], dtypes="float64").passed
    assert ead.diagnose(lambda x: ead.where(x > 0, 1.0, 0.0), [0.0]).passed
    # ... while smooth functions are still judged there, and a wrong constant slope anywhere.
    wrong_square = ead.custom_derivative(lambda x: x * x, lambda x: 3 * x)
    report = ead.diagnose(wrong_square, [1e20, 1e100], dtypes="float64")
    assert [f.x for f in report.failures] == [1e20, 1e100]
    assert report.failures[0].expected == pytest.approx(2e20, rel=1e-6)
    constant = ead.custom_derivative(lambda x: 0 * x + 1.0, lambda x: 1.0)
    assert len(ead.diagnose(constant, [0.0, 3.0]).failures) == 4
