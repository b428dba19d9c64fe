"""The kind of value a question asks for, read off its question words in both languages,
and whether a sentence gives one (copilot/answer_kind.py)."""

from __future__ import annotations

import pytest

from copilot.answer_kind import asked_kinds, states_kind


@pytest.mark.parametrize("question,kinds", [
    ("how do I cancel and when do I get the money back", {"time"}),
    ("How long does a refund take?", {"time"}),
    ("Заказ в пункте выдачи, я уезжаю на 5 дней, успею забрать?", {"time"}),
    ("Через сколько дней вернут деньги?", {"time"}),
    ("How much is courier delivery for a 1300 rub order?", {"money"}),
    ("Сколько стоит замена аккумулятора?", {"money"}),
    ("What's the price, and how soon can it come?", {"time", "money"}),
    # no value asked for: a problem, a procedure, a yes-no question
    ("My robot won't charge, the light is red.", set()),
    ("Робот не заряжается, горит красный.", set()),
    ("Can I pay by card?", set()),
    # a question word or a price word that only names the subject or a circumstance
    ("Is there an app so I can watch TV on my phone when I'm away from home?", set()),
    ("I paid the full monthly fee on the 1st, so please refund the rest.", set()),
    ("вайфай отваливается, даже когда сижу рядом с роутером!", set()),
    ("А деньги когда вернут?", {"time"}),
])
def test_the_kind_asked_for(question, kinds):
    assert asked_kinds(question) == kinds


@pytest.mark.parametrize("sentence,time,money", [
    ("The money comes back within 3-10 business days.", True, False),
    ("Деньги вернутся в течение 3–10 рабочих дней.", True, False),
    ("The order waits at the pickup point for 7 days.", True, False),
    ("Courier delivery costs 390 RUB.", False, True),
    ("Доставка бесплатна для заказов от 15 000 ₽.", False, True),
    ("Instalments are 0% for 12 months.", True, True),
    ("Open the order and press Cancel.", False, False),
    ("Откройте заказ и нажмите «Отменить».", False, False),
])
def test_a_sentence_gives_a_value_of_a_kind(sentence, time, money):
    assert (states_kind(sentence, "time"), states_kind(sentence, "money")) == (time, money)
