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
import sys
import time
from pathlib import Path
from typing import Any

import machine_info
import report
from cases import (
    DTYPES,
    FORWARD_SIZES,
    FORWARD_W,
    JACOBIAN_W,
    MEMORY_SIZE,
    QUICK_FORWARD_SIZES,
    QUICK_REVERSE_SIZES,
    REVERSE,
    REVERSE_SIZES,
    Case,
    format_size,
    parse_size,
)
from isolation import Isolation
from peers import ALWAYS, PEERS, PROJECT
from plot_scaling import plot
from timing import TimerSettings

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--quick", action="store_true", help="small sizes, short timing, no memory probe"
    )
    p.add_argument(
        "--sizes", nargs="+", type=parse_size, metavar="BxNxM", help="reverse-mode sizes"
    )
    p.add_argument(
        "--forward-sizes",
        nargs="*",
        type=parse_size,
        metavar="BxNxM",
        help="forward-mode (dL/dW) sizes; give none to skip the section",
    )
    p.add_argument(
        "--jacobian-sizes",
        nargs="*",
        type=parse_size,
        metavar="BxNxM",
        help="Jacobian dY/dW sizes (default: the forward-mode ones); give none to skip",
    )
    p.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    p.add_argument(
        "--peers",
        nargs="+",
        choices=list(PEERS),
        default=list(PEERS),
        help="project and numpy always run; missing libraries are skipped",
    )
    p.add_argument("--threads", type=int, help="threads per library (default: each one's own)")
    p.add_argument(
        "--baseline",
        metavar="MODULE:FUNCTION",
        help="forward-mode dynamic baseline, called like eigen_autodiff.value_and_grad "
        "(default: the project's mode='forward_dynamic')",
    )
    p.add_argument(
        "--memory-budget",
        type=float,
        metavar="GIB",
        help="the project's memory budget (eigen_autodiff.set_memory_budget), e.g. to "
        "let forward mode run at 64x128x64 float64 (default: the project's)",
    )
    p.add_argument("--min-time", type=float, help="seconds of timed calls per cell")
    p.add_argument("--max-reps", type=int, help="at most this many timed calls per cell")
    p.add_argument("--memory-size", type=parse_size, default=MEMORY_SIZE, metavar="BxNxM")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes")
    p.add_argument(
        "--plot",
        type=Path,
        help="PNG path (default: benchmarks/scaling.png, not written with --quick)",
    )
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--markdown", type=Path, help="write/refresh the generated section of this file")
    p.add_argument("--json", type=Path, help="also save the raw results here")
    p.add_argument(
        "--from-json",
        type=Path,
        metavar="PATH",
        help="run nothing: report (print, --markdown, --plot) the results saved with --json",
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per peer subprocess")
    p.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each subprocess, wait up to this long for other processes to "
        "leave the CPUs idle",
    )
    p.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        metavar="N",
        help="run a peer again, up to N times, when other processes used the CPUs meanwhile",
    )
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


def cases_from(args: argparse.Namespace) -> list[Case]:
    sizes = args.sizes or (QUICK_REVERSE_SIZES if args.quick else REVERSE_SIZES)
    if args.forward_sizes is not None:
        forward_sizes = args.forward_sizes
    else:
        forward_sizes = QUICK_FORWARD_SIZES if args.quick else FORWARD_SIZES
    jacobian_sizes = forward_sizes if args.jacobian_sizes is None else args.jacobian_sizes
    cases = [Case(REVERSE, s, d) for s in sizes for d in args.dtypes]
    cases += [Case(FORWARD_W, s, d) for s in forward_sizes for d in args.dtypes]
    cases += [Case(JACOBIAN_W, s, d) for s in jacobian_sizes for d in args.dtypes]
    return cases


