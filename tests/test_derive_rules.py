"""Handoff rules found in text that says a case needs a person without an if-clause: "this
requires immediate escalation", or the name of the transfer tool an agent is told to use.
The condition is then what the section or document is about."""

from __future__ import annotations

import pytest

from knowledge_base.derive import DerivedRule, derive, rule_of
from knowledge_base.documents import SourceDocument


@pytest.mark.parametrize("sentence,lang,situation", [
    ("This is our error and requires immediate escalation.", "en", "Duplicate charges after the outage"),
    ("Then use transfer_to_human_agents.", "en", "Card blocked abroad after a PIN change"),
    ("Такие обращения требуют немедленной эскалации.", "ru", "Двойное списание после сбоя"),
    ("Затем вызовите transfer_to_human_agents.", "ru", "Карта заблокирована за границей"),
])
def test_a_case_said_to_need_escalation_is_a_rule_about_its_section(sentence, lang, situation):
    assert rule_of(sentence, "", lang, situation=situation) == ("policy_requires_human", situation)
    assert rule_of(sentence, "", lang) is None  # about nothing a conversation could meet


@pytest.mark.parametrize("sentence,lang,condition", [
    ("Use transfer_to_human_agents if the customer presses for details.", "en", "the customer presses for details"),
    ("Используйте transfer_to_human_agents, если клиент настаивает на подробностях.", "ru",
     "клиент настаивает на подробностях"),
])
def test_a_transfer_tool_named_under_a_condition_is_a_rule_with_it(sentence, lang, condition):
    assert rule_of(sentence, "", lang, situation="Declined cards") == ("policy_requires_human", condition)


@pytest.mark.parametrize("sentence,lang", [
    ("Escalate to technical support.", "en"),                 # an older form: needs its own or a branch's condition
    ("The referred person must deposit $500 within 60 days.", "en"),
    ("You can transfer money to another account in the app.", "en"),
    ("Use clear_card_alert to remove the block.", "en"),      # a tool that hands nothing over
    ("Передайте обращение специалисту.", "ru"),
])
def test_other_sentences_do_not_take_the_sections_subject(sentence, lang):
    assert rule_of(sentence, "", lang, situation="Duplicate charges after the outage") is None


@pytest.mark.parametrize("lang,title,text", [
    ("en", "Incident: duplicate card charges",
     "Customers may see one purchase charged twice. This requires immediate escalation. Do not refund it yourself."),
    ("ru", "Сбой: двойное списание по карте",
     "Клиенты могут видеть одну покупку списанной дважды. Такие обращения требуют немедленной эскалации."),
])
def test_a_document_with_no_headings_gives_its_title_as_the_condition(lang, title, text):
    rules = [d for d in derive(SourceDocument(id="incident", title=title, text=text, lang=lang))
             if isinstance(d, DerivedRule)]
    assert [(r.reason, r.condition) for r in rules] == [("policy_requires_human", title)]
    assert "эскалации" in rules[0].sentence or "escalation" in rules[0].sentence


def test_a_section_heading_is_the_condition_and_a_heading_about_escalating_gives_way_to_the_title():
    text = ("# Card blocked abroad\nThis requires immediate escalation.\n"
            "# When to escalate\nThen use transfer_to_human_agents.\n")
    rules = [d for d in derive(SourceDocument(id="cards", title="Cards and travel", text=text, lang="en"))
             if isinstance(d, DerivedRule)]
    assert [r.condition for r in rules] == ["Card blocked abroad", "Cards and travel"]


@pytest.mark.parametrize("lang,title,heading,sentence", [
    ("en", "Suspected fraud: SIM swap, calls asking for codes", "Block it straight away",
     "If you write to us in the chat instead, the agent passes your case to the fraud team."),
    ("en", "Requesting a copy of your personal data", "How to send a request",
     "If you contact us through the chat, the agent will pass your request to the privacy team."),
    ("ru", "Подозрение на мошенничество: чужие входы", "Сразу заблокируйте доступ",
     "Если вы пишете нам в чат, оператор передаст обращение в отдел безопасности."),
    ("ru", "Как запросить копию персональных данных", "Как подать запрос",
     "Если вы обращаетесь через чат, оператор передаст запрос в отдел по защите данных."),
])
def test_a_heading_that_says_what_to_do_gives_way_to_the_documents_subject(lang, title, heading, sentence):
    """"Block it straight away" names no case a conversation could meet; the title does. When
    the title too says how ("Как запросить ..."), the title: it is the wider subject."""
    rules = [d for d in derive(SourceDocument(id="doc", title=title, text=f"## {heading}\n{sentence}\n", lang=lang))
             if isinstance(d, DerivedRule)]
    assert [r.condition for r in rules] == [title]


@pytest.mark.parametrize("lang,heading", [
    ("en", "Refunding a double charge"),      # a gerund names the case
    ("en", "If your card is blocked abroad"),  # a condition, not a verb and its object
    ("en", "On the fourth request"),
    ("ru", "Двойное списание после сбоя"),
    ("ru", "На сайте висит оплата"),          # nouns ending like an imperative (-йте, -ите)
    ("ru", "О кредите после закрытия счёта"),
])
def test_a_heading_that_names_the_case_stays_the_condition(lang, heading):
    sentence = ("If you write to us in the chat instead, the agent passes your case to the card team." if lang == "en"
                else "Если вы пишете нам в чат, оператор передаст обращение в отдел карт.")
    rules = [d for d in derive(SourceDocument(id="doc", title="Cards", text=f"## {heading}\n{sentence}\n", lang=lang))
             if isinstance(d, DerivedRule)]
    assert [r.condition for r in rules] == [heading]


