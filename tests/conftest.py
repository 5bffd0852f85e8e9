from __future__ import annotations

import zlib

import numpy as np
import pytest


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the test's name: reproducible, and different across tests.

    The seed is a CRC of the name: ``hash()`` of a string changes from run to run.
    """
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
