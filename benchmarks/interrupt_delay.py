"""How soon a long call stops after Ctrl-C: the time from SIGINT to KeyboardInterrupt.

Each call of tests/long_calls.py, and one large product (too large in memory for the test
suite: three float32 matrices of 8192 x 8192, 0.8 GB), runs in a fresh process; a timer thread
sends SIGINT to the process one second into the call. With --uninterrupted, each call instead
runs to its end and its duration is printed (this takes minutes).

    python benchmarks/interrupt_delay.py [--uninterrupted] [--repeat N] [names...]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from long_calls import CTRL_C_HANDLER, LONG_CALLS, SETUP

# The layer's product, computed in panels between which the call may stop.
PRODUCT_SETUP = """
import numpy as np
import eigen_autodiff as ead
ead.set_num_threads(2)
rng = np.random.default_rng(0)
x = rng.standard_normal((8192, 8192), dtype=np.float32)
w = rng.standard_normal((8192, 8192), dtype=np.float32)
"""
CALLS = {**LONG_CALLS, "product": "ead.forward(x, w, 'sin')"}

INTERRUPTED = (
    CTRL_C_HANDLER
    + """
import os, signal, threading, time
sent = []

def interrupt():
    sent.append(time.monotonic())
    os.kill(os.getpid(), signal.SIGINT)

threading.Timer(1.0, interrupt).start()
try:
    {call}
except KeyboardInterrupt:
    print(time.monotonic() - sent[0])
"""
)

UNINTERRUPTED = """
import time
start = time.monotonic()
{call}
print(time.monotonic() - start)
"""


def run(name: str, template: str) -> float:
    setup = PRODUCT_SETUP if name == "product" else SETUP
    code = textwrap.dedent(setup) + textwrap.dedent(template).format(call=CALLS[name])
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=3600
    )
    return float(result.stdout.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=sorted(CALLS))
    parser.add_argument("--uninterrupted", action="store_true", help="time each call to its end")
    parser.add_argument("--repeat", type=int, default=5, help="interruptions per call")
    args = parser.parse_args()
    for name in args.names:
        if args.uninterrupted:
            print(f"{name:18} runs {run(name, UNINTERRUPTED):7.1f} s uninterrupted", flush=True)
            continue
        delays = [run(name, INTERRUPTED) for _ in range(args.repeat)]
        print(
            f"{name:18} SIGINT to KeyboardInterrupt: median {statistics.median(delays):.3f} s, "
            f"max {max(delays):.3f} s over {len(delays)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
