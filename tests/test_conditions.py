"""A knowledge-base sentence whose condition the customer already ruled out is not one to
copy into the reply: scope (one device / all devices), both languages, both directions."""

from __future__ import annotations

import pytest

from copilot.conditions import (already_done, contact_heading, contact_line, invites_contact, names_only_channel,
                                retry_already_past, ruled_out, said_by_customer, says_state, sends_to_channel,
                                step_definitions, under_ruled_out_diagnosis, without_channel)

ONE_EN = "If only one device has no internet while the others work, restart that device."
ALL_EN = "If all your devices lose Wi-Fi, restart the router."
ONE_RU = "Если интернета нет только на одном устройстве, перезагрузите это устройство."
ALL_RU = "Если Wi-Fi пропадает на всех устройствах, перезагрузите роутер."


@pytest.mark.parametrize("sentence,said", [
    (ONE_EN, "None of my devices can connect since the morning."),
    (ONE_EN, "All the devices at home lost the internet."),
    (ALL_EN, "Only one device loses Wi-Fi, the old laptop."),
    (ONE_RU, "Интернета нет ни на одном устройстве."),
    (ONE_RU, "На всех устройствах пропал интернет."),
    (ALL_RU, "Wi-Fi пропадает только на одном устройстве, на ноутбуке."),
])
def test_a_condition_on_one_when_the_customer_spoke_of_all_is_ruled_out(sentence, said):
    assert ruled_out(sentence, said)


@pytest.mark.parametrize("sentence,said", [
    (ONE_EN, "My laptop has no internet, the phone works fine."),
    (ALL_EN, "None of my devices can connect."),          # the condition holds: nothing contradicts it
    (ONE_RU, "На ноутбуке нет интернета, телефон работает."),
    (ALL_RU, "Ни на одном устройстве Wi-Fi не работает."),  # "ни на одном" is all of them, not one
    ("Restart the router and wait two minutes.", "None of my devices can connect."),  # no condition at all
    ("Если роутер горит красным, перезагрузите его.", "Интернета нет ни на одном устройстве."),  # another subject
])
def test_a_condition_the_customer_did_not_contradict_stays(sentence, said):
    assert not ruled_out(sentence, said)


@pytest.mark.parametrize("sentence,channel,sends", [
    ("If it still doesn't add up, write to us in chat in the app.", "chat", True),
    ("Если всё равно не сходится, напишите нам в чат в приложении.", "chat", True),
    ("E-mail us the photo of the receipt.", "email", True),
    ("Позвоните нам, если индикатор не погас.", "phone", True),
    # another way to reach us is worth having: kept
    ("Write to us in chat or call +7 800 700-12-34 (free, 24/7).", "chat", False),
    ("Напишите нам в чат или на почту help@example.org.", "chat", False),
    # not the channel the customer is on, or none known
    ("If it still doesn't add up, write to us in chat in the app.", "email", False),
    ("If it still doesn't add up, write to us in chat in the app.", None, False),
    ("The chat in the app is open around the clock.", "chat", False),
])
def test_a_sentence_sending_the_customer_to_the_channel_they_are_on(sentence, channel, sends):
    assert sends_to_channel(sentence, channel) is sends


