"""The security bench shared by the corpus tests: one small knowledge base and engine per
session, every case in its own folder under it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def bench(tmp_path_factory, session_cache):
    from evals.security import Bench

    b = Bench(tmp_path_factory.mktemp("security"), session_cache)
    yield b
    b.close()
