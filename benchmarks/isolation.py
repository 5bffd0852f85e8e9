"""One subprocess per peer, so that no two libraries' thread pools share the CPUs at once.

Also watches for other processes using the CPUs during a run (a compile, another benchmark):
their load is recorded with the results and flagged, and ``wait_idle`` waits for it to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import machine_info

HERE = Path(__file__).resolve().parent
# May be set on this class of machine to pin OpenBLAS's kernel; they slow NumPy down.
NUMPY_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
BUSY = 0.05  # share of the CPUs used by other processes above which timings are flagged


def subprocess_env(peer: str, threads: int | None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if peer == "numpy":
        for name in NUMPY_UNSET:
            env.pop(name, None)
    if threads is not None:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(threads)
        if threads == 1:
            flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
            env["XLA_FLAGS"] = f"{env.get('XLA_FLAGS', '')} {flags}".strip()
    return env


@dataclass(frozen=True)
class Isolation:
    threads: int | None = None
    timeout: float = 1800.0
    wait_idle: float = 0.0  # seconds to wait for idle CPUs before each subprocess
    verbose: bool = False

    def run(self, script: str, peer: str, extra: list[str]) -> dict[str, Any]:
        """Run ``script`` (worker.py or memory_probe.py) for ``peer``; its JSON output."""
        load = machine_info.ForeignLoad()
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out.json"
            command = [sys.executable, str(HERE / script), "--peer", peer, "--out", str(out)]
            command += extra
            if self.threads is not None:
                command += ["--threads", str(self.threads)]
            log, failure = self._call(command, subprocess_env(peer, self.threads))
            result: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
        loud = [line for line in log.splitlines() if line.startswith("!!!")]
        if self.verbose or failure:
            print(log, file=sys.stderr, end="")
        elif loud:
            print("\n".join(loud), file=sys.stderr)
        if failure:
            print(f"!!! {peer}: {script} {failure}", file=sys.stderr)
            result.setdefault("unavailable", failure)
        result["foreign_load"] = foreign = load.fraction()
        if self.busy(result) and script == "worker.py":
            print(
                f"!!! {peer}: other processes used {foreign:.0%} of the CPUs during the run; "
                "its timings are unreliable (see --wait-idle)",
                file=sys.stderr,
            )
        return result

    @staticmethod
    def busy(result: dict[str, Any]) -> bool:
        foreign = result.get("foreign_load")
        return foreign is not None and foreign > BUSY

    def _call(self, command: list[str], env: dict[str, str]) -> tuple[str, str]:
        """The subprocess's combined output, and what went wrong ("" if nothing)."""
        try:
            done = subprocess.run(
                command,
                env=env,
                text=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            output = expired.stdout
            text = output.decode(errors="replace") if isinstance(output, bytes) else output or ""
            return text, f"timed out after {self.timeout:.0f} s"
        return done.stdout, f"exit status {done.returncode}" if done.returncode else ""

    def wait_for_idle(self) -> None:
        if self.wait_idle <= 0:
            return
        started = time.perf_counter()
        load = machine_info.wait_until_idle(self.wait_idle, threshold=BUSY)
        waited = time.perf_counter() - started
        if load is not None and (waited > 2 or load >= BUSY):
            print(f"# waited {waited:.0f} s for idle CPUs; other load {load:.0%}", file=sys.stderr)
