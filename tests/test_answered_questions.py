"""A question the agent already asked and the customer replied to is not suggested again:
the operator sent the copilot's "Is Airplane Mode on?", the customer wrote "no", and the
next suggestion moves on. Both languages; pure functions, no index, no model."""

from __future__ import annotations

import pytest

from copilot.anamnesis import ArticleFacts, questions
from copilot.facts import answered_questions, given_facts, tried_something
from copilot.schema import Conversation
from knowledge_base.derive import DerivedCheck, derive
from knowledge_base.documents import SourceDocument

GUIDES = {
    "en": "# No mobile data\n1. Ask the customer whether Airplane Mode is on.\n"
          "2. Ask whether mobile data is enabled in the settings.\n3. Ask whether the customer is roaming.",
    "ru": "# Нет мобильного интернета\n1. Спросите клиента, включён ли режим полёта.\n"
          "2. Уточните, включена ли передача данных в настройках.\n3. Спросите, находится ли клиент в роуминге.",
}
REPLIES = {"en": ("My phone has no mobile data", "no"), "ru": ("На телефоне не работает мобильный интернет", "нет")}


def conv(*turns: str) -> Conversation:
    return Conversation(messages=[{"role": "customer" if i % 2 == 0 else "agent", "text": t}
                                  for i, t in enumerate(turns)])


def suggested(lang: str, conversation: Conversation) -> list[str]:
    guide = SourceDocument(id="guide", title="Guide", text=GUIDES[lang], lang=lang)
    article = ArticleFacts("guide", [], [(c, "pending") for c in derive(guide) if isinstance(c, DerivedCheck)])
    return [q.text for q in questions(lang, [article], [], given_facts(conversation),
                                      customer_text=conversation.customer_text(),
                                      replied=answered_questions(conversation))]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_check_the_customer_answered_is_not_suggested_again(lang):
    first, answer = REPLIES[lang]
    before = suggested(lang, conv(first))
    assert len(before) == 3
    # the operator sent the first suggestion, in their own framing, and the customer answered it with a bare "no"
    after = suggested(lang, conv(first, f"OK, thanks. {before[0]}", answer))
    assert after == before[1:]
    # not yet answered: still suggested (the customer may not have seen it)
    assert suggested(lang, conv(first, before[0])) == before


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_agents_remark_is_not_a_question(lang):
    first, answer = REPLIES[lang]
    before = suggested(lang, conv(first))
    remark = {"en": "Airplane Mode was a good guess, thanks.", "ru": "Режим полёта — хорошая догадка, спасибо."}[lang]
    assert suggested(lang, conv(first, remark, answer)) == before


@pytest.mark.parametrize("turns,value", [
    (("No internet since this morning", "Could you tell me what you've already tried?", "nothing yet"), "nothing yet"),
    (("Интернет пропал, пока я была на работе", "Подскажите, пожалуйста, что уже попробовали?", "ничего пока"),
     "ничего пока"),
    (("No internet", "Which devices are affected?", "all of them. Since the storm"), "all of them"),
])
def test_a_fact_of_no_particular_shape_is_the_reply_to_its_own_question(turns, value):
    key = "already_tried" if "tried" in turns[1] or "попробовали" in turns[1] else "devices_affected"
    assert given_facts(conv(*turns))[key].evidence == value


def test_a_reply_that_asks_back_answers_nothing():
    found = given_facts(conv("Нет интернета", "Подскажите, пожалуйста, что уже попробовали?", "а зачем это вам?"))
    assert "already_tried" not in found


@pytest.mark.parametrize("value,tried", [
    ("nothing yet", False), ("пока ничего", False), ("не перезагружал", False), ("no", False),
    ("restarted, unplugged", True), ("не перезагружал, выдёргивал кабель", True), ("Перезагружал", True),
])
def test_nothing_tried_is_told_apart_from_a_step_taken(value, tried):
    assert tried_something(value) is tried


@pytest.mark.parametrize("lang,unsure_reply", [("en", "not sure, how do I check that?"), ("ru", "не знаю, как это проверить?")])
def test_a_reply_that_does_not_know_leaves_the_check_to_ask(lang, unsure_reply):
    first, _ = REPLIES[lang]
    before = suggested(lang, conv(first))
    assert suggested(lang, conv(first, before[0], unsure_reply)) == before


@pytest.mark.parametrize("turns", [
    ("No internet", "What have you already tried?", "I don't know, my son set it up"),
    ("Нет интернета", "Что уже попробовали?", "не знаю, этим муж занимается"),
])
def test_not_knowing_is_no_answer_to_what_was_tried(turns):
    assert "already_tried" not in given_facts(conv(*turns))
