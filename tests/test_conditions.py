"""A knowledge-base sentence whose condition the customer already ruled out is not one to
copy into the reply: scope (one device / all devices), both languages, both directions."""

from __future__ import annotations

import pytest

from copilot.conditions import already_done, ruled_out, sends_to_channel

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
    ("Напишите нам в чат или на почту help@volna.example.", "chat", False),
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
    # another step, another object, or nothing done yet: the step stays
    ("Unplug the router's power for 30 seconds.", "I rebooted the router.", False),
    ("Restart the router and wait two minutes.", "I restarted my phone.", False),
    ("Restart the router.", "The internet has been down since the morning.", False),
    ("Проверьте баланс в приложении.", "Перезагружал, кабели проверил.", False),
])
def test_a_step_the_customer_already_took_is_not_suggested_again(step, said, done):
    assert already_done(step, said) is done
