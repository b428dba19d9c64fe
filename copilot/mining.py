"""Mining past tickets for knowledge the articles lack.

A resolved ticket with a good CSAT whose resolution no article already says becomes a
pending card; a supervisor approves (possibly after editing), and the approved card is
written as a Markdown article into <data_dir>/kb_mined and indexed like any other source.

"Already says" is judged against the articles' content, not their titles: the passages
retrieved for the resolution are compared with each of its steps (sentences and clauses)
by the grounding verifier's support score (key-term overlap plus embedding similarity to
the closest sentence of the passage, and every number or code in the step present in the
passage). The resolution is covered when enough of its steps are supported by one article.
Cards are titled by the ticket's topic (its tags) and the resolution's first step, never
by the customer's first message, and stored with personal data masked.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import yaml

from copilot.config import MiningSettings, VerificationSettings
from copilot.feedback.models import MinedResolutionRow
from copilot.feedback.store import FeedbackStore
from copilot.text import split_sentences
from copilot.verify import Verifier
from knowledge_base.documents import SearchFilters
from knowledge_base.index import KnowledgeIndex
from knowledge_base.ingest import Ingestor, IngestReport
from knowledge_base.retriever import HybridRetriever
from knowledge_base.tokenizer import tokenize

_LABEL = {"en": ("Problem", "Resolution"), "ru": ("Проблема", "Решение")}
_CLAUSES = re.compile(r";|\s+—\s+|,\s+(?:and then|then|after which|а затем|после чего|затем)\s+")
_HIDDEN_TAGS = {"escalation"}


@dataclass
class StepSupport:
    step: str
    supported: bool
    score: float
    lexical: float
    semantic: float
    missing: list[str] = field(default_factory=list)


@dataclass
class Coverage:
    """How well the articles already say a resolution: the article whose passages support
    the most steps, and for each step its best support."""

    covered: bool
    article: str = ""
    title: str = ""
    share: float = 0.0          # steps supported by that article / steps
    similarity: float = 0.0     # mean of the steps' best semantic score (0..1)
    terms: float = 0.0          # mean of the steps' best key-term overlap (0..1)
    steps: list[StepSupport] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        if not self.article:
            return "no article passage found"
        n = sum(s.supported for s in self.steps)
        return (f"closest article {self.article} ({self.title}): supports {n} of {len(self.steps)} step(s), "
                f"similarity {self.similarity:.2f}, key terms {self.terms:.0%}")


def steps_of(resolution: str) -> list[str]:
    """The resolution's steps: its sentences, split further at ';' and dashes, each with a
    few content words."""
    out = []
    for sentence in split_sentences(resolution):
        for part in _CLAUSES.split(sentence):
            part = part.strip(" ,.")
            if len(tokenize(part)) >= 2:
                out.append(part)
    return out or [resolution.strip()]


def coverage(resolution: str, lang: str, retriever: HybridRetriever, verifier: Verifier,
             settings: MiningSettings) -> Coverage:
    """Judge `resolution` against the customer articles in its language (see the module doc)."""
    hits = retriever.search(resolution, k=settings.passages, filters=SearchFilters(
        lang=lang, doc_type="article", audience="customer")).hits
    steps = steps_of(resolution)
    if not hits:
        return Coverage(covered=False, steps=[StepSupport(s, False, 0.0, 0.0, 0.0) for s in steps])
    per_article: dict[str, list[StepSupport]] = {}
    titles: dict[str, str] = {}
    for hit in hits:
        titles.setdefault(hit.source_id, hit.title)
        checks = []
        for step in steps:
            s = verifier.support(step, hit.text)
            checks.append(StepSupport(step, not s.missing and not s.negation_mismatch
                                      and s.score >= settings.step_support and s.lexical >= settings.step_terms,
                                      s.score, s.lexical, s.semantic, s.missing))
        best = per_article.get(hit.source_id)  # several passages of one article: the best per step
        per_article[hit.source_id] = checks if best is None else [
            a if (a.supported, a.score) >= (b.supported, b.score) else b for a, b in zip(best, checks)]

    def rank(item: tuple[str, list[StepSupport]]) -> tuple[int, float]:
        return sum(c.supported for c in item[1]), sum(c.score for c in item[1])

    article, checks = max(per_article.items(), key=rank)
    share = sum(c.supported for c in checks) / len(checks)
    return Coverage(covered=share >= settings.covered_share, article=article, title=titles[article],
                    share=round(share, 3), similarity=round(sum(c.semantic for c in checks) / len(checks), 3),
                    terms=round(sum(c.lexical for c in checks) / len(checks), 3), steps=checks)


def topic_title(tags: list[str], resolution: str, max_chars: int = 90) -> str:
    """'Internet · no internet · router: a 30-second power reboot…' from the ticket's tags and
    the resolution's first step."""
    topic = " · ".join(t.replace("-", " ").replace("_", " ") for t in tags if t not in _HIDDEN_TAGS)
    first = steps_of(resolution)[0] if resolution.strip() else ""
    if len(first) > max_chars:
        first = first[:max_chars].rsplit(" ", 1)[0] + "…"
    title = f"{topic[:1].upper()}{topic[1:]}: {first}" if topic and first else (topic or first)
    return title[:300]


