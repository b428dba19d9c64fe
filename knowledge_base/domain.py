"""Off-topic or not: is a request about what this knowledge base's business does at all?

A request is compared with the knowledge base (its three closest passages) and with
everyday requests no support desk answers (a restaurant booking, homework, a recipe:
`calibration/background.jsonl`, both languages; again the three closest). Closer to those
than to what the business wrote, by more than a margin: off-topic, which gets a polite refusal rather than a
promise of a specialist. A question inside the domain that the knowledge base does not
answer stays close to it (a static IP is still about internet access) and keeps its handoff.

What any support desk takes, whatever it sells (a disputed charge, a refund, closing the
account, a complaint about how the customer was treated: `calibration/desk_requests.jsonl`),
is the business's own even when its articles are all troubleshooting: a phone manual says
nothing about bills, and "you charged me twice" is near the background's bank fees. A request
nearer those than the background, by `off_topic_desk_margin` (stricter than the other
margin: another business's refund is near them too), is never off-topic.

The background is written as topics of three or more requests each (the three closest
must be able to come from one topic: with one request per topic, an everyday question had
one near neighbour and two unrelated ones, and stayed nearer the knowledge base). It is
pruned per knowledge base: a topic one of whose requests has a passage of this knowledge
base nearer to it than any request of the other topics is part of its domain (a restaurant
chain's desk answers table bookings) and is dropped as a whole. The score is a difference of two similarities
from the same embedder, so it carries across knowledge bases better than a threshold on one
similarity. Three neighbours on each side, not one: a small embedder matches sentence shape
("my phone won't send pictures" is close to "my washing machine won't drain"), and one
look-alike must not turn a customer's problem into an off-topic request. The margin was
chosen on the dev split of `evals/datasets/scope`, on the side of never refusing an
in-domain request (a refused customer is worse than an off-topic request handed to a person).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import numpy as np

from knowledge_base.documents import SearchFilters
from knowledge_base.index import KnowledgeIndex

log = logging.getLogger("copilot")

BACKGROUND = Path(__file__).with_name("calibration") / "background.jsonl"
DESK_REQUESTS = Path(__file__).with_name("calibration") / "desk_requests.jsonl"
NEIGHBOURS = 3
PRUNING = 4  # the version of the pruning rule below: the cached background of an older one is rebuilt


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()] if path.exists() else []


def _top_mean(similarities: np.ndarray) -> float:
    return float(np.sort(similarities)[::-1][:NEIGHBOURS].mean()) if len(similarities) else 0.0


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


class DomainGate:
    """`margin(...)`: similarity of a request to the knowledge base minus its similarity to
    the closest everyday request; None when the language has no background or no vector."""

    def __init__(self, index: KnowledgeIndex, path: Path = BACKGROUND, desk_path: Path = DESK_REQUESTS):
        self.index = index
        self.path = path
        self._texts: dict[str, list[str]] = {}
        self._topics: dict[str, list[str]] = {}
        for row in _rows(path):
            self._texts.setdefault(row["lang"], []).append(row["text"])
            self._topics.setdefault(row["lang"], []).append(row.get("topic") or row["text"])
        self._desk_texts: dict[str, list[str]] = {}
        for row in _rows(desk_path):
            self._desk_texts.setdefault(row["lang"], []).append(row["text"])
        self._claim_margin = index.settings.retrieval.off_topic_claim_margin
        self._version = hashlib.sha1(f"{index.embedding.model_id}\x00{PRUNING}\x00{self._claim_margin}\x00"
                                     f"{sorted(self._texts.items())}\x00{sorted(self._topics.items())}\x00"
                                     f"{sorted(self._desk_texts.items())}".encode()).hexdigest()
        self._cache = index.index_dir / "domain_background.npz"
        self._kept: tuple[int, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]] | None = None
        self._lock = threading.Lock()

    def _kb_similarity(self, vector: np.ndarray | list[float], lang: str, k: int = NEIGHBOURS) -> float:
        """Mean similarity of the k closest passages of the customer-facing articles."""
        filters = SearchFilters(lang=lang, doc_type="article", audience="customer")
        found = self.index.vector.search("", k, filters, vector=list(map(float, vector)),
                                         keep=self.index.lexical.filter_for(filters))
        return float(np.mean([s for _, s in found])) if found else 0.0

    def _build(self, generation: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Per language, the background vectors this knowledge base does not claim, and the
        vectors of the requests every desk takes."""
        embed = self.index.embedding.embeddings.embed_query
        desk = {lang: _unit(np.array([embed(t) for t in texts], dtype=np.float32))
                for lang, texts in self._desk_texts.items() if self.index.embedding.knows(lang)}
        kept: dict[str, np.ndarray] = {}
        for lang, texts in self._texts.items():
            if not self.index.embedding.knows(lang):
                continue
            vectors = _unit(np.array([embed(t) for t in texts], dtype=np.float32))
            topics = np.array(self._topics[lang], dtype=object)
            sims = vectors @ vectors.T
            # claimed: the knowledge base has a passage nearer the request than any request of
            # another topic (its own variants are no evidence either way). The closest one on
            # each side, not three: a two-article desk has no third passage to average in
            others = np.array([row[topics != topics[i]].max(initial=0.0) for i, row in enumerate(sims)])
            own = np.array([self._kb_similarity(v, lang, k=1) for v in vectors])
            claimed = own - others >= self._claim_margin
            # a topic goes as a whole when the knowledge base claims any of its requests: a variant
            # worded further from the articles must not keep the business's own topic off-topic
            dropped = set(topics[claimed])
            kept[lang] = vectors[[t not in dropped for t in topics]]
        return kept, desk

    def _vectors(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        generation = self.index.docstore.generation()
        with self._lock:
            if self._kept and self._kept[0] == generation:
                return self._kept[1]
            built = self._load(generation)
            if built is None:
                built = self._build(generation)
                self._save(generation, built)
            self._kept = (generation, built)
            return built

    def _background(self) -> dict[str, np.ndarray]:
        return self._vectors()[0]

    def _load(self, generation: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]] | None:
        """The pruned background (and the desk's requests) computed for this index generation by any process."""
        try:
            with np.load(self._cache) as data:
                if str(data["version"]) != self._version or int(data["generation"]) != generation:
                    return None
                return tuple({key.removeprefix(prefix): data[key] for key in data.files if key.startswith(prefix)}
                             for prefix in ("lang_", "desk_"))  # type: ignore[return-value]
        except (OSError, KeyError, ValueError):
            return None

    def _save(self, generation: int, built: tuple[dict[str, np.ndarray], dict[str, np.ndarray]]) -> None:
        kept, desk = built
        tmp = self._cache.with_suffix(f".{os.getpid()}.tmp.npz")
        try:
            np.savez(tmp, version=self._version, generation=generation, **{f"lang_{k}": v for k, v in kept.items()},
                     **{f"desk_{k}": v for k, v in desk.items()})
            os.replace(tmp, self._cache)  # readers see the old file or the new one, never half of one
        except OSError as exc:  # a read-only index folder: keep it in memory, recompute in the next process
            log.warning("domain background not cached in %s: %s", self._cache.parent, exc)

    def margin(self, query_vector: list[float] | None, lang: str) -> float | None:
        """How far inside the business's domain a request is; below `off_topic_margin`: off-topic."""
        if query_vector is None:
            return None
        kept, desk = self._vectors()
        background = kept.get(lang)
        if background is None or len(background) < NEIGHBOURS:
            return None
        q = _unit(np.asarray(query_vector, dtype=np.float32))
        everyday = _top_mean(background @ q)
        margin = self._kb_similarity(query_vector, lang) - everyday
        if lang in desk:
            # what any desk takes (a disputed charge, a refund, closing the account) is this business's
            # too, whether or not its articles say a word about billing; held to its own, stricter margin
            # (a shop's refund or a landlord's deposit is near these too), put on the scale of the other
            retrieval = self.index.settings.retrieval
            margin = max(margin, _top_mean(desk[lang] @ q) - everyday
                         - retrieval.off_topic_desk_margin + retrieval.off_topic_margin)
        return margin
