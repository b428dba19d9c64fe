"""Pasted conversations become the turns an operator would read in them: chat logs with
timestamps, names and role words in Russian and English, and helpdesk JSON exports."""

import json

import pytest

from copilot.schema import Conversation
from copilot.ui.render import parse_transcript, transcript_preview


def roles(turns):
    return [t["role"] for t in turns]


@pytest.mark.parametrize("text,expected", [
    ("[10:02] Anna: my internet is down since last night\n[10:03] Bob: Which lights are on?\n[10:05] Anna: the red one",
     [("customer", "my internet is down since last night"), ("agent", "Which lights are on?"),
      ("customer", "the red one")]),
    ("[10:02] Анна: интернет пропал\n[10:03] Мария: какие индикаторы горят?\n[10:05] Анна: красный",
     [("customer", "интернет пропал"), ("agent", "какие индикаторы горят?"), ("customer", "красный")]),
    ("10:02 Anna: hi, my TV shows E-101\n10:04 Bob: please restart it",
     [("customer", "hi, my TV shows E-101"), ("agent", "please restart it")]),
    ("2026-11-30 10:02:11 - Анна - не приходит оплата\n2026-11-30 10:03:40 - Олег - когда платили?\n"
     "2026-11-30 10:04:02 - Анна - вчера",
     [("customer", "не приходит оплата"), ("agent", "когда платили?"), ("customer", "вчера")]),
    ("30.11.2026, 10:02 - Anna: payment missing\n30.11.2026, 10:03 - Oleg: when did you pay?",
     [("customer", "payment missing"), ("agent", "when did you pay?")]),
])
def test_timestamped_logs_with_names_alternate_customer_and_agent(text, expected):
    assert [(t["role"], t["text"]) for t in parse_transcript(text)] == expected


@pytest.mark.parametrize("text,expected_roles", [
    ("Customer: no internet\nAgent: since when?\nCustomer: this morning", ["customer", "agent", "customer"]),
    ("Client: refund please\nOperator: which order?", ["customer", "agent"]),
    ("Support: Hello, how can I help?\nUser: my bill is wrong", ["agent", "customer"]),
    ("Клиент: нет интернета\nОператор: с какого времени?\nКлиент: с утра", ["customer", "agent", "customer"]),
    ("Покупатель: где заказ?\nСпециалист: проверяю", ["customer", "agent"]),
    ("Агент: добрый день\nКлиент: списали дважды", ["agent", "customer"]),
    ("Поддержка: чем помочь?\nАбонент: нет связи", ["agent", "customer"]),
])
def test_role_words_in_both_languages_decide_the_role(text, expected_roles):
    assert roles(parse_transcript(text)) == expected_roles


def test_a_role_word_names_the_agent_even_when_the_agent_speaks_first():
    # en: the operator greets first, the customer answers under a plain name
    turns = parse_transcript("[10:00] Operator: Good morning!\n[10:01] Anna: no internet\n[10:02] Operator: since when?")
    assert roles(turns) == ["agent", "customer", "agent"]
    # ru
    turns = parse_transcript("Оператор: Здравствуйте, чем помочь?\nИван: нет интернета\nОператор: номер договора?\nИван: 7712345678")
    assert roles(turns) == ["agent", "customer", "agent", "customer"]
    assert turns[-1]["text"] == "7712345678"


def test_a_name_keeps_its_role_and_a_labelled_customer_makes_other_names_agents():
    turns = parse_transcript("Anna: my tv does not work\nBob: which model?\nAnna: Samsung\nBob: thanks")
    assert roles(turns) == ["customer", "agent", "customer", "agent"]
    turns = parse_transcript("Мария: здравствуйте, чем помочь?\nКлиент: нет интернета\nМария: проверяю")
    assert roles(turns) == ["agent", "customer", "agent"]


@pytest.mark.parametrize("text,expected", [
    ("Anna (10:02): hi there\nBob (10:03): hello", ["customer", "agent"]),
    ("10:02 AM John Smith: cannot log in\n10:04 AM Support Team: reset link sent", ["customer", "agent"]),
    ("Оператор Мария: добрый день\nКлиент Иван: нет связи", ["agent", "customer"]),
    ("Customer:\nmy text\non two lines\nAgent:\nreply", ["customer", "agent"]),
])
def test_other_common_header_shapes(text, expected):
    assert roles(parse_transcript(text)) == expected


def test_continuation_lines_join_the_turn_they_follow():
    turns = parse_transcript("Клиент: вайфай в спальне пропадает\nи роутер мигает\n\nОператор: понял\n"
                             "Customer: also\nthe TV")
    assert turns == [{"role": "customer", "text": "вайфай в спальне пропадает\nи роутер мигает"},
                     {"role": "agent", "text": "понял"}, {"role": "customer", "text": "also\nthe TV"}]


