"""Benchmark the custom layer's loss gradient: eigen-autodiff against NumPy, PyTorch, JAX and
TensorFlow, each in its own subprocess.

    python benchmarks/run.py                       # full run, writes benchmarks/scaling.png
    python benchmarks/run.py --quick               # small sizes only, a few seconds per peer
    python benchmarks/run.py --peers torch jax --dtypes float32 --sizes 256x512x256
    python benchmarks/run.py --markdown benchmarks/RESULTS.md   # refresh the results table

Timings are reported, never asserted. The exit status is 1 only when a gradient disagrees with
the NumPy one, or the project itself could not be imported.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import machine_info
import report
from cases import (
    DTYPES,
    FORWARD_SIZES,
    FORWARD_W,
    MEMORY_SIZE,
    QUICK_FORWARD_SIZES,
    QUICK_REVERSE_SIZES,
    REVERSE,
    REVERSE_SIZES,
    Case,
    format_size,
    parse_size,
)
from peers import ALWAYS, PEERS, PROJECT
from plot_scaling import plot
from timing import TimerSettings

HERE = Path(__file__).resolve().parent
# Set on this machine class to work around OpenBLAS kernel detection; they slow NumPy down.
NUMPY_UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, short timing, no memory probe")
    p.add_argument("--sizes", nargs="+", type=parse_size, metavar="BxNxM", help="reverse-mode sizes")
    p.add_argument("--forward-sizes", nargs="*", type=parse_size, metavar="BxNxM",
                   help="forward-mode (dL/dW) sizes; give none to skip the section")
    p.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    p.add_argument("--peers", nargs="+", choices=list(PEERS), default=list(PEERS),
                   help="project and numpy always run; missing libraries are skipped")
    p.add_argument("--threads", type=int, help="threads per library (default: each one's own)")
    p.add_argument("--baseline", metavar="MODULE:FUNCTION",
                   help="forward-mode dynamic baseline, called like eigen_autodiff.value_and_grad "
                        "(default: the project's current forward mode)")
    p.add_argument("--min-time", type=float, help="seconds of timed calls per cell")
    p.add_argument("--max-reps", type=int, help="at most this many timed calls per cell")
    p.add_argument("--memory-size", type=parse_size, default=MEMORY_SIZE, metavar="BxNxM")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    p.add_argument("--plot", type=Path, help="PNG path (default: benchmarks/scaling.png, "
                                             "not written with --quick)")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--markdown", type=Path, help="write/refresh the generated section of this file")
    p.add_argument("--json", type=Path, help="also save the raw results here")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per peer subprocess")
    p.add_argument("--verbose", action="store_true", help="show the subprocesses' stderr")
    return p.parse_args(argv)


def timer_settings(args: argparse.Namespace) -> TimerSettings:
    base = TimerSettings.quick() if args.quick else TimerSettings()
    fields = {k: v for k, v in vars(base).items()}
    if args.min_time is not None:
        fields["min_time"] = args.min_time
    if args.max_reps is not None:
        fields["max_reps"] = args.max_reps
    return TimerSettings(**fields)


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


def run_subprocess(script: str, peer: str, extra: list[str], args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        command = [sys.executable, str(HERE / script), "--peer", peer, "--out", str(out), *extra]
        if args.threads is not None:
            command += ["--threads", str(args.threads)]
        try:
            done = subprocess.run(command, env=subprocess_env(peer, args.threads), text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=args.timeout, check=False)
            log, failure = done.stdout, (f"exit status {done.returncode}" if done.returncode else "")
        except subprocess.TimeoutExpired as expired:
            log, failure = str(expired.stdout or ""), f"timed out after {args.timeout:.0f} s"
        loud = [line for line in log.splitlines() if line.startswith("!!!")]
        if args.verbose or failure:
            print(log, file=sys.stderr, end="")
        else:
            print("\n".join(loud), file=sys.stderr, end="\n" if loud else "")
        result: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    if failure:
        print(f"!!! {peer}: {script} {failure}", file=sys.stderr)
        result.setdefault("unavailable", failure)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = args.sizes or (QUICK_REVERSE_SIZES if args.quick else REVERSE_SIZES)
    if args.forward_sizes is not None:
        forward_sizes = args.forward_sizes
    else:
        forward_sizes = QUICK_FORWARD_SIZES if args.quick else FORWARD_SIZES
    cases = [Case(REVERSE, s, d) for s in sizes for d in args.dtypes]
    cases += [Case(FORWARD_W, s, d) for s in forward_sizes for d in args.dtypes]
    peers = [p for p in PEERS if p in ALWAYS or p in args.peers]
    timer = json.dumps(vars(timer_settings(args)))
    machine = machine_info.describe()
    results: dict[str, Any] = {
        "machine": machine,
        "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "peers": {},
        "records": [],
        "memory": [],
    }
    print(f"# {machine_info.summary(machine)}", file=sys.stderr)

    for peer in peers:
        started = time.perf_counter()
        extra = ["--cases", json.dumps([c.as_dict() for c in cases]), "--timer", timer]
        if args.baseline and peer == PROJECT:
            extra += ["--baseline", args.baseline]
        output = run_subprocess("worker.py", peer, extra, args)
        results["peers"][peer] = {k: v for k, v in output.items() if k in ("info", "unavailable")}
        results["records"] += output.get("records", [])
        state = output.get("unavailable") or f"{len(output.get('records', []))} cells"
        print(f"# {peer}: {state} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)

    if not args.quick and not args.no_memory:
        size = format_size(args.memory_size)
        for peer in peers:
            if "unavailable" in results["peers"][peer]:
                continue
            probe = run_subprocess("memory_probe.py", peer,
                                   ["--size", size, "--dtype", "float32", "--task", REVERSE], args)
            results["memory"].append(probe)
            print(f"# {peer}: memory probe done", file=sys.stderr)

    plot_path = None if args.no_plot else args.plot or (None if args.quick else HERE / "scaling.png")
    if plot_path is not None:
        skipped = plot(results["records"], plot_path)
        print(f"# {skipped}" if skipped else f"# plot written to {plot_path}", file=sys.stderr)
        if not skipped:
            base = args.markdown.resolve().parent if args.markdown else Path.cwd()
            results["plot"] = os.path.relpath(plot_path.resolve(), base)

    results["mismatches"] = [
        f"{r['impl']} {format_size(r['size'])} {r['dtype']}: {'; '.join(r['check']['problems'])}"
        for r in results["records"] if r.get("check") and not r["check"]["ok"]
    ]
    body = report.render(results)
    print(body)
    if args.markdown:
        report.refresh_markdown(args.markdown, body)
        print(f"# results written to {args.markdown}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if results["mismatches"]:
        print("!!! GRADIENT MISMATCH:\n!!! " + "\n!!! ".join(results["mismatches"]), file=sys.stderr)
        return 1
    if "unavailable" in results["peers"].get(PROJECT, {}):
        print(f"!!! the project could not run: {results['peers'][PROJECT]['unavailable']}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
