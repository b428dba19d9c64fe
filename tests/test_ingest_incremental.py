"""Incremental ingestion of the demo desk: clean first run, nothing redone on a re-run,
only the edited article re-indexed, removed sources gone from both indexes, and a run
killed half-way completed by the next one."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge_base.documents import SearchFilters
from knowledge_base.index import KnowledgeIndex
from knowledge_base.ingest import Ingestor
from knowledge_base.retriever import HybridRetriever

from helpers import DEMO_KB, REPO, make_settings


def open_index(data: Path, cache: Path) -> KnowledgeIndex:
    return KnowledgeIndex(make_settings(data, cache))


def consistent(kb: KnowledgeIndex) -> None:
    """Both indexes hold exactly the docstore's chunks."""
    wanted = kb.docstore.all_chunk_ids()
    assert kb.vector.all_ids() == wanted
    kb.refresh_lexical()
    assert set(kb.lexical._ids) == wanted


def test_demo_desk_ingests_cleanly_and_a_rerun_changes_nothing(demo_index_dir, session_cache):
    kb = open_index(demo_index_dir, session_cache)
    docs = kb.docstore.documents()
    articles = [d for d in docs.values() if d.doc_type == "article" and d.path.startswith("articles/")]
    tickets = [d for d in docs.values() if d.doc_type == "ticket"]
    assert len(articles) >= 60 and {d.lang for d in articles} == {"en", "ru"}
    assert len(tickets) >= 200
    assert "refunds-2023-en" not in docs  # outdated, not indexed
    consistent(kb)

    before = kb.docstore.generation()
    report = Ingestor(kb).run([DEMO_KB])
    assert report.failed == 0
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert report.unchanged == len(docs)
    assert report.chunks_embedded == 0
    assert kb.docstore.generation() == before
    assert sorted(report.outdated) == ["refunds-2023-en (superseded by refunds-en)",
                                       "refunds-2023-ru (superseded by refunds-ru)"]
    assert len(report.duplicate_passages) >= 3  # the help-centre export repeats article paragraphs
    assert report.boilerplate_lines > 0
    kb.close()


def test_editing_one_article_reindexes_only_it(demo_kb_copy, tmp_path, session_cache):
    kb = open_index(tmp_path / "data", session_cache)
    first = Ingestor(kb).run([demo_kb_copy])
    assert first.failed == 0 and first.added == first.documents
    assert first.repaired_vectors == 0  # a fresh index writes each vector once, nothing to repair

    article = demo_kb_copy / "articles" / "autopay-en.md"
    article.write_text(article.read_text().replace(
        "On the **25th** of each month", "On the **25th** of each month (test marker: zebra-lighthouse)"))
    assert "zebra-lighthouse" in article.read_text()
    chunks_before = {c.chunk_id: c.text for c in kb.docstore.chunks_of("autopay-en")}

    second = Ingestor(kb).run([demo_kb_copy])
    assert (second.added, second.updated, second.removed, second.failed) == (0, 1, 0, 0)
    assert second.unchanged == first.added - 1
    changed = [c for c in kb.docstore.chunks_of("autopay-en") if chunks_before.get(c.chunk_id) != c.text]
    assert second.chunks_embedded == len(changed) >= 1  # only the changed passage was embedded
    consistent(kb)
    hit = HybridRetriever(kb).search("zebra-lighthouse", k=1).hits[0]
    assert hit.source_id == "autopay-en"


def test_removed_documents_disappear_from_both_indexes(demo_kb_copy, tmp_path, session_cache):
    kb = open_index(tmp_path / "data", session_cache)
    Ingestor(kb).run([demo_kb_copy])
    gone = kb.docstore.chunk_ids("sim-replacement-en")
    assert gone
    (demo_kb_copy / "articles" / "sim-replacement-en.md").unlink()

    report = Ingestor(kb).run([demo_kb_copy])
    assert (report.removed, report.added, report.updated) == (1, 0, 0)
    assert kb.docstore.document("sim-replacement-en") is None
    assert not set(gone) & kb.vector.all_ids()
    consistent(kb)
    hits = HybridRetriever(kb).search("replace a lost SIM card in an office", k=10,
                                      filters=SearchFilters(lang="en")).hits
    assert "sim-replacement-en" not in {h.source_id for h in hits}


def test_ingesting_one_file_does_not_remove_the_others(demo_kb_copy, tmp_path, session_cache):
    kb = open_index(tmp_path / "data", session_cache)
    Ingestor(kb).run([demo_kb_copy / "articles"])
    total = kb.docstore.count_documents()
    report = Ingestor(kb).run([demo_kb_copy / "articles" / "autopay-en.md"])
    assert (report.removed, report.unchanged) == (0, 1)
    assert kb.docstore.count_documents() == total


