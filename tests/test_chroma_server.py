"""The vector store through a real Chroma server (`chroma run` on loopback): the same
searches return the same ids as the persistent folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge_base.settings import VectorStoreSettings
from copilot.errors import ConfigError
from knowledge_base.documents import SearchFilters
from knowledge_base.index import KnowledgeIndex
from knowledge_base.ingest import Ingestor
from knowledge_base.retriever import HybridRetriever

from helpers import DEMO_KB, free_port, make_settings, wait_for_http

QUERIES = [
    ("роутер мигает красным, интернета нет", "ru"),
    ("how long does a refund take to reach my card", "en"),
    ("хочу приостановить договор на время отпуска", "ru"),
    ("someone called asking for the SMS code, is that you?", "en"),
    ("E-203 on the TV screen", None),
    ("платить ли за мастера, если кабель в подъезде перебили соседи", "ru"),
]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, "chroma run")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield port
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.slow
def test_server_and_folder_return_the_same_ids(chroma_server, demo_index_dir, session_cache, tmp_path):
    folder = HybridRetriever(KnowledgeIndex(make_settings(demo_index_dir, session_cache)))
    server_settings = make_settings(
        tmp_path / "data", session_cache,
        vector_store=VectorStoreSettings(mode="http", host="127.0.0.1", port=chroma_server),
    )
    kb = KnowledgeIndex(server_settings)
    report = Ingestor(kb).run([DEMO_KB])
    assert report.failed == 0 and report.added > 300
    assert kb.vector.count() == kb.docstore.count_chunks()
    server = HybridRetriever(kb)
    for query, lang in QUERIES:
        filters = SearchFilters(lang=lang) if lang else None
        a = [h.chunk_id for h in folder.search(query, k=5, filters=filters).hits]
        b = [h.chunk_id for h in server.search(query, k=5, filters=filters).hits]
        assert a == b, query


@pytest.mark.slow
def test_pointing_an_existing_index_at_a_new_server_fills_it(chroma_server, demo_kb_copy, tmp_path, session_cache):
    """The docstore says everything is unchanged, but the new server is empty: ingest
    writes the vectors there (from the embedding cache) instead of skipping."""
    data = tmp_path / "data"
    local = KnowledgeIndex(make_settings(data, session_cache))
    Ingestor(local).run([demo_kb_copy / "articles"])
    local.close()
    remote = KnowledgeIndex(make_settings(
        data, session_cache,
        vector_store=VectorStoreSettings(mode="http", port=chroma_server, collection="moved")))
    assert remote.vector.count() == 0
    report = Ingestor(remote).run([demo_kb_copy / "articles"])
    assert report.unchanged == report.documents and report.repaired_vectors == remote.docstore.count_chunks()
    assert remote.vector.count() == remote.docstore.count_chunks()


def test_an_unreachable_server_is_a_clear_error(tmp_path, session_cache):
    settings = make_settings(tmp_path / "d", session_cache,
                             vector_store=VectorStoreSettings(mode="http", port=free_port()))
    with pytest.raises(ConfigError, match="cannot reach the Chroma server"):
        KnowledgeIndex(settings)
