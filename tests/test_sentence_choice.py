"""Which knowledge-base sentences a retrieval-only draft quotes: the passages retrieval
scored far higher are preferred to a weak one that happens to share a word with the
question, and the reason given for a step the customer already took goes with the step."""

from __future__ import annotations

import pytest

from copilot.draft import DraftPlan, candidate_sentences, select_sentences
from knowledge_base.documents import SearchHit


def _hit(n: int, text: str, score: float, lang: str) -> SearchHit:
    return SearchHit(source_id=f"doc{n}", chunk_id=f"doc{n}::0", title=f"Doc {n}", text=text, score=score,
                     found_by=["lexical"], lang=lang, doc_type="article")


def _plan(lang: str, query: str, hits: list[SearchHit]) -> DraftPlan:
    return DraftPlan(language=lang, customer_name=None, answer_hits=hits, covered=True, negative=False,
                     questions=[], handoff_promise=None, policy_hit=None, query=query, query_vector=None)


@pytest.mark.parametrize("lang,query,strong,weak", [
    ("en", "My television shows error E-203, what does it mean?",
     "The subscription is not active: check your balance and top it up.",
     "Phones, televisions, cameras and speakers all share one Wi-Fi network."),
    ("ru", "Телевизор показывает ошибку E-203, что это значит?",
     "Подписка не активна: проверьте баланс и пополните счёт.",
     "Телефоны, телевизоры, камеры и колонки делят один Wi-Fi."),
])
def test_a_passage_retrieval_scored_far_higher_wins_over_a_shared_word(lang, query, strong, weak):
    hits = [_hit(0, "| Code | Meaning |\n|---|---|", 2.0, lang), _hit(1, strong, 1.9, lang), _hit(2, weak, 0.55, lang)]
    chosen = select_sentences(_plan(lang, query, hits), None, 1)
    assert [s for _, s in chosen] == [strong]


STEPS_EN = ("## Measure the speed the right way\n"
            "1. Connect a computer to the router with a network cable. A Wi-Fi result tells you about Wi-Fi, not about the line.\n"
            "2. Open speedtest.example.org and run the test a few times.\n"
            "Older computers have a network port limited to 100 Mbit/s.")
STEPS_RU = ("## Как правильно измерить скорость\n"
            "1. Подключите компьютер к роутеру кабелем. Замер по Wi-Fi показывает скорость Wi-Fi, а не линии.\n"
            "2. Откройте speedtest.example.org и запустите тест несколько раз.\n"
            "У старых компьютеров сетевой порт бывает рассчитан на 100 Мбит/с.")


@pytest.mark.parametrize("lang,passage,done,not_done,reason", [
    ("en", STEPS_EN, "Connected my PC to the router with a cable, the test shows 120 Mbit/s.",
     "My internet is slow in the evenings.", "A Wi-Fi result tells you about Wi-Fi, not about the line."),
    ("ru", STEPS_RU, "Подключил компьютер к роутеру кабелем, тест показывает 120 Мбит/с.",
     "Вечером интернет медленный.", "Замер по Wi-Fi показывает скорость Wi-Fi, а не линии."),
])
def test_the_reason_for_a_step_already_taken_goes_with_it(lang, passage, done, not_done, reason):
    hit = _hit(0, passage, 1.0, lang)
    after = [s for *_, s in candidate_sentences([hit], customer_text=done)]
    assert reason not in after and any("100" in s for s in after)  # the next lines stay
    assert reason in [s for *_, s in candidate_sentences([hit], customer_text=not_done)]


@pytest.mark.parametrize("lang,turns,step,other", [
    ("en", ["The Internet light's been red since this morning.", "Have you tried rebooting the router?", "Yes, twice."],
     "Reboot the router: unplug the power for 30 seconds, then plug it back in.",
     "If the Internet light is still red after a reboot, the fault is on the line."),
    ("ru", ["Индикатор Internet красный с утра.", "Вы перезагружали роутер?", "Да, два раза."],
     "Перезагрузите роутер: выньте блок питания на 30 секунд и включите снова.",
     "Если после перезагрузки Internet всё ещё красный, неисправность на линии."),
])
def test_a_step_the_customer_confirmed_to_the_agent_is_not_suggested_again(lang, turns, step, other):
    from copilot.conditions import said_by_customer

    plan = _plan(lang, " ".join(turns[::2]), [_hit(0, f"{step}\n{other}", 1.0, lang)])
    assert step in [s for _, s in select_sentences(plan, None, 2)]  # the search query holds no agent question
    plan.said = said_by_customer(zip(["customer", "agent", "customer"], turns))
    assert [s for _, s in select_sentences(plan, None, 2)] == [other]


