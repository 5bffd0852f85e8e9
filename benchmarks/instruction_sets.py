"""The module's copies per instruction set, and a build for this machine alone, side by side.

    python benchmarks/instruction_sets.py                         # the copies of this install
    python benchmarks/instruction_sets.py --native-python P       # and the build P imports

``P`` is the Python of an environment where the package was built for the building machine
alone (``pip install -Ccmake.define.EIGEN_AUTODIFF_NATIVE=ON .``). Each copy (chosen with
``EIGEN_AUTODIFF_ISA``) and the native build time ``value_and_grad(x, w, "sin", wrt=("w",
"x"))`` in a process of their own, in turn, for several rounds, so that a change in the machine's
load affects them alike. The table gives the median over the rounds, the range, and each one's
ratio to the native build (or to the copy the import chooses). Timings are reported, never
asserted; each copy's gradient is first checked against the NumPy reference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cases import format_size, make_inputs, parse_size

SIZES = ((256, 512, 256), (1024, 1024, 1024))
DTYPES = ("float32", "float64")
HERE = Path(__file__).resolve()


def child(sizes: list[tuple[int, int, int]], dtypes: list[str], seconds: float) -> None:
    """Times each cell in this process; prints the copy's name and the medians as JSON."""
    import numpy as np

    import eigen_autodiff as ead
    from eigen_autodiff import reference

    medians = {}
    for size in sizes:
        for dtype in dtypes:
            x, w = make_inputs(size, dtype)
            _, got = ead.value_and_grad(x, w, "sin", wrt=("w", "x"))
            _, expected = reference.value_and_grad(x, w, "sin", wrt=("w", "x"))
            tolerance = 1e-3 if dtype == "float32" else 1e-9
            for name, a, b in zip(("dL/dW", "dL/dX"), got, expected):
                if not np.allclose(a, b, rtol=tolerance, atol=tolerance * np.max(np.abs(b))):
                    raise SystemExit(f"{ead._core.instruction_set}: {name} differs from NumPy's")
            times = []
            end = time.perf_counter() + seconds
            while time.perf_counter() < end or len(times) < 5:
                start = time.perf_counter()
                ead.value_and_grad(x, w, "sin", wrt=("w", "x"))
                times.append(time.perf_counter() - start)
            medians[f"{format_size(size)} {dtype}"] = statistics.median(times)
    print(json.dumps({"instruction_set": ead._core.instruction_set, "medians": medians}))


def run_build(python: str, instruction_set: str | None, arguments: list[str]) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != "EIGEN_AUTODIFF_ISA"}
    if instruction_set is not None:
        environment["EIGEN_AUTODIFF_ISA"] = instruction_set
    done = subprocess.run(
        [python, str(HERE), "--child", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{python} ({instruction_set or 'its choice'}) failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=list(SIZES))
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--seconds", type=float, default=1.0, help="timed calls per cell")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--native-python", help="the Python of a build for this machine alone")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.sizes, args.dtypes, args.seconds)
        return 0

    import eigen_autodiff as ead
    from eigen_autodiff import _native

    arguments = ["--sizes", *map(format_size, args.sizes), "--dtypes", *args.dtypes]
    arguments += ["--seconds", str(args.seconds)]
    builds: list[tuple[str, str, str | None]] = []
    if args.native_python:
        builds.append(("native build", args.native_python, None))
    builds += [(f"default build, {name}", sys.executable, name) for name in _native._built()]
    chosen = f"default build, {ead._core.instruction_set}"
    reference_label = builds[0][0] if args.native_python else chosen

    times: dict[str, dict[str, list[float]]] = {label: {} for label, _, _ in builds}
    for round_number in range(args.rounds):
        for label, python, instruction_set in builds:
            result = run_build(python, instruction_set, arguments)
            for cell, median in result["medians"].items():
                times[label].setdefault(cell, []).append(median)
        print(f"# round {round_number + 1} of {args.rounds} done", file=sys.stderr)

    cells = list(times[reference_label])
    print(
        f"value_and_grad(wrt=(w, x)), sin; median of {args.rounds} rounds (range), ratio to "
        f"the {reference_label}; the import chooses: {ead._core.instruction_set}"
    )
    print(f"| build | {' | '.join(cells)} |")
    print(f"|---|{'---|' * len(cells)}")
    for label in times:
        row = []
        for cell in cells:
            values = times[label][cell]
            middle = statistics.median(values)
            ratio = middle / statistics.median(times[reference_label][cell])
            row.append(
                f"{middle * 1e3:.2f} ms ({min(values) * 1e3:.2f}-{max(values) * 1e3:.2f}), "
                f"{ratio:.2f}"
            )
        print(f"| {label} | {' | '.join(row)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