@pytest.mark.slow
def test_an_ingest_killed_half_way_leaves_a_usable_index_and_the_next_run_completes_it(demo_kb_copy, tmp_path):
    """SIGKILL while embedding (cold cache so it takes long enough), then search and re-run."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_CACHE_DIR": str(cache)}
    source = demo_kb_copy / "articles"
    proc = subprocess.Popen([sys.executable, "-m", "copilot.cli", "ingest", str(source)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    db = data / "index" / "docstore.sqlite"
    deadline = time.time() + 240
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as con:
                    stored = con.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0
            if stored >= 10:
                break
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)

    kb = open_index(data, cache)
    partial = kb.docstore.count_documents()
    assert 10 <= partial < 68
    # the index is usable: searching what was committed works
    kb.refresh_lexical()
    result = HybridRetriever(kb).search("how do I reset my password", k=3)
    assert result.hits and all(kb.docstore.document(h.source_id) for h in result.hits)
    kb.close()

    rerun = subprocess.run([sys.executable, "-m", "copilot.cli", "ingest", str(source)],
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    kb = open_index(data, cache)
    assert kb.docstore.count_documents() == 68
    consistent(kb)
    top = HybridRetriever(kb).search("how do I reset my password", k=3).hits
    assert "password-reset-en" in {h.source_id for h in top}


@pytest.mark.slow
def test_a_running_index_sees_an_ingest_made_by_another_process(demo_kb_copy, tmp_path, session_cache):
    """The panel keeps its index open while `copilot ingest` runs beside it: new articles
    must be found by vector search too, not only lexically, without a restart."""
    data = tmp_path / "data"
    kb = open_index(data, session_cache)
    Ingestor(kb).run([demo_kb_copy / "articles" / "autopay-en.md"])
    retriever = HybridRetriever(kb)
    before = retriever.search("I forgot the password to my personal account", k=5).hits
    assert "password-reset-en" not in {h.source_id for h in before}

    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_CACHE_DIR": str(session_cache)}
    done = subprocess.run([sys.executable, "-m", "copilot.cli", "ingest",
                           str(demo_kb_copy / "articles" / "password-reset-en.md")],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = retriever.search("I forgot the password to my personal account", k=5).hits
    found = [h for h in after if h.source_id == "password-reset-en"]
    assert found and "vector" in found[0].found_by
    kb.close()


_PRICES = ("---\nid: prices-en\ntitle: Device prices\nlang: en\n---\n# Device prices\n\n"
           "Every device can be bought outright or rented by the month; prices include VAT.\n\n"
           "| Device | Buy | Rent |\n|---|---|---|\n"
           + "".join(f"| Home device model {n} with a long descriptive name | {n},500 RUB | {n}9 RUB a month |\n"
                     for n in range(1, 16)))


def test_changed_chunk_settings_cut_unchanged_documents_again(tmp_path, session_cache):
    """COPILOT_CHUNKING__* applies to documents that did not change, and a table cut across
    passages repeats its header in each, so every row still says what its cells are."""
    from copilot.text import split_sentences, table_rows

    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "prices.md").write_text(_PRICES, encoding="utf-8")
    settings = make_settings(tmp_path / "data", session_cache)
    kb = KnowledgeIndex(settings)
    first = Ingestor(kb).run([folder])
    assert first.added == 1 and first.recut is None
    cut_before = kb.docstore.chunks_of("prices-en")
    assert len(cut_before) > 1  # the table is longer than one passage
    for chunk in cut_before:
        sentences = split_sentences(chunk.text)
        rows = [s for s in sentences if s.startswith("| Home")]
        assert rows and all(table_rows(sentences)[sentences.index(r)] for r in rows), chunk.chunk_id
    assert Ingestor(kb).run([folder]).unchanged == 1
    kb.close()

    smaller = settings.model_copy(update={"chunking": settings.chunking.model_copy(update={"chunk_tokens": 96})})
    kb = KnowledgeIndex(smaller)
    again = Ingestor(kb).run([folder])
    assert (again.updated, again.unchanged) == (1, 0)
    assert "tokens=96" in again.recut and "tokens=96" in again.summary()
    assert len(kb.docstore.chunk_ids("prices-en")) > len(cut_before)
    consistent(kb)
    assert Ingestor(kb).run([folder]).unchanged == 1  # cut once, not on every run
    kb.close()