@pytest.mark.parametrize("lang,text,said,asked,gone,kept", [
    ("en", "## The light is red\n1. Check that the power adapter is firmly plugged into the router and into a working socket.\n"
           "2. Unplug the router for 30 seconds, then plug it back in.",
     "The power adapter is firmly plugged in, but the light stays red.", "Why is the router light red?",
     "power adapter", "Unplug the router"),
    ("ru", "## Индикатор горит красным\n1. Проверьте, что блок питания плотно вставлен в роутер и в исправную розетку.\n"
           "2. Выньте вилку роутера из розетки на 30 секунд и вставьте обратно.",
     "Блок питания плотно вставлен, но индикатор всё равно красный.", "Почему индикатор роутера красный?",
     "блок питания", "Выньте вилку роутера"),
])
def test_a_check_the_customer_already_reported_on_is_not_quoted(lang, text, said, asked, gone, kept):
    hits = [_hit(0, text, 1.0, lang)]
    chosen = " ".join(s for _, s in select_sentences(_plan(lang, said, hits), None, 3))
    assert gone not in chosen and kept in chosen, chosen
    # a customer who only asks still gets the check
    chosen = " ".join(s for _, s in select_sentences(_plan(lang, asked, hits), None, 3))
    assert gone in chosen and kept in chosen, chosen


ABOUT_THE_TEXT = [
    ("en", "# Introduction\n\nThis handbook is a reference for the staff of the service desk. It sets out the checks and "
           "fixes for the commonest faults of home printers. The parts that follow are:\n\n"
           "*   **Paper jams**: Covers paper stuck in the tray or the rollers.\n"
           "*   **Faded prints**: Covers toner and ink that run low.\n\n"
           "A printer that shows a red light after a restart needs a repair visit.",
     "A printer that shows a red light after a restart needs a repair visit."),
    ("ru", "# Введение\n\nЭтот документ — справочник для сотрудников сервисной службы. Он описывает проверки и "
           "исправления частых неполадок домашних принтеров. Основные разделы документа:\n\n"
           "*   **Замятие бумаги**: Бумага застряла в лотке или в роликах.\n"
           "*   **Бледная печать**: Заканчивается тонер или чернила.\n\n"
           "Если после перезапуска на принтере горит красный индикатор, нужен выезд мастера.",
     "Если после перезапуска на принтере горит красный индикатор, нужен выезд мастера."),
]


@pytest.mark.parametrize("lang,text,answer", ABOUT_THE_TEXT)
def test_a_manuals_words_about_itself_are_not_quoted(lang, text, answer):
    """"This handbook is a reference ...", the sentence that goes on about it ("It sets out ...")
    and the list of its parts under such a lead answer no customer; the fact after them does."""
    chosen = [c[3] for c in candidate_sentences([_hit(1, text, 1.0, lang)])]
    assert chosen == [answer]


# an example, a pronoun or a next step goes on from the sentence before it ("For example, ...",
# "It is reviewed within ...", «Например, ...»): quoted alone it speaks of nothing the reply named
LEANING = [
    ("en", "I had 30 hours without service: is one day's fee credited?",
     "If an outage lasts more than 24 hours, the daily fee is credited for every full day without service.",
     "For example, after 30 hours without service one day's fee is credited, after three full days three days' fees."),
    ("ru", "Мне что-то положено за аварию? Связи не было 30 часов.",
     "Если авария длится больше 24 часов, мы начисляем абонентскую плату за каждый полный день без связи.",
     "Например, если связи не было 30 часов, вернётся плата за один день, если трое полных суток — за три дня."),
]


@pytest.mark.parametrize("lang,query,rule,example", LEANING)
def test_a_sentence_that_goes_on_from_the_one_before_comes_with_it(lang, query, rule, example):
    """The example matches the question best (its words: "30 hours"); in a one-sentence answer
    it still comes with the rule it is an example of, in the passage's order."""
    hit = _hit(0, f"## {'Compensation' if lang == 'en' else 'Компенсация'}\n{rule} {example}", 1.0, lang)
    chosen = [s for _, s in select_sentences(_plan(lang, query, [hit]), None, 1)]
    assert chosen == [rule, example]


@pytest.mark.parametrize("lang,query,rule,example", LEANING)
def test_a_sentence_that_goes_on_from_a_heading_is_not_quoted(lang, query, rule, example):
    """After a heading there is nothing before it to bring: the example is left out, another
    passage's sentence answers."""
    hits = [_hit(0, f"## {'Example' if lang == 'en' else 'Пример'}\n{example}", 1.0, lang),
            _hit(1, rule, 1.0, lang)]
    chosen = [s for _, s in select_sentences(_plan(lang, query, hits), None, 1)]
    assert chosen == [rule]


