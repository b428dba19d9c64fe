"""The feedback store: every suggestion, what the operator did with it and the final text,
and supervisors' reviews; SQLite (WAL) in the data folder by default, PostgreSQL by URL.

Several operators write at once: each write is one short transaction; SQLite waits for
the lock (busy timeout) and a write that still meets "database is locked" is retried.
Personal data is masked before it is stored (configurable).
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from rapidfuzz.distance import Levenshtein
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from copilot.config import FeedbackSettings
from copilot.feedback.models import ActionRow, MinedResolutionRow, ReviewRow, SuggestionRow, utcnow
from copilot.masking import mask_pii, mask_tree, public_values
from copilot.schema import Suggestion
from copilot.text import strip_citations

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# inserted: into the reply box; edited: changed there (text so far); sent: the text the customer got;
# handed_off: the operator passed the conversation to the route's queue (final_text: the summary)
ACTIONS = ("inserted", "edited", "sent", "rejected", "regenerated", "handed_off")
REJECT_REASONS = ("wrong_facts", "wrong_tone", "not_relevant", "should_hand_off", "other")
T = TypeVar("T")


def edit_distance(draft: str, final: str) -> float:
    """Normalised Levenshtein distance (0 = sent as drafted, 1 = rewritten), citations ignored."""
    return round(Levenshtein.normalized_distance(strip_citations(draft), final.strip()), 4)


@dataclass
class QueueFilters:
    unsupported: bool = False
    handoff: bool = False
    low_confidence: bool = False
    heavy_edits: bool = False
    rejected: bool = False
    prompt: str | None = None
    language: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = 200


@dataclass
class QueueItem:
    id: int
    created_at: datetime
    operator: str
    language: str
    intent: str
    prompt: str
    mode: str
    confidence: float
    unsupported: int
    handoff: bool
    action: str | None
    edit_distance: float | None
    reason: str
    priority: int


class FeedbackStore:
    def __init__(self, settings: FeedbackSettings, data_dir: Path, keep_ids: re.Pattern | None = None):
        self.settings = settings
        self.keep_ids = keep_ids  # the desk's contract numbers: not personal data, kept when masking
        url = settings.url or f"sqlite:///{Path(data_dir).resolve() / 'feedback.sqlite'}"
        if url.startswith("sqlite"):
            Path(data_dir).mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()

    # -- plumbing ------------------------------------------------------------------------
    def migrate(self) -> None:
        """Bring the schema to the newest migration (safe to run from several processes)."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        for attempt in range(8):
            try:
                with self.engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                return
            except Exception:  # another process migrating at the same moment
                if attempt == 7:
                    raise
                time.sleep(0.2 + random.random() * 0.5)

    def revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def _write(self, fn: Callable[[Session], T]) -> T:
        for attempt in range(10):
            try:
                with self.Session.begin() as session:
                    return fn(session)
            except OperationalError as exc:
                if "locked" not in str(exc).lower() or attempt == 9:
                    raise
                time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)
        raise RuntimeError("unreachable")

    def _mask(self, text: str) -> str:
        return mask_pii(text, self.keep_ids).text if self.settings.mask_pii else text

    def _masked_suggestion(self, suggestion: Suggestion) -> dict:
        """Every field of the suggestion masked (draft, handoff summary, facts, warnings,
        sentence checks...), except the knowledge base's own quotes; a number the knowledge
        base publishes (the desk's hotline) stays where the draft repeats it."""
        dump = suggestion.model_dump(mode="json")
        if not self.settings.mask_pii:
            return dump
        published = public_values([c.quote for c in suggestion.citations]
                                  + [r.sentence for r in suggestion.handoff.rules])
        return mask_tree(dump, lambda text: mask_pii(text, self.keep_ids, published).text,
                         skip=frozenset({"citations", "rules"}))

    # -- writes --------------------------------------------------------------------------
    def record_suggestion(self, operator: str, conversation: dict, suggestion: Suggestion,
                          reference: dict | None = None) -> int:
        """`reference`: where the conversation lives in the helpdesk (kept with the conversation)."""
        convo = {
            "messages": [{"role": m["role"], "text": self._mask(m["text"])} for m in conversation.get("messages", [])],
            "profile": mask_tree(conversation.get("profile") or {}, self._mask),
        }
        if reference:
            convo["reference"] = reference
        masked = self._masked_suggestion(suggestion)
        row = SuggestionRow(
            operator=operator, conversation=convo, language=suggestion.language, intent=suggestion.intent.label,
            prompt=suggestion.draft.prompt, model=suggestion.draft.model, mode=suggestion.draft.mode,
            draft=masked["draft"]["text"], suggestion=masked,
            confidence=suggestion.confidence, unsupported=suggestion.grounding.unsupported,
            handoff=suggestion.handoff.needed, handoff_reasons=",".join(suggestion.handoff.reasons),
            latency_ms=suggestion.timings_ms.get("total", 0.0),
            tokens=sum(suggestion.usage.values()),
        )

        def add(session: Session) -> int:
            session.add(row)
            session.flush()
            return row.id
        return self._write(add)

    def record_action(self, suggestion_id: int, operator: str, action: str, final_text: str = "",
                      reason: str = "", note: str = "") -> int:
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        if action == "rejected" and reason not in REJECT_REASONS:
            raise ValueError(f"reject reason must be one of {', '.join(REJECT_REASONS)}")

        def add(session: Session) -> int:
            s = session.get(SuggestionRow, suggestion_id)
            if s is None:
                raise KeyError(f"no suggestion {suggestion_id}")
            distance = edit_distance(s.draft, final_text) if action in ("sent", "edited") else None
            row = ActionRow(suggestion_id=suggestion_id, operator=operator, action=action,
                            final_text=self._mask(final_text), edit_distance=distance, reason=reason,
                            note=self._mask(note))
            session.add(row)
            session.flush()
            return row.id
        return self._write(add)

    def add_review(self, suggestion_id: int, supervisor: str, rating: int, comment: str = "",
                   eval_case_id: str | None = None) -> int:
        if not 1 <= rating <= 5:
            raise ValueError("rating must be 1-5")

        def add(session: Session) -> int:
            row = ReviewRow(suggestion_id=suggestion_id, supervisor=supervisor, rating=rating,
                            comment=self._mask(comment), eval_case_id=eval_case_id)
            session.add(row)
            session.flush()
            return row.id
        return self._write(add)

    # -- reads ---------------------------------------------------------------------------
    def get(self, suggestion_id: int) -> SuggestionRow | None:
        with self.Session() as session:
            return session.scalars(select(SuggestionRow).where(SuggestionRow.id == suggestion_id)
                                   .options(selectinload(SuggestionRow.actions), selectinload(SuggestionRow.reviews))).first()

    def count(self, table=SuggestionRow) -> int:
        with self.Session() as session:
            return session.scalar(select(func.count()).select_from(table)) or 0

    def prompts(self) -> list[str]:
        with self.Session() as session:
            return sorted(session.scalars(select(SuggestionRow.prompt).distinct()))

    def queue(self, f: QueueFilters) -> list[QueueItem]:
        """Suggestions for review, most worth a look first: unsupported sentences, handoffs,
        low confidence and heavy edits."""
        stmt = select(SuggestionRow).options(selectinload(SuggestionRow.actions)).order_by(SuggestionRow.id.desc())
        if f.prompt:
            stmt = stmt.where(SuggestionRow.prompt == f.prompt)
        if f.language:
            stmt = stmt.where(SuggestionRow.language == f.language)
        if f.since:
            stmt = stmt.where(SuggestionRow.created_at >= datetime.combine(f.since, datetime.min.time(), timezone.utc))
        if f.until:
            stmt = stmt.where(SuggestionRow.created_at <= datetime.combine(f.until, datetime.max.time(), timezone.utc))
        if f.unsupported:
            stmt = stmt.where(SuggestionRow.unsupported > 0)
        if f.handoff:
            stmt = stmt.where(SuggestionRow.handoff.is_(True))
        if f.low_confidence:
            stmt = stmt.where(SuggestionRow.confidence < self.settings.low_confidence)
        items = []
        with self.Session() as session:
            for row in session.scalars(stmt.limit(f.limit * 5)):
                last = row.actions[-1] if row.actions else None
                heavy = bool(last and last.edit_distance is not None and last.edit_distance > self.settings.heavy_edit)
                rejected = bool(last and last.action == "rejected")
                if (f.heavy_edits and not heavy) or (f.rejected and not rejected):
                    continue
                priority = (4 * (row.unsupported > 0) + 3 * row.handoff
                            + 2 * (row.confidence < self.settings.low_confidence) + 2 * heavy + 2 * rejected)
                items.append(QueueItem(
                    id=row.id, created_at=row.created_at, operator=row.operator, language=row.language,
                    intent=row.intent, prompt=row.prompt, mode=row.mode, confidence=row.confidence,
                    unsupported=row.unsupported, handoff=row.handoff, action=last.action if last else None,
                    edit_distance=last.edit_distance if last else None, reason=last.reason if last else "",
                    priority=priority))
        items.sort(key=lambda i: (-i.priority, -i.id))
        return items[: f.limit]

    def metrics(self) -> dict:
        """Rows per day and per prompt version: suggestions, acceptance, edits, rejections,
        handoffs, unsupported sentences, latency."""
        with self.Session() as session:
            rows = session.scalars(select(SuggestionRow).options(selectinload(SuggestionRow.actions))).all()
        groups: dict[tuple[str, str], list[SuggestionRow]] = defaultdict(list)
        for r in rows:
            groups[("day", r.created_at.date().isoformat())].append(r)
            groups[("prompt", r.prompt)].append(r)
        reasons = Counter(a.reason for r in rows for a in r.actions if a.action == "rejected")
        table = []
        for (kind, key), items in sorted(groups.items()):
            finals = [r.actions[-1] for r in items if r.actions]
            sent = [a for a in finals if a.action == "sent"]
            rejected = [a for a in finals if a.action == "rejected"]
            lat = [r.latency_ms for r in items]
            table.append({
                "group": kind, "key": key, "suggestions": len(items),
                "acceptance_rate": round(len(sent) / (len(sent) + len(rejected)), 3) if sent or rejected else None,
                "mean_edit_distance": round(statistics.mean(a.edit_distance for a in sent), 3) if sent else None,
                "rejection_rate": round(len(rejected) / len(finals), 3) if finals else None,
                "handoff_rate": round(sum(r.handoff for r in items) / len(items), 3),
                "unsupported_rate": round(sum(r.unsupported > 0 for r in items) / len(items), 3),
                "latency_p50_ms": round(statistics.median(lat), 1),
                "latency_p95_ms": round(sorted(lat)[max(0, int(round(0.95 * len(lat))) - 1)], 1),
            })
        return {"rows": table, "rejection_reasons": dict(reasons), "total": len(rows)}

    # -- mined resolutions ---------------------------------------------------------------
    def add_mined(self, ticket_id: str, title: str, text: str, lang: str, tags: list[str]) -> bool:
        """Queue a mined resolution; False if this ticket was mined before."""
        def add(session: Session) -> bool:
            if session.scalar(select(MinedResolutionRow.id).where(MinedResolutionRow.ticket_id == ticket_id)):
                return False
            session.add(MinedResolutionRow(ticket_id=ticket_id, title=title, text=text, lang=lang, tags=tags))
            return True
        return self._write(add)

    def mined(self, status: str = "pending") -> list[MinedResolutionRow]:
        with self.Session() as session:
            return list(session.scalars(select(MinedResolutionRow).where(MinedResolutionRow.status == status)
                                        .order_by(MinedResolutionRow.id)))

    def decide_mined(self, mined_id: int, status: str, reviewer: str, text: str | None = None,
                     title: str | None = None, article_id: str | None = None) -> MinedResolutionRow:
        if status not in ("approved", "rejected"):
            raise ValueError("status must be approved or rejected")

        def decide(session: Session) -> MinedResolutionRow:
            row = session.get(MinedResolutionRow, mined_id)
            if row is None:
                raise KeyError(f"no mined resolution {mined_id}")
            row.status, row.reviewer, row.decided_at = status, reviewer, utcnow()
            if text is not None:
                row.text = text
            if title is not None:
                row.title = title
            row.article_id = article_id
            return row
        return self._write(decide)

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
