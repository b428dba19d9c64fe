"""Hybrid retrieval: BM25 and vector search fused by reciprocal rank (or calibrated
weights), with filters, and a confidence the copilot uses to say "the knowledge base does
not cover this".

Lexical search catches exact terms (E-203, SBP, "Volna 300"); vector search catches
paraphrases ("the little lamp went red"). Reciprocal rank fusion needs no score
calibration between the two, which is why it is the default.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from pydantic import BaseModel

from copilot.config import RetrievalSettings
from copilot.language import detect_language
from knowledge_base.analysis import tokenize
from knowledge_base.documents import SearchFilters, SearchHit, SearchResult
from knowledge_base.index import KnowledgeIndex

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


class Calibration(BaseModel):
    """Logistic model of "the top hit answers the query", fitted by
    `copilot bench calibrate` on labelled in-scope and out-of-scope queries.

    confidence = sigmoid(bias + w_vec * top cosine + w_cov * query-term coverage of the
    top hit + w_agree * [top vector and top lexical hit are the same document])
    """

    bias: float = -12.0
    w_vec: float = 12.0
    w_cov: float = 4.0
    w_agree: float = 1.0
    fitted_on: str = "defaults (not fitted)"

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        return cls.model_validate_json(path.read_text()) if path.exists() else cls()

    def confidence(self, top_cos: float, coverage: float, agree: bool) -> float:
        z = self.bias + self.w_vec * top_cos + self.w_cov * coverage + self.w_agree * float(agree)
        return 1.0 / (1.0 + math.exp(-z))


def query_features(query_tokens: list[str], top_tokens: list[str], top_cos: float | None,
                   agree: bool) -> tuple[float, float, bool]:
    """(top cosine, share of distinct query terms found in the top hit, agreement)."""
    q = set(query_tokens)
    coverage = len(q & set(top_tokens)) / len(q) if q else 0.0
    return (top_cos if top_cos is not None else 0.0), coverage, agree


class HybridRetriever:
    def __init__(self, index: KnowledgeIndex, settings: RetrievalSettings | None = None,
                 calibration: Calibration | None = None):
        self.index = index
        self.settings = settings or index.settings.retrieval
        self.calibration = calibration or Calibration.load()
        index.check_searchable()

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None) -> SearchResult:
        s = self.settings
        k = k or s.k
        t0 = time.perf_counter()
        self.index.lexical.load()  # picks up a rebuild made by another process
        tokens = tokenize(query)
        lexical = self.index.lexical.search(tokens, s.candidates, filters)
        t1 = time.perf_counter()
        lang = detect_language(query)
        vector: list[tuple[str, float]] = []
        if self.index.embedding.knows(lang) and s.vector_weight > 0:
            vector = self.index.vector.search(query, s.candidates, filters)
        t2 = time.perf_counter()

        fused: dict[str, float] = {}
        if s.fusion == "rrf":
            for w, ranked in ((s.lexical_weight, lexical), (s.vector_weight, vector)):
                for rank, (cid, _) in enumerate(ranked):
                    fused[cid] = fused.get(cid, 0.0) + w / (s.rrf_k + rank + 1)
        else:  # weighted: min-max normalised scores
            for w, ranked in ((s.lexical_weight, lexical), (s.vector_weight, vector)):
                if not ranked:
                    continue
                hi, lo = ranked[0][1], ranked[-1][1]
                for cid, score in ranked:
                    norm = (score - lo) / (hi - lo) if hi > lo else 1.0
                    fused[cid] = fused.get(cid, 0.0) + w * norm
        order = sorted(fused, key=fused.get, reverse=True)  # type: ignore[arg-type]
        # Resolve through the docstore: ids one index still holds after a crash are dropped.
        chunks = self.index.docstore.chunks(order[: k * 3])
        lex_scores, vec_scores = dict(lexical), dict(vector)
        hits: list[SearchHit] = []
        for cid in order:
            chunk = chunks.get(cid)
            if chunk is None:
                continue
            hits.append(SearchHit(
                source_id=chunk.source_id, chunk_id=cid, title=chunk.title, heading=chunk.heading,
                text=chunk.text, score=round(fused[cid], 6),
                found_by=[n for n, d in (("vector", vec_scores), ("lexical", lex_scores)) if cid in d],
                lang=chunk.lang, doc_type=chunk.doc_type, audience=chunk.audience, tags=chunk.tags,
                vector_similarity=vec_scores.get(cid), lexical_score=lex_scores.get(cid),
            ))
            if len(hits) >= k:
                break
        confidence = self._confidence(tokens, hits, lexical, vector)
        t3 = time.perf_counter()
        return SearchResult(
            query=query, hits=hits, confidence=round(confidence, 4),
            covered=bool(hits) and confidence >= s.min_confidence,
            timings_ms={"lexical": (t1 - t0) * 1000, "vector": (t2 - t1) * 1000,
                        "fusion": (t3 - t2) * 1000, "total": (t3 - t0) * 1000},
        )

    def features(self, tokens: list[str], hits: list[SearchHit], lexical: list[tuple[str, float]],
                 vector: list[tuple[str, float]]) -> tuple[float, float, bool]:
        if not hits:
            return 0.0, 0.0, False
        top = hits[0]
        top_cos = vector[0][1] if vector else None
        agree = False
        if lexical and vector:
            top_docs = self.index.docstore.chunks([lexical[0][0], vector[0][0]])
            a, b = top_docs.get(lexical[0][0]), top_docs.get(vector[0][0])
            agree = bool(a and b and a.source_id == b.source_id)
        return query_features(tokens, tokenize(f"{top.title}\n{top.heading}\n{top.text}"), top_cos, agree)

    def _confidence(self, tokens, hits, lexical, vector) -> float:
        if not hits:
            return 0.0
        return self.calibration.confidence(*self.features(tokens, hits, lexical, vector))


def search_result_json(result: SearchResult) -> str:
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2)