@pytest.mark.parametrize("sentence,leans", [
    ("For example, the light stays red.", True), ("It is reviewed within 5 business days.", True),
    ("That means a firmware update.", True), ("Then hold the Reset button.", True),
    ("Itemised bills are free.", False), ("There is no fee.", False), ("If you paid twice, ...", False),
    ("Например, если связи не было.", True), ("Это значит, что идёт обновление.", True),
    ("Поэтому дату удобно выбрать заранее.", True), ("Онлайн-оплата зачисляется сразу.", False),
    ("Этажи выше пятого ...", False), ("Тогда перезагрузите роутер.", True),
])
def test_what_reads_as_going_on_from_the_sentence_before(sentence, leans):
    from copilot.text import leans_on_previous

    assert leans_on_previous(sentence) is leans


@pytest.mark.parametrize("lang,text,answer", [
    ("en", "You can get money back if you paid by mistake or were charged twice. "
           "Here is how to apply, how long each step takes and what cannot be refunded.",
     "You can get money back if you paid by mistake or were charged twice."),
    ("ru", "Деньги можно вернуть, если вы заплатили по ошибке или списание прошло дважды. "
           "Ниже — как подать заявку, сколько это займёт и что вернуть нельзя.",
     "Деньги можно вернуть, если вы заплатили по ошибке или списание прошло дважды."),
])
def test_a_sentence_announcing_what_follows_is_not_quoted(lang, text, answer):
    assert [c[3] for c in candidate_sentences([_hit(1, text, 1.0, lang)])] == [answer]


CANCEL_EN = ("## Cancelling an order\n"
             "While the order says Packing, you can cancel it in the app (version 3.2 or later): open the order and "
             "press Cancel.\n"
             "The money comes back to your card within 3-10 business days.")
CANCEL_RU = ("## Отмена заказа\n"
             "Пока заказ в статусе «Собирается», его можно отменить в приложении (версия 3.2 и новее): откройте заказ и "
             "нажмите «Отменить».\n"
             "Деньги вернутся на карту в течение 3–10 рабочих дней.")
DELIVERY_EN = ("## Courier delivery\n"
               "The courier brings the order to your door on the day you choose, between 9:00 and 21:00.\n"
               "Courier delivery costs 390 RUB, and orders from 15,000 RUB are delivered free.")
DELIVERY_RU = ("## Доставка курьером\n"
               "Курьер привозит заказ к двери в выбранный день, с 9:00 до 21:00.\n"
               "Доставка курьером стоит 390 руб., заказы от 15 000 руб. доставляем бесплатно.")


@pytest.mark.parametrize("lang,passage,question,answer", [
    ("en", CANCEL_EN, "I want to cancel my order, it says Packing. When do I get the money back?", "3-10 business days"),
    ("ru", CANCEL_RU, "Хочу отменить заказ, он в статусе «Собирается». Когда вернутся деньги?", "3–10 рабочих дней"),
    ("en", DELIVERY_EN, "How much is it to have the courier bring my order to the door?", "390 RUB"),
    ("ru", DELIVERY_RU, "Сколько стоит, чтобы курьер привёз заказ к двери?", "390 руб."),
])
def test_the_sentence_giving_the_kind_of_value_asked_for_is_chosen(lang, passage, question, answer):
    """"When ...?" is answered by the sentence with the time in it, "how much ...?" by the one
    with the price, not by the procedure around them."""
    chosen = select_sentences(_plan(lang, question, [_hit(0, passage, 1.0, lang)]), None, 1)
    assert len(chosen) == 1 and answer in chosen[0][1], chosen


PICKUP_EN = ("## Pickup points\n"
             "When the order reaches the pickup point, you get a text message with a collection code.\n"
             "Orders wait 7 days.\n"
             "Step 2.\n"
             "Bring the code and an identity document with you when you come to collect it.")
PICKUP_RU = ("## Пункты выдачи\n"
             "Когда заказ поступит в пункт, придёт СМС с кодом получения.\n"
             "Заказ хранится 7 дней.\n"
             "Шаг 2.\n"
             "Возьмите с собой код и документ, удостоверяющий личность, когда придёте за заказом.")


@pytest.mark.parametrize("lang,passage,question,answer", [
    ("en", PICKUP_EN, "My order is at the pickup point and I'm away for 5 days. How long will it wait there?",
     "Orders wait 7 days."),
    ("ru", PICKUP_RU, "Заказ пришёл в пункт выдачи, а я уезжаю на 5 дней. Успею забрать?", "Заказ хранится 7 дней."),
])
def test_a_short_sentence_giving_a_time_or_a_price_is_quoted_and_a_short_fragment_is_not(lang, passage, question,
                                                                                        answer):
    """Russian says in four words what English says in six: a short sentence with the value
    asked for is an answer, not a fragment; "Step 2." stays out."""
    quoted = [s for *_, s in candidate_sentences([_hit(0, passage, 1.0, lang)])]
    assert answer in quoted and not any(s.startswith(("Step", "Шаг")) for s in quoted), quoted
    chosen = select_sentences(_plan(lang, question, [_hit(0, passage, 1.0, lang)]), None, 1)
    assert [s for _, s in chosen] == [answer]