@pytest.mark.parametrize("step,said,done", [
    ("Restart the router and wait two minutes.", "I restarted the router twice this morning.", True),
    ("Restart the router.", "I tried restarting the router, no luck.", True),
    ("Check status.volna.example for outages in your area.", "I already checked status.volna.example, nothing there.", True),
    ("Перезагрузите роутер: выньте блок питания на 30 секунд.", "роутер уже перезагружал два раза", True),
    ("Проверьте сетевой кабель, который идёт к приставке.", "Перезагружал, кабели проверил, ошибка та же.", True),
    # a short English verb in the past ("turned" is "turn"), an irregular one, «вытащила» for «выньте»
    ("Turn off Wi-Fi calling in the phone settings.", "I turned off Wi-Fi calling yesterday.", True),
    ("Look at the lights on the modem.", "I looked at the lights on the modem, nothing unusual.", True),
    ("Open the settings app and find Mobile data.", "Opened the settings app, it says mobile data is on.", True),
    ("Run the speed test at speedtest.example.org.", "I ran the speed test twice.", True),
    ("Pull the cable out of the port and push it back.", "I pulled the cable out of the port and pushed it back.", True),
    ("Выньте SIM-карту и вставьте её снова.", "SIM-карту вытаскивал и вставлял обратно, не помогло.", True),
    ("Выньте кабель из порта и вставьте обратно до щелчка.", "Кабель из порта вытащила и вставила до щелчка.", True),
    ("Turn off Wi-Fi calling in the phone settings.", "I turned on the phone this morning.", False),
    # a clause in brackets drops its "I" as a sentence does
    ("Try the SIM in another phone.", "The card is scratched and nothing reads it (tried it in my son's phone as well).", True),
    # another step, another object, or nothing done yet: the step stays
    ("Unplug the router's power for 30 seconds.", "I rebooted the router.", False),
    ("Restart the router and wait two minutes.", "I restarted my phone.", False),
    ("Restart the router.", "The internet has been down since the morning.", False),
    ("Проверьте баланс в приложении.", "Перезагружал, кабели проверил.", False),
])
def test_a_step_the_customer_already_took_is_not_suggested_again(step, said, done):
    assert already_done(step, said) is done


@pytest.mark.parametrize("sentence,said", [
    # a state the customer said is otherwise, of the same thing
    ("If the Internet light turns red or goes off, the problem is the line.", "The Internet light is steady green."),
    ("Если Internet горит красным или не горит, проблема в линии.", "Индикатор Internet у меня ровный зелёный, Wi-Fi мигает."),
    ("If the balance goes negative, you have a 5-day grace period.", "Balance is fine, I topped up 500 yesterday."),
    ("Если баланс ушёл в минус, действует льготный период 5 дней.", "Сети нет с обеда. Баланс в плюсе, 430 ₽."),
    ("E-203 usually means the balance is negative: top up by card.", "E-203 on the TV. But my balance is plus 1,200."),
    # the denial of what they affirmed, or the other way round
    ("If the code does not arrive at all, check the phone number.", "The SMS code arrives, but the site says it is wrong."),
    ("Если код не приходит совсем, проверьте номер телефона.", "Код из SMS приходит, но сайт пишет, что он неверный."),
    ("If the code does not arrive at all, check the phone number.", "My code arrives, only late."),
    # a condition states its case of what it names: "your SIM works" against "No SIM" there too
    ("If your SIM works in a second phone, the card is fine.", "I put it in my wife's phone and it shows No SIM there too."),
    ("Если ваша SIM работает в другом телефоне, карта исправна.", "В телефоне мужа тоже пишет «Нет SIM»."),
    ("If the Internet light is still red after a reboot, the fault is on the line.", "The light is not red any more."),
    ("If your area is listed, our engineers already know about it.", "I checked the status page, there's nothing listed for our area."),
    ("Если ваш район есть в списке, инженеры уже знают о проблеме.", "Проверила сайт, для нашего района ничего нет в списке."),
])
def test_a_condition_on_a_state_the_customer_said_is_otherwise_is_ruled_out(sentence, said):
    assert ruled_out(sentence, said)


