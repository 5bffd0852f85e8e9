"""Calls that take about half a minute on the project's machine, for the tests of Ctrl-C
(tests/test_runtime.py) and for benchmarks/interrupt_delay.py, which measures how soon they stop.

The tests interrupt a call one second in and require KeyboardInterrupt within six: a call that
could end within six seconds would pass even if Ctrl-C were only seen when it returns. So when
the library gets faster, these grow (`python benchmarks/interrupt_delay.py --uninterrupted`).

SETUP is run first; each entry of LONG_CALLS is then one statement. Durations measured
uninterrupted, with 2 threads, are in docs/robustness.md.
"""

from __future__ import annotations

# Restores Python's Ctrl-C handler, set before a call is interrupted. A process started in the
# background by a shell without job control inherits SIGINT ignored, and Python then installs no
# handler: Ctrl-C would do nothing, whatever the library does.
CTRL_C_HANDLER = """
import signal
signal.signal(signal.SIGINT, signal.default_int_handler)
"""

SETUP = """
import numpy as np
import eigen_autodiff as ead

def long_activation(x):
    for _ in range(2000):
        x = ead.sin(x) * 0.5 + x * 0.25
    return x

long_program = ead.trace(long_activation)  # 8000 instructions
ead.set_num_threads(2)
rng = np.random.default_rng(0)
x, w = rng.standard_normal((49152, 64)), rng.standard_normal((64, 256)) * 0.1
tall_x = rng.standard_normal((9_000_000, 1))
"""

LONG_CALLS = {
    # A long traced program elementwise: on the pool, and in the calling thread.
    "forward_traced": "ead.forward(x, w, long_program)",
    "derivative_traced": "ead.derivative(long_program, np.linspace(-1, 1, 4_500_000))",
    "reverse_traced": "ead.value_and_grad(x, w, long_program)",
    # Chunked forward mode and the Jacobian: tasks of row blocks on the pool.
    "forward_chunked": "ead.value_and_grad(x[:16384], w, long_program, mode='forward')",
    "jacobian": "ead.jacobian(tall_x, w[:1, :1], long_program)",
    # The article's forward mode, in the calling thread.
    "forward_dynamic": (
        "ead.value_and_grad(x[:64, :64], w[:64, :64], long_program, wrt=('w', 'x'), "
        "mode='forward_dynamic')"
    ),
}
