"""The C++ side, built with CMake from the test suite: the article's programs compared with the
NumPy reference (CI's comparison of C++ gradients to NumPy), and the C++ unit tests."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eigen_autodiff import reference

from _helpers import assert_matches_reference

REPO = Path(__file__).resolve().parents[1]
ARTICLE_INPUT = np.array([[-1.0, 0.0, 1.0], [2.0, 3.0, 4.0], [-1.0, -5.0, 2.0]])


@pytest.fixture(scope="session")
def cpp_build() -> Path:
    """Configures and builds the examples and C++ tests once per session.

    The build folder persists (EIGEN_AUTODIFF_TEST_BUILD_DIR, default build/tests-cpp) so that
    later runs rebuild only what changed.
    """
    cmake = shutil.which("cmake")
    assert cmake is not None, "cmake is needed to build the C++ examples (pip install cmake)"
    build = Path(os.environ.get("EIGEN_AUTODIFF_TEST_BUILD_DIR", REPO / "build" / "tests-cpp"))
    configure = [
        cmake, "-S", str(REPO), "-B", str(build),
        "-DEIGEN_AUTODIFF_BUILD_EXAMPLES=ON", "-DEIGEN_AUTODIFF_BUILD_TESTS=ON",
        f"-DPython_EXECUTABLE={sys.executable}",
    ]  # fmt: skip
    if shutil.which("ninja") and not (build / "CMakeCache.txt").exists():
        configure += ["-G", "Ninja"]
    for command in (configure, [cmake, "--build", str(build), "--parallel"]):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return build


def run(executable: Path, *args: str) -> str:
    result = subprocess.run(
        [str(executable), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def example(build: Path, name: str) -> Path:
    return build / "cpp" / "examples" / name


def write_inputs(path: Path, x: np.ndarray, w: np.ndarray) -> Path:
    with path.open("w") as f:
        for a in (x, w):
            f.write(f"{a.shape[0]} {a.shape[1]}\n")
            f.write(" ".join(repr(float(v)) for v in a.ravel()) + "\n")
    return path


def test_sigmoid_prints_the_articles_numbers(cpp_build: Path) -> None:
    out = run(example(cpp_build, "sigmoid"))
    assert out.split() == ["Y:", "0.880797", "derivatives:", "0.104994"]


@pytest.mark.parametrize("x", [2.0, -3.5, 0.0, 40.0])
def test_sigmoid_json_matches_reference(cpp_build: Path, x: float) -> None:
    result = json.loads(run(example(cpp_build, "sigmoid"), "--json", repr(x)))
    value, slope = reference.activation("sigmoid", x)
    assert result["value"] == pytest.approx(float(value), rel=1e-15)
    assert result["derivative"] == pytest.approx(float(slope), rel=1e-14, abs=1e-300)


def test_custom_layer_on_the_articles_input(cpp_build: Path) -> None:
    # The kernel is Eigen's setRandom, as in the article; it is printed, so check against it.
    result = json.loads(run(example(cpp_build, "custom_layer"), "--json"))
    w = np.array(result["w"])
    loss, (dw,) = reference.value_and_grad(ARTICLE_INPUT, w, "sin", wrt=("w",))
    assert_matches_reference(result["loss"], loss, np.float32)
    assert_matches_reference(result["dw"], dw, np.float32)
    assert_matches_reference(result["y"], reference.forward(ARTICLE_INPUT, w, "sin"), np.float32)


def test_hessian_example_prints_second_derivatives(cpp_build: Path) -> None:
    out = run(example(cpp_build, "hessian"))
    assert "second derivative -0.0799625" in out  # s(1 - s)(1 - 2s) at 2
    result = json.loads(run(example(cpp_build, "hessian"), "--json", "2"))
    s = 1 / (1 + math.exp(-2.0))
    assert result["second"] == pytest.approx(s * (1 - s) * (1 - 2 * s), rel=1e-15)
    w = np.array(result["w"])
    # The kernel's float32 entries, as the example computes on them in double.
    exact = reference.hessian(ARTICLE_INPUT.astype(np.float32), w.astype(np.float32), "sin", "w")
    h = np.array(result["hessian_w"]).reshape(exact.shape)
    assert_matches_reference(h, exact, np.float64)


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 3, 2), (6, 4, 5), (1, 7, 3)])
def test_custom_layer_examples_match_reference(
    cpp_build: Path, tmp_path: Path, shape: tuple[int, int, int], rng: np.random.Generator
) -> None:
    batch, inputs, outputs = shape
    x = rng.uniform(-1, 1, (batch, inputs)).astype(np.float32)
    w = rng.uniform(-1, 1, (inputs, outputs)).astype(np.float32)
    data = write_inputs(tmp_path / "inputs.txt", x, w)

    only_w = json.loads(run(example(cpp_build, "custom_layer"), "--json", "--input", str(data)))
    loss, (dw, dx) = reference.value_and_grad(x, w, "sin", wrt=("w", "x"))
    assert_matches_reference(only_w["loss"], loss, np.float32)
    assert_matches_reference(only_w["dw"], dw, np.float32)

    both = json.loads(run(example(cpp_build, "custom_layer_dx"), "--json", "--input", str(data)))
    assert_matches_reference(both["loss"], loss, np.float32)
    assert_matches_reference(both["dw"], dw, np.float32)
    assert_matches_reference(both["dx"], dx, np.float32)


def test_custom_layer_rejects_mismatched_inputs(cpp_build: Path, tmp_path: Path) -> None:
    data = write_inputs(tmp_path / "inputs.txt", np.ones((2, 3)), np.ones((4, 1)))
    result = subprocess.run(
        [str(example(cpp_build, "custom_layer")), "--input", str(data)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "X has shape (2, 3) and W has shape (4, 1)" in result.stderr


def test_custom_derivative_fixes_the_articles_nan(cpp_build: Path) -> None:
    result = json.loads(run(example(cpp_build, "custom_derivative"), "--json"))
    assert result["x"] == 100
    # float: exp(100) overflows; the naive derivative is NaN (null in JSON), the value 0 is right.
    naive = result["float"]
    assert naive["naive_value"] == 0 and naive["naive_derivative"] is None
    # The custom derivative -exp(-100) = -3.7e-44 is a float32 subnormal (the smallest is
    # 1.4e-45): finite, negative, within one subnormal step of the correctly rounded value.
    derivative = result["float"]["derivative"]
    assert result["float"]["derivative_signbit"] and derivative < 0
    exact32 = np.float32(-math.exp(-100.0))
    assert abs(np.float32(derivative) - exact32) <= np.spacing(np.float32(0))
    # double: -exp(-100) to the last digit (the naive formula is off by an ulp here).
    assert result["double"]["derivative"] == -math.exp(-100.0)
    assert result["double"]["value"] == pytest.approx(math.exp(-100.0), rel=1e-15)


@pytest.mark.parametrize("x", [-3.0, 0.0, 2.5, 40.0])
def test_custom_derivative_matches_reference_where_the_naive_one_is_fine(
    cpp_build: Path, x: float
) -> None:
    result = json.loads(run(example(cpp_build, "custom_derivative"), "--json", repr(x)))
    value, slope = reference.activation("inv_exp", x)
    for dtype, rtol in (("float", 1e-6), ("double", 1e-15)):
        for key in ("value", "plain_value", "naive_value"):
            assert result[dtype][key] == pytest.approx(float(value), rel=rtol), (dtype, key)
        for key in ("derivative", "naive_derivative"):
            assert result[dtype][key] == pytest.approx(float(slope), rel=rtol), (dtype, key)


@pytest.mark.parametrize(
    ("name", "at_least"),
    [("test_core", 1000), ("test_traced", 300), ("test_pitfalls", 40), ("test_arguments", 25)],
)
def test_cpp_unit_tests_pass(cpp_build: Path, name: str, at_least: int) -> None:
    out = run(cpp_build / "tests" / "cpp" / name)
    passed, failed = (int(word) for word in out.split()[::2][:2])
    assert failed == 0 and passed > at_least, out


def test_cpp_unit_tests_run_under_ctest(cpp_build: Path) -> None:
    cmake = shutil.which("cmake")
    assert cmake is not None
    ctest = Path(cmake).with_name("ctest")
    result = subprocess.run(
        [str(ctest), "--test-dir", str(cpp_build), "--output-on-failure"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("test_core", "test_traced", "test_pitfalls", "test_arguments"):
        assert re.search(rf"Test +#\d+: {name} \.+ +Passed", result.stdout), result.stdout
    assert re.search(r"100% tests passed.* out of 4\n", result.stdout), result.stdout


# Hostile input files for the examples' reader (example_io.hpp): shapes whose product wraps
# around (4 * 4611686018427387905 is 4 modulo 2**64, 2**32 * 2**32 is 0), shapes far beyond the
# values present, negative, non-numeric and out-of-range sizes, too few or malformed values.
MANY_VALUES = " ".join(["1.5"] * 100_000)
HOSTILE_INPUTS = {
    "product_wraps_to_4": f"4 4611686018427387905 {MANY_VALUES}\n1 1 1\n",
    "product_wraps_to_0": f"4294967296 4294967296 {MANY_VALUES}\n1 1 1\n",
    "rows_2_pow_32": "4294967296 1 1 2 3\n1 1 1\n",
    "cols_2_pow_62": "1 4611686018427387904 1 2 3\n1 1 1\n",
    "more_than_present": "1000 1000 1 2 3\n1 1 1\n",
    "w_more_than_present": "1 1 1\n1 100000000 1 2\n",
    "negative_rows": "-1 3 1 2 3\n1 1 1\n",
    "negative_cols": "3 -2 1 2 3\n1 1 1\n",
    "rows_beyond_int64": "99999999999999999999999 1 1\n1 1 1\n",
    "fractional_rows": "1.5 2 1 2 3\n1 1 1\n",
    "text_rows": "two 2 1 2\n1 1 1\n",
    "value_not_a_number": "1 2 1 x\n2 1 1 1\n",
    "too_few_values": "2 2 1 2 3\n",
    "missing_w": "1 1 1\n",
    "empty": "",
}


@pytest.mark.parametrize("program", ["custom_layer", "custom_layer_dx"])
@pytest.mark.parametrize("name", sorted(HOSTILE_INPUTS))
def test_example_reader_rejects_hostile_input(
    cpp_build: Path, tmp_path: Path, program: str, name: str
) -> None:
    data = tmp_path / "inputs.txt"
    data.write_text(HOSTILE_INPUTS[name])
    result = subprocess.run(
        [str(example(cpp_build, program)), "--input", str(data)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # A clean error: the programs' own exit status for bad input, one line naming the input,
    # nothing on standard output, no sanitizer report.
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{program}: input"), result.stderr[-2000:]