@pytest.mark.parametrize("sentence,said", [
    ("If the Internet light stays solid green, it's a Wi-Fi issue.", "The Internet light is steady green."),
    ("Если Internet горит ровным зелёным, дело в Wi-Fi.", "Индикатор Internet у меня ровный зелёный, Wi-Fi мигает."),
    ("If the Internet light turns red, the problem is the line.", "The Wi-Fi light is green."),  # another light
    ("If the balance is positive and E-203 is still there, reboot the box.", "But my balance is plus 1,200."),
    ("Если баланс ушёл в минус, действует льготный период.", "Лампочка на роутере зелёная."),  # another thing
    ("If the Internet light is still red after a reboot, the fault is on the line.", "The Internet light is red, I rebooted."),
    ("Если код не приходит совсем, проверьте номер телефона.", "Код из SMS не приходит уже час."),
    ("If your area is listed, our engineers already know about it.", "I checked the status page and our area is listed."),
    ("Если ваш район есть в списке, инженеры уже знают о проблеме.", "Проверила сайт: наш район есть в списке."),
    # a thing the customer names ("my SIM") is not a thing they say is there
    ('- **It doesn\'t work there either, or the phone says "No SIM"**: the SIM is replaced only in an office.',
     "My SIM card got bent and now the phone does not see it."),
    ("- **Там тоже не работает или телефон пишет «Нет SIM»** — карту меняют только в офисе.", "Моя SIM в телефоне погнулась."),
    ("Если на экране нет сигнала, проверьте кабель HDMI.", "Мой сигнал на экране пропадает, но телевизор включается."),
])
def test_a_condition_on_a_state_the_customer_did_not_contradict_stays(sentence, said):
    assert not ruled_out(sentence, said)


@pytest.mark.parametrize("step,said", [
    # the language's own synonyms
    ("Restart the phone and wait a minute.", "I switched the phone off and on like ten times."),
    ("Reboot the router.", "I restarted the router twice."),
    ("Перезагрузите роутер.", "Роутер выключила и включила, не помогло."),
    ("Выньте блок питания роутера из розетки на 30 секунд.", "Роутер из розетки выдёргивала дважды."),
    ("Если не работает ТВ, отключите от розетки и приставку на полминуты.", "Приставку выключала из розетки."),
    ("Unplug the Volna Box for half a minute.", "I unplugged the Volna Box, nothing changed."),
    # a site the customer already reported on
    ("Check status.example.org for an outage in your area.", "Nothing about our street on status.example.org."),
    ("Check status.example.org for an outage in your area.", "There's nothing on the status page for my area."),
    ("Откройте status.example.org, например на телефоне.", "На status.example.org висит авария по району."),
    # the steps listed after the first, and a step that names no object of its own
    ("Turn airplane mode on, wait a few seconds and turn it off.", "I've restarted the phone, flipped airplane mode on and off."),
    ("Reboot: unplug the power for 30 seconds.", "Ran the test five times. I rebooted the router before testing."),
    ("Connect a computer to the router with a network cable.", "On Volna 500. Connected my PC to the router with a cable."),
    # "tried" with its object right after it is the step "try" itself
    ("Try the SIM in another phone.", "I even tried it in my husband's phone and his says 'No SIM' too."),
    # a word for whatever device is at hand stands for the step's own
    ("Restart the modem.", "Offline since lunch. Restarted the thing like twenty times."),
    ("Перезагрузите модем.", "Интернета нет с обеда. Раз двадцать перезагружал эту штуку."),
])
def test_the_same_step_in_other_words_is_not_suggested_again(step, said):
    assert already_done(step, said)


DEFINES_EN = "## Fix it\n1. Reboot the router: unplug the power for 30 seconds and plug it back in."
DEFINES_RU = "1. Перезагрузите приставку: выньте вилку из розетки на полминуты."
CHECK_CABLE_EN = "Check the cable in the WAN port: pull it out and push it back until it clicks."
CHECK_CABLE_RU = "Проверьте кабель в порту WAN: выньте его и вставьте обратно до щелчка."


@pytest.mark.parametrize("step,said,kb", [
    ("Unplug the router's power for 30 seconds.", "I rebooted the router.", DEFINES_EN),
    ("Reboot the router and check the cable.", "I unplugged the router twice.", DEFINES_EN),
    ("Перезагрузите приставку.", "Приставку выключала из розетки, кабель проверила.", DEFINES_RU),
    (CHECK_CABLE_EN, "I unplugged the cable from the WAN port and plugged it back.", CHECK_CABLE_EN),
    (CHECK_CABLE_RU, "Кабель в WAN вынимала и вставляла до щелчка.", CHECK_CABLE_RU),
])
def test_a_step_the_knowledge_base_defines_by_another_is_the_same_step(step, said, kb):
    assert not already_done(step, said)  # without the knowledge base's definition, two steps
    assert already_done(step, said, step_definitions([kb]))


