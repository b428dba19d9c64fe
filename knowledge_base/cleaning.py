"""Cleaning before chunking: boilerplate lines out, duplicate documents and near-duplicate
passages out, each removal reported.

Exported help-centre pages repeat navigation, "open in the app" banners and whole
paragraphs of the articles they were copied from. Left in, they crowd the top results
with copies and give the model the same passage twice under different ids.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import MutableMapping

import numpy as np
from datasketch import MinHash, MinHashLSH

from knowledge_base.documents import SourceDocument

NUM_PERM = 64
SCHEME = "affine32"  # stored signatures are only comparable within one scheme
SHINGLE_CHARS = 5
LONGEST_SPACE_RUN = 200  # blanks in a row kept as they are (indentation, aligned columns)
# Preferred copy of a duplicate: curated articles first, exports last.
_FORMAT_PRIORITY = {"md": 0, "json": 1, "jsonl": 1, "csv": 2, "html": 3, "txt": 3, "": 4}


@dataclass
class DuplicatePassage:
    source_id: str
    duplicate_of: str
    preview: str


@dataclass
class CleaningReport:
    boilerplate_lines: dict[str, int] = field(default_factory=dict)
    duplicate_documents: list[tuple[str, str]] = field(default_factory=list)
    duplicate_passages: list[DuplicatePassage] = field(default_factory=list)

    @property
    def boilerplate_total(self) -> int:
        return sum(self.boilerplate_lines.values())


_LEAD = re.compile(r"^[\s>#*\-+|]+")


def _plain(line: str) -> str:
    """A line without Markdown decoration, for matching boilerplate."""
    line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
    line = _LEAD.sub("", line)
    # the decoration at the end is stripped without a regular expression: `[...]+$` would try
    # every position of a long run of spaces, in time quadratic in the run's length
    end = len(line)
    while end and (line[end - 1].isspace() or line[end - 1] in "*_|"):
        end -= 1
    return line[:end].replace("**", "").replace("__", "").strip()


_SPACES = re.compile(r"[^\S\n]{2,}")
_LONG_SPACE = re.compile(r"[^\S\n]{%d}" % (LONGEST_SPACE_RUN + 1))


def _squeeze_spaces(text: str) -> str:
    """Runs of blanks longer than any indentation or table alignment become one space: they
    are page layout, and the tokenizer fails on a run of some hundred thousand."""
    return _SPACES.sub(lambda m: " " if len(m.group()) > LONGEST_SPACE_RUN else m.group(), text)


def _normalize(text: str) -> str:
    text = text.lower().replace("ё", "е")
    text = re.sub(r"[^\w\s]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _shingles(text: str) -> set[str]:
    return {text[i : i + SHINGLE_CHARS] for i in range(max(1, len(text) - SHINGLE_CHARS + 1))}


def _jaccard(a: str, b: str) -> float:
    sa, sb = _shingles(a), _shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


def _blocks(text: str) -> list[str]:
    """Paragraphs, with every heading line a block of its own (a heading directly above a
    paragraph must not hide the paragraph from duplicate detection)."""
    text = re.sub(r"^(#{1,6} .*)$", r"\n\1\n", text, flags=re.M)
    return [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]


class Cleaner:
    """Removes boilerplate lines and duplicates from a whole corpus at once (duplicates are
    only visible across documents)."""

    def __init__(
        self,
        patterns: list[str],
        repeated_line_min_docs: int = 3,
        min_block_words: int = 8,
        jaccard: float = 0.8,
        signature_cache: MutableMapping[str, bytes] | None = None,
    ):
        self.patterns = [re.compile(p, re.I) for p in patterns]
        self.repeated_line_min_docs = repeated_line_min_docs
        self.min_block_words = min_block_words
        self.jaccard = jaccard
        self.signature_cache = signature_cache if signature_cache is not None else {}

    # -- boilerplate -------------------------------------------------------------------
    def _is_pattern_boilerplate(self, line: str) -> bool:
        plain = _plain(line)
        return bool(plain) and any(p.match(plain) for p in self.patterns)

    def _repeated_lines(self, docs: list[SourceDocument]) -> set[str]:
        """Short lines that recur in several exported pages: menus, footers, banners."""
        counts: Counter[str] = Counter()
        for doc in docs:
            if doc.fmt not in {"html", "txt"}:
                continue
            seen = {_plain(ln) for ln in doc.text.splitlines()
                    if ln.strip() and not ln.lstrip().startswith("#") and len(ln.split()) <= 12}
            counts.update(s for s in seen if s)
        return {line for line, n in counts.items() if n >= self.repeated_line_min_docs}

    def strip_boilerplate(self, docs: list[SourceDocument], report: CleaningReport) -> list[SourceDocument]:
        repeated = self._repeated_lines(docs)
        out = []
        for doc in docs:
            if _LONG_SPACE.search(doc.text):
                doc = doc.model_copy(update={"text": _squeeze_spaces(doc.text)})
            kept, removed = [], 0
            for line in doc.text.splitlines():
                if self._is_pattern_boilerplate(line) or (
                    doc.fmt in {"html", "txt"} and _plain(line) in repeated
                ):
                    removed += 1
                    continue
                kept.append(line)
            if removed:
                report.boilerplate_lines[doc.id] = removed
                doc = doc.model_copy(update={"text": re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()})
            out.append(doc)
        return out

    # -- duplicates --------------------------------------------------------------------
    def _signature(self, text: str) -> MinHash:
        key = hashlib.sha1(text.encode()).hexdigest()
        cached = self.signature_cache.get(key)
        if cached is not None:
            return MinHash(num_perm=NUM_PERM, scheme=SCHEME,
                           hashvalues=np.frombuffer(cached, dtype=np.uint64))
        m = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
        m.update_batch([s.encode() for s in _shingles(text)])
        self.signature_cache[key] = m.hashvalues.astype(np.uint64).tobytes()
        return m

    @staticmethod
    def _priority(doc: SourceDocument) -> tuple:
        return (doc.doc_type != "article", _FORMAT_PRIORITY.get(doc.fmt, 4), doc.id)

    def deduplicate(self, docs: list[SourceDocument], report: CleaningReport) -> list[SourceDocument]:
        ordered = sorted(docs, key=self._priority)
        by_text: dict[str, str] = {}
        # LSH proposes candidates a little below the threshold (MinHash estimates are noisy);
        # the exact Jaccard of the shingle sets decides.
        lsh = MinHashLSH(threshold=max(0.05, self.jaccard - 0.15), num_perm=NUM_PERM)
        texts: dict[str, str] = {}
        owner: dict[str, str] = {}
        kept_docs: dict[str, SourceDocument] = {}
        by_id = {d.id: d for d in docs}
        for doc in ordered:
            norm_doc = _normalize(doc.text)
            if norm_doc in by_text:
                report.duplicate_documents.append((doc.id, by_text[norm_doc]))
                continue
            by_text[norm_doc] = doc.id
            if doc.doc_type != "article":
                kept_docs[doc.id] = doc
                continue
            blocks = _blocks(doc.text)
            new_blocks, block_keys, removed_any = [], [], False
            for i, block in enumerate(blocks):
                norm = _normalize(block)
                if block.lstrip().startswith("#") or len(norm.split()) < self.min_block_words:
                    new_blocks.append(block)
                    continue
                sig = self._signature(norm)
                dup_of = None
                for key in lsh.query(sig):
                    # two curated articles repeating a paragraph do it on purpose (one step shared by
                    # two workflows, each naming its own subject): only a copy in a lower-priority
                    # page (an export of the curated text) is trimmed
                    if (owner[key] != doc.id and self._priority(by_id[owner[key]])[:2] < self._priority(doc)[:2]
                            and _jaccard(texts[key], norm) >= self.jaccard):
                        dup_of = owner[key]
                        break
                if dup_of:
                    removed_any = True
                    report.duplicate_passages.append(
                        DuplicatePassage(doc.id, dup_of, " ".join(block.split()[:8]) + " …"))
                    continue
                key = f"{doc.id}\x00{i}"
                block_keys.append((key, sig, norm))
                new_blocks.append(block)
            for key, sig, norm in block_keys:
                lsh.insert(key, sig)
                texts[key] = norm
                owner[key] = doc.id
            if not removed_any:
                kept_docs[doc.id] = doc
                continue
            if not any(_normalize(b) and not b.lstrip().startswith("#") for b in new_blocks):
                report.duplicate_documents.append((doc.id, "passages of other documents"))
                continue
            kept_docs[doc.id] = doc.model_copy(update={"text": "\n\n".join(new_blocks)})
        # keep the caller's order
        return [kept_docs[d.id] for d in docs if d.id in kept_docs]

    def clean(self, docs: list[SourceDocument]) -> tuple[list[SourceDocument], CleaningReport]:
        report = CleaningReport()
        docs = self.strip_boilerplate(docs, report)
        docs = self.deduplicate(docs, report)
        return docs, report
