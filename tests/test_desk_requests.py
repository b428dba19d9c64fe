"""What every support desk takes is never off-topic: a disputed charge, a refund, closing
the account, a complaint about how the customer was treated. A knowledge base that is all
troubleshooting (a phone manual, a restaurant's booking rules) says nothing about billing,
and the everyday requests it is compared with include a bank's fees and a shop's returns,
so without the desk's own requests "you charged me twice" was refused as outside what the
business does. Both languages; the off-domain requests are still refused."""

from __future__ import annotations

import json
import re

import pytest

from copilot.engine import OFF_TOPIC
from knowledge_base.domain import DESK_REQUESTS

from helpers import OFF_DOMAIN, conversation, copilot_over

MANUAL = {
    "no-signal.md": "---\nid: no-signal\ntitle: No signal on the phone\nlang: en\n---\n# No signal on the phone\n\n"
                    "If the status bar shows no bars, turn airplane mode off and on again. If it still shows no "
                    "signal, take the SIM card out, check it for damage and put it back. Restart the phone.\n",
    "picture-messages.md": "---\nid: picture-messages\ntitle: Picture messages do not send\nlang: en\n---\n"
                           "# Picture messages do not send\n\nPicture messages need mobile data turned on, even on "
                           "Wi-Fi. Turn Wi-Fi calling off while sending and give the messaging app storage access.\n",
    "net-signal.md": "---\nid: net-signal\ntitle: Нет сети на телефоне\nlang: ru\n---\n# Нет сети на телефоне\n\n"
                     "Если в строке состояния нет ни одного деления, включите и выключите режим полёта. Если сети "
                     "всё равно нет, выньте SIM-карту, осмотрите её и вставьте обратно. Перезагрузите телефон.\n",
    "mms.md": "---\nid: mms\ntitle: Не отправляются MMS\nlang: ru\n---\n# Не отправляются MMS\n\nДля MMS нужна "
              "мобильная передача данных, даже при подключении к Wi-Fi. Отключите звонки по Wi-Fi на время отправки "
              "и дайте приложению сообщений доступ к памяти.\n",
}

DESK_BUSINESS = [
    ("en", "You took the monthly fee from my card twice, I want one of them refunded."),
    ("en", "I'd like to end my contract with you, how do I do that?"),
    ("en", "Your agent hung up on me yesterday and I want to make a formal complaint."),
    ("ru", "С карты дважды сняли абонентскую плату, верните одно списание."),
    ("ru", "Как перестать быть вашим клиентом, какие бумаги подписать?"),
    ("ru", "Ваш сотрудник вчера бросил трубку, хочу подать официальную жалобу."),
]


@pytest.fixture(scope="module")
def manual_desk(tmp_path_factory, session_cache):
    return copilot_over(MANUAL, tmp_path_factory.mktemp("manual"), session_cache)


@pytest.mark.parametrize("lang,text", DESK_BUSINESS)
def test_billing_closing_and_complaints_are_the_desks_business_without_a_billing_article(manual_desk, lang, text):
    s = manual_desk.suggest(conversation(text))
    assert s.language == lang
    assert s.intent.label != OFF_TOPIC and not any(f.startswith("off_topic:") for f in s.flags)
    assert s.handoff.needed  # nothing in these articles answers it: a person does


@pytest.mark.parametrize("lang,text", OFF_DOMAIN)
def test_off_domain_requests_are_still_refused_on_that_desk(manual_desk, lang, text):
    s = manual_desk.suggest(conversation(text))
    assert s.intent.label == OFF_TOPIC and not s.handoff.needed


def test_the_desk_requests_name_no_industry_and_cover_both_languages():
    rows = [json.loads(line) for line in DESK_REQUESTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert {r["lang"] for r in rows} == {"en", "ru"}
    assert min(sum(r["lang"] == lang for r in rows) for lang in ("en", "ru")) >= 3
    industry = re.compile(r"\b(?:internet|router|sim|tariff|wi-?fi|restaurant|интернет\w*|роутер\w*|тариф\w*|ресторан\w*)\b",
                          re.I)
    assert not [r["text"] for r in rows if industry.search(r["text"])]


def test_the_scope_eval_asks_the_desks_requests_of_a_desk_without_billing_articles(demo_index, tmp_path):
    from evals.bench import scope

    kb = tmp_path / "copy"
    copied = scope.without_money_and_account(demo_index.settings.demo_kb, kb)
    assert copied and {p.name for p in kb.iterdir()} >= {"router-lights-en.md", "router-lights-ru.md"}
    assert not {"refunds-en.md", "refunds-ru.md", "payment-methods-en.md", "contract-termination-ru.md"} \
        & {p.name for p in kb.iterdir()}
    result = scope.run_without_billing(demo_index.settings, tmp_path / "run", "dev")
    for lang in ("en", "ru"):
        refused, total = result.rate(lang, "desk_business", "refused")
        assert total == 10 and refused <= 1  # dev, where the margin was chosen (none of 10 when chosen)
        off, off_total = result.rate(lang, "off_domain", "refused")
        assert off_total == 10 and off >= 7
    text = scope.desk_markdown(result)
    assert "| en |" in text and "| ru |" in text and "Where we lose" in text and f"the {copied} articles" in text


def test_the_desk_requests_are_cached_with_the_background_and_an_edit_rebuilds_them(manual_desk, tmp_path, monkeypatch):
    from knowledge_base.domain import DomainGate

    first = DomainGate(manual_desk.index)
    background, desk = first._vectors()
    assert set(desk) == {"en", "ru"} and all(len(v) >= 3 for v in desk.values())
    again = DomainGate(manual_desk.index)  # another process: loads both from the cache
    monkeypatch.setattr(again, "_build", lambda generation: pytest.fail("recomputed"))
    assert {k: v.shape for k, v in again._vectors()[1].items()} == {k: v.shape for k, v in desk.items()}
    edited = tmp_path / "desk.jsonl"
    edited.write_text(DESK_REQUESTS.read_text(encoding="utf-8")
                      + json.dumps({"lang": "en", "text": "Please send the receipt for my last payment."}) + "\n",
                      encoding="utf-8")
    changed = DomainGate(manual_desk.index, desk_path=edited)
    assert changed._vectors()[1]["en"].shape[0] == desk["en"].shape[0] + 1  # not the stale cache


def test_a_desk_copy_with_broken_front_matter_stops_with_one_line_naming_the_file(tmp_path):
    from evals.bench import scope
    from knowledge_base.errors import SourceError

    (tmp_path / "desk" / "articles").mkdir(parents=True)
    (tmp_path / "desk" / "articles" / "broken.md").write_text("---\ntags: [wifi\n---\n# Wi-Fi\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        scope.without_money_and_account(tmp_path / "desk", tmp_path / "copy")
    assert "broken.md" in str(caught.value) and "\n" not in str(caught.value)