@pytest.mark.parametrize("step,said", [
    ("Check the cable in the WAN port.", "I rebooted the router."),           # another step
    ("Unplug the Volna Box for half a minute.", "I unplugged the router."),  # another object
    ("Проверьте кабель в порту WAN.", "Роутер выключила и включила."),
    ("Откройте status.example.org.", "Интернет пропал после обеда."),                 # nothing reported from the site
    ("Check status.example.org for an outage.", "The help page says to reboot, I did not look at anything else."),
    ("Open my.example.org and check your balance.", "I checked my page on the bank's site, the money left."),
    ("Reboot: unplug the power for 30 seconds.", "The speed drops every evening."),
    ("Check the router lights.", "I unplugged the router."),  # a definition holds for its own object only
    ("Посмотрите на индикаторы роутера.", "Роутер из розетки выдёргивала."),
    ("Отключите автоплатёж в приложении.", "Роутер отключала от розетки."),  # switching off is no unplugging
    ("Try the SIM in another phone.", "I tried restarting the router."),  # "tried" before another verb
    ("Restart the modem.", "My tablet won't load pages, I restarted it."),  # "it" is the tablet
])
def test_another_step_stays(step, said):
    assert not already_done(step, said, step_definitions([DEFINES_EN, DEFINES_RU, CHECK_CABLE_EN, CHECK_CABLE_RU]))


def test_knowledge_base_headings_and_lead_ins_are_no_definitions():
    assert not step_definitions(["## Measure the speed the right way\n1. Reboot the router first.",
                                 "To use a technical term, explain it.", "Note: the router restarts by itself."])
    assert step_definitions([DEFINES_EN]) and step_definitions([CHECK_CABLE_RU])


@pytest.mark.parametrize("sentence,channel,sends", [
    ("If E-203 is still there after an hour, write to us with your contract number.", "chat", True),
    ("Если E-101 не пропадает, обратитесь к нам.", "chat", True),
    ("Это неисправность: напишите в поддержку, и мы разберёмся.", "email", True),
    ("If E-203 is still there after an hour, write to us or call +7 800 000-00-00.", "chat", False),
])
def test_an_invitation_naming_no_channel_is_the_one_the_customer_is_on(sentence, channel, sends):
    assert sends_to_channel(sentence, channel) is sends


@pytest.mark.parametrize("sentence,invites", [
    ("Write to us in the chat if the router keeps restarting.", True),
    ("Напишите нам в чат, если роутер сам перезагружается.", True),
    ("Contact us if the light stays red.", True),
    ("Напишите нам в чат или позвоните по номеру +7 800 000-00-00.", False),  # a number to call stays
    ("Write to us in the chat or call +7 800 000-00-00 (free, 24/7).", False),
    ("If someone asks for a code, call the fraud line: +7 800 000-00-01.", False),  # a step, not a second route
    ("Позвоните на линию по борьбе с мошенничеством, чтобы заблокировать номер.", False),
    ("Reboot the router and wait two minutes.", False),
])
def test_an_invitation_to_contact_us_is_told_apart(sentence, invites):
    assert invites_contact(sentence) is invites


@pytest.mark.parametrize("said,dropped", [
    ("E-203 on the TV. But my balance is plus 1,200.", {2, 3}),   # the steps for a negative balance go too
    ("E-203 on the TV and my balance is minus 300.", set()),
])
def test_what_follows_a_ruled_out_diagnosis_goes_with_it(said, dropped):
    section = ["## E-203: subscription not active", "This usually means the balance is negative.",
               "Top up by bank card in the app: TV comes back within 1 hour.",
               "If you can't pay right now, the app offers a trust payment.",
               "## The picture freezes", "Reboot the box and the router."]
    assert under_ruled_out_diagnosis(section, said) == dropped


