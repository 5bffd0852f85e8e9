"""Runs one peer's implementations in this process and writes the results as JSON.

Started by run.py, one subprocess per peer, so that each library's thread pool has the cores to
itself. Not meant to be run by hand, though it can be:
    python benchmarks/worker.py --peer numpy --cases '[{"task": "reverse", "size": [3, 3, 2],
        "dtype": "float64"}]' --out /dev/stdout
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import traceback
from typing import Any

from cases import JACOBIAN_W, Case, check, make_inputs
from peers import PeerOptions, load
from peers.numpy_peer import jacobian_w as numpy_jacobian_w
from peers.numpy_peer import value_and_grad as numpy_value_and_grad
from timing import TimerSettings, measure

SLOW = 1.0  # seconds: a call this slow is warm after the checked call, no more warm-up needed


def oracle(case: Case) -> dict[str, Any]:
    """The hand-written NumPy results in float64, on the same (rounded) inputs."""
    x, w = (a.astype("float64") for a in make_inputs(case.size, case.dtype))
    if case.task == JACOBIAN_W:
        return {"jac": numpy_jacobian_w(x, w)}
    loss, dw, dx = numpy_value_and_grad(x, w)
    return {"loss": float(loss), "w": dw, "x": dx}


def limit_check(got: dict[str, Any], case: Case) -> dict[str, Any]:
    """A limit implementation computes no gradient: only the products' shapes are checked."""
    b, n, m = case.size
    want = {"z": (b, m), "w": (n, m), "x": (b, n)}
    shapes = {key: tuple(value.shape) for key, value in got.items()}
    problems = [f"shapes {shapes}, expected {want}"] if shapes != want else []
    return {"ok": not problems, "errors": {}, "tolerance": None, "problems": problems}


def error_text(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}"[:300]


def run_case(impl: Any, case: Case, settings: TimerSettings) -> dict[str, Any]:
    record: dict[str, Any] = {
        "impl": impl.name,
        "is_project": impl.is_project,
        "is_limit": impl.is_limit,
        **case.as_dict(),
    }
    try:
        x, w = make_inputs(case.size, case.dtype)
        step, to_numpy = impl.prepare(x, w)
        started = time.perf_counter()
        first = step()  # also the first warm-up call (and JIT compilation)
        if time.perf_counter() - started > SLOW:
            settings = dataclasses.replace(settings, warmup_reps=0)
        verdict = (
            limit_check(to_numpy(first), case)
            if impl.is_limit
            else check(to_numpy(first), oracle(case), case.dtype)
        )
        del first
        record["check"] = verdict
        if not verdict["ok"]:
            print(
                f"!!! GRADIENT MISMATCH: {impl.name} {case.label} {case.dtype}: "
                + "; ".join(verdict["problems"]),
                file=sys.stderr,
                flush=True,
            )
        record["timing"] = measure(step, settings).as_dict()
    except Exception as error:  # a failing cell is reported, the other cells still run
        record["error"] = error_text(error)
        if not isinstance(error, MemoryError):
            traceback.print_exc(file=sys.stderr)
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", required=True)
    parser.add_argument("--cases", required=True, help="JSON list of cases")
    parser.add_argument("--out", required=True)
    parser.add_argument("--timer", default="{}", help="JSON TimerSettings fields")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--baseline")
    parser.add_argument("--memory-budget", type=int)
    args = parser.parse_args(argv)

    cases = [Case.from_dict(c) for c in json.loads(args.cases)]
    settings = TimerSettings(**json.loads(args.timer))
    options = PeerOptions(
        threads=args.threads, baseline=args.baseline, memory_budget=args.memory_budget
    )
    output: dict[str, Any] = {"peer": args.peer, "records": []}

    def write() -> None:
        with open(args.out, "w") as f:
            json.dump(output, f, indent=1)

    try:
        peer = load(args.peer)
        output["info"] = peer.setup(options)
        impls = peer.implementations(options)
    except Exception as error:  # not installed, or the project's build is broken right now
        output["unavailable"] = error_text(error)
        write()
        return 0
    output["available"] = True
    for case in cases:
        for impl in impls:
            if impl.task == case.task:
                output["records"].append(run_case(impl, case, settings))
                write()  # partial results survive a crash or a timeout
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main())
