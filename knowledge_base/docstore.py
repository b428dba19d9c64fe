"""The docstore: the one id space both indexes share, in SQLite in the index folder.

It keeps, per document, the content hash (unchanged documents are skipped) and the
metadata the engine needs (required facts, handoff rules, ticket details), and per chunk
its text and stemmed tokens (the lexical index is rebuilt from them). Search results are
resolved through it, so a chunk id one index still holds after a crash is never shown.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Literal

from pydantic import TypeAdapter

from knowledge_base.derive import Derived
from knowledge_base.documents import Chunk, DocumentMeta, SourceDocument
from knowledge_base.lexical import LexicalRow

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    source_id TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    title TEXT NOT NULL,
    lang TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    tags TEXT NOT NULL,
    meta TEXT NOT NULL,
    indexed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    ord INTEGER NOT NULL,
    title TEXT NOT NULL,
    heading TEXT NOT NULL,
    text TEXT NOT NULL,
    lang TEXT NOT NULL,
    doc_type TEXT NOT NULL,
    audience TEXT NOT NULL,
    tags TEXT NOT NULL,
    tokens TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_source ON chunks(source_id);
CREATE TABLE IF NOT EXISTS signatures (key TEXT PRIMARY KEY, sig BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS derived (
    id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    position INTEGER NOT NULL,
    item TEXT NOT NULL,
    status TEXT NOT NULL,
    edited TEXT,
    reviewer TEXT,
    reviewed_at TEXT
);
CREATE INDEX IF NOT EXISTS derived_by_source ON derived(source_id);
CREATE TABLE IF NOT EXISTS instruction_scans (source_id TEXT PRIMARY KEY, stamp TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS instruction_flags (
    chunk_id TEXT PRIMARY KEY,
    source_id TEXT NOT NULL,
    found_by TEXT NOT NULL,
    evidence TEXT NOT NULL
);
"""

ReviewStatus = Literal["pending", "approved", "rejected"]


@dataclass
class DerivedRecord:
    """A proposal derived from a document, with its review. `effective` is what is used:
    the supervisor's edit if there is one, else the proposal."""

    item: Derived
    status: ReviewStatus
    edited: Derived | None = None
    reviewer: str | None = None
    reviewed_at: str | None = None

    @property
    def effective(self) -> Derived:
        return self.edited or self.item


@dataclass
class StoredDocument:
    source_id: str
    root: str
    path: str
    content_hash: str
    title: str
    lang: str
    doc_type: str
    tags: list[str]
    meta: dict

    @property
    def info(self) -> DocumentMeta:
        """The metadata, typed (anamnesis facts, handoff rules, ticket details)."""
        return DocumentMeta.model_validate(self.meta)


