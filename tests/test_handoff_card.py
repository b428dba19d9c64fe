"""The handoff card reads as plain words in the operator's language: no reason codes, the
urgency and queue, the promise of the route taken, the customer's request as one masked
sentence, facts as values, and a summary that is text, not code."""

import pytest

from copilot.desk import Desk, HandoffRoute
from copilot.facts import given_facts
from copilot.schema import Conversation, Draft, Handoff, Intent, Sentiment, Suggestion
from copilot.ui.handoff_card import FACT_LABELS, REASON_LABELS, card, customer_wants
from knowledge_base.documents import HANDOFF_REASONS


def conversation(*turns: str) -> Conversation:
    return Conversation(messages=[{"role": "customer" if i % 2 == 0 else "agent", "text": t} for i, t in enumerate(turns)])


def suggestion(conv: Conversation, lang: str, reasons: list[str], urgency: str = "high", queue: str = "second-line",
               summary: str = "") -> Suggestion:
    return Suggestion(
        language=lang, intent=Intent(label="internet_no_connection", confidence=0.8),
        sentiment=Sentiment(label="negative", score=-0.6), draft=Draft(text="…", mode="retrieval", prompt="p", model="m"),
        facts={k: v.evidence for k, v in given_facts(conv).items()},
        handoff=Handoff(needed=True, urgency=urgency, reasons=reasons, queue=queue, summary=summary))


RU = conversation("Здравствуйте! Интернет опять пропал со вчерашнего вечера, роутер горит красным. "
                  "Я уже третий раз пишу, сколько можно? Перезвоните мне на 8 912 345-67-89",
                  "Подскажите номер договора", "договор 7712345678")
EN = conversation("Hi there. The internet is down AGAIN since last night and the red light is blinking. "
                  "I restarted the router twice. Email me at anna.k@example.com",
                  "Could you tell me your contract number?", "contract 7712345678")


def test_every_reason_has_words_in_both_languages():
    for lang in ("ru", "en"):
        assert set(REASON_LABELS[lang]) == set(HANDOFF_REASONS)
        assert all(label and "_" not in label for label in REASON_LABELS[lang].values())
    assert set(FACT_LABELS["ru"]) == set(FACT_LABELS["en"])


@pytest.mark.parametrize("lang,conv,label,urgency", [
    ("ru", RU, "Клиент раздражён или ходит по кругу", "Срочно"),
    ("en", EN, "The customer is upset or going round in circles", "Urgent"),
])
def test_the_card_names_the_reason_in_words_never_the_code(lang, conv, label, urgency):
    c = card(suggestion(conv, lang, ["frustration_or_loop", "policy_requires_human"]), lang, conversation=conv)
    shown = " ".join([c.label, c.urgency_label, c.summary, *c.reasons, *c.facts, *c.facts.values()])
    assert c.label.startswith(label)
    assert "frustration_or_loop" not in shown and "policy_requires_human" not in shown
    assert c.urgency_label.startswith(urgency) and c.queue == "second-line"
    assert "```" not in c.summary and "\n" in c.summary  # lines of text, not a code block


def test_the_operators_language_decides_the_words_not_the_customers():
    s = suggestion(RU, "ru", ["explicit_human_request"], urgency="medium")
    assert card(s, "en", conversation=RU).label == "The customer asked for a person"
    assert card(s, "ru", conversation=RU).label == "Клиент просит соединить с человеком"
    assert card(s, "en").urgency_label.startswith("Soon") and card(s, "ru").urgency_label.startswith("Скоро")


