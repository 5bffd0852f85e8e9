"""Requests larger than memory raise MemoryError before allocating (tests/huge_request_cases.py,
run in a child process with a capped address space, so that a regression fails the test instead
of exhausting the machine's memory)."""

from __future__ import annotations

import os

import pytest
from _isolation import run_scenario

UNDER_SANITIZER = "asan" in os.environ.get("LD_PRELOAD", "")


@pytest.mark.parametrize("budget_bits", ["31", "64"])
def test_huge_requests_raise_memory_error(budget_bits: str) -> None:
    if budget_bits == "64" and UNDER_SANITIZER:
        # Without a budget, requests of tens of GiB are refused only by a failing allocation,
        # which needs the child's capped address space; AddressSanitizer cannot run with one.
        pytest.skip("needs an address-space limit, which AddressSanitizer does not allow")
    refused = run_scenario(
        "huge_request_cases.py", "every_huge_request_raises_memory_error", budget_bits
    )
    assert int(refused) > 80


def test_size_estimates_saturate() -> None:
    assert run_scenario("huge_request_cases.py", "size_estimates_saturate") == "None"
