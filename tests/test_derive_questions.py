"""Diagnostic questions from a knowledge base nobody annotated (issue 12): what an article
asks the reader to give, decisions keyed by codes, and how the questions of the best
match and of its neighbours are ordered. Pure functions: no index, no model."""

from __future__ import annotations

import re

import pytest

from copilot.anamnesis import ArticleFacts, questions
from copilot.config import AnamnesisSettings
from copilot.facts import GivenFact
from knowledge_base.derive import DerivedCheck, check_of, derive, requests_of
from knowledge_base.documents import RequiredFact, SourceDocument


def doc(text: str, lang: str = "en", id: str = "guide") -> SourceDocument:
    return SourceDocument(id=id, title="Guide", text=text, lang=lang)


def asked(lang: str, docs: list[SourceDocument], customer: str = "", basics: list[str] = (),
          limit: int = 3, given: list[str] = (), floor: float = 0.0, review: str = "pending") -> list[tuple[str, str]]:
    """(fact, question) the copilot asks with these articles matched, best first."""
    articles = [ArticleFacts(d.id, [], [(c, review) for c in derive(d) if isinstance(c, DerivedCheck)]) for d in docs]
    return [(q.fact, q.text) for q in questions(lang, articles, [], {k: GivenFact(k, "x") for k in given},
                                                customer_text=customer, basics=list(basics), limit=limit,
                                                min_derived_score=floor)]


def test_a_sentence_that_opens_by_asking_for_the_readers_details_gives_one_question_per_detail():
    found = requests_of("Give your contract number, the service address and when the service disappeared and "
                        "came back.", "en")
    assert [q for _, q in found] == ["Could you tell me your contract number?", "Could you tell me the service address?",
                                     "Could you tell me when the service disappeared and came back?"]
    # a clause goes on past a bare "и": one question about the time, not a half-sentence of its own
    found = requests_of("Назовите номер договора, адрес и время, когда пропала и когда появилась связь.", "ru")
    assert [q for _, q in found] == ["Подскажите, пожалуйста, номер договора?", "Подскажите, пожалуйста, адрес?",
                                     "Подскажите, пожалуйста, время, когда пропала и когда появилась связь?"]
    # the details are the desk's facts: the questions are asked under the vocabulary's keys
    facts = [f for f, _ in asked("en", [doc("## Compensation\n1. Give your contract number and the service address.")])]
    assert facts == ["contract_number", "address"]


def test_details_that_share_a_complement_are_each_asked_with_it():
    en = requests_of("If it still doesn't add up, write to us in the chat with the date and amount of the charge.", "en")
    assert [q for _, q in en] == ["Could you tell me the date of the charge?", "Could you tell me the amount of the charge?"]
    ru = requests_of("Если всё равно не сходится, напишите нам в чат и укажите дату и сумму списания.", "ru")
    assert [q for _, q in ru] == ["Подскажите, пожалуйста, дату списания?", "Подскажите, пожалуйста, сумму списания?"]
    assert [f for f, _ in asked("en", [doc("Write to us with the date and amount of the charge.")])] == [
        "payment_date", "payment_amount"]
    assert [f for f, _ in asked("ru", [doc("Укажите дату и сумму списания.", "ru")])] == ["payment_date", "payment_amount"]
    # "номер договора" is not a verbal noun: "адрес и номер договора" stay two details
    assert [t for t, _ in requests_of("Укажите адрес и номер договора.", "ru")] == ["адрес", "номер договора"]


def test_a_reason_things_handed_over_and_vague_objects_are_not_asked():
    # why the desk asks is not a detail to ask for
    assert [q for _, q in requests_of("Give your contract number and tell us what you've already tried, so we "
                                      "don't ask twice.", "en")] == [
        "Could you tell me your contract number?", "Could you tell me what you've already tried?"]
    assert [f for f, _ in asked("en", [doc("Tell us what you've already tried.")])] == ["already_tried"]
    assert [f for f, _ in asked("ru", [doc("Расскажите, что уже попробовали, — тогда вас не придётся расспрашивать.",
                                           "ru")])] == ["already_tried"]
    assert requests_of("Give your old router to the technician.", "en") == []
    assert requests_of("Give the reason in one plain sentence.", "en") == []  # to the agent: what to say
    assert requests_of("Call us with your questions.", "en") == []
    assert requests_of("Write to us in chat with your contract number and we'll go through it line by line.", "en") == [
        ("contract number", "Could you tell me your contract number?")]
    assert requests_of("Напишите нам и расскажите подробности.", "ru") == []


