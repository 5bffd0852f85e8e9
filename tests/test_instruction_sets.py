"""The module's copies per instruction set: which one is loaded, and that each one is right.

Each copy is loaded in a process of its own (``EIGEN_AUTODIFF_ISA``), since one process holds
one. The portable build must also run on a CPU without AVX: the last test runs the installed
package under ``qemu-x86_64 -cpu Nehalem`` (Debian's qemu-user; .ci/run installs it).
"""

from __future__ import annotations

import json
import math
import os
import pickle
import shutil
import subprocess
import sys

import pytest

import eigen_autodiff as ead
from eigen_autodiff import _native

BUILT = _native._built()

# A gradient of the fast path, the same through a traced activation, and the chosen copy, checked
# in the child against the NumPy reference (reference.py, independent of the C++ code).
CHECK = """
import json, numpy as np, eigen_autodiff as ead
from eigen_autodiff import reference
rng = np.random.default_rng(3)
x = rng.standard_normal((37, 29))
w = rng.standard_normal((29, 23)) * 0.2
expected = reference.value_and_grad(x, w, "sin", wrt=("w", "x"))
errors = []
for activation in ("sin", lambda z: ead.sin(z)):
    loss, (dw, dx) = ead.value_and_grad(x, w, activation, wrt=("w", "x"))
    errors.append(max(
        abs(loss - expected[0]) / abs(expected[0]),
        float(np.max(np.abs(dw - expected[1][0]))),
        float(np.max(np.abs(dx - expected[1][1]))),
    ))
print(json.dumps({"chosen": ead._core.instruction_set, "error": max(errors)}))
"""


def child_environment(**variables: str) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if k != "EIGEN_AUTODIFF_ISA"}
    # A BLAS core type forced for this machine (OpenBLAS' AVX2 kernels) would not run on an
    # older CPU: NumPy's BLAS must choose for the CPU it finds.
    environment.pop("OPENBLAS_CORETYPE", None)
    environment.update(variables)
    return environment


def run_child(
    code: str, prefix: tuple[str, ...] = (), **variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=600,
        env=child_environment(**variables),
        check=False,
    )


def test_the_preference_decides_among_the_sets_built_and_supported() -> None:
    choose = _native.choose_instruction_set
    every = ("baseline", "avx2", "avx512")
    assert choose(every, every, None) == "avx512"
    assert choose(every, ("baseline", "avx2"), None) == "avx2"
    assert choose(every, ("baseline",), None) == "baseline"
    assert choose(("baseline", "avx2"), every, None) == "avx2"
    assert choose(("native",), ("baseline",), None) == "native"
    assert choose(("native",), (), "native") == "native"
    # An empty variable is no request.
    assert choose(every, every, "  ") == "avx512"


def test_a_request_is_obeyed_or_refused_with_the_reason() -> None:
    choose = _native.choose_instruction_set
    every = ("baseline", "avx2", "avx512")
    assert choose(every, every, "AVX2") == "avx2"
    with pytest.raises(ImportError, match=r"cannot run that instruction set \(it runs: baseline\)"):
        choose(every, ("baseline",), "avx512")
    with pytest.raises(ImportError, match=r"names no instruction set.*it has: native"):
        choose(("native",), ("baseline",), "avx2")
    with pytest.raises(ImportError, match=r"runs none of .*compiled: avx512; this CPU runs: b"):
        choose(("avx512",), ("baseline",), None)


def test_this_process_loaded_the_preferred_copy() -> None:
    supported = _native._supported()
    assert ead._core.instruction_set == _native.choose_instruction_set(
        BUILT, supported, os.environ.get("EIGEN_AUTODIFF_ISA")
    )
    assert sys.modules["eigen_autodiff._core"] is ead._core


@pytest.mark.parametrize("instruction_set", BUILT)
def test_every_copy_computes_the_reference_gradient(instruction_set: str) -> None:
    result = run_child(CHECK, EIGEN_AUTODIFF_ISA=instruction_set)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["chosen"] == instruction_set
    assert report["error"] < 1e-12, report


def test_a_request_this_build_cannot_serve_fails_the_import_clearly() -> None:
    result = run_child("import eigen_autodiff", EIGEN_AUTODIFF_ISA="sse9")
    assert result.returncode == 1
    assert "EIGEN_AUTODIFF_ISA='sse9' names no instruction set" in result.stderr
    assert f"it has: {', '.join(BUILT)}" in result.stderr


def test_show_config_and_version_name_the_sets_and_the_choice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ead.show_config()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"eigen-autodiff {ead.__version__}"
    assert lines[1] == f"instruction sets compiled: {', '.join(BUILT)}"
    assert lines[3].startswith(f"chosen: {ead._core.instruction_set} (")
    result = subprocess.run(
        [sys.executable, "-m", "eigen_autodiff", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        env=child_environment(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == lines[:2]


def test_a_pickled_program_loads_with_the_copy_the_loading_process_chose() -> None:
    program = ead.trace(lambda x: ead.sin(x) * 2)
    assert type(program).__module__ == "eigen_autodiff._core"
    if len(BUILT) < 2:
        pytest.skip("one instruction set built: nothing to load the program with but it")
    other = BUILT[-1]  # the least preferred, so not the one this process chose unasked
    code = (
        "import pickle, sys, eigen_autodiff as ead\n"
        f"program = pickle.loads({pickle.dumps(program)!r})\n"
        "print(ead._core.instruction_set, *map(float, ead.derivative(program, 0.5)))"
    )
    result = run_child(code, EIGEN_AUTODIFF_ISA=other)
    assert result.returncode == 0, result.stderr
    chosen, value, derivative = result.stdout.split()
    assert chosen == other
    # 2 sin(0.5) and 2 cos(0.5), whichever copy computed them.
    assert float(value) == pytest.approx(2 * math.sin(0.5), rel=1e-15)
    assert float(derivative) == pytest.approx(2 * math.cos(0.5), rel=1e-15)


QEMU = shutil.which("qemu-x86_64")


@pytest.mark.skipif(QEMU is None, reason="qemu-x86_64 is not installed (apt-get install qemu-user)")
@pytest.mark.skipif("baseline" not in BUILT, reason="a build for the building machine alone")
def test_the_portable_build_runs_on_a_cpu_without_avx() -> None:
    assert QEMU is not None
    result = run_child(CHECK, prefix=(QEMU, "-cpu", "Nehalem"))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["chosen"] == "baseline"
    assert report["error"] < 1e-12, report