def test_what_follows_a_ruled_out_diagnosis_goes_with_it_ru():
    section = ["## E-203: подписка не активна", "Обычно это означает, что баланс ушёл в минус.",
               "Пополните баланс картой в приложении.", "## Изображение зависает", "Перезагрузите приставку."]
    assert under_ruled_out_diagnosis(section, "Ошибка E-203, но баланс в плюсе, 430 ₽.") == {2}
    assert under_ruled_out_diagnosis(section, "Ошибка E-203, баланс в минусе.") == set()


# A list item's bold lead is a case the article splits on: "- **X**: Y" says "if X, Y".
MODEM_WORKS_EN = "- **The modem connects from the neighbour's socket**: the wiring in your flat is at fault."
MODEM_FAILS_EN = "- **The modem does not connect from the neighbour's socket either**: the modem itself may be broken."
MODEM_WORKS_RU = "- **Модем подключается от соседской розетки** — дело в проводке квартиры."
MODEM_FAILS_RU = "- **Модем не подключается и от соседской розетки** — возможно, неисправен сам модем."


@pytest.mark.parametrize("item,said", [
    (MODEM_FAILS_EN, "Plugged into the neighbour's socket the modem connects fine."),
    (MODEM_WORKS_EN, "I took it next door: the modem does not connect from the neighbour's socket either."),
    (MODEM_FAILS_RU, "От соседской розетки модем подключается нормально."),
    (MODEM_WORKS_RU, "Отнёс к соседям: модем и от соседской розетки не подключается."),
])
def test_a_list_items_bold_lead_the_customer_ruled_out_is_ruled_out(item, said):
    assert ruled_out(item, said)


@pytest.mark.parametrize("item,said", [
    (MODEM_WORKS_EN, "Plugged into the neighbour's socket the modem connects fine."),   # the branch that holds
    (MODEM_FAILS_RU, "Модем не подключается и от соседской розетки."),
    (MODEM_FAILS_EN, "The modem lost the connection this morning."),                    # nothing said of the case
    ("- **Restart**: hold the power button for five seconds.", "I restarted the modem twice."),  # a term, no case
    ("- **Перезапуск** — удерживайте кнопку питания пять секунд.", "Модем перезапускал дважды."),
])
def test_a_bold_lead_the_customer_did_not_contradict_stays(item, said):
    assert not ruled_out(item, said)


@pytest.mark.parametrize("sentence,said,past", [
    ("If the card is declined, the store retries the charge on the 14th.",
     "It was declined on the 12th, and on the 14th it failed again.", True),
    ("If the card is declined, there will be one more attempt on the 14th.", "Declined on the 12th. On the 14th it failed too.", True),
    ("Если оплата не прошла, 14-го будет ещё одна попытка.", "12-го не прошла. 14-го тоже ничего не списали.", True),
    ("Если оплата не прошла, сервис повторно спишет сумму 14-го числа.",
     "12-го оплата не прошла, 14-го тоже ничего не списали.", True),
    # the day is still to come, or the customer says nothing of it
    ("If the card is declined, the store retries the charge on the 14th.", "It was declined on the 12th.", False),
    ("If the card is declined, the store retries the charge on the 14th.", "It was declined. Will it try on the 14th?", False),
    ("Если оплата не прошла, сервис повторно спишет сумму 14-го числа.", "12-го оплата не прошла.", False),
    ("Если оплата не прошла, сервис повторно спишет сумму 14-го числа.", "Оплата не прошла, а 14-го числа спишут?", False),
    # the retry happened and worked: the sentence explains it
    ("If the card is declined, the store retries the charge on the 14th.", "On the 14th the store charged my card again.", False),
    ("Если оплата не прошла, сервис повторно спишет сумму 14-го числа.", "Сегодня 14-е, и сервис снова списал деньги.", False),
    # no retry announced: a date the customer mentions is no contradiction
    ("The subscription fee is charged on the 14th.", "On the 14th I was charged twice.", False),
])
def test_a_retry_on_a_day_the_customer_reports_as_past(sentence, said, past):
    assert retry_already_past(sentence, said) is past