TV_EN = """# TV problems
If the screen shows an error, find its code below.

## E-101: no signal from the network
1. Check the network cable going into the box.
2. Restart the box.

## E-203: subscription not active
Top up the balance. If the code is still there after an hour, write to us.

## E-305: box not activated
Only support can activate the box. Write to us in the chat.

## Black screen without a message
- Check that the box is on and plugged in.
"""

TV_RU = """# Проблемы с ТВ
Если на экране ошибка, найдите её код ниже.

## E-101: нет сигнала из сети
1. Проверьте сетевой кабель, который идёт к приставке.
2. Перезагрузите приставку.

## E-203: подписка не активна
Пополните баланс.

## E-305: приставка не активирована
Напишите нам в чат.

## Чёрный экран без сообщений
- Проверьте, что приставка включена в розетку.
"""


def test_sections_named_by_error_codes_ask_which_code_the_customer_sees_first():
    for text, lang in ((TV_EN, "en"), (TV_RU, "ru")):
        first_fact, first = asked(lang, [doc(text, lang)], customer="The TV shows nothing." if lang == "en" else
                                  "Телевизор ничего не показывает.")[0]
        assert first_fact == "error_code"
        assert all(code in first for code in ("E-101", "E-203", "E-305"))
        # backed by the source: the decision's first section
        check = next(d for d in derive(doc(text, lang)) if isinstance(d, DerivedCheck) and d.states)
        assert check.sentence.startswith("E-101") and check.states == ["E-101", "E-203", "E-305"]


def test_a_code_sections_steps_wait_until_the_customer_names_that_code():
    for text, lang, cable, other, same in (
            (TV_EN, "en", "network cable", "The TV says E-305 since I replaced the box.",
             "The TV says e-101 since this morning."),
            (TV_RU, "ru", "сетевой кабель", "На экране Е-305 после замены приставки.", "На экране е-101 с утра.")):
        # another code (a Cyrillic look-alike letter): the first code's checks are not asked, nor which code it is
        other_questions = [q for _, q in asked(lang, [doc(text, lang)], customer=other)]
        assert not any(cable in q or "E-203" in q for q in other_questions), other_questions
        # that code, in any case: its own check comes
        assert any(cable in q for _, q in asked(lang, [doc(text, lang)], customer=same))


WASHER_EN = """# Error codes on the display
The display shows a code when the washer stops.

## E1: water does not drain
1. Check the drain hose for kinks.
2. Clean the pump filter.

## E2: door not locked
Press the door until it clicks.

## F3: water heater fault
Only a technician can replace the heater.
"""

WASHER_RU = """# Коды ошибок на дисплее
Когда машина останавливается, на дисплее появляется код.

## E1: вода не сливается
1. Проверьте, не перегнут ли сливной шланг.
2. Почистите фильтр насоса.

## E2: дверца не заблокирована
Прижмите дверцу до щелчка.

## F3: неисправен нагреватель
Нагреватель меняет только мастер.
"""


def test_codes_of_one_digit_name_sections_and_are_read_in_the_customers_words():
    """An appliance manual's "E1", "F3": which code the customer sees is asked first, and naming
    one (in small letters too) brings that section's own steps, not another's."""
    for text, lang, nothing, hose, other, same in (
            (WASHER_EN, "en", "The washer stopped mid-cycle.", "drain hose", "The display shows E2 now.",
             "It stopped and the display shows e1."),
            (WASHER_RU, "ru", "Машина остановилась посреди стирки.", "сливной шланг", "На дисплее E2.",
             "Остановилась, на дисплее е1.")):
        first_fact, first = asked(lang, [doc(text, lang)], customer=nothing)[0]
        assert first_fact == "error_code" and all(code in first for code in ("E1", "E2", "F3"))
        assert not any(hose in q for _, q in asked(lang, [doc(text, lang)], customer=other))
        same_questions = [q for _, q in asked(lang, [doc(text, lang)], customer=same)]
        assert any(hose in q for q in same_questions) and not any("E2" in q for q in same_questions), same_questions


