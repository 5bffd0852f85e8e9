"""An outside CMake project (cpp/examples/consumer) built against eigen-autodiff three ways.

Against an installed prefix (``cmake --install``), against the imported Python package
(``-Deigen_autodiff_DIR=$(python -m eigen_autodiff --cmake-dir)``) and with the source tree
added by ``add_subdirectory``. Each build is the consumer's own Debug build: no ``-march`` flag
may reach it from the library, its build type must stay its own, and the program must print the
gradient derived by hand.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import eigen_autodiff

REPO = Path(__file__).resolve().parents[1]
CONSUMER = REPO / "cpp" / "examples" / "consumer"
# main.cpp: L = sum(sin(X . W)^2) with z = X . W = (0, 1.75), so dL/dW = (3 sin(3.5), -sin(3.5)).
GRADIENT = (3 * math.sin(3.5), -math.sin(3.5))
# Written once, in pyproject.toml; CMake reads it from there or from scikit-build-core.
VERSION = re.findall(r'^version = "(.+)"$', (REPO / "pyproject.toml").read_text(), re.M)[0]


def tool(name: str) -> str | None:
    """A program from this interpreter's environment first, then from PATH.

    The environment's bin folder comes first so that the tests work with a virtual environment
    that is used (its python run) but not activated.
    """
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which(name, path=path)


@pytest.fixture(scope="module")
def cmake() -> list[str]:
    """The cmake command and the generator options every configure step gets."""
    program = tool("cmake")
    assert program is not None, "cmake is needed to build the consumer (pip install cmake)"
    ninja = tool("ninja")
    generator = ["-G", "Ninja", f"-DCMAKE_MAKE_PROGRAM={ninja}"] if ninja else []
    return [program, *generator]


def run(command: list[str], cwd: Path | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def cache_value(build: Path, name: str) -> str:
    for line in (build / "CMakeCache.txt").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split("=", 1)[1]
    raise AssertionError(f"{name} is not in {build / 'CMakeCache.txt'}")


def build_consumer(cmake: list[str], build: Path, *options: str) -> list[str]:
    """Configures and builds the consumer in Debug; returns its compile commands."""
    run([
        *cmake, "-S", str(CONSUMER), "-B", str(build),
        "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", *options,
    ])  # fmt: skip
    run([cmake[0], "--build", str(build), "--parallel", "2"])
    commands = json.loads((build / "compile_commands.json").read_text())
    return [entry["command"] for entry in commands]


def check_consumer(build: Path, commands: list[str], include: Path) -> None:
    """The consumer's build is its own, uses the given headers, and computes the gradient."""
    assert commands, "nothing was compiled"
    main = [command for command in commands if command.endswith("main.cpp")]
    assert len(main) == 1, commands
    for command in commands:
        assert "-march" not in command, command
    # CMake's Debug flags reached the compiler, and the headers came from where they should.
    assert " -g " in main[0], main[0]
    assert str(include) in main[0], main[0]
    assert cache_value(build, "CMAKE_BUILD_TYPE") == "Debug"
    out = run([str(build / "gradient")])
    words = out.split()
    assert words[0] == "gradient:", out
    computed = [float(word) for word in words[1:]]
    assert computed == pytest.approx(GRADIENT, rel=1e-15), out


