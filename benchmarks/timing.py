"""A robust wall-clock timer: warm up, repeat for a time budget, report the median."""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class TimerSettings:
    warmup_reps: int = 2
    min_time: float = 0.5  # seconds of timed calls to collect, at least
    max_time: float = 10.0  # stop after this even below min_reps (very slow calls)
    min_reps: int = 5
    max_reps: int = 2000

    @classmethod
    def quick(cls) -> TimerSettings:
        return cls(warmup_reps=1, min_time=0.05, max_time=1.0, min_reps=3, max_reps=200)


@dataclass(frozen=True)
class Timing:
    median: float
    minimum: float
    reps: int
    total: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(step: Callable[[], Any], settings: TimerSettings) -> Timing:
    """Median wall time of ``step()``; each sample is one call, garbage collection paused."""
    for _ in range(settings.warmup_reps):
        step()
    samples: list[float] = []
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        clock = time.perf_counter
        started = clock()
        while True:
            t0 = clock()
            step()
            samples.append(clock() - t0)
            elapsed = clock() - started
            reps = len(samples)
            if reps >= settings.max_reps or elapsed >= settings.max_time:
                break
            if reps >= settings.min_reps and elapsed >= settings.min_time:
                break
    finally:
        if was_enabled:
            gc.enable()
    return Timing(
        median=statistics.median(samples),
        minimum=min(samples),
        reps=len(samples),
        total=sum(samples),
    )
