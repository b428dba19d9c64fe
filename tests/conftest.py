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
# `make test` runs the suite in two pytest-xdist workers: each starts the bundled model on a
# port of its own, so one worker stopping its server never cuts the other's off; and each
# computes on one thread (embedder, torch, model server): OpenMP's and llama.cpp's threads wait
# for each other spinning, so with the other worker busy on the second core a two-thread
# computation crawls (tried: a 46 s eval took 12 minutes, a 24 s one 7)
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
WORKER_ENV = ({"COPILOT_LLM__LOCAL_PORT": str(18088 + int(_WORKER[2:])), "COPILOT_LLM__SERVE_THREADS": "1"}
              if _WORKER.startswith("gw") else {})
os.environ.update(WORKER_ENV)
if _WORKER:
    os.environ["OMP_NUM_THREADS"] = "1"


def pytest_collection_modifyitems(config, items):
    """The order the two xdist workers take test files in (`make test` passes
    --no-loadscope-reorder): one file that needs the demo index first, so a worker starts
    ingesting it at once, then the files that need none, so the other worker has work while it
    waits for that index instead of idling, then the rest; larger files first within each."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    needs_index = {f for f, tests in files.items() if any("demo_index_dir" in t.fixturenames for t in tests)}
    by_size = sorted(files, key=lambda f: -len(files[f]))  # stable: ties keep the collection order
    with_index = [f for f in by_size if f in needs_index]
    order = with_index[:1] + [f for f in by_size if f not in needs_index] + with_index[1:]
    items[:] = [t for f in order for t in files[f]]


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


def _shared_root(tmp_path_factory) -> Path | None:
    """The folder every xdist worker of this run shares (None when run in one process)."""
    return tmp_path_factory.getbasetemp().parent if _WORKER else None


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    # one cache for all workers: a passage is embedded once per run (SQLite, WAL, busy timeout)
    shared = _shared_root(tmp_path_factory)
    if shared is None:
        return tmp_path_factory.mktemp("embedding-cache")
    (shared / "embedding-cache").mkdir(exist_ok=True)
    return shared / "embedding-cache"


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
    for key, value in WORKER_ENV.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory, session_cache) -> Path:
    """The demo desk ingested once per session (read-only for tests)."""
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    def ingest(data: Path) -> None:
        kb = KnowledgeIndex(make_settings(data, session_cache))
        report = Ingestor(kb).run([DEMO_KB])
        kb.close()
        assert report.failed == 0, report.errors

    data = tmp_path_factory.mktemp("demo-data")
    shared = _shared_root(tmp_path_factory)
    if shared is None:
        ingest(data)
        return data
    # under xdist the first worker ingests, the others wait and take a copy (each opens its own)
    from filelock import FileLock

    built = shared / "demo-data"
    with FileLock(str(shared / "demo-data.lock")):
        if not (built / ".complete").exists():
            shutil.rmtree(built, ignore_errors=True)
            ingest(built)
            (built / ".complete").touch()
    shutil.copytree(built, data, dirs_exist_ok=True)
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