@pytest.fixture(scope="module")
def installed_prefix(cmake: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project configured on its own and installed with ``cmake --install``."""
    root = tmp_path_factory.mktemp("installed")
    build, prefix = root / "build", root / "prefix"
    # Header-only: configuring and installing compiles nothing.
    run([*cmake, "-S", str(REPO), "-B", str(build), f"-DPython_EXECUTABLE={sys.executable}"])
    run([cmake[0], "--install", str(build), "--prefix", str(prefix)])
    # At top level, and only there, the project picks a build type when none is given.
    assert cache_value(build, "CMAKE_BUILD_TYPE") == "Release"
    return prefix


def test_consumer_against_an_installed_prefix(
    cmake: list[str], installed_prefix: Path, tmp_path: Path
) -> None:
    config = installed_prefix / "share" / "cmake" / "eigen_autodiff"
    assert {p.name for p in config.iterdir()} >= {
        "eigen_autodiffConfig.cmake", "eigen_autodiffConfigVersion.cmake",
        "eigen_autodiffTargets.cmake", "FindEigenForAutodiff.cmake",
    }  # fmt: skip
    version_file = (config / "eigen_autodiffConfigVersion.cmake").read_text()
    assert f'set(PACKAGE_VERSION "{VERSION}")' in version_file
    commands = build_consumer(
        cmake, tmp_path, f"-DCMAKE_PREFIX_PATH={installed_prefix}",
        f"-DPython_EXECUTABLE={sys.executable}",
    )  # fmt: skip
    check_consumer(tmp_path, commands, installed_prefix / "include")


def assert_names_the_three_ways(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0, result.stdout
    message = " ".join(result.stderr.split())
    for way in ("pip install \"cmeel-eigen", "eigen-autodiff[cpp]", "-DEIGEN3_INCLUDE_DIR=",
                "-DEigen3_DIR=", "apt install libeigen3-dev"):  # fmt: skip
        assert way in message, result.stderr


def test_without_eigen_the_error_names_the_three_ways(
    cmake: list[str], installed_prefix: Path, tmp_path: Path
) -> None:
    # CMAKE_DISABLE_FIND_PACKAGE_Eigen3 makes every way fail, whatever this machine has.
    no_eigen = ["-DCMAKE_DISABLE_FIND_PACKAGE_Eigen3=ON", f"-DPython_EXECUTABLE={sys.executable}"]
    for source, options in (
        (REPO, no_eigen),
        (CONSUMER, [*no_eigen, f"-DCMAKE_PREFIX_PATH={installed_prefix}"]),
    ):
        build = tmp_path / source.name
        command = [*cmake, "-S", str(source), "-B", str(build), *options]
        result = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
        assert_names_the_three_ways(result)


def test_eigen_is_found_through_python3_on_path_without_an_activated_venv(
    cmake: list[str], tmp_path: Path
) -> None:
    # The issue: with a virtual environment merely first on PATH, cmeel-eigen was not found.
    python3 = Path(sys.executable).with_name("python3")
    if not python3.exists() or not os.path.samefile(python3, sys.executable):
        pytest.skip(f"{python3} is not this interpreter")
    cmeel = pytest.importorskip("cmeel")
    prefix = Path(cmeel.__file__).resolve().parent.parent / "cmeel.prefix"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    env["PATH"] = os.pathsep.join([str(python3.parent), env.get("PATH", "")])
    result = subprocess.run(
        [*cmake, "-S", str(REPO), "-B", str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    found = [line for line in result.stdout.splitlines() if line.startswith("-- Eigen 3.4")]
    assert len(found) == 1, result.stdout
    assert f"from {prefix}" in found[0], found[0]


def test_consumer_against_the_python_package(cmake: list[str], tmp_path: Path) -> None:
    cmake_dir = run([sys.executable, "-m", "eigen_autodiff", "--cmake-dir"]).strip()
    assert cmake_dir == eigen_autodiff.get_cmake_dir()
    include = run([sys.executable, "-m", "eigen_autodiff", "--include"]).strip()
    assert include == eigen_autodiff.get_include()
    version_file = (Path(cmake_dir) / "eigen_autodiffConfigVersion.cmake").read_text()
    assert f'set(PACKAGE_VERSION "{VERSION}")' in version_file
    assert eigen_autodiff.__version__ == VERSION
    # No Python_EXECUTABLE: the package's config finds cmeel-eigen installed beside it, as for a
    # user whose virtual environment is not activated.
    commands = build_consumer(cmake, tmp_path, f"-Deigen_autodiff_DIR={cmake_dir}")
    check_consumer(tmp_path, commands, Path(include))


def test_consumer_with_add_subdirectory(cmake: list[str], tmp_path: Path) -> None:
    source = [f"-DEIGEN_AUTODIFF_SOURCE_DIR={REPO}", f"-DPython_EXECUTABLE={sys.executable}"]
    # A parent without a build type keeps none: the subproject writes no default into its cache.
    run([*cmake, "-S", str(CONSUMER), "-B", str(tmp_path), *source])
    assert cache_value(tmp_path, "CMAKE_BUILD_TYPE") == ""
    assert cache_value(tmp_path, "EIGEN_AUTODIFF_INSTALL") == "OFF"
    commands = build_consumer(cmake, tmp_path, *source)
    check_consumer(tmp_path, commands, REPO / "cpp" / "include")


def test_cmake_dir_is_found_beside_the_compiled_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An editable install: the Python files in a tree without the installed files, the compiled
    # module with them in site-packages.
    from eigen_autodiff import _paths

    found = Path(eigen_autodiff.get_cmake_dir())
    monkeypatch.setattr(_paths, "_PACKAGE", tmp_path / "python" / "eigen_autodiff")
    assert Path(eigen_autodiff.get_cmake_dir()) == found
    assert (Path(eigen_autodiff.get_include()) / "eigen_autodiff" / "layer.hpp").is_file()


def test_missing_files_are_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from eigen_autodiff import _paths
    from eigen_autodiff._cli import main

    monkeypatch.setattr(_paths, "_install_dirs", lambda: [tmp_path])
    monkeypatch.setattr(_paths, "_PACKAGE", tmp_path / "python" / "eigen_autodiff")
    with pytest.raises(FileNotFoundError, match=r"CMake package is not installed .* reinstall"):
        eigen_autodiff.get_cmake_dir()
    assert main(["--include"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(
        "python -m eigen_autodiff: error: eigen_autodiff's C++ headers folder is not installed"
    ), captured.err
    assert str(tmp_path) in captured.err