class _SignatureCache(MutableMapping):
    """MinHash signatures of paragraphs, so near-duplicate detection only hashes new text."""

    def __init__(self, store: "DocStore"):
        self.store = store
        self._pending: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> bytes:
        if key in self._pending:
            return self._pending[key]
        row = self.store._db.execute("SELECT sig FROM signatures WHERE key=?", (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return row[0]

    def __setitem__(self, key: str, value: bytes) -> None:
        self._pending[key] = value

    def __delitem__(self, key: str) -> None:
        self._pending.pop(key, None)

    def __iter__(self):  # pragma: no cover - not needed by the cleaner
        return iter(self._pending)

    def __len__(self) -> int:  # pragma: no cover
        return len(self._pending)

    def flush(self) -> None:
        with self.store._lock, self.store._db:
            self.store._db.executemany("INSERT OR REPLACE INTO signatures VALUES (?, ?)",
                                       list(self._pending.items()))
        self._pending.clear()


class DocStore:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        with self._db:
            self._db.executescript(_SCHEMA)
        if self.get_meta("schema_version") is None:
            self.set_meta("schema_version", SCHEMA_VERSION)
        self.signatures = _SignatureCache(self)

    def close(self) -> None:
        self._db.close()

    # -- meta ----------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def record_desk_config(self, text: str, source: str) -> None:
        """Keep the desk configuration found beside the knowledge (empty text: none)."""
        self.set_meta("desk_config", text)
        self.set_meta("desk_config_source", source)

    def desk_config(self) -> tuple[str, str] | None:
        """(text, where it came from) of the desk configuration recorded at ingest, if any."""
        text = self.get_meta("desk_config")
        return (text, self.get_meta("desk_config_source") or "") if text else None

    def generation(self) -> int:
        """Bumped on every change, so the lexical index knows when it is stale."""
        return int(self.get_meta("generation") or 0)

    def _bump(self) -> None:
        self._db.execute(
            "INSERT INTO meta VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    # -- documents -----------------------------------------------------------------------
    @staticmethod
    def _doc(row: tuple) -> StoredDocument:
        return StoredDocument(row[0], row[1], row[2], row[3], row[4], row[5], row[6],
                              json.loads(row[7]), json.loads(row[8]))

    _DOC_COLS = "source_id, root, path, content_hash, title, lang, doc_type, tags, meta"

    def documents(self) -> dict[str, StoredDocument]:
        rows = self._db.execute(f"SELECT {self._DOC_COLS} FROM documents").fetchall()
        return {r[0]: self._doc(r) for r in rows}

    def document(self, source_id: str) -> StoredDocument | None:
        row = self._db.execute(f"SELECT {self._DOC_COLS} FROM documents WHERE source_id=?",
                               (source_id,)).fetchone()
        return self._doc(row) if row else None

    def languages(self) -> set[str]:
        """The languages the documents are written in."""
        return {r[0] for r in self._db.execute("SELECT DISTINCT lang FROM documents")}

    def count_documents(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]

    def chunk_ids(self, source_id: str) -> list[str]:
        return [r[0] for r in self._db.execute(
            "SELECT chunk_id FROM chunks WHERE source_id=? ORDER BY ord", (source_id,))]

    def replace_document(self, doc: SourceDocument, root: str, chunks: list[Chunk],
                         tokens: list[list[str]], derived: list[Derived] | None = None) -> None:
        """Store a document, its chunks and what was derived from it in one transaction.
        The document changed, so its proposals go back for review."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._db:
            self._write_derived(doc.id, derived or [])
            self._db.execute("DELETE FROM chunks WHERE source_id=?", (doc.id,))
            self._db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                (doc.id, root, doc.path, doc.content_hash(), doc.title, doc.lang, doc.doc_type,
                 json.dumps(doc.tags, ensure_ascii=False), json.dumps(doc.meta(), ensure_ascii=False), now),
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [(c.chunk_id, c.source_id, c.ord, c.title, c.heading, c.text, c.lang, c.doc_type,
                  c.audience, json.dumps(c.tags, ensure_ascii=False), " ".join(t)) for c, t in zip(chunks, tokens)],
            )
            self._bump()

    def move_document(self, source_id: str, root: str, path: str) -> None:
        """Record where an unchanged document now lives (its file moved): that file owns its id."""
        with self._lock, self._db:
            self._db.execute("UPDATE documents SET root=?, path=? WHERE source_id=?", (root, path, source_id))

    def delete_document(self, source_id: str) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM derived WHERE source_id=?", (source_id,))
            self._db.execute("DELETE FROM chunks WHERE source_id=?", (source_id,))
            self._db.execute("DELETE FROM documents WHERE source_id=?", (source_id,))
            self._bump()

    def reset(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM derived")
            self._db.execute("DELETE FROM chunks")
            self._db.execute("DELETE FROM documents")
            self._bump()

    # -- proposals derived from the content --------------------------------------------
    _DERIVED = TypeAdapter(Derived)

    def _write_derived(self, source_id: str, derived: list[Derived]) -> None:
        """Replace a document's proposals (caller holds the lock and the transaction): the
        source changed, so they all go back for review."""
        self._db.execute("DELETE FROM derived WHERE source_id=?", (source_id,))
        self._db.executemany(
            "INSERT OR REPLACE INTO derived (id, source_id, kind, position, item, status) VALUES (?,?,?,?,?,'pending')",
            [(d.id, source_id, d.kind, d.position, d.model_dump_json()) for d in derived])

    def replace_derived(self, source_id: str, derived: list[Derived]) -> None:
        """Derive again for an unchanged document (the derivation rules changed). The source
        did not change, so a proposal the new rules make exactly as before keeps its review
        (a supervisor's approval, rejection or edit survives an upgrade); a new or reworded
        one is pending."""
        with self._lock, self._db:
            kept = {row[0]: row[1:] for row in self._db.execute(
                "SELECT id, item, status, edited, reviewer, reviewed_at FROM derived WHERE source_id=?", (source_id,))}
            self._write_derived(source_id, derived)
            self._db.executemany(
                "UPDATE derived SET status=?, edited=?, reviewer=?, reviewed_at=? WHERE id=?",
                [(*kept[d.id][1:], d.id) for d in derived
                 if d.id in kept and kept[d.id][1] != "pending" and kept[d.id][0] == d.model_dump_json()])

    def _record(self, row: tuple) -> DerivedRecord:
        return DerivedRecord(item=self._DERIVED.validate_json(row[0]), status=row[1],
                             edited=self._DERIVED.validate_json(row[2]) if row[2] else None,
                             reviewer=row[3], reviewed_at=row[4])

    def derived(self, source_ids: list[str] | None = None, kind: str | None = None,
                status: ReviewStatus | None = None) -> list[DerivedRecord]:
        """Proposals, in document order; optionally of some documents, one kind, one status."""
        where, args = [], []
        if source_ids is not None:
            if not source_ids:
                return []
            where.append(f"source_id IN ({','.join('?' * len(source_ids))})")
            args.extend(source_ids)
        if kind:
            where.append("kind=?")
            args.append(kind)
        if status:
            where.append("status=?")
            args.append(status)
        sql = ("SELECT item, status, edited, reviewer, reviewed_at FROM derived"
               + (f" WHERE {' AND '.join(where)}" if where else "") + " ORDER BY source_id, position")
        return [self._record(r) for r in self._db.execute(sql, args)]

    def review_derived(self, item_id: str, status: ReviewStatus, reviewer: str, edited: Derived | None = None) -> None:
        """A supervisor's decision; an edit replaces the proposal's wording where it is used."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock, self._db:
            cur = self._db.execute("UPDATE derived SET status=?, edited=?, reviewer=?, reviewed_at=? WHERE id=?",
                                   (status, edited.model_dump_json() if edited else None, reviewer, now, item_id))
            if cur.rowcount == 0:
                raise KeyError(item_id)

    # -- chunks --------------------------------------------------------------------------
    _CHUNK_COLS = "chunk_id, source_id, ord, title, heading, text, lang, doc_type, audience, tags"

    @staticmethod
    def _chunk(row: tuple) -> Chunk:
        return Chunk(chunk_id=row[0], source_id=row[1], ord=row[2], title=row[3], heading=row[4],
                     text=row[5], lang=row[6], doc_type=row[7], audience=row[8], tags=json.loads(row[9]))

    def chunks(self, ids: list[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            rows = self._db.execute(
                f"SELECT {self._CHUNK_COLS} FROM chunks WHERE chunk_id IN ({','.join('?' * len(part))})", part)
            out.update({r[0]: self._chunk(r) for r in rows})
        return out

    def chunks_of(self, source_id: str) -> list[Chunk]:
        rows = self._db.execute(f"SELECT {self._CHUNK_COLS} FROM chunks WHERE source_id=? ORDER BY ord",
                                (source_id,))
        return [self._chunk(r) for r in rows]

    def sources_with_audience(self, audience: str) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT DISTINCT source_id FROM chunks WHERE audience=?", (audience,))}

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT chunk_id FROM chunks")}

    def count_chunks(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    # -- passages that speak to the model (knowledge_base/instructions.py) ----------------
    def instruction_scans(self) -> dict[str, str]:
        """source id -> the detector version and content hash it was last scanned at."""
        return dict(self._db.execute("SELECT source_id, stamp FROM instruction_scans").fetchall())

    def record_instruction_scan(self, source_id: str, stamp: str, flags: list[tuple[str, str, str]]) -> None:
        """Replace a document's flagged passages, (chunk id, found by, evidence), in one transaction."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM instruction_flags WHERE source_id=?", (source_id,))
            self._db.executemany("INSERT OR REPLACE INTO instruction_flags VALUES (?,?,?,?)",
                                 [(cid, source_id, by, why) for cid, by, why in flags])
            self._db.execute("INSERT OR REPLACE INTO instruction_scans VALUES (?, ?)", (source_id, stamp))
            # documents gone since: their records go too
            self._db.execute("DELETE FROM instruction_scans WHERE source_id NOT IN (SELECT source_id FROM documents)")
            self._db.execute("DELETE FROM instruction_flags WHERE source_id NOT IN (SELECT source_id FROM documents)")

    def flagged_chunk_ids(self, ids: list[str]) -> set[str]:
        """Those of `ids` whose passage carries instructions."""
        out: set[str] = set()
        for i in range(0, len(ids), 500):
            part = ids[i : i + 500]
            out.update(r[0] for r in self._db.execute(
                f"SELECT chunk_id FROM instruction_flags WHERE chunk_id IN ({','.join('?' * len(part))})", part))
        return out

    def flagged_passages(self) -> list[tuple[Chunk, str, str]]:
        """Every stored passage flagged as carrying instructions: (chunk, found by, evidence)."""
        rows = self._db.execute(
            f"SELECT {', '.join('c.' + c.strip() for c in self._CHUNK_COLS.split(','))}, f.found_by, f.evidence "
            "FROM instruction_flags f JOIN chunks c ON c.chunk_id = f.chunk_id ORDER BY c.source_id, c.ord").fetchall()
        return [(self._chunk(r[:10]), r[10], r[11]) for r in rows]

    def lexical_rows(self) -> Iterator[LexicalRow]:
        for cid, tokens, lang, doc_type, audience, tags in self._db.execute(
            "SELECT chunk_id, tokens, lang, doc_type, audience, tags FROM chunks ORDER BY source_id, ord"
        ):
            yield LexicalRow(cid, tokens.split(), lang, doc_type, audience, json.loads(tags))