def test_a_name_with_the_time_on_its_own_line_opens_a_turn():
    turns = parse_transcript("Anna, [30.11.2026 10:02]\nno internet\nSupport, [30.11.2026 10:03]\ncheck the router")
    assert turns == [{"role": "customer", "text": "no internet"}, {"role": "agent", "text": "check the router"}]


@pytest.mark.parametrize("text", [
    "my internet is down",
    "Error: E-101 on the screen\nplease help",
    "Ошибка: E-101 на экране, помогите",
    "Problem: the router is red. Update: still red after a restart",
    "Адрес: ул. Ленина 5, кв 3\nнет интернета",
    "Здравствуйте. Проблема: нет интернета.\nВчера: тоже не было",
    "Hello. Update: still down\nToday: the same",
])
def test_text_without_speakers_stays_one_customer_message(text):
    turns = parse_transcript(text)
    assert len(turns) == 1 and turns[0]["role"] == "customer"
    assert turns[0]["text"].split() == text.split()


def test_chatwoot_export_drops_private_notes_and_activity():
    export = {"payload": [
        {"content": "Hi, no internet since morning", "message_type": 0, "private": False,
         "sender": {"name": "Anna", "type": "contact"}},
        {"content": "check the outage map", "message_type": 1, "private": True, "sender": {"type": "user"}},
        {"content": "Conversation was assigned to Bob", "message_type": 2},
        {"content": "Sorry! Which lights are on?", "message_type": 1, "private": False,
         "sender": {"name": "Bob", "type": "user"}},
    ]}
    assert parse_transcript(json.dumps(export)) == [
        {"role": "customer", "text": "Hi, no internet since morning"},
        {"role": "agent", "text": "Sorry! Which lights are on?"}]


def test_zendesk_comments_use_the_requester_and_drop_internal_notes():
    export = {"ticket": {"id": 7, "requester_id": 5}, "comments": [
        {"author_id": 5, "body": "Мне дважды списали абонентскую плату", "public": True},
        {"author_id": 9, "body": "проверить платежи", "public": False},
        {"author_id": 9, "html_body": "<p>Проверим&nbsp;платежи</p><p>Ответим сегодня</p>", "public": True},
    ]}
    assert parse_transcript(json.dumps(export, ensure_ascii=False)) == [
        {"role": "customer", "text": "Мне дважды списали абонентскую плату"},
        {"role": "agent", "text": "Проверим платежи\nОтветим сегодня"}]


def test_request_tracker_transactions_keep_correspondence_only():
    export = [{"Type": "Create", "Creator": "anna@example.com", "Content": "VPN does not connect"},
              {"Type": "Comment", "Creator": "bob", "Content": "internal: known bug"},
              {"Type": "Correspond", "Creator": "bob", "Content": "Please update the client"},
              {"Type": "Status", "Creator": "bob", "Content": "resolved"},
              {"Type": "Correspond", "Creator": "anna@example.com", "Content": "works now"}]
    assert [(t["role"], t["text"]) for t in parse_transcript(json.dumps(export))] == [
        ("customer", "VPN does not connect"), ("agent", "Please update the client"), ("customer", "works now")]


def test_generic_message_lists_by_role_or_by_author():
    assert roles(parse_transcript(json.dumps({"messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}))) == ["customer", "agent"]
    assert roles(parse_transcript(json.dumps([
        {"author": "Анна", "text": "нет связи"}, {"author": "Олег", "text": "где?"}, {"author": "Анна", "text": "дома"}],
        ensure_ascii=False))) == ["customer", "agent", "customer"]
    assert roles(parse_transcript(json.dumps({"messages": [
        {"incoming": False, "body": "Hello!"}, {"incoming": True, "body": "refund"}]}))) == ["agent", "customer"]


def test_broken_json_is_read_as_text_not_lost():
    turns = parse_transcript('[10:02] Anna: {"a": 1\n[10:03] Bob: ok')
    assert roles(turns) == ["customer", "agent"]


def test_parsed_turns_make_a_valid_conversation_and_a_preview_in_the_operators_language():
    turns = parse_transcript("[10:02] Anna: " + "word " * 100 + "\n[10:03] Bob: since when?")
    Conversation.model_validate({"messages": turns})
    en = transcript_preview(turns, "en", width=60).splitlines()
    ru = transcript_preview(turns, "ru", width=60).splitlines()
    assert en[0].startswith("1. Customer: word") and en[0].endswith("…") and len(en[0]) < 80
    assert en[1] == "2. Agent: since when?"
    assert ru[0].startswith("1. Клиент: ") and ru[1] == "2. Оператор: since when?"
