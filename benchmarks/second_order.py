"""The VJP and second-order paths against what they are promised to cost, in one process.

- ``ead.vjp`` at 256x512x256 float32 against ``value_and_grad(wrt=("w", "x"))`` (at most +10%),
  and at 1024x16x1024, where the elementwise work and the B x M work buffers are a large share;
- ``ead.hvp`` w.r.t. W at both sizes, float32, against ``value_and_grad(wrt=("w",))`` (at most
  3x);
- ``ead.hessian`` w.r.t. W against ``jax.jit(jax.hessian(loss))`` at 16x32x16 and 32x64x32,
  both dtypes, compile time excluded (at least 5x faster), when JAX is installed;
- ``ead.second_derivative`` per point, over 2^18 points in [-4, 4], for a few built-ins and a
  traced swish (no promise: what the HVP's and the Hessian's elementwise pass costs).

Prints the medians and the ratios; nothing is asserted (timings depend on the machine).

    python benchmarks/second_order.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cases import make_inputs
from timing import TimerSettings, measure

import eigen_autodiff as ead


def median(step: Callable[[], Any], settings: TimerSettings) -> float:
    return measure(step, settings).median


def print_vjp_and_hvp(size: tuple[int, int, int], settings: TimerSettings) -> None:
    x, w = make_inputs(size, "float32")
    cotangent = (2 * np.sin(x @ w)).astype(np.float32)
    v = np.ones_like(w)
    both = median(lambda: ead.value_and_grad(x, w, "sin", wrt=("w", "x")), settings)
    w_only = median(lambda: ead.value_and_grad(x, w, "sin", wrt=("w",)), settings)
    vjp = median(lambda: ead.vjp(x, w, "sin", cotangent, wrt=("w", "x")), settings)
    hvp = median(lambda: ead.hvp(x, w, "sin", v, wrt="w"), settings)
    print(f"\n| {'x'.join(map(str, size))} float32 | median | ratio | promised |")
    print("|---|---|---|---|")
    print(f"| value_and_grad(wrt=w,x) | {both * 1e3:.3f} ms | 1 | |")
    print(f"| vjp(wrt=w,x) | {vjp * 1e3:.3f} ms | {vjp / both:.2f} | <= 1.10 |")
    print(f"| value_and_grad(wrt=w) | {w_only * 1e3:.3f} ms | 1 | |")
    print(f"| hvp(wrt=w) | {hvp * 1e3:.3f} ms | {hvp / w_only:.2f} | <= 3 |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short timings (a smoke test)")
    args = parser.parse_args()
    settings = TimerSettings.quick() if args.quick else TimerSettings(min_time=2.0, min_reps=10)
    print(f"eigen-autodiff {ead.__version__}, {ead.get_num_threads()} threads")

    for size in ((256, 512, 256), (1024, 16, 1024)):
        print_vjp_and_hvp(size, settings)

    points = np.random.default_rng(0).uniform(-4, 4, 1 << 18)
    print("\n| second_derivative | float32 ns/point | float64 ns/point |")
    print("|---|---|---|")
    activations: list[tuple[str, Any]] = [(n, n) for n in ("sin", "tanh", "sigmoid", "softplus")]
    activations.append(("traced swish", lambda v: v * ead.sigmoid(v)))
    for label, activation in activations:
        per_point = []
        for dtype in (np.float32, np.float64):
            typed = points.astype(dtype)
            step = lambda a=activation, p=typed: ead.second_derivative(a, p)  # noqa: E731
            per_point.append(median(step, settings) / points.size)
        print(f"| {label} | {per_point[0] * 1e9:.2f} | {per_point[1] * 1e9:.2f} |")

    try:
        import jax
    except ImportError:
        print("JAX is not installed: the Hessian comparison is skipped (pip install jax)")
        return
    jax.config.update("jax_enable_x64", True)
    print("\n| Hessian w.r.t. W | project | jax.jit(jax.hessian) | speed-up | promised |")
    print("|---|---|---|---|---|")
    for size in ((16, 32, 16), (32, 64, 32)):
        for dtype in ("float32", "float64"):
            xs, ws = make_inputs(size, dtype)
            jax_hessian = jax.jit(
                jax.hessian(lambda w, x=xs: jax.numpy.sum(jax.numpy.sin(x @ w) ** 2))
            )
            jax_hessian(ws).block_until_ready()  # compile outside the timing
            theirs = median(lambda h=jax_hessian, w=ws: h(w).block_until_ready(), settings)
            ours = median(lambda x=xs, w=ws: ead.hessian(x, w, "sin", "w"), settings)
            label = "x".join(map(str, size))
            print(
                f"| {label} {dtype} | {ours * 1e3:.3f} ms | {theirs * 1e3:.3f} ms | "
                f"{theirs / ours:.1f}x | >= 5x |"
            )


if __name__ == "__main__":
    main()
