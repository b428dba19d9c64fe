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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, TypeVar

from alembic import command
from alembic.config import Config as AlembicConfig
from rapidfuzz.distance import Levenshtein
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
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
    operator: str | None = None
    topic: str | None = None  # the suggestion's intent label (the article topic it answered from)


@dataclass
class MetricFilters:
    """Which suggestions the metrics count; an empty list means all."""

    since: date | None = None
    until: date | None = None
    operators: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


BUCKETS = ("day", "week", "month")


def choose_bucket(first: date, last: date) -> str:
    """Days for up to two months, weeks up to a year and a half, months beyond: a chart
    keeps 7 to ~80 points whether the store holds a day of data or several years."""
    span = (last - first).days + 1
    return "day" if span <= 62 else "week" if span <= 550 else "month"


def period_start(day: date, bucket: str) -> date:
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    return day


def outcome(actions: list) -> str:
    """What became of one shown suggestion: sent (as drafted or edited), rejected,
    regenerated, handed_off, inserted (in the reply box, not sent yet) or none."""
    kinds = [a.action for a in actions]
    if "sent" in kinds:
        return "sent"
    for a in reversed(kinds):
        if a in ("rejected", "regenerated", "handed_off"):
            return a
    return "inserted" if kinds else "none"


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 3) if d else None