@pytest.mark.parametrize("sentence,channel,kept", [
    ("Message us in the chat on the website or phone 8 800 555-01-01.", "chat", "Phone 8 800 555-01-01."),
    ("Напишите нам в чат на сайте либо позвоните 8 800 555-01-01.", "chat", "Позвоните 8 800 555-01-01."),
    ("If the meter still shows zero, write to us in the chat or call 8 800 555-01-01.", "chat",
     "If the meter still shows zero, call 8 800 555-01-01."),
    ("Если счётчик всё ещё на нуле, напишите нам в чат или позвоните 8 800 555-01-01.", "chat",
     "Если счётчик всё ещё на нуле, позвоните 8 800 555-01-01."),
    ("Write to us or e-mail billing@example.org.", "chat", "E-mail billing@example.org."),  # no channel named: theirs
    # not the customer's channel, no other route to keep, or no channel known: unchanged
    ("Message us in the chat on the website or phone 8 800 555-01-01.", "email",
     "Message us in the chat on the website or phone 8 800 555-01-01."),
    ("Напишите нам в чат на сайте.", "chat", "Напишите нам в чат на сайте."),
    ("Message us in the chat on the website or phone 8 800 555-01-01.", None,
     "Message us in the chat on the website or phone 8 800 555-01-01."),
])
def test_inside_a_channel_an_invitation_to_it_gives_way_to_the_other_route(sentence, channel, kept):
    assert without_channel(sentence, channel) == kept
    assert not sends_to_channel(kept, channel) or kept == sentence


@pytest.mark.parametrize("heading,sentence,channel,dropped", [
    ("## Ways to contact us", "Chat on the website, from 9:00 to 21:00.", "chat", True),
    ("## Как связаться с поддержкой", "Чат на сайте, с 9:00 до 21:00.", "chat", True),
    ("## Ways to contact us", "Hotline 8 800 555-01-01, from 9:00 to 21:00.", "chat", False),  # a number: kept
    ("## Контакты", "Горячая линия 8 800 555-01-01, с 9:00 до 21:00.", "chat", False),
    ("## Ways to contact us", "Chat on the website, from 9:00 to 21:00.", "email", False),      # not their channel
    ("## Reading the meter", "The chat icon on the meter means it is online.", "chat", False),   # no contact list
    ("## Показания счётчика", "Значок чата на счётчике значит, что он в сети.", "chat", False),
])
def test_a_contact_lists_line_naming_only_the_customers_channel(heading, sentence, channel, dropped):
    assert (contact_heading(heading) and names_only_channel(sentence, channel)) is dropped


METER_EN = """## The meter shows no data
- **The meter sends data over the other network**: the fault is in your home network, restart its router.
- **The meter sends no data over the other network either**: the meter itself needs a check by our engineer.
If the meter is still silent after that, write to us in the chat on the website or call 8 800 555-01-01 (free).

## Ways to contact us
- Chat on the website, from 9:00 to 21:00 every day.
- Hotline 8 800 555-01-01, from 9:00 to 21:00 every day."""
METER_RU = """## Счётчик не передаёт данные
- **Счётчик передаёт данные через другую сеть** — дело в вашей домашней сети, перезапустите её роутер.
- **Счётчик не передаёт данные и через другую сеть** — сам счётчик нужно проверить нашему инженеру.
Если после этого счётчик всё ещё молчит, напишите нам в чат на сайте или позвоните 8 800 555-01-01 (бесплатно).

## Как с нами связаться
- Чат на сайте, с 9:00 до 21:00 ежедневно.
- Горячая линия 8 800 555-01-01, с 9:00 до 21:00 ежедневно."""


