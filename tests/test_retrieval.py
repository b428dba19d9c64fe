"""Hybrid retrieval finds the right article for paraphrased customer messages in Russian
and English, honours filters, and knows when the knowledge base does not cover a question."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from knowledge_base.documents import SearchFilters

from helpers import DATA, make_settings

QUERIES = [json.loads(line) for line in (DATA / "retrieval_queries.jsonl").read_text().splitlines() if line.strip()]
ANSWER_FILTER = dict(doc_type="article", audience="customer")  # what the engine searches for answers

# Measured misses of the current retriever, kept visible rather than removed from the set
# (docs/retrieval.md). The per-language floor below fails the suite if more appear.
KNOWN_MISSES = {
    "I put 2000 on the wrong contract number": "payment-not-credited-en and sign-in pages outrank refunds-en",
    "internet stopped and only your payment page opens": "internet-no-connection-en and the FAQ row on paying "
    "to restore the internet outrank debt-suspension-en",
    "I'm leaving Russia for good": "personal-data, pause and fraud articles outrank contract-termination-en",
}


def top_articles(retriever, query: str, lang: str, n: int = 3) -> list[str]:
    hits = retriever.search(query, k=30, filters=SearchFilters(lang=lang, **ANSWER_FILTER)).hits
    ids: list[str] = []
    for hit in hits:
        if hit.source_id not in ids:
            ids.append(hit.source_id)
    return ids[:n]


def test_the_query_set_is_large_balanced_and_covers_the_desk():
    langs = Counter(q["lang"] for q in QUERIES)
    assert langs["en"] >= 20 and langs["ru"] >= 20 and len(QUERIES) >= 40
    assert len({e.rsplit("-", 1)[0] for q in QUERIES for e in q["expected"]}) >= 25


@pytest.mark.parametrize("case", QUERIES, ids=[f"{q['lang']}-{i:02d}" for i, q in enumerate(QUERIES)])
def test_paraphrased_query_finds_its_article_in_the_top_3(case, demo_retriever, request):
    known = next((why for start, why in KNOWN_MISSES.items() if case["query"].startswith(start)), None)
    if known:
        request.applymarker(pytest.mark.xfail(reason=known, strict=False))
    top = top_articles(demo_retriever, case["query"], case["lang"])
    assert set(top) & set(case["expected"]), f"{case['expected']} not in {top}"


def test_hit_rate_per_language_does_not_regress(demo_retriever):
    hits: Counter = Counter()
    first: Counter = Counter()
    for q in QUERIES:
        top = top_articles(demo_retriever, q["query"], q["lang"])
        hits[q["lang"]] += bool(set(top) & set(q["expected"]))
        first[q["lang"]] += top[0] in q["expected"]
    total = Counter(q["lang"] for q in QUERIES)
    for lang in ("en", "ru"):
        # measured on the demo desk: en 27/30, ru 29/30 (docs/retrieval.md, section fusion-dev)
        assert hits[lang] >= 0.85 * total[lang], (lang, hits[lang], total[lang])
        assert first[lang] >= total[lang] * 0.5, (lang, first[lang])


def test_hits_carry_ids_titles_scores_and_which_index_found_them(demo_retriever):
    result = demo_retriever.search("Роутер мигает оранжевым, можно его выключить?", k=5)
    assert result.hits
    for hit in result.hits:
        assert hit.source_id and hit.chunk_id.startswith(hit.source_id + "::")
        assert hit.title and hit.text and hit.score > 0
        assert set(hit.found_by) <= {"vector", "lexical"} and hit.found_by
    assert result.hits == sorted(result.hits, key=lambda h: -h.score)
    assert any(len(h.found_by) == 2 for h in result.hits)


def test_exact_codes_are_found_by_the_lexical_index(demo_retriever):
    hits = demo_retriever.search("E-203", k=3, filters=SearchFilters(lang="en")).hits
    # the article and a past ticket quoting the code score about the same under score fusion
    assert "tv-no-signal-en" in [h.source_id for h in hits[:2]]
    assert all("E-203" in h.text and "lexical" in h.found_by for h in hits[:2])


def test_filters_by_language_type_and_tag(demo_retriever):
    tickets = demo_retriever.search("no internet router red light", k=8,
                                    filters=SearchFilters(lang="en", doc_type="ticket")).hits
    assert tickets and all(h.doc_type == "ticket" and h.lang == "en" for h in tickets)
    ru = demo_retriever.search("refund", k=8, filters=SearchFilters(lang="ru")).hits
    assert ru and all(h.lang == "ru" for h in ru)
    tagged = demo_retriever.search("how to pay", k=8, filters=SearchFilters(tags=["autopay"])).hits
    assert tagged and all("autopay" in h.tags for h in tagged)
    internal = demo_retriever.search("how to refuse a customer", k=8,
                                     filters=SearchFilters(audience="customer")).hits
    assert all(h.audience == "customer" for h in internal)


@pytest.mark.parametrize("filters", [
    SearchFilters(lang="ru"), SearchFilters(lang="en", doc_type="article", audience="customer"),
    SearchFilters(doc_type="ticket"), SearchFilters(lang="en", tags=["sim"]),
    SearchFilters(lang="ru", tags=["no-such-tag"]),
])
def test_filtered_vector_search_equals_chromas_own_filter(demo_index, filters, monkeypatch):
    """Filtering an over-fetched result here (fast on large collections) returns what
    Chroma's `where` returns, including for filters too narrow for the over-fetch."""
    from knowledge_base.vector_store import chroma_where

    monkeypatch.setattr(demo_index.vector, "filter_in_chroma_below", 0)  # the demo desk is small
    # filtered by Chroma's metadata, and by the lexical index's (what the retriever passes)
    for keep in (None, demo_index.lexical.filter_for(filters)):
        for query in ("my internet keeps dropping in the evening", "как поменять тариф", "lost my SIM card"):
            vector = demo_index.embedding.embeddings.embed_query(query)
            ours = demo_index.vector.search(query, 10, filters, vector=vector, keep=keep)
            chroma = demo_index.vector._query(vector, 10, chroma_where(filters))
            assert [cid for cid, _ in ours] == [cid for cid, _ in chroma]
            assert all(demo_index.docstore.chunks([cid])[cid].lang == filters.lang for cid, _ in ours if filters.lang)


