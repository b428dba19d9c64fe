"""Shared fixtures.

Every test gets its own data folder (COPILOT_DATA_DIR), so nothing leaks between tests or
into the working tree. Embedding vectors are cached by text in one session-wide folder:
the real embedder runs once per distinct passage, and the many small indexes the tests
build stay cheap.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import DEMO_KB, llm_settings, make_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The suite sets its own configuration; none may leak in from the shell.
for _key in [k for k in os.environ if k.startswith("COPILOT_")]:
    del os.environ[_key]


@pytest.fixture(autouse=True)
def keep_main_module():
    """Streamlit's AppTest replaces sys.modules['__main__'] with the script it ran; a
    process spawned by a later test would then import that script and die at start (the
    pool restarts it forever). The real main module is put back after every test."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch, session_cache):
    """A fresh data folder per test, a shared embedding cache, no stray configuration."""
    from copilot.config import get_settings

    for key in list(os.environ):
        if key.startswith("COPILOT_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COPILOT_CACHE_DIR", str(session_cache))
    monkeypatch.setenv("COPILOT_CONFIG", str(tmp_path / "no-copilot.toml"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory, session_cache) -> Path:
    """The demo desk ingested once per session (read-only for tests)."""
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    data = tmp_path_factory.mktemp("demo-data")
    settings = make_settings(data, session_cache)
    kb = KnowledgeIndex(settings)
    report = Ingestor(kb).run([DEMO_KB])
    kb.close()
    assert report.failed == 0, report.errors
    return data


@pytest.fixture
def demo_kb_copy(tmp_path) -> Path:
    """A writable copy of the demo desk for tests that edit or break it."""
    target = tmp_path / "kb"
    shutil.copytree(DEMO_KB, target)
    return target


@pytest.fixture(scope="session")
def demo_retriever(demo_index_dir, session_cache):
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.retriever import HybridRetriever

    kb = KnowledgeIndex(make_settings(demo_index_dir, session_cache))
    return HybridRetriever(kb)


@pytest.fixture(scope="session")
def demo_index(demo_index_dir, session_cache):
    """The session's demo index, opened once (read-only for tests)."""
    from knowledge_base.index import KnowledgeIndex

    return KnowledgeIndex(make_settings(demo_index_dir, session_cache))


@pytest.fixture(scope="session")
def retrieval_copilot(demo_index):
    """The engine over the demo desk with no model: retrieval-only drafts."""
    from copilot.engine import Copilot

    settings = llm_settings(demo_index.settings, enabled=False)
    return Copilot(settings, index=demo_index)


@pytest.fixture(scope="session")
def rt():
    """One throwaway Request Tracker 5 (tests/rt_server.py, seeded with SEED) for every RT test:
    starting one takes half a minute. Each test makes its own tickets."""
    from rt_server import SEED, rt_server

    with rt_server(SEED) as instance:
        if instance is None:
            pytest.fail("Request Tracker is not installed: run `make rt` (Debian's request-tracker5, rt5-db-sqlite)")
        print(f"RT up: setup {instance.setup_s:.1f} s, start {instance.start_s:.1f} s")
        yield instance


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, for one browser test module."""
    from helpers import chromium

    with chromium() as b:
        yield b