@pytest.mark.parametrize("text,lang,said,gone,kept", [
    (METER_EN, "en", "I hooked the meter to my phone's hotspot and the meter sends data over the other network fine.",
     ["engineer", "Chat on the website", "write to us"], ["restart its router", "call 8 800 555-01-01 (free)"]),
    (METER_RU, "ru", "Подключил к точке доступа телефона: счётчик передаёт данные через другую сеть нормально.",
     ["инженеру", "Чат на сайте", "напишите нам"], ["перезапустите её роутер", "позвоните 8 800 555-01-01 (бесплатно)"]),
])
def test_a_chat_draft_keeps_only_what_holds_for_this_customer(text, lang, said, gone, kept):
    from copilot.draft import candidate_sentences
    from knowledge_base.documents import SearchHit

    hit = SearchHit(source_id="meter", chunk_id="meter::0", title="Meter", text=text, score=1.0,
                    found_by=["lexical"], lang=lang, doc_type="article")
    chosen = " ".join(c[3] for c in candidate_sentences([hit], customer_text=said, channel="chat"))
    assert all(g not in chosen for g in gone), chosen
    assert all(k in chosen for k in kept), chosen
    # outside a chat the invitation and the contact list stay as written
    as_mail = " ".join(c[3] for c in candidate_sentences([hit], customer_text=said, channel="email"))
    assert all(g in as_mail for g in gone[1:]), as_mail


@pytest.mark.parametrize("sentence,channel,line", [
    ("Chat on the website, from 9:00 to 21:00 every day.", "chat", True),
    ("В чате на сайте, с 9:00 до 21:00 ежедневно.", "chat", True),
    ("By e-mail at any time of the day.", "email", True),
    ("Chat or call 8 800 555-01-01.", "chat", False),                       # a number to call: kept
    ("Чат или горячая линия 8 800 555-01-01.", "chat", False),
    ("The chat icon on the meter means it is online.", "chat", False),      # not a way to reach us
    ("Значок чата на счётчике значит, что он в сети.", "chat", False),
    ("Chat on the website, from 9:00 to 21:00 every day.", "email", False),  # not their channel
])
def test_a_contact_line_opening_with_the_customers_channel(sentence, channel, line):
    assert contact_line(sentence, channel) is line


@pytest.mark.parametrize("outcome,said,says", [
    # the same state of the same thing, in other words
    ("mobile data is unavailable", "My mobile data isn't working since this morning.", True),
    ("mobile data is unavailable", "Mobile data on my phone stopped working.", True),
    ("мобильный интернет недоступен", "Не работает мобильный интернет на телефоне.", True),
    ("мобильный интернет недоступен", "Мобильный интернет перестал работать вчера.", True),
    ("the internet is slow", "My internet is really sluggish in the evenings.", True),
    ("интернет работает медленно", "Интернет тормозит по вечерам.", True),
    ("mobile data is unavailable", "I have no mobile data on my phone.", True),
    ("mobile data is unavailable", "I can't use mobile data anywhere.", True),
    ("мобильный интернет недоступен", "У меня нет мобильного интернета.", True),
    ("мобильный интернет недоступен", "Не могу пользоваться мобильным интернетом.", True),
    # another state of it, working badly (neither), another thing, or the state denied
    ("mobile data is unavailable", "My mobile data is really slow.", False),
    ("мобильный интернет недоступен", "Мобильный интернет очень медленный.", False),
    ("mobile data is unavailable", "Mobile data is not working well since this morning.", False),
    ("mobile data is unavailable", "The wifi at home is not working.", False),
    ("mobile data is unavailable", "My mobile data is not unavailable, it is just slow.", False),
    ("мобильный интернет недоступен", "Домашний Wi-Fi не работает.", False),
])
def test_a_customer_says_an_outcome_when_they_name_its_thing_in_its_state(outcome, said, says):
    assert says_state(outcome, said) is says


