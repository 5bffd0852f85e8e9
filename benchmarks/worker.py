"""Runs one peer's implementations in this process and writes the results as JSON.

Started by run.py, one subprocess per peer, so that each library's thread pool has the cores to
itself. Not meant to be run by hand, though it can be:
    python benchmarks/worker.py --peer numpy --cases '[{"task": "reverse", "size": [3, 3, 2],
        "dtype": "float64"}]' --out /dev/stdout
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from typing import Any

from cases import Case, check, make_inputs
from peers import PeerOptions, load
from peers.numpy_peer import value_and_grad as numpy_value_and_grad
from timing import TimerSettings, measure


def oracle(case: Case) -> dict[str, Any]:
    x, w = make_inputs(case.size, case.dtype)
    loss, dw, dx = numpy_value_and_grad(x.astype("float64"), w.astype("float64"))
    return {"loss": float(loss), "w": dw, "x": dx}


def error_text(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0] if message else ''}"[:300]


def run_case(impl: Any, case: Case, settings: TimerSettings) -> dict[str, Any]:
    record: dict[str, Any] = {"impl": impl.name, "is_project": impl.is_project, **case.as_dict()}
    try:
        x, w = make_inputs(case.size, case.dtype)
        step, to_numpy = impl.prepare(x, w)
        verdict = check(to_numpy(step()), oracle(case), case.dtype)
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
    args = parser.parse_args(argv)

    cases = [Case.from_dict(c) for c in json.loads(args.cases)]
    settings = TimerSettings(**json.loads(args.timer))
    options = PeerOptions(threads=args.threads, baseline=args.baseline)
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
