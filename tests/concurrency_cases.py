"""Concurrency scenarios, each run in its own interpreter by tests/test_threads.py: threads that
compute at once, thread counts changed under them, and the GIL released while C++ computes.

Each function raises AssertionError on failure; a crash ends the child, which fails the test.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

import eigen_autodiff as ead

MODES = ("reverse", "forward", "forward_dynamic")
# Large enough that the contractions and the elementwise work go to the thread pool, small
# enough for the article's dynamic forward mode.
SHAPES = [(64, 48, 40), (33, 17, 9), (5, 70, 3), (1, 1, 1)]


def inputs(seed: int) -> tuple[np.ndarray, np.ndarray, str, str]:
    rng = np.random.default_rng(seed)
    batch, inputs_, outputs = SHAPES[seed % len(SHAPES)]
    dtype = (np.float64, np.float32)[seed % 2]
    x = rng.uniform(-1, 1, (batch, inputs_)).astype(dtype)
    w = rng.uniform(-1, 1, (inputs_, outputs)).astype(dtype)
    mode = MODES[seed % len(MODES)]
    if mode == "forward_dynamic":
        x, w = x[:8, :6], w[:6, :5]
    activation = sorted(ead.ACTIVATIONS)[seed % len(ead.ACTIVATIONS)]
    return x, w, activation, mode


def compute(seed: int) -> tuple[Any, ...]:
    x, w, activation, mode = inputs(seed)
    loss, grads = ead.value_and_grad(x, w, activation, wrt=("w", "x"), mode=mode)
    return (loss, *grads, ead.forward(x, w, activation))


def identical(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(
        np.array_equal(p, q, equal_nan=True) and np.asarray(p).dtype == np.asarray(q).dtype
        for p, q in zip(a, b)
    )


def run_threads(count: int, target: Callable[[int], None]) -> None:
    """Runs target(0..count-1) in threads started together; re-raises the first failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def body(index: int) -> None:
        try:
            start.wait()
            target(index)
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=body, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def concurrent_calls_match_serial_calls() -> None:
    """8 threads, each on its own inputs, several calls each: identical to serial results."""
    ead.set_num_threads(2)
    seeds = range(24)
    serial = {seed: compute(seed) for seed in seeds}

    def worker(index: int) -> None:
        for repeat in range(3):
            for seed in seeds[index::8]:
                assert identical(compute(seed), serial[seed]), (index, repeat, seed)

    run_threads(8, worker)


def digest_at(threads: int) -> str:
    """A hash of every result at a fixed thread count: compared across processes."""
    ead.set_num_threads(threads)
    digest = hashlib.sha256()
    for seed in range(12):
        for part in compute(seed):
            digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def identical_for_any_thread_count() -> None:
    """Reverse and forward modes, VJP, JVP, values, HVP and Hessian on 1, 2, 8 and 16 threads:
    the same bits.

    The shapes are large enough that every product is split into several blocks (more on more
    threads) and the elementwise work into several tasks, with partial last blocks.
    """
    results: dict[int, list[np.ndarray]] = {}
    for threads in (1, 2, 8, 16):
        ead.set_num_threads(threads)
        parts: list[np.ndarray] = []
        for seed, (batch, inputs_, outputs) in enumerate([(300, 250, 200), (257, 130, 70)]):
            for dtype in (np.float32, np.float64):
                rng = np.random.default_rng(seed)
                x = rng.uniform(-1, 1, (batch, inputs_)).astype(dtype)
                w = rng.uniform(-1, 1, (inputs_, outputs)).astype(dtype)
                b = rng.uniform(-1, 1, outputs).astype(dtype)
                y_like = rng.uniform(-1, 1, (batch, outputs)).astype(dtype)
                for activation in ("sin", "sigmoid", "tanh"):
                    loss, grads = ead.value_and_grad(
                        x, w, activation, wrt=("x", "w", "b"), bias=b, target=y_like
                    )
                    parts += [np.float64(loss), *grads]
                    parts += ead.vjp(x, w, activation, y_like, bias=b, wrt=("x", "w", "b"))
                    parts += ead.jvp(x, w, activation, [x, w], bias=b, wrt=("x", "w"))
                    parts.append(ead.forward(x, w, activation, bias=b))
                    parts.append(ead.hvp(x, w, activation, w, bias=b, target=y_like))
                    parts.append(ead.hessian(x, w, activation, "b", bias=b, target=y_like))
                if batch < 300:  # forward mode costs N/16 passes: the smaller shape is enough
                    loss, grads = ead.value_and_grad(x, w, "sin", wrt=("w", "b"), mode="forward")
                    parts += [np.float64(loss), *grads]
        results[threads] = parts
    for threads, parts in results.items():
        assert identical(tuple(parts), tuple(results[1])), f"{threads} threads differ from 1"


def changing_thread_count_while_computing() -> None:
    """set_num_threads from one thread while others compute: no crash, right results."""
    ead.set_num_threads(2)
    seeds = range(8)
    serial = {seed: compute(seed) for seed in seeds}
    done = threading.Event()

    def worker(index: int) -> None:
        if index == 0:
            for k in range(60):
                ead.set_num_threads(1 + k % 4)
                assert ead.get_num_threads() >= 1
            done.set()
            return
        while not done.is_set():
            for seed in seeds[index - 1 :: 4]:
                for got, expected in zip(compute(seed), serial[seed]):
                    # Other thread counts may round differently (another contraction order).
                    rtol = 1e-4 if np.asarray(expected).dtype == np.float32 else 1e-10
                    np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol)

    run_threads(5, worker)


def gil_is_released_while_computing() -> None:
    """A pure-Python thread makes progress while the main thread is inside a C++ call.

    With a switch interval far longer than the test, the interpreter never takes the GIL from
    the main thread; the counting thread can run only where the main thread gives the GIL up.
    Between the two reads of the counter that is only inside the C++ call.
    """
    x, w = np.ones((40, 40)), np.ones((40, 40))
    counter = [0]
    stop = threading.Event()

    def count() -> None:
        while not stop.is_set():
            counter[0] += 1
            # Gives the GIL back now and then, so that the main thread can take it again.
            stop.wait(0.0005)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    thread = threading.Thread(target=count)
    thread.start()
    try:
        progressed = False
        for _ in range(20):
            before = counter[0]
            ead.value_and_grad(x, w, "sin", wrt=("w", "x"), mode="forward_dynamic")
            if counter[0] > before:
                progressed = True
                break
        assert progressed, "the counting thread never ran during a C++ call"
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
