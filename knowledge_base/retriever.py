"""Hybrid retrieval: BM25 and vector search fused (`fuse`, set by RetrievalSettings), with
filters, and a confidence the copilot uses to say "the knowledge base does not cover this".

Lexical search catches exact terms (error codes, "SBP", a plan called "Home 300"); vector search catches
paraphrases ("the little lamp went red"). Their scores are fused, not only their ranks: a sure
first hit and a photo finish look alike to rank fusion (docs/retrieval.md, Fusion).
"""

from __future__ import annotations

import math
import re
import time

from knowledge_base.settings import RetrievalSettings
from knowledge_base.language import detect_language
from knowledge_base.tokenizer import tokenize
from knowledge_base.documents import SearchFilters, SearchHit, SearchResult
from knowledge_base.index import KnowledgeIndex
from knowledge_base.coverage import Calibration, CoverageFeatures, CoverageModel, coverage_features, not_covered_reason


Ranked = list[tuple[str, float]]


def source_of(chunk_id: str) -> str:
    """The document a chunk belongs to: chunk ids are `<source id>::<n>` (knowledge_base/chunking.py)."""
    return chunk_id.rsplit("::", 1)[0]


def best_per_document(ranked: Ranked) -> Ranked:
    """One entry per document, its best chunk's score, best first: a document cut into many
    matching chunks no longer pushes the others down the list."""
    best: dict[str, float] = {}
    for cid, score in ranked:
        best.setdefault(source_of(cid), score)
    return list(best.items())


def _combine(lists: list[tuple[float, Ranked]], method: str, rrf_k: int) -> dict[str, float]:
    fused: dict[str, float] = {}
    for w, ranked in lists:
        if not ranked or w <= 0:
            continue
        hi, lo = ranked[0][1], ranked[-1][1]
        for rank, (key, score) in enumerate(ranked):
            if method == "rrf":
                part = 1.0 / (rrf_k + rank + 1)
            elif method == "weighted":  # min-max: each list spans 0..1 whatever its scale
                part = (score - lo) / (hi - lo) if hi > lo else 1.0
            else:  # top_scaled: a share of the list's best, so a flat list stays flat
                part = score / hi if hi > 0 else 1.0
            fused[key] = fused.get(key, 0.0) + w * part
    return fused


def fuse(lexical: Ranked, vector: Ranked, s: RetrievalSettings, query_tokens: int,
         feedback: Ranked | None = None, tickets: Ranked | None = None) -> dict[str, float]:
    """Chunk id -> fused score, in the order hits are returned (scores never rise).

    Short queries (a customer's message) and long ones (a whole written-up case) are fused
    each their own way (`long_query_tokens`): e5 reads only the first 512 tokens of a long
    query and its list is then weak and flat, while min-max would stretch it to 0..1.
    With document collapse, the lists are fused per document and each document's best chunk
    comes in that order, then the remaining chunks in their own fused order. `feedback`, a
    long query's lexical list expanded by pseudo-relevance feedback, is a third list weighted
    as the lexical one: it adds to the query's own lists, never replaces them. `tickets`, the
    chunks the query's nearest past tickets lead to (`HybridRetriever.ticket_feedback`), is
    one more, weighted `ticket_feedback_weight`."""
    long = 0 < s.long_query_tokens < query_tokens
    method = s.long_query_fusion if long else s.fusion
    collapse = s.long_query_collapse_documents if long else s.collapse_documents
    lists = [(s.lexical_weight, lexical), (s.vector_weight, vector)]
    if feedback:
        lists.append((s.lexical_weight, feedback))
    if tickets:
        lists.append((s.ticket_feedback_weight, tickets))
    chunks = _combine(lists, method, s.rrf_k)
    order = sorted(chunks, key=chunks.__getitem__, reverse=True)
    if not collapse:
        return {cid: chunks[cid] for cid in order}
    docs = _combine([(w, best_per_document(r)) for w, r in lists], method, s.rrf_k)
    best: dict[str, str] = {}
    for cid in order:
        best.setdefault(source_of(cid), cid)
    out: dict[str, float] = {}
    for doc in sorted(docs, key=docs.__getitem__, reverse=True):
        out[best[doc]] = docs[doc]
    last = min(out.values(), default=0.0)
    for cid in order:
        if cid not in out:
            last = min(last, chunks[cid])
            out[cid] = last
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def query_pieces(query: str, words: int) -> list[str]:
    """A long query cut at sentence ends (or line breaks) into pieces of about `words` words,
    whole sentences together; a sentence longer than that is cut every `words` words."""
    pieces: list[str] = []
    current: list[str] = []
    for sentence in _SENTENCE_END.split(query):
        w = sentence.split()
        while len(w) > words:
            if current:
                pieces.append(" ".join(current))
                current = []
            pieces.append(" ".join(w[:words]))
            w = w[words:]
        if current and len(current) + len(w) > words:
            pieces.append(" ".join(current))
            current = []
        current += w
    if current:
        pieces.append(" ".join(current))
    return pieces


