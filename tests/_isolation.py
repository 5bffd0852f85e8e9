"""Running code that could crash the interpreter in a child process, so that a segfault, an
abort or a runaway allocation is a test failure rather than a lost test run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# A child's address space is capped, so that a request that wrongly allocates fails with
# MemoryError in the child instead of waking the machine's out-of-memory killer. AddressSanitizer
# reserves terabytes of shadow memory up front, so under it the cap is left off.
ADDRESS_SPACE_LIMIT = 16 << 30


def _prologue(limit_memory: bool) -> str:
    # Set in the child itself rather than by preexec_fn, which is unsafe in a parent that has
    # threads (the library's thread pool).
    if not limit_memory or "asan" in os.environ.get("LD_PRELOAD", ""):
        return ""
    return (
        "import resource\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE_LIMIT}, {ADDRESS_SPACE_LIMIT}))\n"
    )


def run_isolated(
    code: str, *args: str, timeout: float = 300, limit_memory: bool = True
) -> subprocess.CompletedProcess[str]:
    """Runs ``code`` (dedented) in a fresh interpreter; fails the test if it did not exit 0.

    The child's standard output is returned for the caller to check; its standard error is
    shown when it fails, with the signal that ended it, if any.
    """
    program = _prologue(limit_memory) + textwrap.dedent(code)
    return _checked([sys.executable, "-c", program, *args], timeout)


def run_scenario(module: str, name: str, *args: str) -> str:
    """Calls ``name(*args)`` of tests/``module`` (integer arguments) in a child; returns what it
    printed: the function's return value."""
    code = """
        import runpy, sys
        module = runpy.run_path(sys.argv[1])
        print(module[sys.argv[2]](*(int(arg) for arg in sys.argv[3:])))
    """
    return run_isolated(code, str(TESTS / module), name, *args).stdout.strip()


def run_pytest_isolated(target: str, *options: str, timeout: float = 600) -> str:
    """Runs pytest on ``target`` (a path under tests/, with an optional ``::name``) in a child.

    Returns pytest's output.
    """
    # Hypothesis' failure report can import mypy_extensions, deprecated in recent releases: with
    # warnings as errors that would hide the failure behind an internal error.
    quiet = "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning"
    # Output captured at the file-descriptor level would be lost with a sanitizer report that
    # ends the process: capture Python's writes only.
    arguments = ["-p", "no:cacheprovider", "-q", "--capture=sys", "-W", quiet, *options]
    arguments.append(str(TESTS / target))
    program = _prologue(True) + f"import sys, pytest\nsys.exit(pytest.main({arguments!r}))\n"
    return _checked([sys.executable, "-c", program], timeout).stdout


def _checked(command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd=TESTS.parent
    )
    if result.returncode != 0:
        how = (
            f"killed by signal {-result.returncode}"
            if result.returncode < 0
            else f"exit status {result.returncode}"
        )
        raise AssertionError(
            f"child process failed ({how}):\n--- stdout\n{result.stdout}\n--- stderr\n"
            f"{result.stderr}"
        )
    return result
