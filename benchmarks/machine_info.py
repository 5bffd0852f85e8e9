"""Facts about the machine and the environment, for the report's header."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
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


def describe() -> dict[str, Any]:
    cpu = lscpu()
    return {
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
    return f"{machine['cpu_model']}, {cores}{virtual}; {machine['platform']}, Python {machine['python']}"