def best_of(lists: list[Ranked], n: int) -> Ranked:
    """Several vector lists as one: each chunk at its best similarity, the best n."""
    best: dict[str, float] = {}
    for ranked in lists:
        for cid, score in ranked:
            if score > best.get(cid, float("-inf")):
                best[cid] = score
    return sorted(best.items(), key=lambda x: x[1], reverse=True)[:n]


def feedback_terms(feedback: list[tuple[list[str], float]], df: dict[str, int], total: int,
                   n: int) -> dict[str, float]:
    """Pseudo-relevance feedback (RM3's relevance model): each feedback chunk's term
    distribution (its tokens, with its weight), summed; the n terms scoring highest by that
    times their rarity in the index (idf) are kept, their weights summing to 1."""
    relevance: dict[str, float] = {}
    for tokens, weight in feedback:
        for t in tokens:
            relevance[t] = relevance.get(t, 0.0) + weight / len(tokens)
    rank = {t: r * math.log(total / df[t]) for t, r in relevance.items() if 0 < df.get(t, 0) < total}
    kept = sorted(rank, key=lambda t: (-rank[t], t))[:n]
    z = sum(relevance[t] for t in kept)
    return {t: relevance[t] / z for t in kept} if z > 0 else {}


class HybridRetriever:
    def __init__(self, index: KnowledgeIndex, settings: RetrievalSettings | None = None,
                 calibration: Calibration | None = None):
        self.index = index
        self.settings = settings or index.settings.retrieval
        self.calibration = calibration or Calibration.load()
        self._last_pieces: tuple[str, list[list[float]] | None] | None = None
        index.check_searchable()

    def search(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
               query_vector: list[float] | None = None,
               piece_vectors: list[list[float]] | None = None,
               past_tickets: list[SearchHit] | None = None) -> SearchResult:
        return self.search_with_features(query, k, filters, query_vector, piece_vectors, past_tickets)[0]

    def piece_vectors(self, query: str, n_tokens: int | None = None) -> list[list[float]] | None:
        """A long query's vectors, one per piece (`long_query_piece_words`), or None: a short
        query, pieces off, one piece only, or a language the embedder does not know. The last
        query's are kept, so the engine's two searches of one message embed it once."""
        s = self.settings
        if s.long_query_piece_words <= 0 or s.vector_weight <= 0:
            return None
        n_tokens = len(tokenize(query)) if n_tokens is None else n_tokens
        if not 0 < s.long_query_tokens < n_tokens or not self.index.embedding.knows(detect_language(query)):
            return None
        last = self._last_pieces  # read once: another thread (the API's workers) may replace it
        if last is not None and last[0] == query:
            return last[1]
        pieces = query_pieces(query, s.long_query_piece_words)
        vectors = [self.index.embedding.embeddings.embed_query(p) for p in pieces] if len(pieces) > 1 else None
        self._last_pieces = (query, vectors)
        return vectors

    def embed_query(self, query: str) -> list[float] | None:
        """The query's vector, or None when the embedder does not know its language."""
        if not self.index.embedding.knows(detect_language(query)) or self.settings.vector_weight <= 0:
            return None
        return self.index.embedding.embeddings.embed_query(query)

    def search_with_features(self, query: str, k: int | None = None, filters: SearchFilters | None = None,
                             query_vector: list[float] | None = None,
                             piece_vectors: list[list[float]] | None = None,
                             past_tickets: list[SearchHit] | None = None) -> tuple[SearchResult, CoverageFeatures]:
        """The search result and the features its confidence was computed from. `past_tickets`,
        the past tickets the same query found, lend their articles (`ticket_feedback`)."""
        s = self.settings
        k = k or s.k
        t0 = time.perf_counter()
        self.index.follow_other_writers()
        tokens = tokenize(query)
        lexical = self.index.lexical.search(tokens, s.candidates, filters)
        t1 = time.perf_counter()
        lang = detect_language(query)
        vector: list[tuple[str, float]] = []
        embed_ms = 0.0
        if self.index.embedding.knows(lang) and s.vector_weight > 0:
            keep = self.index.lexical.filter_for(filters)
            if s.long_query_piece_words <= 0 or not 0 < s.long_query_tokens < len(tokens):
                piece_vectors = None  # searched whole, whatever the caller passed
            elif piece_vectors is None:
                t = time.perf_counter()
                piece_vectors = self.piece_vectors(query, len(tokens))
                embed_ms = (time.perf_counter() - t) * 1000
            if piece_vectors:  # a long query, searched piece by piece
                vector = best_of([self.index.vector.search(query, s.candidates, filters, vector=v, keep=keep)
                                  for v in piece_vectors], s.candidates)
            else:
                if query_vector is None:
                    t = time.perf_counter()
                    query_vector = self.index.embedding.embeddings.embed_query(query)
                    embed_ms += (time.perf_counter() - t) * 1000
                vector = self.index.vector.search(query, s.candidates, filters, vector=query_vector, keep=keep)
        t2 = time.perf_counter()

        fused = fuse(lexical, vector, s, len(tokens))
        expanded: Ranked = []
        if (0 < s.long_query_tokens < len(tokens) and s.long_query_feedback_chunks > 0
                and s.long_query_feedback_terms > 0 and s.long_query_feedback_weight > 0 and s.lexical_weight > 0):
            expanded = self.feedback_search(tokens, fused, filters)
        linked = self.ticket_feedback(past_tickets or [], filters)
        if expanded or linked:  # more lists: each of a case's needs keeps its own lexical evidence
            fused = fuse(lexical, vector, s, len(tokens), feedback=expanded, tickets=linked)
        order = list(fused)
        # Resolve through the docstore: ids one index still holds after a crash are dropped.
        chunks = self.index.docstore.chunks(order[: k * 3])
        # a chunk only the feedback search found was found by the lexical index, but its score there
        # is on the expanded query's scale: lexical_score stays the query's own BM25 score
        lex_scores, vec_scores, by_feedback = dict(lexical), dict(vector), {cid for cid, _ in expanded}
        by_tickets = {cid for cid, _ in linked}
        hits: list[SearchHit] = []
        for cid in order:
            chunk = chunks.get(cid)
            if chunk is None:
                continue
            hits.append(SearchHit(
                source_id=chunk.source_id, chunk_id=cid, title=chunk.title, heading=chunk.heading,
                text=chunk.text, score=round(fused[cid], 6),
                found_by=[n for n, found in (("vector", cid in vec_scores),
                                             ("lexical", cid in lex_scores or cid in by_feedback),
                                             ("tickets", cid in by_tickets)) if found],
                lang=chunk.lang, doc_type=chunk.doc_type, audience=chunk.audience, tags=chunk.tags,
                vector_similarity=vec_scores.get(cid), lexical_score=lex_scores.get(cid),
            ))
            if len(hits) >= k:
                break
        features = self.features(query, tokens, lang, hits, lexical, vector, filters)
        confidence = self._confidence(features) if hits else 0.0
        covered = bool(hits) and confidence >= s.min_confidence
        t3 = time.perf_counter()
        return SearchResult(
            query=query, hits=hits, confidence=round(confidence, 4),
            covered=covered, coverage_reason="" if covered else not_covered_reason(
                self._model(features), features, confidence, s.min_confidence) if hits else "no passage matches",
            # "vector" includes "embed", the query's embedding (0 when the caller passed it)
            timings_ms={"lexical": (t1 - t0) * 1000, "vector": (t2 - t1) * 1000, "embed": embed_ms,
                        "fusion": (t3 - t2) * 1000, "total": (t3 - t0) * 1000},
        ), features

    def feedback_search(self, tokens: list[str], fused: dict[str, float],
                        filters: SearchFilters | None = None) -> list[tuple[str, float]]:
        """A long query's lexical search again, expanded by pseudo-relevance feedback: terms of
        the first `long_query_feedback_chunks` of its fused list (each weighted by its score's
        share of the first's), `long_query_feedback_weight` of the query given to them (RM3)."""
        s = self.settings
        top = list(fused.items())[: s.long_query_feedback_chunks]
        if not top or top[0][1] <= 0:
            return []
        chunks = self.index.docstore.chunks([cid for cid, _ in top])
        feedback = [(tokenize(chunks[cid].index_text), score / top[0][1]) for cid, score in top if cid in chunks]
        feedback = [(t, w) for t, w in feedback if t]
        df, total = self.index.lexical.document_frequencies([t for toks, _ in feedback for t in toks])
        terms = feedback_terms(feedback, df, total, s.long_query_feedback_terms)
        if not terms:
            return []
        w = s.long_query_feedback_weight
        return self.index.lexical.search_weighted(
            [(tokens, (1 - w) / len(tokens))] + [([t], w * share) for t, share in terms.items()],
            s.candidates, filters)

    def ticket_feedback(self, past_tickets: list[SearchHit], filters: SearchFilters | None = None) -> Ranked:
        """The chunks the query's first `ticket_feedback_tickets` past tickets lead to: each
        ticket searched for as a query itself (its text through the lexical index, its stored
        vector through the vector index, fused as any query), its first `ticket_feedback_depth`
        chunks scaled to its best, summed with the ticket's score's share of the first's as weight.
        A customer's words often differ from an article's; the agent of a similar past case
        answered in the article's words."""
        s = self.settings
        top = [h for h in past_tickets if h.doc_type == "ticket" and h.score > 0][: s.ticket_feedback_tickets]
        if not top or s.ticket_feedback_weight <= 0:
            return []
        chunks = self.index.docstore.chunks([h.chunk_id for h in top])
        vectors = self.index.vector.vectors([h.chunk_id for h in top]) if s.vector_weight > 0 else {}
        keep = self.index.lexical.filter_for(filters)
        linked: dict[str, float] = {}
        for hit in top:
            chunk = chunks.get(hit.chunk_id)
            if chunk is None:
                continue
            tokens = tokenize(chunk.index_text)
            lexical = self.index.lexical.search(tokens, s.candidates, filters)
            vector = self.index.vector.search("", s.candidates, filters, vector=vectors[hit.chunk_id], keep=keep) \
                if hit.chunk_id in vectors else []
            found = list(fuse(lexical, vector, s, len(tokens)).items())[: s.ticket_feedback_depth]
            if not found or found[0][1] <= 0:
                continue
            share = hit.score / top[0].score
            for cid, score in found:
                linked[cid] = linked.get(cid, 0.0) + share * score / found[0][1]
        return sorted(linked.items(), key=lambda x: x[1], reverse=True)

    def features(self, query: str, tokens: list[str], lang: str, hits: list[SearchHit],
                 lexical: list[tuple[str, float]], vector: list[tuple[str, float]],
                 filters: SearchFilters | None = None) -> CoverageFeatures:
        return coverage_features(self.index.docstore, query, tokens, lang, hits, lexical, vector,
                                 self.index.lexical.document_frequencies(tokens, filters),
                                 self.index.lexical.document_frequencies(tokens)[0],
                                 *self._baseline())

    def _baseline(self) -> tuple[float, float]:
        # past tickets carry a desk's everyday words; without them, the language's
        if self.index.lexical.holds("ticket") or not self.settings.everyday_zipf:
            return self.index.lexical.novelty(), 0.0
        return 0.0, self.settings.everyday_zipf

    def _model(self, features: CoverageFeatures) -> CoverageModel:
        return self.calibration.model_for(self.index.embedding.model_id, features.used_vectors)

    def _confidence(self, features: CoverageFeatures) -> float:
        return self._model(features).confidence(features)
