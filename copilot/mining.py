"""Mining past tickets for knowledge the articles lack.

A resolved ticket with a good CSAT whose resolution no article answers well becomes a
pending card; a supervisor approves (possibly after editing), and the approved card is
written as a Markdown article into <data_dir>/kb_mined and indexed like any other source.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from copilot.feedback.models import MinedResolutionRow
from copilot.feedback.store import FeedbackStore
from knowledge_base.documents import SearchFilters
from knowledge_base.index import KnowledgeIndex
from knowledge_base.ingest import Ingestor, IngestReport
from knowledge_base.retriever import HybridRetriever

_LABEL = {"en": ("Problem", "Resolution"), "ru": ("Проблема", "Решение")}


def mine(index: KnowledgeIndex, store: FeedbackStore, min_csat: int = 4, max_confidence: float = 0.9,
         limit: int = 20) -> int:
    """Queue up to `limit` new cards; returns how many were added."""
    retriever = HybridRetriever(index)
    added = 0
    for source_id, doc in sorted(index.docstore.documents().items()):
        ticket = doc.info.ticket
        if doc.doc_type != "ticket" or ticket is None or ticket.outcome != "resolved" or (ticket.csat or 0) < min_csat:
            continue
        resolution = ticket.resolution
        covered = retriever.search(resolution, k=1, filters=SearchFilters(
            lang=doc.lang, doc_type="article", audience="customer"))
        if covered.confidence >= max_confidence:
            continue  # an article already says this
        chunks = index.docstore.chunks_of(source_id)
        problem = next((line.split(":", 1)[1].strip() for c in chunks for line in c.text.splitlines()
                        if line.startswith(f"{_LABEL.get(doc.lang, _LABEL['en'])[0]}:")), "")
        labels = _LABEL.get(doc.lang, _LABEL["en"])
        text = f"{labels[0]}: {problem}\n\n{labels[1]}: {resolution}"
        title = doc.title.split(": ", 1)[-1]
        if store.add_mined(source_id, title, text, doc.lang, [t for t in doc.tags if t != "escalation"]):
            added += 1
            if added >= limit:
                break
    return added


def publish(row: MinedResolutionRow, folder: Path, index: KnowledgeIndex) -> tuple[str, IngestReport]:
    """Write an approved card as an article and index the mined folder."""
    folder.mkdir(parents=True, exist_ok=True)
    article_id = f"mined-{row.ticket_id.lower()}"
    meta = {"id": article_id, "title": row.title, "lang": row.lang, "tags": row.tags,
            "updated": date.today().isoformat(), "status": "current"}
    body = f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)}---\n# {row.title}\n\n{row.text.strip()}\n"
    (folder / f"{article_id}.md").write_text(body, encoding="utf-8")
    report = Ingestor(index).run([folder])
    return article_id, report