def summarise(items: list[tuple]) -> dict:
    """Figures for one group of suggestions. `items`: (handoff, unsupported, latency_ms,
    outcome, edit distance of the sent text or None). Acceptance is the share of ALL
    suggestions shown whose draft was sent (as is or edited), not of those acted on."""
    n = len(items)
    outcomes = Counter(i[3] for i in items)
    edits = [i[4] for i in items if i[3] == "sent" and i[4] is not None]
    lat = sorted(i[2] for i in items)
    sent = outcomes["sent"]
    return {
        "suggestions": n, "sent": sent, "sent_as_is": sum(1 for e in edits if e == 0.0),
        "rejected": outcomes["rejected"], "regenerated": outcomes["regenerated"],
        "handed_off": outcomes["handed_off"], "no_action": outcomes["none"] + outcomes["inserted"],
        "acted": n - outcomes["none"],
        "acceptance_rate": _rate(sent, n),
        "acceptance_of_acted": _rate(sent, n - outcomes["none"]),
        "rejection_rate": _rate(outcomes["rejected"], n),
        "mean_edit_distance": round(statistics.mean(edits), 3) if edits else None,
        "handoff_rate": _rate(sum(1 for i in items if i[0]), n),
        "unsupported_rate": _rate(sum(1 for i in items if i[1] > 0), n),
        "latency_p50_ms": round(statistics.median(lat), 1) if lat else None,
        "latency_p95_ms": round(lat[max(0, int(round(0.95 * len(lat))) - 1)], 1) if lat else None,
    }


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
            # No pool_pre_ping: its ping raises, instead of reconnecting, when a pooled connection
            # is found inside a transaction (seen under heavy load with psycopg 3); _fresh_connection
            # pings and discards such connections itself.
            self.engine = create_engine(url, pool_size=10, max_overflow=20)
            event.listen(self.engine, "checkout", _fresh_connection)
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

        def add(session: Session) -> int:
            # a new row per attempt: one rolled back keeps the id it was given, and a retry
            # would insert that id again after another writer took it
            row = SuggestionRow(
                operator=operator, conversation=convo, language=suggestion.language, intent=suggestion.intent.label,
                prompt=suggestion.draft.prompt, model=suggestion.draft.model, mode=suggestion.draft.mode,
                draft=masked["draft"]["text"], suggestion=masked,
                confidence=suggestion.confidence, unsupported=suggestion.grounding.unsupported,
                handoff=suggestion.handoff.needed, handoff_reasons=",".join(suggestion.handoff.reasons),
                latency_ms=suggestion.timings_ms.get("total", 0.0),
                tokens=sum(suggestion.usage.values()),
            )
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

    def record_handoff(self, suggestion_id: int, operator: str, queue: str = "", note: str = "") -> int:
        """The operator handed the conversation off from the panel (to `queue`); counted in the
        metrics as a handoff taken, not as an accepted or rejected draft."""
        return self.record_action(suggestion_id, operator, "handed_off", reason=queue[:40], note=note)

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
        if f.operator:
            stmt = stmt.where(SuggestionRow.operator == f.operator)
        if f.topic:
            stmt = stmt.where(SuggestionRow.intent == f.topic)
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

    def operators(self) -> list[str]:
        with self.Session() as session:
            return sorted(session.scalars(select(SuggestionRow.operator).distinct()))

    def topics(self) -> list[str]:
        with self.Session() as session:
            return sorted(session.scalars(select(SuggestionRow.intent).distinct()))

    def date_range(self) -> tuple[date, date] | None:
        """The first and last day with a suggestion (UTC)."""
        with self.Session() as session:
            first, last = session.execute(select(func.min(SuggestionRow.created_at),
                                                 func.max(SuggestionRow.created_at))).one()
        return (first.date(), last.date()) if first else None

    def metrics(self, f: MetricFilters | None = None, bucket: str = "auto") -> dict:
        """The figures supervisors watch, over the suggestions `f` selects: overall, per
        period (day, week or month; "auto" picks by the span), per prompt version, operator
        and topic; suggestions, acceptance over all shown, edit distance of what was sent,
        rejections, handoffs, unsupported sentences, latency. Reads only the columns it
        needs, so a year of suggestions is one pass.

        `rows` keeps the older shape (group "day"|"week"|"month" and "prompt", key, figures)."""
        f = f or MetricFilters()
        stmt = select(SuggestionRow.id, SuggestionRow.created_at, SuggestionRow.operator, SuggestionRow.intent,
                      SuggestionRow.prompt, SuggestionRow.handoff, SuggestionRow.unsupported, SuggestionRow.latency_ms)
        if f.since:
            stmt = stmt.where(SuggestionRow.created_at >= datetime.combine(f.since, datetime.min.time(), timezone.utc))
        if f.until:
            stmt = stmt.where(SuggestionRow.created_at <= datetime.combine(f.until, datetime.max.time(), timezone.utc))
        for values, column in ((f.operators, SuggestionRow.operator), (f.topics, SuggestionRow.intent),
                               (f.prompts, SuggestionRow.prompt), (f.languages, SuggestionRow.language)):
            if values:
                stmt = stmt.where(column.in_(values))
        with self.Session() as session:
            rows = session.execute(stmt).all()
            acts: dict[int, list] = defaultdict(list)
            if rows:
                first_id, last_id = min(r.id for r in rows), max(r.id for r in rows)
                for a in session.execute(select(ActionRow.suggestion_id, ActionRow.action, ActionRow.edit_distance,
                                                ActionRow.reason)
                                         .where(ActionRow.suggestion_id.between(first_id, last_id))
                                         .order_by(ActionRow.id)):
                    acts[a.suggestion_id].append(a)
        days = [r.created_at.date() for r in rows]
        if bucket == "auto":
            bucket = choose_bucket(f.since or min(days), f.until or max(days)) if days else "day"
        if bucket not in BUCKETS:
            raise ValueError(f"bucket must be auto or one of {', '.join(BUCKETS)}")
        groups: dict[str, dict[str, list[tuple]]] = {g: defaultdict(list) for g in ("period", "prompt", "operator", "topic")}
        everything: list[tuple] = []
        reasons: Counter = Counter()
        for r, day in zip(rows, days):
            actions = acts.get(r.id, [])
            result = outcome(actions)
            sent = next((a for a in reversed(actions) if a.action == "sent"), None)
            item = (r.handoff, r.unsupported, r.latency_ms, result, sent.edit_distance if sent else None)
            reasons.update(a.reason for a in actions if a.action == "rejected")
            everything.append(item)
            groups["period"][period_start(day, bucket).isoformat()].append(item)
            groups["prompt"][r.prompt].append(item)
            groups["operator"][r.operator].append(item)
            groups["topic"][r.intent].append(item)
        if days:  # every period of the range, empty ones too, so a gap is visible as a gap
            start = period_start(f.since or min(days), bucket)
            end = f.until or max(days)
            while start <= end:
                groups["period"].setdefault(start.isoformat(), [])
                start = (start + timedelta(days=1 if bucket == "day" else 7 if bucket == "week" else 32))
                start = period_start(start, bucket)
        tables = {g: [{"key": k, **summarise(v)} for k, v in sorted(groups[g].items())] for g in groups}
        legacy = ([{"group": bucket, **row} for row in tables["period"] if row["suggestions"]]
                  + [{"group": "prompt", **row} for row in tables["prompt"]])
        return {"total": len(rows), "bucket": bucket, "overall": summarise(everything), "periods": tables["period"],
                "by_prompt": tables["prompt"], "by_operator": tables["operator"], "by_topic": tables["topic"],
                "rows": legacy, "rejection_reasons": dict(reasons)}

    # -- mined resolutions ---------------------------------------------------------------
    def add_mined(self, ticket_id: str, title: str, text: str, lang: str, tags: list[str],
                  coverage: dict | None = None) -> bool:
        """Queue a mined resolution (personal data masked before it is stored); False if this
        ticket was mined before."""
        def add(session: Session) -> bool:
            if session.scalar(select(MinedResolutionRow.id).where(MinedResolutionRow.ticket_id == ticket_id)):
                return False
            session.add(MinedResolutionRow(ticket_id=ticket_id, title=self._mask(title), text=self._mask(text),
                                           lang=lang, tags=tags, coverage=coverage))
            return True
        return self._write(add)

    def mined(self, status: str = "pending") -> list[MinedResolutionRow]:
        with self.Session() as session:
            return list(session.scalars(select(MinedResolutionRow).where(MinedResolutionRow.status == status)
                                        .order_by(MinedResolutionRow.id)))

    def find_mined(self, status: str | None = "pending", lang: str | None = None, tags: list[str] | None = None,
                   query: str = "", offset: int = 0, limit: int = 10) -> tuple[list[MinedResolutionRow], int]:
        """One page of mined cards and how many match: by status, language, any of `tags`, and
        words (each must appear in the title, text, tags or ticket id, any case)."""
        stmt = select(MinedResolutionRow).order_by(MinedResolutionRow.id)
        if status:
            stmt = stmt.where(MinedResolutionRow.status == status)
        if lang:
            stmt = stmt.where(MinedResolutionRow.lang == lang)
        words = query.casefold().split()
        wanted = set(tags or [])
        with self.Session() as session:
            rows = [r for r in session.scalars(stmt)
                    if (not wanted or wanted & set(r.tags))
                    and all(w in f"{r.title}\n{r.text}\n{' '.join(r.tags)}\n{r.ticket_id}".casefold() for w in words)]
        return rows[offset: offset + limit], len(rows)

    def mined_tags(self) -> list[str]:
        with self.Session() as session:
            return sorted({t for tags in session.scalars(select(MinedResolutionRow.tags)) for t in tags})

    def decide_mined(self, mined_id: int, status: str, reviewer: str, text: str | None = None,
                     title: str | None = None, article_id: str | None = None) -> MinedResolutionRow:
        if status not in ("approved", "rejected"):
            raise ValueError("status must be approved or rejected")

        def decide(session: Session) -> MinedResolutionRow:
            row = session.get(MinedResolutionRow, mined_id)
            if row is None:
                raise KeyError(f"no mined resolution {mined_id}")
            row.status, row.reviewer, row.decided_at = status, reviewer, utcnow()
            # older cards were stored unmasked: whatever is decided leaves masked
            row.text = self._mask(text if text is not None else row.text)
            row.title = self._mask(title if title is not None else row.title)
            row.article_id = article_id
            return row
        return self._write(decide)

    def decide_mined_many(self, mined_ids: list[int], status: str, reviewer: str) -> list[MinedResolutionRow]:
        """Approve or reject several cards in one transaction (all or none)."""
        if status not in ("approved", "rejected"):
            raise ValueError("status must be approved or rejected")

        def decide(session: Session) -> list[MinedResolutionRow]:
            rows = []
            for mined_id in mined_ids:
                row = session.get(MinedResolutionRow, mined_id)
                if row is None:
                    raise KeyError(f"no mined resolution {mined_id}")
                row.status, row.reviewer, row.decided_at = status, reviewer, utcnow()
                row.text, row.title = self._mask(row.text), self._mask(row.title)
                rows.append(row)
            return rows
        return self._write(decide)

    def set_mined_article(self, mined_id: int, article_id: str) -> None:
        def put(session: Session) -> None:
            row = session.get(MinedResolutionRow, mined_id)
            if row is None:
                raise KeyError(f"no mined resolution {mined_id}")
            row.article_id = article_id
        self._write(put)

    def mask_text(self, text: str) -> str:
        """`text` masked as the store masks what it keeps (for showing older, unmasked rows)."""
        return self._mask(text)

    def close(self) -> None:
        self.engine.dispose()


def _fresh_connection(dbapi_connection, _record, _proxy) -> None:
    """A pooled connection is handed out only idle and alive: whatever transaction it still
    holds is rolled back, then one round trip checks the server. Raising DisconnectionError
    makes the pool discard it and connect afresh (SQLAlchemy's pessimistic-disconnect recipe)."""
    try:
        dbapi_connection.rollback()
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_connection.rollback()
    except Exception as exc:  # any driver error: this connection is not usable
        raise DisconnectionError(f"pooled connection unusable: {exc}") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
