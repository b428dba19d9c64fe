"""The lexical index: BM25 (bm25s) over the same chunks and ids as the vector index.

It is rebuilt from the docstore's pre-tokenized chunks after every ingest (seconds even at
100k chunks) and written as a new generation folder; a small `CURRENT` file, replaced
atomically, names the live one, so a crash mid-write leaves the previous index in use.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import bm25s
import numpy as np

from knowledge_base.documents import SearchFilters


@dataclass
class LexicalRow:
    chunk_id: str
    tokens: list[str]
    lang: str
    doc_type: str
    audience: str
    tags: list[str]


class LexicalIndex:
    def __init__(self, folder: Path):
        self.folder = folder
        self.generation: int | None = None
        self._bm25: bm25s.BM25 | None = None
        self._ids: list[str] = []
        self._langs = np.array([], dtype=object)
        self._types = np.array([], dtype=object)
        self._audiences = np.array([], dtype=object)
        self._tags: list[frozenset[str]] = []
        self._position: dict[str, int] = {}
        self._masks: dict[tuple, np.ndarray] = {}  # per filter: the panel asks the same few again and again
        self._novelty: float | None = None
        self._holds: dict[str, bool] = {}

    # -- build ---------------------------------------------------------------------------
    def build(self, rows: Iterable[LexicalRow], generation: int) -> None:
        rows = list(rows)
        target = self.folder / f"gen-{generation}"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        corpus = [r.tokens or [""] for r in rows]
        if rows:
            bm25 = bm25s.BM25(k1=1.2, b=0.75)
            bm25.index(corpus, show_progress=False)
            bm25.save(str(target / "bm25"), show_progress=False)
        meta = {
            "ids": [r.chunk_id for r in rows],
            "langs": [r.lang for r in rows],
            "types": [r.doc_type for r in rows],
            "audiences": [r.audience for r in rows],
            "tags": [r.tags for r in rows],
        }
        (target / "chunks.json").write_text(json.dumps(meta, ensure_ascii=False))
        tmp = self.folder / "CURRENT.tmp"
        tmp.write_text(str(generation))
        os.replace(tmp, self.folder / "CURRENT")
        for old in self.folder.glob("gen-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        self._load(target, generation)

    # -- load ----------------------------------------------------------------------------
    def current_generation(self) -> int | None:
        current = self.folder / "CURRENT"
        return int(current.read_text()) if current.exists() else None

    def load(self) -> bool:
        """Load the live generation if it changed; False when there is none."""
        gen = self.current_generation()
        if gen is None:
            return False
        if gen != self.generation:
            self._load(self.folder / f"gen-{gen}", gen)
        return True

    def _load(self, target: Path, generation: int) -> None:
        meta = json.loads((target / "chunks.json").read_text())
        self._ids = meta["ids"]
        self._langs = np.array(meta["langs"], dtype=object)
        self._types = np.array(meta["types"], dtype=object)
        self._audiences = np.array(meta["audiences"], dtype=object)
        self._tags = [frozenset(t) for t in meta["tags"]]
        self._position = {cid: i for i, cid in enumerate(self._ids)}
        self._masks = {}
        self._novelty = None
        self._holds = {}
        self._bm25 = (bm25s.BM25.load(str(target / "bm25"), mmap=False, show_progress=False)
                      if self._ids else None)
        self.generation = generation

    def __len__(self) -> int:
        return len(self._ids)

    # -- search --------------------------------------------------------------------------
    def _mask(self, filters: SearchFilters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        key = (filters.lang, filters.doc_type, filters.audience, tuple(sorted(filters.tags)))
        cached = self._masks.get(key)  # get, not `in` then []: another thread may clear it between
        if cached is not None:
            return cached
        mask = np.ones(len(self._ids), dtype=bool)
        if filters.lang:
            mask &= self._langs == filters.lang
        if filters.doc_type:
            mask &= self._types == filters.doc_type
        if filters.audience:
            mask &= self._audiences == filters.audience
        if filters.tags:
            wanted = set(filters.tags)
            mask &= np.array([bool(t & wanted) for t in self._tags], dtype=bool)
        if len(self._masks) > 64:
            self._masks.clear()
        self._masks[key] = mask
        return mask

    def filter_for(self, filters: SearchFilters | None) -> Callable[[str], bool] | None:
        """Whether a chunk id passes the filters, from the metadata this index already holds
        in memory, so the vector search need not fetch it from Chroma. None without filters.
        An id this generation does not know (written by an ingest still running) does not pass."""
        mask = self._mask(filters) if self._ids else None  # none built yet: Chroma's metadata decides
        if mask is None:
            return None
        position = self._position
        return lambda cid: (i := position.get(cid)) is not None and bool(mask[i])

    def document_frequencies(self, tokens: list[str], filters: SearchFilters | None = None) -> tuple[dict[str, int], int]:
        """How many chunks passing the filters contain each token, and how many pass: how rare
        a word of the query is in this knowledge base."""
        mask = self._mask(filters) if self._ids else None
        total = int(mask.sum()) if mask is not None else len(self._ids)
        if self._bm25 is None:
            return {t: 0 for t in tokens}, total
        scores, vocab = self._bm25.scores, self._bm25.vocab_dict
        out: dict[str, int] = {}
        for t in set(tokens):
            j = vocab.get(t)
            if j is None:
                out[t] = 0
                continue
            docs = scores["indices"][scores["indptr"][j]:scores["indptr"][j + 1]]
            out[t] = int(mask[docs].sum()) if mask is not None else len(docs)
        return out, total

    def holds(self, doc_type: str) -> bool:
        """Whether any chunk of the index is of this type ("ticket": past tickets)."""
        if doc_type not in self._holds:  # asked on every search: once per generation
            self._holds[doc_type] = bool((self._types == doc_type).any()) if self._ids else False
        return self._holds[doc_type]

    def novelty(self) -> float:
        """How new a text about this knowledge base's own subjects usually is to the rest of it:
        for each chunk, the rarity-weighted share of its terms that no other chunk has, weighted
        as if that chunk were left out of the index; the mean over chunks.
        Near 0 for a large desk (its own words recur), near 1 for a one-article one (every
        word is new to the rest), so a query's unknown words can be judged against it."""
        if self._novelty is not None:
            return self._novelty
        value = 0.0
        if self._bm25 is not None and self._ids:
            indptr = np.asarray(self._bm25.scores["indptr"])
            docs = np.asarray(self._bm25.scores["indices"])
            df = np.diff(indptr)
            n = len(self._ids)
            idf = np.log(n / (df - 1 + 0.5))  # each term's rarity with the chunk itself left out
            empty = self._bm25.vocab_dict.get("")  # the token bm25s gives an empty chunk
            if empty is not None and empty < len(df):
                idf[empty] = 0.0
            term_of = np.repeat(np.arange(len(df)), df)
            total = np.bincount(docs, weights=idf[term_of], minlength=n)
            own = np.bincount(docs, weights=(idf * (df == 1))[term_of], minlength=n)
            has = total > 0
            value = float((own[has] / total[has]).mean()) if has.any() else 0.0
        self._novelty = value
        return value

    def search(self, tokens: list[str], n: int, filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; only chunks sharing a term with the query."""
        if self._bm25 is None or not tokens:
            return []
        mask = self._mask(filters)
        if mask is not None and not mask.any():
            return []
        vocab = self._bm25.vocab_dict
        known = [t for t in tokens if t in vocab]
        if not known:
            return []
        k = min(n, len(self._ids))
        docs, scores = self._bm25.retrieve(
            [known], k=k, show_progress=False, n_threads=0,
            weight_mask=mask.astype(np.float32) if mask is not None else None,
        )
        return [(self._ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def search_weighted(self, parts: list[tuple[list[str], float]], n: int,
                        filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """Like `search` for a weighted query: each part's BM25 score times its weight, summed
        (a query expanded with feedback terms, `HybridRetriever`)."""
        bm25 = self._bm25
        if bm25 is None:
            return []
        mask = self._mask(filters)
        if mask is not None and not mask.any():
            return []
        vocab = bm25.vocab_dict
        total = np.zeros(len(self._ids), dtype=np.float64)
        for tokens, weight in parts:
            known = [t for t in tokens if t in vocab]
            if known and weight > 0:
                total += weight * bm25.get_scores(known)
        if mask is not None:
            total[~mask] = 0.0
        k = min(n, len(total))
        if k <= 0:
            return []
        top = np.argpartition(-total, k - 1)[:k] if k < len(total) else np.arange(len(total))
        top = top[np.argsort(-total[top], kind="stable")]
        return [(self._ids[int(i)], float(total[i])) for i in top if total[i] > 0]