@pytest.mark.parametrize("sentence,lang,condition", [
    ("If the charge is disputed after 60 days, escalate to Billing.", "en", "the charge is disputed after 60 days"),
    ("If the parcel is lost, forward the ticket to Logistics with the tracking number.", "en", "the parcel is lost"),
    ("Если списание оспаривают позже 60 дней, передайте обращение в биллинг.", "ru", "списание оспаривают позже 60 дней"),
    ("Если посылка потерялась, направьте заявку в логистику.", "ru", "посылка потерялась"),
])
def test_a_case_handed_to_a_team_named_by_its_own_name_is_a_rule(sentence, lang, condition):
    """A desk's teams have names of their own ("Billing", «биллинг»): the case as the object
    says a person takes it over, whoever that is."""
    assert rule_of(sentence, "", lang) == ("policy_requires_human", condition)


@pytest.mark.parametrize("sentence,lang", [
    ("If you are away, you can pass the request to a friend.", "en"),
    ("If you disagree, forward the request to complaints@shop.example.", "en"),
    ("Если вы в отъезде, можно передать заявку на другого человека.", "ru"),
    ("Если вопрос не решится, направьте претензию на complaints@volna.example.", "ru"),
    ("Если уезжаете, передайте заявку на complaints@volna.example.", "ru"),
])
def test_a_request_the_customer_passes_on_is_no_rule(sentence, lang):
    assert rule_of(sentence, "", lang) is None


@pytest.mark.parametrize("sentence,lang,situation,condition", [
    ("Only a senior specialist can approve a return after 14 days.", "en", "Returns", "approve a return after 14 days"),
    ("The decision is made only by the billing team: the agent passes on your request.", "en",
     "If you can't pay: an instalment plan", "If you can't pay: an instalment plan"),
    ("Explain that a plan can be requested and that only the billing team decides on it.", "en", "Debt plans", "Debt plans"),
    ("Решение о рассрочке принимает только отдел расчётов.", "ru", "Если платить нечем: рассрочка",
     "Если платить нечем: рассрочка"),
    ("Только старший специалист может одобрить возврат после 14 дней.", "ru", "Возврат", "одобрить возврат после 14 дней"),
])
def test_only_a_person_deciding_is_a_rule_on_what_the_customer_asks_for(sentence, lang, situation, condition):
    """"Only the billing team decides on it": the condition is what is asked for, in the
    sentence's words or its section's, and the derived rule is marked as a request."""
    assert rule_of(sentence, "", lang, situation=situation) == ("policy_requires_human", condition)
    doc = SourceDocument(id="doc", title="Payments", text=f"## {situation}\n{sentence}\n", lang=lang)
    rules = [d for d in derive(doc) if isinstance(d, DerivedRule)]
    assert [r.request for r in rules] == [True]


@pytest.mark.parametrize("sentence,lang", [
    ("Only customers with a verified account can pay later.", "en"),
    ("The card is only accepted by the terminal.", "en"),
    ("Только клиенты с подтверждённым аккаунтом могут платить позже.", "ru"),
])
def test_only_said_of_customers_or_things_is_no_rule(sentence, lang):
    assert rule_of(sentence, "", lang, situation="Paying later") is None


def test_a_condition_ends_at_a_clause_set_off_by_dashes():
    sentence = ("In exceptional cases – for example, if you were in hospital or the order arrived late – we can look "
                "into it, but only a senior specialist can approve a return after 14 days.")
    assert rule_of(sentence, "", "en") == ("policy_requires_human", "you were in hospital or the order arrived late")


@pytest.mark.parametrize("sentence,lang,condition", [
    ("Escalate with logs if multiple attempts produce the same result.", "en", "multiple attempts produce the same result"),
    ("If you suspect the voucher was misused, stop the process and escalate per the security procedure.", "en",
     "you suspect the voucher was misused"),
    ("Such cases are escalated if the customer was charged twice.", "en", "the customer was charged twice"),
    ("If the issue persists for a week, capture the request context and escalate through internal support channels.",
     "en", "the issue persists for a week"),
    ("Если оплата не прошла трижды, эскалируйте обращение.", "ru", "оплата не прошла трижды"),
    ("Если показания счётчика не сходятся, заявку эскалируем.", "ru", "показания счётчика не сходятся"),
])
def test_an_escalation_with_no_one_named_is_a_rule(sentence, lang, condition):
    """To escalate is to hand the case up whoever takes it: "escalate with logs if ...", "stop
    the process and escalate per the security procedure", «эскалируйте обращение»."""
    assert rule_of(sentence, "", lang) == ("policy_requires_human", condition)


@pytest.mark.parametrize("sentence,lang", [
    ("Only proceed if the code matches; otherwise, revert to standard verification or escalate.", "en"),
    ("When to Clear vs. When to Escalate", "en"),
    ("If the dispute escalates, keep every letter you received.", "en"),
    ("Retry later or escalate internally if the condition persists.", "en"),
    ("Если конфликт эскалируется, сохраните переписку.", "ru"),
    ("Продолжайте, если код совпал; иначе эскалируйте обращение.", "ru"),
])
def test_an_escalation_under_no_condition_of_the_case_is_no_rule(sentence, lang):
    """The handoff of the "otherwise" branch is not the condition's; "when to escalate" and a
    dispute that escalates (grows) say nothing of when; "the condition persists" names nothing."""
    assert rule_of(sentence, "", lang) is None
