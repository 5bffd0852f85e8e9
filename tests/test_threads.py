"""Threads: concurrent calls, reproducibility and the GIL, each scenario in a child process
(tests/concurrency_cases.py) so that a crash fails the test rather than the run."""

from __future__ import annotations

import pytest
from _isolation import run_scenario as isolated_scenario


def run_scenario(name: str, *args: str) -> str:
    return isolated_scenario("concurrency_cases.py", name, *args)


@pytest.mark.parametrize(
    "name",
    [
        "concurrent_calls_match_serial_calls",
        "changing_thread_count_while_computing",
        "gil_is_released_while_computing",
        "identical_for_any_thread_count",
    ],
)
def test_scenario(name: str) -> None:
    assert run_scenario(name) == "None"


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_results_are_identical_run_to_run(threads: str) -> None:
    first = run_scenario("digest_at", threads)
    second = run_scenario("digest_at", threads)
    assert len(first) == 64
    assert first == second
