"""How a retrieval-only draft reads around what the engine adds: the question intro does not
ask in the first question's words again, a quoted list item ends at a full stop, and no
quoted sentence repeats the handoff promise beside it."""

from __future__ import annotations

from copilot.draft import DraftPlan, Sources, engine_statements, retrieval_draft
from copilot.schema import Question
from knowledge_base.documents import SearchHit


def _plan(lang: str, passage: str, questions: list[str], promise: str | None = None) -> DraftPlan:
    query = "tv packages prices fraud line пакеты цены мошенничество"
    hit = SearchHit(source_id="tv", chunk_id="tv::0", title="TV", text=passage, score=1.0, found_by=["lexical"],
                    lang=lang, doc_type="article")
    return DraftPlan(language=lang, customer_name=None, answer_hits=[hit], covered=True, negative=False,
                     questions=[Question(fact=f"f{i}", text=q, why="") for i, q in enumerate(questions)],
                     handoff_promise=promise, policy_hit=None, query=query, query_vector=None)


def test_a_quoted_list_item_ends_at_a_full_stop_not_at_the_lists_semicolon():
    passage = "Prices:\n- TV: TV Basic for 299 RUB, TV Max for 499 RUB and more;\n- Internet: Volna 300 for 750 RUB a month."
    draft = retrieval_draft(_plan("en", passage, []), Sources(), None)
    assert "499 RUB and more [1]." in draft and ";" not in draft


def test_the_question_intro_does_not_ask_twice_in_either_language():
    for lang, questions, doubled, intro in [
        ("ru", ["Подскажите, пожалуйста, номер договора: 10 цифр.", "С какого момента не работает ТВ?"],
         "пожалуйста: Подскажите", "Чтобы помочь быстрее, уточню несколько моментов: Подскажите, пожалуйста, номер"),
        ("en", ["Could you tell me your contract number?", "Since when has TV not worked?"],
         "tell me: Could you tell me", "To help you faster, a few questions: Could you tell me your contract number?"),
    ]:
        plan = _plan(lang, "", questions)
        draft = retrieval_draft(plan, Sources(), None)
        assert doubled not in draft and intro in draft
        assert any(intro in s for s in engine_statements(plan))  # the verifier reads the intro with its question as the engine's
        # a first question in its own words keeps the intro that asks
        plan = _plan(lang, "", questions[::-1])
        assert ("подскажите, пожалуйста: С какого" if lang == "ru" else "could you tell me: Since when") in \
            retrieval_draft(plan, Sources(), None)


def test_no_quoted_sentence_repeats_the_handoff_promise_in_either_language():
    for lang, passage, promise, repeated, kept in [
        ("en", "Call the fraud line +7 800 700-12-35 (24/7) from another phone right away, and we'll block it.\n"
               "If your SIM suddenly stopped working and you had calls asking for codes, someone may have your number.",
         "Please call our fraud line +7 800 700-12-35 (24/7) right away so we can block the number; I am also passing "
         "this to the fraud team now.", "from another phone", "someone may have your number"),
        ("ru", "Сразу позвоните на линию по борьбе с мошенничеством +7 800 700-12-35 (круглосуточно), и мы заблокируем "
               "номер.\nЕсли SIM-карта вдруг перестала работать и вам звонили с просьбой назвать код, номером могли "
               "завладеть мошенники.",
         "Пожалуйста, сразу позвоните на линию по борьбе с мошенничеством +7 800 700-12-35 (круглосуточно), чтобы "
         "заблокировать номер; я тоже передаю обращение отделу безопасности.", "и мы заблокируем", "могли завладеть"),
    ]:
        draft = retrieval_draft(_plan(lang, passage, [], promise=promise), Sources(), None)
        assert repeated not in draft and kept in draft and draft.count("700-12-35") == 1
