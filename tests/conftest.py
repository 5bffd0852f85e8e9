from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded by the test's name: reproducible, and different across tests."""
    return np.random.default_rng(abs(hash(request.node.nodeid)) % (2**32))