def test_the_lexical_index_tells_which_chunks_pass_a_filter(demo_index):
    lexical = demo_index.lexical
    assert lexical.filter_for(None) is None and lexical.filter_for(SearchFilters()) is None
    keep = lexical.filter_for(SearchFilters(lang="ru", doc_type="ticket"))
    chunks = demo_index.docstore.chunks(list(lexical._ids))
    passing = {cid for cid in lexical._ids if keep(cid)}
    assert passing == {cid for cid, c in chunks.items() if c.lang == "ru" and c.doc_type == "ticket"}
    assert passing and not keep("written-by-an-ingest-still-running")


def test_a_filtered_search_does_not_fetch_metadata_from_chroma(demo_retriever, monkeypatch):
    """The lexical index already knows every chunk's language: asking Chroma for it costs ms."""
    vector = demo_retriever.index.vector
    monkeypatch.setattr(vector, "filter_in_chroma_below", 0)
    asked = []
    real = vector._query
    monkeypatch.setattr(vector, "_query", lambda v, n, where, with_meta=False: asked.append(
        (where, with_meta)) or real(v, n, where, with_meta))
    hits = demo_retriever.search("my internet keeps dropping", k=5, filters=SearchFilters(lang="en")).hits
    assert hits and all(h.lang == "en" for h in hits)
    assert asked == [(None, False)]


@pytest.mark.parametrize("query", [
    "Сколько стоит билет на самолёт до Сочи?",
    "What is the capital of Australia?",
    "recipe for borscht with beetroot",
    "How do I renew my foreign passport at the MFC?",
    "Где купить подарочный сертификат Ozon?",
])
def test_questions_the_desk_does_not_cover_get_low_confidence(demo_retriever, query):
    result = demo_retriever.search(query, k=3, filters=SearchFilters(**ANSWER_FILTER))
    assert not result.covered, (result.confidence, [h.source_id for h in result.hits])


def test_covered_questions_get_high_confidence(demo_retriever):
    covered = [demo_retriever.search(q["query"], k=3, filters=SearchFilters(lang=q["lang"], **ANSWER_FILTER)).covered
               for q in QUERIES]
    assert sum(covered) >= 0.8 * len(QUERIES)


@pytest.mark.slow
def test_an_english_only_embedder_does_not_touch_russian_queries(tmp_path, session_cache):
    """With MiniLM (English only), Russian queries use the lexical index alone instead of
    near-random vectors; English queries use both."""
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor
    from knowledge_base.retriever import HybridRetriever
    from knowledge_base.settings import EmbeddingSettings

    from helpers import DEMO_KB

    settings = make_settings(tmp_path / "data", session_cache, embedding=EmbeddingSettings(backend="minilm"))
    kb = KnowledgeIndex(settings)
    report = Ingestor(kb).run([DEMO_KB / "articles"])
    assert report.failed == 0
    retriever = HybridRetriever(kb)
    ru = retriever.search("не работает интернет, роутер горит красным", k=5)
    assert ru.hits and all(h.found_by == ["lexical"] for h in ru.hits)
    en = retriever.search("the router light is red and nothing loads", k=5)
    assert any("vector" in h.found_by for h in en.hits)