def mine(index: KnowledgeIndex, store: FeedbackStore, min_csat: int = 4, max_confidence: float | None = None,
         limit: int = 20, verifier: Verifier | None = None, settings: MiningSettings | None = None) -> int:
    """Queue up to `limit` new cards; returns how many were added. `max_confidence` is kept
    for callers of the older title-level check and no longer used."""
    settings = settings or MiningSettings()
    retriever = HybridRetriever(index)
    verifier = verifier or Verifier(VerificationSettings(), embed=index.embedding.embeddings.embed_documents)
    known = {r.ticket_id for status in ("pending", "approved", "rejected") for r in store.mined(status)}
    added = 0
    for source_id, doc in sorted(index.docstore.documents().items()):
        ticket = doc.info.ticket
        if (doc.doc_type != "ticket" or ticket is None or ticket.outcome != "resolved"
                or (ticket.csat or 0) < min_csat or source_id in known or not ticket.resolution.strip()):
            continue
        resolution = ticket.resolution
        judged = coverage(resolution, doc.lang, retriever, verifier, settings)
        if judged.covered:
            continue  # an article already says this
        labels = _LABEL.get(doc.lang, _LABEL["en"])
        chunks = index.docstore.chunks_of(source_id)
        problem = next((line.split(":", 1)[1].strip() for c in chunks for line in c.text.splitlines()
                        if line.startswith(f"{labels[0]}:")), "")
        text = f"{labels[0]}: {problem}\n\n{labels[1]}: {resolution}"
        tags = [t for t in doc.tags if t not in _HIDDEN_TAGS]
        if store.add_mined(source_id, topic_title(tags, resolution), text, doc.lang, tags,
                           coverage=judged.as_dict()):
            added += 1
            if added >= limit:
                break
    return added


def _write_article(row: MinedResolutionRow, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    article_id = f"mined-{row.ticket_id.lower()}"
    meta = {"id": article_id, "title": row.title, "lang": row.lang, "tags": row.tags,
            "updated": date.today().isoformat(), "status": "current"}
    body = f"---\n{yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)}---\n# {row.title}\n\n{row.text.strip()}\n"
    (folder / f"{article_id}.md").write_text(body, encoding="utf-8")
    return article_id


def publish(row: MinedResolutionRow, folder: Path, index: KnowledgeIndex) -> tuple[str, IngestReport]:
    """Write an approved card as an article and index the mined folder."""
    article_id = _write_article(row, folder)
    report = Ingestor(index).run([folder])
    return article_id, report


def publish_many(rows: list[MinedResolutionRow], folder: Path, index: KnowledgeIndex) -> tuple[list[str], IngestReport]:
    """Several approved cards: every article written, then the folder indexed once."""
    ids = [_write_article(row, folder) for row in rows]
    report = Ingestor(index).run([folder])
    return ids, report
