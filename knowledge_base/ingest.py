"""Incremental ingestion: parse -> clean -> chunk -> embed -> both indexes.

Documents are compared by content hash: unchanged ones are skipped before chunking,
changed ones re-indexed, and ones that disappeared from an ingested folder deleted from
both indexes. Crash safety comes from the order of writes: vectors first, then the
docstore row in one transaction, then the lexical index; each run ends by reconciling
the vector index with the docstore, so a run killed half-way is completed by the next.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from pydantic import BaseModel, Field

from knowledge_base.errors import SourceError, shown_path
from knowledge_base.tokenizer import tokenize
from knowledge_base.chunking import Chunker
from knowledge_base.cleaning import Cleaner, CleaningReport
from knowledge_base.derive import DERIVE_VERSION, Derived, derive
from knowledge_base.documents import Chunk, SourceDocument
from knowledge_base.index import KnowledgeIndex
from knowledge_base.instructions import scan_index
from knowledge_base.docstore import StoredDocument
from knowledge_base.loaders import LoadResult, SourceFile, discover, load_file

ProgressFn = Callable[[str, int, int], None]
"""progress(stage, done, total)"""


class IngestReport(BaseModel):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[str] = Field(default_factory=list)
    outdated: list[str] = Field(default_factory=list)
    boilerplate_lines: int = 0
    duplicate_passages: list[str] = Field(default_factory=list)
    duplicate_documents: list[str] = Field(default_factory=list)
    chunks_written: int = 0
    chunks_embedded: int = 0
    repaired_vectors: int = 0
    documents: int = 0
    chunks: int = 0
    derived: int = Field(0, description="Checks and handoff rules derived from new or changed documents.")
    recut: str | None = Field(None, description="Why unchanged documents were cut into passages again (the "
                              "chunker or its settings changed), if they were.")
    desk_file: str | None = Field(None, description="The desk configuration recorded with the index, if any.")
    instructions: list[str] = Field(default_factory=list, description="Passages that speak to the model, flagged: "
                                    "never quoted into a draft nor given to the model.")
    timings_s: dict[str, float] = Field(default_factory=dict)

    def summary(self) -> str:
        return (f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
                f"removed {self.removed}, failed {self.failed}") + (f" ({self.recut})" if self.recut else "")


@dataclass
class _Pending:
    doc: SourceDocument
    root: str
    chunks: list[Chunk]
    tokens: list[list[str]]
    derived: list[Derived] = field(default_factory=list)
    stale_ids: list[str] = field(default_factory=list)
    is_new: bool = False


class Ingestor:
    def __init__(self, index: KnowledgeIndex, progress: ProgressFn | None = None, batch_chunks: int = 64):
        self.index = index
        s = index.settings
        self.chunker = Chunker(s.chunking.chunk_tokens, s.chunking.overlap_tokens)
        self.cleaner = Cleaner(
            s.ingest.boilerplate_patterns,
            repeated_line_min_docs=s.ingest.repeated_line_min_docs,
            min_block_words=s.chunking.min_block_words,
            jaccard=s.chunking.near_duplicate_jaccard,
            signature_cache=index.docstore.signatures,
        )
        self.max_bytes = int(s.ingest.max_file_mb * 1e6)
        self.max_nesting = s.ingest.max_nesting
        self.progress = progress or (lambda stage, done, total: None)
        self.batch_chunks = batch_chunks

    # -- loading -----------------------------------------------------------------------
    def _load(self, paths: Iterable[Path], report: IngestReport, stored: dict[str, StoredDocument]
              ) -> tuple[list[tuple[SourceDocument, str]], set[tuple[str, str]], list[tuple[str, str | None]]]:
        """(documents with their root, files with errors as (root, rel), removal scopes)."""
        files, errors = discover(paths)
        for e in errors:
            report.errors.append(str(e))
        scopes: list[tuple[str, str | None]] = []
        for raw in paths:
            p = Path(raw)
            if p.is_dir():
                scopes.append((str(p.resolve()), None))
            elif p.is_file():
                scopes.append((str(p.resolve().parent), p.name))
        read: list[tuple[SourceDocument, SourceFile]] = []
        bad_files: set[tuple[str, str]] = set()
        for i, src in enumerate(files):
            res: LoadResult = load_file(src, self.max_bytes, self.max_nesting)
            report.errors.extend(str(e) for e in res.errors)
            bad_files.update((str(src.root), rel) for rel in res.files_with_errors)
            read.extend((doc, src) for doc in res.documents)
            self.progress("read", i + 1, len(files))
        docs = self._claim_ids(read, stored, scopes, bad_files, report)
        return docs, bad_files, scopes

    @staticmethod
    def _claim_ids(read: list[tuple[SourceDocument, SourceFile]], stored: dict[str, StoredDocument],
                   scopes: list[tuple[str, str | None]], bad_files: set[tuple[str, str]],
                   report: IngestReport) -> list[tuple[SourceDocument, str]]:
        """One document per id. An id the index holds belongs to the file it came from: another
        file's document with it is refused (both named) and the stored one stays, unless its
        file is gone or this run re-read it without that id (the document moved). Two files of
        this run with one id: the owner's copy is taken, else the first."""
        def where(doc: SourceDocument, src: SourceFile) -> str:
            return f"{src.shown}:{doc.line}" if doc.line else src.shown

        def released(old: StoredDocument) -> bool:
            in_scope = any(old.root == root and (name is None or old.path == name) for root, name in scopes)
            return (in_scope and (old.root, old.path) not in bad_files) or not (Path(old.root) / old.path).exists()

        copies: dict[str, list[tuple[SourceDocument, SourceFile]]] = {}
        for doc, src in read:
            copies.setdefault(doc.id, []).append((doc, src))
        taken: set[int] = set()
        for doc_id, group in copies.items():
            old = stored.get(doc_id)
            owner = Path(old.root) / old.path if old else None
            mine = [c for c in group if c[1].path == owner]
            if old and not mine and not released(old):
                for doc, src in group:
                    report.errors.append(str(SourceError(
                        where(doc, src), f"id '{doc_id}' is already indexed from {shown_path(owner)}; give one of the two "
                                         "another id (the indexed document is kept)")))
                    bad_files.add((str(src.root), src.rel))
                continue
            first = (mine or group)[0]
            taken.add(id(first[0]))
            for doc, src in group:
                if doc is not first[0]:
                    report.errors.append(str(SourceError(
                        where(doc, src), f"duplicate id '{doc_id}' (also in {where(*first)})")))
                    bad_files.add((str(src.root), src.rel))
        return [(doc, str(src.root)) for doc, src in read if id(doc) in taken]

    # -- the run -------------------------------------------------------------------------
    def run(self, paths: list[Path], reset: bool = False) -> IngestReport:
        report = IngestReport()
        t0 = time.perf_counter()
        idx = self.index
        if reset:
            idx.vector.delete(sorted(idx.vector.all_ids()))
            idx.docstore.reset()
            idx.docstore.record_desk_config("", "")
        embedder_changed = idx.built_with() not in (None, idx.embedding.model_id)
        # a fresh docstore has no target yet: that is not a change (forcing would embed everything twice)
        stored_target = idx.docstore.get_meta("vector_target")
        target_changed = stored_target is not None and stored_target != idx.vector_target
        # passages cut by another chunker or with other chunk settings are cut again: an unchanged
        # document would otherwise keep its old passages whatever COPILOT_CHUNKING__* now says
        stored_cut = idx.docstore.get_meta("chunking")
        rechunk = idx.docstore.count_chunks() > 0 and stored_cut != self.chunker.signature
        if rechunk:
            report.recut = f"passages cut again: chunking was '{stored_cut or 'v1'}', now '{self.chunker.signature}'"

        stored = idx.docstore.documents()
        loaded, bad_files, scopes = self._load(paths, report, stored)
        report.timings_s["read"] = time.perf_counter() - t0

        t = time.perf_counter()
        current = [d for d, _ in loaded if d.status == "current"]
        for d, _ in loaded:
            if d.status == "outdated":
                report.outdated.append(f"{d.id} (superseded by {d.superseded_by})" if d.superseded_by else d.id)
        roots = {d.id: r for d, r in loaded}
        cleaned, cleaning = self.cleaner.clean(current)
        self.cleaner.signature_cache.flush()  # type: ignore[attr-defined]
        self._report_cleaning(cleaning, report)
        report.timings_s["clean"] = time.perf_counter() - t

        pending: list[_Pending] = []
        t = time.perf_counter()
        rederive = idx.docstore.get_meta("derive_version") != DERIVE_VERSION
        for doc in cleaned:
            old = stored.get(doc.id)
            if old and old.content_hash == doc.content_hash() and not embedder_changed and not rechunk:
                report.unchanged += 1
                if (old.root, old.path) != (roots[doc.id], doc.path):
                    idx.docstore.move_document(doc.id, roots[doc.id], doc.path)
                if rederive:  # the rules that find checks and handoff rules changed
                    idx.docstore.replace_derived(doc.id, derive(doc))
                continue
            try:
                chunks = self.chunker.split(doc)
                tokens = [tokenize(c.index_text) for c in chunks]
                derived = derive(doc)
            except Exception as exc:  # noqa: BLE001 - one document the tokenizer cannot take is its file's error
                reason = (str(exc).strip().splitlines() or [""])[0][:200]
                report.errors.append(str(SourceError(str(Path(roots[doc.id]) / doc.path), "cannot be split into "
                                                     f"passages ({type(exc).__name__}: {reason})")))
                bad_files.add((roots[doc.id], doc.path))
                continue
            new_ids = {c.chunk_id for c in chunks}
            stale = [cid for cid in idx.docstore.chunk_ids(doc.id) if cid not in new_ids] if old else []
            pending.append(_Pending(doc, roots[doc.id], chunks, tokens, derived, stale, is_new=old is None))
        report.derived = sum(len(p.derived) for p in pending)
        report.timings_s["chunk"] = time.perf_counter() - t

        t = time.perf_counter()
        embed_before = idx.embedding.timer.seconds
        texts_before = idx.embedding.timer.texts
        self._write(pending, report)
        report.timings_s["embed"] = idx.embedding.timer.seconds - embed_before
        report.timings_s["write"] = time.perf_counter() - t - report.timings_s["embed"]

        # Removed: gone from an ingested folder (or file), outdated now, or deduplicated away.
        kept_ids = {d.id for d in cleaned}
        for sid, old in stored.items():
            if sid in kept_ids or (old.root, old.path) in bad_files:
                continue
            in_scope = any(old.root == root and (name is None or old.path == name) for root, name in scopes)
            if in_scope:
                idx.vector.delete(idx.docstore.chunk_ids(sid))
                idx.docstore.delete_document(sid)
                report.removed += 1

        t = time.perf_counter()
        embed_before = idx.embedding.timer.seconds
        report.repaired_vectors = self._reconcile(force=embedder_changed or target_changed)
        repair_embed = idx.embedding.timer.seconds - embed_before
        report.timings_s["embed"] += repair_embed
        report.chunks_embedded = idx.embedding.timer.texts - texts_before
        report.timings_s["repair"] = time.perf_counter() - t - repair_embed
        t = time.perf_counter()
        self._record_desk_file(paths, report)
        idx.docstore.set_meta("derive_version", DERIVE_VERSION)
        # another folder's documents still have the old passages: they are cut on its next ingest
        if not (rechunk and set(idx.docstore.documents()) - kept_ids):
            idx.docstore.set_meta("chunking", self.chunker.signature)
        idx.docstore.set_meta("embedding_model", idx.embedding.model_id)
        idx.docstore.set_meta("vector_target", idx.vector_target)
        report.instructions = scan_index(idx)
        idx.refresh_lexical()
        idx.mark_current()
        report.timings_s["lexical"] = time.perf_counter() - t

        report.failed = len(report.errors)
        report.documents = idx.docstore.count_documents()
        report.chunks = idx.docstore.count_chunks()
        report.timings_s["total"] = time.perf_counter() - t0
        return report

    def _record_desk_file(self, paths: Iterable[Path], report: IngestReport) -> None:
        """Keep the desk configuration found beside the ingested knowledge with the index, so
        the application serves this desk without being told where its file is."""
        name = self.index.settings.ingest.desk_file
        for raw in paths:
            candidate = Path(raw) / name
            if Path(raw).is_dir() and candidate.is_file():
                self.index.docstore.record_desk_config(candidate.read_text(encoding="utf-8-sig"), str(candidate.resolve()))
                report.desk_file = str(candidate)

    def _write(self, pending: list[_Pending], report: IngestReport) -> None:
        total = sum(len(p.chunks) for p in pending)
        done = 0
        batch: list[_Pending] = []
        for p in pending:
            batch.append(p)
            if sum(len(b.chunks) for b in batch) >= self.batch_chunks:
                done += self._flush(batch, report)
                self.progress("embed", done, total)
                batch = []
        if batch:
            done += self._flush(batch, report)
            self.progress("embed", done, total)

    def _flush(self, batch: list[_Pending], report: IngestReport) -> int:
        idx = self.index
        chunks = [c for p in batch for c in p.chunks]
        idx.vector.upsert(chunks)
        for p in batch:
            if p.stale_ids:
                idx.vector.delete(p.stale_ids)
            idx.docstore.replace_document(p.doc, p.root, p.chunks, p.tokens, p.derived)
            if p.is_new:
                report.added += 1
            else:
                report.updated += 1
        report.chunks_written += len(chunks)
        return len(chunks)

    def _reconcile(self, force: bool) -> int:
        """Make the vector index hold exactly the docstore's chunks: write missing ones
        (a crash, a new Chroma server, a new embedder) and delete orphans."""
        idx = self.index
        wanted = idx.docstore.all_chunk_ids()
        have = set() if force else idx.vector.all_ids()
        orphans = sorted(have - wanted)
        if orphans:
            idx.vector.delete(orphans)
        missing = sorted(wanted - have)
        for i in range(0, len(missing), 256):
            part = idx.docstore.chunks(missing[i : i + 256])
            idx.vector.upsert(list(part.values()))
            self.progress("repair", min(i + 256, len(missing)), len(missing))
        return len(missing)

    @staticmethod
    def _report_cleaning(cleaning: CleaningReport, report: IngestReport) -> None:
        report.boilerplate_lines = cleaning.boilerplate_total
        for p in cleaning.duplicate_passages:
            report.duplicate_passages.append(f"{p.source_id}: near-duplicate of {p.duplicate_of}: \"{p.preview}\"")
        for doc_id, of in cleaning.duplicate_documents:
            report.duplicate_documents.append(f"{doc_id}: duplicate of {of}")