def test_words_and_numbers_are_not_taken_for_a_code():
    # "which code do you see" stays open when the customer names a page or a version, not a code
    # nor a device of one digit that is none of the desk's codes
    for customer in ("The guide says see page 12.", "My phone is on iOS 17.", "Смотрел на странице 12.",
                     "My PS5 gets no picture through the box.", "Подключил PS5, и всё пропало."):
        lang = "ru" if "Смотрел" in customer else "en"
        assert asked(lang, [doc(TV_RU if lang == "ru" else TV_EN, lang)], customer=customer)[0][0] == "error_code"


def test_headings_that_are_not_codes_make_no_code_question():
    text = "# Plans\nOur plans.\n\n## A1 Lite\nSmall.\n\n## A2 Max\nBig.\n"
    assert not [d for d in derive(doc(text)) if isinstance(d, DerivedCheck)]
    assert not [d for d in derive(doc(text.replace("Our plans", "Наши тарифы"), "ru")) if isinstance(d, DerivedCheck)]
    # a heading's spaced number in a text that speaks of codes: "TIER 1", "STEP 2" are no codes
    tiers = ("# Closing reasons\nPick the reason code.\n\n## TIER 1 - Operational\nFees.\n\n## TIER 2 - Personal\n"
             "Moving.\n\n## TIER 3 - Other\nAnything else.\n")
    assert not [d for d in derive(doc(tiers)) if isinstance(d, DerivedCheck) and d.states]


def test_the_best_matchs_own_requests_come_before_a_neighbours_self_help_step():
    best = doc("## Still down?\n- Check the router lights.\n- Tell us the error code on the screen.\n"
               "- Give your contract number, the service address and the date of the payment.", id="best")
    neighbour = doc("## Slow?\n- Tell us the result of a speed test.", id="neighbour")
    assert [f for f, _ in asked("en", [best, neighbour], limit=6)] == [
        "router_lights", "error_code", "contract_number", "address", "payment_date", "speed_test_result"]
    best_ru = doc("## Не помогло?\n- Посмотрите на индикаторы роутера.\n- Назовите код ошибки на экране.\n"
                  "- Укажите номер договора, адрес и дату платежа.", "ru", id="best")
    neighbour_ru = doc("## Медленно?\n- Сообщите результат замера скорости.", "ru", id="neighbour")
    assert [f for f, _ in asked("ru", [best_ru, neighbour_ru], limit=6)] == [
        "router_lights", "error_code", "contract_number", "address", "payment_date", "speed_test_result"]


CONNECTION = {
    "en": doc("## No connection\n1. Check the cable in the WAN port.\n2. Look at the router lights.\n"
              "3. Check the status page for an outage in your area.\n"),
    "ru": doc("## Нет соединения\n1. Проверьте кабель в порту WAN.\n2. Посмотрите на индикаторы роутера.\n"
              "3. Проверьте на странице статуса, нет ли аварии в вашем районе.\n", "ru"),
}


def _facts_asked(lang: str, customer: str) -> list[str]:
    return [f for f, _ in asked(lang, [CONNECTION[lang]], customer)]


def test_a_check_the_customer_says_they_made_is_not_asked_again():
    assert _facts_asked("en", "") == ["router_lights", "cable_wan_port", "status_page_outage_area"]
    # whether the cable sits, whether there is an outage: saying the check was made answers it
    assert _facts_asked("en", "I unplugged the cable in the WAN port and plugged it back. "
                              "The status page I checked already.") == ["router_lights"]
    assert _facts_asked("en", "Rebooted everything and replugged the WAN port cable.") == [
        "router_lights", "status_page_outage_area"]
    # past forms of either gender and aspect ("вытащила", "перезагружал", "смотрел")
    assert _facts_asked("ru", "Кабель в порту WAN вытащила и вставила обратно. Страницу статуса смотрела.") == [
        "router_lights"]
    assert _facts_asked("ru", "Перезагружал роутер, кабель в порту WAN проверял, на странице статуса смотрел.") == [
        "router_lights"]


