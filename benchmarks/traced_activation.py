"""A traced Python activation against the built-in one it re-writes, in value_and_grad.

    python benchmarks/traced_activation.py              # both sizes, float32 and float64
    python benchmarks/traced_activation.py --quick      # a shorter timing budget
    python benchmarks/traced_activation.py --sizes 4096x16x256 --dtypes float32

For each size (B x N x M: X is B x N, W is N x M) it times ``ead.value_and_grad(x, w,
activation)`` (reverse mode, the default wrt=("w",)) with the built-in "sigmoid" and with Python
sigmoids traced into C++ programs, and prints the medians and the ratio of each to the built-in.
At 4096 x 16 x 256 the elementwise work (the activation and its derivative at each of the
4096 x 256 outputs) dominates; at 256 x 512 x 256 the contractions do.

The activations are timed in turn, one call each per round, so that a change in the machine's
load affects them alike; the CPU time other processes use during the run is reported, since on a
shared machine it makes any timing unreliable (--wait-idle waits for them first). Timings are
reported, never asserted; the traced gradients are checked against the built-in's first.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from cases import format_size, parse_size

import eigen_autodiff as ead

SIZES = ((4096, 16, 256), (256, 512, 256))
DTYPES = ("float32", "float64")


def article_sigmoid(x: Any) -> Any:
    """The article's my_function, 1 / (1 + exp(-x)), written with NumPy ufuncs."""
    return 1 / (1 + np.exp(-x))


def branch_sigmoid(x: Any) -> Any:
    """The built-in's own formula: exp of a non-positive argument only."""
    return ead.where(x >= 0, 1 / (1 + ead.exp(-x)), ead.exp(x) / (1 + ead.exp(x)))


# label -> activation; the first is the baseline.
ACTIVATIONS: dict[str, Any] = {
    "built-in 'sigmoid'": "sigmoid",
    "traced ead.sigmoid": ead.sigmoid,
    "traced 1/(1+np.exp(-x))": article_sigmoid,
    "traced where(x>=0, ...)": branch_sigmoid,
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=parse_size, default=list(SIZES))
    parser.add_argument("--dtypes", nargs="+", choices=DTYPES, default=list(DTYPES))
    parser.add_argument("--quick", action="store_true", help="a shorter timing budget")
    parser.add_argument("--seconds", type=float, default=6.0, help="timing budget per case")
    parser.add_argument("--threads", type=int, default=None, help="ead.set_num_threads(n)")
    parser.add_argument(
        "--wait-idle", type=float, default=0.0, help="wait up to this many seconds for idle CPUs"
    )
    return parser.parse_args(argv)


def cpu_busy_seconds() -> float | None:
    """CPU seconds all processes have used since boot (Linux), None elsewhere."""
    try:
        with open("/proc/stat") as f:
            fields = [float(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (sum(fields) - idle) / 100.0  # USER_HZ


def others_cpu_seconds(since: float | None, own_since: float) -> float | None:
    """CPU seconds used by other processes since the two readings."""
    now = cpu_busy_seconds()
    if now is None or since is None:
        return None
    return max(0.0, (now - since) - (time.process_time() - own_since))


def wait_idle(limit: float) -> None:
    """Waits until other processes use less than a fifth of a CPU, at most ``limit`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        busy, own = cpu_busy_seconds(), time.process_time()
        time.sleep(1.0)
        others = others_cpu_seconds(busy, own)
        if others is None or others < 0.2:
            break
    waited = time.monotonic() - started
    if waited > 2:
        print(f"  (waited {waited:.0f} s for other processes to finish)")


def interleaved_medians(
    steps: dict[str, Callable[[], Any]], seconds: float, min_rounds: int = 5
) -> dict[str, float]:
    """Median time of each step, the steps called in turn, one call each per round."""
    for step in steps.values():  # warm up
        step()
    samples: dict[str, list[float]] = {label: [] for label in steps}
    started = time.perf_counter()
    rounds = 0
    while rounds < min_rounds or time.perf_counter() - started < seconds:
        for label, step in steps.items():
            t0 = time.perf_counter()
            step()
            samples[label].append(time.perf_counter() - t0)
        rounds += 1
    return {label: statistics.median(times) for label, times in samples.items()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads is not None:
        ead.set_num_threads(args.threads)
    seconds = 1.0 if args.quick else args.seconds
    print(f"eigen_autodiff threads: {ead.get_num_threads()}, numpy {np.__version__}")
    rng = np.random.default_rng(0)
    for size in args.sizes:
        batch, inputs, outputs = size
        for dtype in args.dtypes:
            # Z = X W with entries of order one, where the sigmoid is neither flat nor linear.
            x = rng.uniform(-1, 1, (batch, inputs)).astype(dtype)
            w = (rng.uniform(-1, 1, (inputs, outputs)) * 2 / np.sqrt(inputs)).astype(dtype)
            _, expected = ead.value_and_grad(x, w, "sigmoid", wrt=("w", "x"))
            tol = 1e-4 if dtype == "float32" else 1e-10
            for activation in ACTIVATIONS.values():
                _, grads = ead.value_and_grad(x, w, activation, wrt=("w", "x"))
                for got, want in zip(grads, expected):
                    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
            if args.wait_idle > 0:
                wait_idle(args.wait_idle)
            busy, own = cpu_busy_seconds(), time.process_time()
            medians = interleaved_medians(
                {
                    label: (lambda a=activation, x=x, w=w: ead.value_and_grad(x, w, a))
                    for label, activation in ACTIVATIONS.items()
                },
                seconds,
            )
            others = others_cpu_seconds(busy, own)
            load = "" if others is None else f", other processes used {others:.1f} CPU s"
            print(f"\n{format_size(size)} {dtype}: value_and_grad, median per call{load}")
            baseline = next(iter(medians.values()))
            for label, median in medians.items():
                print(f"  {label:26s} {median * 1e3:9.3f} ms   ratio {median / baseline:5.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