def test_a_state_word_is_taken_out_where_it_stands_not_inside_another_word():
    from knowledge_base.states import states_in

    # «нет» inside «интернета», "red" inside "entered": what is left still names the thing
    assert states_in("У меня нет мобильного интернета")[1].split() == ["У", "меня", "мобильного", "интернета"]
    assert states_in("I entered the code, the light is red") == ({"light": {"red"}}, "I entered the code, the light is  ")


@pytest.mark.parametrize("turns,step,done", [
    # the agent asked about a step and the customer said yes: the step is theirs, in either language
    (["The Internet light's been red since this morning.",
      "Sorry about that! Have you tried rebooting the router and checking the cable in the WAN port?",
      "Yes, rebooted twice, the cable is in properly."], "Reboot the router: unplug the power for 30 seconds.", True),
    (["No internet since lunch.", "Did you restart the router?", "Yep."], "Restart the router and wait two minutes.", True),
    (["После грозы дома пропал интернет.", "Понимаю. Вы перезагружали роутер?", "Да, два раза."],
     "Перезагрузите роутер: выньте блок питания на 30 секунд.", True),
    (["После грозы дома пропал интернет.", "Пробовали перезагрузить роутер?", "Да"],
     "Перезагрузите роутер: выньте блок питания на 30 секунд.", True),
    # a no, or a question about something else, says nothing done
    (["No internet.", "Have you rebooted the router?", "No, not yet."], "Reboot the router.", False),
    (["После грозы дома пропал интернет.", "Вы перезагружали роутер?", "Нет, ещё не пробовала."],
     "Перезагрузите роутер.", False),
    (["No internet.", "Is the Internet light red?", "Yes."], "Reboot the router.", False),
])
def test_a_step_the_agent_asked_about_and_the_customer_confirmed_is_done(turns, step, done):
    roles = ["customer", "agent"] * len(turns)
    assert already_done(step, said_by_customer(zip(roles, turns))) is done


@pytest.mark.parametrize("check,said", [
    ("Check that the power adapter is firmly plugged into the router and into a working socket.",
     "The power adapter is firmly plugged in, the light is still red."),
    ("Check your balance.", "My balance is positive, 300 RUB."),
    ("Make sure the lights are not blinking orange.", "All the lights are solid green."),
    ("Проверьте, что блок питания плотно вставлен в роутер и в исправную розетку.",
     "Блок питания плотно вставлен, лампочка всё равно красная."),
    ("Проверьте баланс.", "Баланс положительный, 300 рублей."),
    ("Убедитесь, что индикаторы не мигают оранжевым.", "Все индикаторы горят ровным зелёным."),
])
def test_a_check_whose_outcome_the_customer_already_told_is_not_suggested(check, said):
    assert already_done(check, said)


@pytest.mark.parametrize("check,said", [
    # a question, a denial, a condition: nothing was found out
    ("Check that the power adapter is firmly plugged into the router and into a working socket.",
     "Is the power adapter plugged in properly?"),
    ("Check that the power adapter is firmly plugged into the router and into a working socket.",
     "The power adapter isn't plugged in firmly, it keeps falling out."),
    ("Проверьте, что блок питания плотно вставлен в роутер и в исправную розетку.", "А блок питания точно вставлен?"),
    ("Проверьте баланс.", "Если баланс в плюсе, почему не работает?"),
    # naming the thing without its state
    ("Check your balance.", "I topped up my balance yesterday."),
    ("Проверьте баланс.", "Вчера пополнила баланс."),
    # the complaint says nothing of the settings the check looks at
    ("Check the mobile data settings.", "My mobile data stopped working this morning."),
    ("Проверьте настройки мобильного интернета.", "Мобильный интернет перестал работать."),
    ("Make sure the lights are not blinking orange.", "The internet does not work."),
])
def test_a_check_stays_until_the_customer_tells_its_outcome(check, said):
    assert not already_done(check, said)