def test_saying_one_looked_does_not_answer_a_check_that_asks_what_it_shows():
    # which lights are on is a value: "I looked" does not give it, a reading does
    assert "router_lights" in _facts_asked("en", "I looked at the router lights.")
    assert "router_lights" in _facts_asked("en", "I already checked the router lights.")
    assert "router_lights" not in _facts_asked("en", "The router lights show red.")
    assert "router_lights" in _facts_asked("ru", "Индикаторы роутера проверила.")
    assert "router_lights" in _facts_asked("ru", "На индикаторы роутера уже смотрел.")
    assert "router_lights" not in _facts_asked("ru", "Индикаторы роутера показывают красный.")


def test_someone_elses_act_is_not_the_customer_reporting_a_check():
    # "they replaced", "it was reset", the Russian impersonal plural ("мне поменяли"): not the customer's check
    assert "cable_wan_port" in _facts_asked("en", "The technician came and they unplugged the cable in the WAN port.")
    assert "cable_wan_port" in _facts_asked("en", "The cable in the WAN port was replaced yesterday.")
    assert "cable_wan_port" not in _facts_asked("en", "We unplugged the cable in the WAN port and plugged it back.")
    assert "кабель_порту_wan" in _facts_asked("ru", "Мне вчера поменяли кабель в порту WAN.")
    assert "кабель_порту_wan" not in _facts_asked("ru", "Мы вчера поменяли кабель в порту WAN.")
    assert "кабель_порту_wan" not in _facts_asked("ru", "Кабель в порту WAN вчера поменяла.")


TV = {
    "en": doc("## TV picture freezes\n1. Check the HDMI cable between the box and the TV.\n2. Look at the router lights.\n"),
    "ru": doc("## Зависает картинка\n1. Проверьте кабель HDMI между приставкой и телевизором.\n"
              "2. Посмотрите на индикаторы роутера.\n", "ru"),
}


def test_the_basics_pad_the_questions_only_where_no_front_matter_lists_what_to_establish():
    basics = ["since_when", "already_tried"]
    billing = ArticleFacts("autopay", [
        RequiredFact(fact="contract_number", question={"en": "Your contract number?", "ru": "Номер договора?"}),
        RequiredFact(fact="payment_amount", question={"en": "How much was charged?", "ru": "Какую сумму списали?"})])
    for lang in ("en", "ru"):
        # "what have you tried, e.g. restarting the router?" is no question for a double charge
        assert [q.fact for q in questions(lang, [billing], [], {}, basics=basics)] == ["contract_number", "payment_amount"]
        # an article that lists nothing leaves the slots to the basics
        assert [q.fact for q in questions(lang, [ArticleFacts("notes")], [], {}, basics=basics)] == basics
        # nor does a neighbour without front matter bring them back
        assert "already_tried" not in [q.fact for q in questions(lang, [billing, ArticleFacts("notes")], [], {},
                                                                   basics=basics)]


def test_a_weak_self_help_step_does_not_fill_the_slots_the_basics_left():
    floor = AnamnesisSettings().derived_min_score
    assert floor > 0
    basics = ["since_when", "already_tried"]
    for lang in ("en", "ru"):
        # the basics answered: the step about the router lights (a fact the desk knows) is still asked,
        # the HDMI cable step (outside the vocabulary, scored below the basics) is not
        assert [f for f, _ in asked(lang, [TV[lang]], basics=basics, given=basics, floor=floor)] == ["router_lights"]
        # the basics outrank it anyway while they are open
        assert [f for f, _ in asked(lang, [TV[lang]], basics=basics, floor=floor)] == [
            "router_lights", "since_when", "already_tried"]
        # 0 turns the floor off: the step fills the free slot, as before
        off = AnamnesisSettings(derived_min_score=0).derived_min_score
        facts = [f for f, _ in asked(lang, [TV[lang]], basics=basics, given=basics, floor=off)]
        assert facts[0] == "router_lights" and len(facts) == 2
        # a step a supervisor approved is the desk's word: asked whatever its score
        assert len(asked(lang, [TV[lang]], basics=basics, given=basics, floor=floor, review="approved")) == 2


def test_a_request_item_that_only_qualifies_the_one_before_stays_with_it():
    # a relative clause after a preposition, and "with ...", add to the item before them
    assert [q for _, q in requests_of("Назовите номер телефона, по которому вам удобно перезвонить.", "ru")] == [
        "Подскажите, пожалуйста, номер телефона, по которому вам удобно перезвонить?"]
    assert [q for _, q in requests_of("Give us a phone number, on which we can reach you.", "en")] == [
        "Could you tell me a phone number, on which we can reach you?"]
    assert [q for _, q in requests_of("Укажите адрес доставки, с номером квартиры.", "ru")] == [
        "Подскажите, пожалуйста, адрес доставки, с номером квартиры?"]
    assert [q for _, q in requests_of("Tell us the delivery address, with the flat number.", "en")] == [
        "Could you tell me the delivery address, with the flat number?"]


