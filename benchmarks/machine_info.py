"""Facts about the machine and the environment, for the report's header."""

from __future__ import annotations

import datetime
import os
import platform
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

# Environment variables that change how BLAS and the peers' thread pools behave.
WATCHED_ENV = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "XLA_FLAGS",
)


def lscpu() -> dict[str, str]:
    try:
        text = subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    facts = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            facts.setdefault(key.strip(), value.strip())
    return facts


def project_commit() -> str:
    """The repository's commit, marked "+changes" if cpp/ or python/ differ from it."""
    root = str(Path(__file__).resolve().parent.parent)
    try:
        commit = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", root, "status", "--porcelain", "--", "cpp", "python"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit + (" +changes" if changes else "")


def describe() -> dict[str, Any]:
    cpu = lscpu()
    return {
        "project_commit": project_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": cpu.get("Model name", platform.processor() or "unknown"),
        "logical_cpus": os.cpu_count(),
        "cores_per_socket": cpu.get("Core(s) per socket", "?"),
        "threads_per_core": cpu.get("Thread(s) per core", "?"),
        "sockets": cpu.get("Socket(s)", "?"),
        "hypervisor": cpu.get("Hypervisor vendor", ""),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "env": {k: os.environ[k] for k in WATCHED_ENV if k in os.environ},
    }


def summary(machine: dict[str, Any]) -> str:
    cores = (
        f"{machine['logical_cpus']} logical CPUs ({machine['sockets']} socket x "
        f"{machine['cores_per_socket']} cores x {machine['threads_per_core']} threads)"
    )
    virtual = f", {machine['hypervisor']} VM" if machine.get("hypervisor") else ""
    system = f"{machine['platform']}, Python {machine['python']}"
    return f"{machine['cpu_model']}, {cores}{virtual}; {system}"


def busy_cpu_seconds() -> float | None:
    """CPU seconds spent by all processes since boot (from /proc/stat), None if unknown."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, *rest = (int(v) for v in fields)
    except (OSError, ValueError):
        return None
    steal = rest[0] if rest else 0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ForeignLoad:
    """How busy other processes kept the CPUs while a child of ours ran (a noisy-neighbour check).

    Foreign load = (CPU time of the whole machine - CPU time of our finished children) /
    (wall time x CPUs); a few percent is background noise, more makes timings unreliable.
    """

    def __init__(self) -> None:
        self.start = (busy_cpu_seconds(), children_cpu_seconds(), time.monotonic())

    def fraction(self) -> float | None:
        busy0, children0, wall0 = self.start
        busy1 = busy_cpu_seconds()
        if busy0 is None or busy1 is None:
            return None
        wall = time.monotonic() - wall0
        foreign = (busy1 - busy0) - (children_cpu_seconds() - children0)
        return max(0.0, foreign) / max(wall * (os.cpu_count() or 1), 1e-9)


def wait_until_idle(limit: float, threshold: float = 0.05, probe: float = 1.0) -> float | None:
    """Wait (at most ``limit`` seconds) for the machine's load to drop below ``threshold``."""
    deadline = time.monotonic() + limit
    while True:
        load = ForeignLoad()
        time.sleep(probe)
        fraction = load.fraction()
        if fraction is None or fraction < threshold or time.monotonic() >= deadline:
            return fraction