def test_the_promise_is_the_route_taken_from_the_desk_in_the_operators_language():
    desk = Desk(routes={"policy_requires_human": HandoffRoute(
        queue="line-2", urgency="medium", promise={"en": "An engineer will call you within 2 hours.",
                                                   "ru": "Инженер перезвонит вам в течение 2 часов."})})
    s = suggestion(EN, "en", ["frustration_or_loop", "policy_requires_human"])
    # an angry customer with a diagnosed fault goes to the team the rule names, with its promise
    assert card(s, "en", desk=desk).promise == "An engineer will call you within 2 hours."
    assert card(s, "ru", desk=desk).promise == "Инженер перезвонит вам в течение 2 часов."
    assert "Инженер перезвонит" in card(s, "ru", desk=desk).summary
    # no desk: the neutral promise, with no deadline
    assert card(s, "en").promise == "I am passing your request to a specialist, who will contact you."


@pytest.mark.parametrize("lang,conv,expected,not_in", [
    ("ru", RU, "Интернет опять пропал со вчерашнего вечера, роутер горит красным.", "Здравствуйте"),
    ("en", EN, "The internet is down AGAIN since last night and the red light is blinking.", "Hi there"),
])
def test_what_the_customer_wants_is_their_problem_sentence_not_the_first_message(lang, conv, expected, not_in):
    c = card(suggestion(conv, lang, ["frustration_or_loop"]), lang, conversation=conv)
    assert c.wants == expected
    assert not_in not in c.wants and "7712345678" not in c.wants


def test_the_request_sentence_is_trimmed_and_its_personal_data_masked():
    ru = customer_wants(["Добрый день. Не приходит оплата, мой номер 8 912 345-67-89, карта 4276 1600 0000 0008, "
                         "помогите разобраться, пожалуйста " + "очень " * 60])
    assert ru.startswith("Не приходит оплата") and "[PHONE]" in ru and "[CARD]" in ru
    assert "912" not in ru and len(ru) <= 161 and ru.endswith("…")
    en = customer_wants(["Hello!", "I was charged twice, please refund it to anna.k@example.com"])
    assert en == "I was charged twice, please refund it to [EMAIL]"


def test_without_the_conversation_the_card_reads_the_first_message_from_the_summary():
    s = suggestion(EN, "en", ["explicit_human_request"],
                   summary="Customer wants: Hello. My TV shows error E-101 and nothing works.\nTopic: tv")
    assert card(s, "en").wants == "My TV shows error E-101 and nothing works."


@pytest.mark.parametrize("lang,conv,expected", [
    ("ru", RU, {"Договор": "7712345678", "Индикаторы роутера": "горит красным",
                "С какого времени": "со вчерашнего вечера"}),
    ("en", EN, {"Contract": "7712345678", "Router lights": "red blinking", "Since": "since last night",
                "Already tried": "restarted"}),
])
def test_facts_are_labelled_values_in_the_operators_language(lang, conv, expected):
    c = card(suggestion(conv, lang, ["frustration_or_loop"]), lang, conversation=conv)
    assert expected.items() <= c.facts.items()
    assert all(len(v) <= 61 and "." not in v.rstrip("…") for v in c.facts.values())


@pytest.mark.parametrize("lang,text,label,value", [
    ("en", "I'm at home and the internet is down again, I want a person.", "Away from home", "no (at home)"),
    ("en", "I'm abroad in France and my mobile data is down, I want a person.", "Away from home", "yes (abroad)"),
    ("ru", "Я дома, интернет опять не работает, позовите человека.", "В поездке", "нет (дома)"),
    ("ru", "Я за границей, мобильный интернет не работает, позовите человека.", "В поездке", "да (за границей)"),
])
def test_a_yes_no_fact_reads_as_yes_or_no_with_the_customers_words(lang, text, label, value):
    conv = conversation(text)
    c = card(suggestion(conv, lang, ["explicit_human_request"]), lang, conversation=conv)
    assert c.facts[label] == value
    assert f"{label}: {value}" in c.summary


def test_no_handoff_no_card():
    s = suggestion(EN, "en", []).model_copy(update={"handoff": Handoff(needed=False)})
    c = card(s, "en")
    assert not c.needed and c.label == "" and c.summary == ""