@pytest.mark.parametrize("sentence,lang", [
    # points back at something said before: nothing of its own to ask
    ("Оплатите по номеру счёта и укажите его в комментарии к переводу.", "ru"),
    ("Pay by your account number and give it in the transfer reference.", "en"),
    ("Напишите только то, что важно для мастера.", "ru"),
    ("Write down only that which the technician needs.", "en"),
    # how or when, not what
    ("Если не сможете быть дома, сообщите нам заранее.", "ru"),
    ("If you can't be at home, let us know in advance.", "en"),
    # the desk's own number or address, given out, not asked for
    ("Назовите клиенту номер горячей линии +7 800 555-01-02.", "ru"),
    ("Give the customer the hotline number +1 800 555 0102.", "en"),
    ("Пришлите скриншот на support.example.org.", "ru"),
    # an example of what to say, inside a quotation, is not an instruction
    ("Хорошо: «Давайте проверим скорость. Сделайте замер и пришлите результат».", "ru"),
    ('Good: "Let\'s check the speed. Run a test and send us the result."', "en"),
    ("пришлите результат».", "ru"),  # the tail of a quotation the sentence splitter cut
])
def test_a_request_that_names_no_fact_of_the_case_asks_nothing(sentence, lang):
    assert requests_of(sentence, lang) == []


@pytest.mark.parametrize("sentence,lang,question", [
    ("Спросите, как клиенту удобнее получать уведомления, и запишите это в карточку.", "ru",
     "Подскажите, пожалуйста, как вам удобнее получать уведомления?"),
    ("Ask how the customer prefers to get notices, and note it in the summary.", "en",
     "Could you tell me how you prefer to get notices?"),
])
def test_a_check_stops_where_the_next_instruction_starts(sentence, lang, question):
    assert check_of(sentence, lang)[1] == question


@pytest.mark.parametrize("sentence, lang, question", [
    ("Ask the user to check if Wi-Fi Calling is enabled, as it may interfere with MMS functionality.", "en",
     "Is Wi-Fi Calling enabled?"),
    ("Ask the user to check if they're using a VPN which might affect connection quality.", "en",
     "Could you tell me whether you're using a VPN?"),
    ("Check the bill status to make sure it is overdue.", "en", "Could you check the bill status and tell me what you see?"),
    ("Уточните у клиента номер договора, чтобы найти платёж.", "ru", "Подскажите, пожалуйста, номер договора?"),
    ("Попросите клиента проверить, включён ли VPN, так как он может замедлять соединение.", "ru",
     "Проверьте, пожалуйста, включён ли VPN — что вы видите?"),
])
def test_a_check_is_asked_without_the_reason_its_sentence_gives(sentence, lang, question):
    assert [c.question for c in derive(doc(f"- {sentence}", lang)) if isinstance(c, DerivedCheck)] == [question]


@pytest.mark.parametrize("lang,text,customer,other,question", [
    ("en", "## The robot does not charge\n1. Wipe the charging contacts with a dry cloth.\n"
           "If the robot still does not charge, ask the customer for the error code the app shows.",
     "My robot vacuum won't charge anymore, it just sits on the dock.",
     "The robot cleans fine but the app shows the wrong map.",
     "Could you tell me the error code the app shows?"),
    ("ru", "## Робот не заряжается\n1. Протрите контакты зарядки сухой тканью.\n"
           "Если робот всё равно не заряжается, уточните у клиента код ошибки в приложении.",
     "Робот-пылесос перестал заряжаться, стоит на станции и ничего.",
     "Робот убирает нормально, но в приложении неправильная карта.",
     "Подскажите, пожалуйста, код ошибки в приложении?"),
])
def test_an_ask_under_its_own_if_clause_is_asked_once_the_customer_describes_it(lang, text, customer, other, question):
    """"If X, ask the customer for Y" (an agent handbook's usual line): Y is asked when the
    customer's words describe X, with the sentence behind it; not for another problem."""
    checks = [c for c in derive(doc(text, lang)) if isinstance(c, DerivedCheck) and c.condition_from == "sentence"]
    assert [c.question for c in checks] == [question] and checks[0].sentence.startswith(("If", "Если"))
    assert question in [q for _, q in asked(lang, [doc(text, lang)], customer)]
    assert question not in [q for _, q in asked(lang, [doc(text, lang)], other)]