def run_peer(peer: str, cases: list[Case], args: argparse.Namespace, isolation: Isolation) -> dict:
    isolation.wait_for_idle()
    started = time.perf_counter()
    extra = ["--cases", json.dumps([c.as_dict() for c in cases])]
    extra += ["--timer", json.dumps(vars(timer_settings(args)))]
    if args.baseline and peer == PROJECT:
        extra += ["--baseline", args.baseline]
    if args.memory_budget is not None and peer == PROJECT:
        extra += ["--memory-budget", str(int(args.memory_budget * 2**30))]
    output = isolation.run("worker.py", peer, extra)
    for _ in range(args.retry_busy):
        if not isolation.busy(output):
            break
        print(f"# {peer}: the CPUs were busy, running it again", file=sys.stderr)
        isolation.wait_for_idle()
        again = isolation.run("worker.py", peer, extra)
        output = min(output, again, key=lambda o: o.get("foreign_load") or 0.0)
    state = output.get("unavailable") or f"{len(output.get('records', []))} cells"
    print(f"# {peer}: {state} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return output


def collect(args: argparse.Namespace) -> dict[str, Any]:
    """Run every peer (and the memory probes); the results as one JSON-able dict."""
    machine = machine_info.describe()
    results: dict[str, Any] = {
        "machine": machine,
        "command": shlex.join(["python", "benchmarks/run.py", *sys.argv[1:]]),
        "peers": {},
        "records": [],
        "memory": [],
    }
    print(f"# {machine_info.summary(machine)}", file=sys.stderr)
    isolation = Isolation(
        threads=args.threads, timeout=args.timeout, wait_idle=args.wait_idle, verbose=args.verbose
    )
    peers = [p for p in PEERS if p in ALWAYS or p in args.peers]
    cases = cases_from(args)
    for peer in peers:
        output = run_peer(peer, cases, args, isolation)
        kept = ("info", "unavailable", "foreign_load")
        results["peers"][peer] = {k: v for k, v in output.items() if k in kept}
        results["records"] += output.get("records", [])
    if not args.quick and not args.no_memory:
        size = format_size(args.memory_size)
        for peer in peers:
            if "unavailable" not in results["peers"][peer]:
                probe = isolation.run(  # peak memory does not depend on the load: no waiting
                    "memory_probe.py", peer, ["--size", size, "--dtype", "float32"]
                )
                results["memory"].append(probe)
                print(f"# {peer}: memory probe done", file=sys.stderr)
    return results


def publish(args: argparse.Namespace, results: dict[str, Any]) -> int:
    """Plot, print and write the report; the exit status."""
    default_plot = None if args.quick else HERE / "scaling.png"
    plot_path = None if args.no_plot else args.plot or default_plot
    if plot_path is not None:
        skipped = plot(results["records"], plot_path)
        print(f"# {skipped}" if skipped else f"# plot written to {plot_path}", file=sys.stderr)
        if not skipped:
            base = args.markdown.resolve().parent if args.markdown else Path.cwd()
            results["plot"] = os.path.relpath(plot_path.resolve(), base)
    results["mismatches"] = [
        f"{r['impl']} {format_size(r['size'])} {r['dtype']}: {'; '.join(r['check']['problems'])}"
        for r in results["records"]
        if r.get("check") and not r["check"]["ok"]
    ]
    body = report.render(results)
    print(body)
    if args.markdown:
        report.refresh_markdown(args.markdown, body)
        print(f"# results written to {args.markdown}", file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if results["mismatches"]:
        lines = "\n!!! ".join(results["mismatches"])
        print(f"!!! GRADIENT MISMATCH:\n!!! {lines}", file=sys.stderr)
        return 1
    if "unavailable" in results["peers"].get(PROJECT, {}):
        reason = results["peers"][PROJECT]["unavailable"]
        print(f"!!! the project could not run: {reason}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = json.loads(args.from_json.read_text()) if args.from_json else collect(args)
    return publish(args, results)


if __name__ == "__main__":
    sys.exit(main())