@pytest.mark.parametrize("sentence,lang", [
    ("If it was generated more than 15 minutes ago, ask for a new code and try again.", "en"),
    ("If the robot is still under warranty, it is repaired free of charge.", "en"),
    ("Если робот на гарантии, ремонт бесплатный.", "ru"),
])
def test_an_if_clause_that_does_not_ask_the_customer_is_no_check(sentence, lang):
    assert not [c for c in derive(doc(sentence, lang)) if isinstance(c, DerivedCheck)]


@pytest.mark.parametrize("lang,text,named,other", [
    ("en", "Ask the customer for the **coffee machine model**: Brewmaster 2, Brewmaster 4 Duo or Pico.",
     "my brewmaster 4 duo leaks water from the bottom", "my coffee machine leaks water from the bottom"),
    ("ru", "Уточните у клиента **тариф**: «Старт», «Семейный» или «Бизнес Плюс».",
     "Я на семейном, и интернет постоянно пропадает", "У меня постоянно пропадает интернет"),
])
def test_a_check_whose_sentence_lists_the_answers_is_answered_by_naming_one(lang, text, named, other):
    """"Ask for the model: A, B or C": a customer who wrote one of them has answered it; one
    who did not is asked."""
    check = next(c for c in derive(doc(text, lang)) if isinstance(c, DerivedCheck))
    assert len(check.options) == 3
    assert [q for _, q in asked(lang, [doc(text, lang)], other)] == [check.question]
    assert asked(lang, [doc(text, lang)], named) == []


@pytest.mark.parametrize("sentence", [
    "Ask the customer for the order number: it starts with HB- and has 7 digits.",
    "Ask the customer for: the error code, the time it appeared",
    "Уточните у клиента номер договора: он указан в счёте и в личном кабинете.",
    "Ask which class they want: name, club, date and start time.",
    "Спросите, когда началась проблема и что изменилось накануне: новый роутер, переезд, падение.",
    "Спросите, какая сеть: нужна 2,4 ГГц.",
])
def test_what_follows_a_colon_is_no_list_of_answers_when_it_is_a_clause_or_a_topic(sentence):
    lang = "ru" if re.search("[а-я]", sentence) else "en"
    assert all(c.options == [] for c in derive(doc(sentence, lang)) if isinstance(c, DerivedCheck))


HANDBOOK = {
    "en": "# Agent handbook\n## What to ask first\nAsk the customer for the order number.\n"
          "## 3.2 The robot does not charge\nAsk the customer whether the power switch under the cover is on.\n"
          "Ask what the light on the dock does.\n## 3.3 Wi-Fi setup\nAsk which network the customer uses.",
    "ru": "# Справочник оператора\n## Что спросить сначала\nУточните у клиента номер заказа.\n"
          "## 3.2 Робот не заряжается\nСпросите, включён ли выключатель под крышкой.\n"
          "Спросите, как горит индикатор на базе.\n## 3.3 Подключение к Wi-Fi\nСпросите, какая сеть у клиента.",
}


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_handbooks_section_search_found_asks_its_own_checks_first(lang):
    """Search found the handbook by its charging section: that section's questions come before
    the manual's first section's, then the rest in the source's order."""
    from copilot.anamnesis import section_first

    checks = [(c, "pending") for c in derive(doc(HANDBOOK[lang], lang, "handbook")) if isinstance(c, DerivedCheck)]
    found = ["\n".join(HANDBOOK[lang].splitlines()[4:6])]  # the charging section's passage
    ordered = [c.question for c, _ in section_first(checks, found)]
    assert ordered[:2] == [c.question for c, _ in checks[1:3]] and ordered[2] == checks[0][0].question
    assert section_first(checks, []) == checks  # nothing found: the source's order
    assert section_first(checks, [HANDBOOK[lang]]) == checks  # a passage holding it all: a workflow's order
