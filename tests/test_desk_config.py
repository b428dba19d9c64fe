"""A desk's own configuration (routes, promises, plan names, contract-number format) comes
from its desk.yaml, never from the code: found beside the ingested knowledge, or named by
COPILOT_DESK_FILE; with none, neutral promises that claim no deadline or phone number."""

from __future__ import annotations

import re

import pytest

from copilot.desk import Desk, load_desk, neutral_routes, parse_desk
from copilot.engine import Copilot
from copilot.errors import ConfigError
from copilot.text import entities
from knowledge_base.index import KnowledgeIndex
from knowledge_base.ingest import Ingestor

from helpers import conversation, demo_desk, llm_settings, make_settings

ARTICLE = """---
id: sim-fraud-en
title: Suspicious SIM replacement
lang: en
handoff:
  - reason: fraud_or_security
    when: "Someone asked the customer for an SMS code or replaced their SIM card without consent."
---
# Suspicious SIM replacement

If someone asked the customer for an SMS code or replaced their SIM card without consent, the case goes
to the security team at once. The security line 8 800 555-01-99 blocks the number around the clock.
"""

DESK = """\
name: Test desk
routes:
  fraud_or_security:
    queue: security-desk
    urgency: high
    promise:
      en: Please call our security line 8 800 555-01-99 now; I am passing this to the security desk too.
      ru: Позвоните на линию безопасности 8 800 555-01-99; я тоже передаю обращение.
    policy_query: security line blocks the number around the clock
plan_names: ['\\bStarter (?:Plus|Max)\\b']
contract_number: 'AC-\\d{6}'
"""

FRAUD = "Someone called me and asked for the SMS code, and now my SIM card does not work."


@pytest.fixture
def tiny_kb(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "sim-fraud-en.md").write_text(ARTICLE, encoding="utf-8")
    return kb


def _copilot(tmp_path, session_cache, kb, **settings) -> Copilot:
    s = llm_settings(make_settings(tmp_path / "data", session_cache, **settings), enabled=False)
    index = KnowledgeIndex(s)
    report = Ingestor(index).run([kb])
    assert report.failed == 0, report.errors
    return Copilot(s, index=index)


def test_without_a_desk_file_the_promise_is_neutral(tmp_path, session_cache, tiny_kb):
    s = _copilot(tmp_path, session_cache, tiny_kb).suggest(conversation(FRAUD))
    assert s.handoff.needed and s.handoff.reasons[0] == "fraud_or_security"
    assert s.handoff.queue == neutral_routes()["fraud_or_security"].queue
    promise = neutral_routes()["fraud_or_security"].promise["en"]
    assert promise in s.draft.text
    # a neutral promise claims no deadline, phone or number, so it needs no citation and is never "unsupported"
    assert not entities(promise)
    assert s.grounding.unsupported == 0


def test_a_desk_file_beside_the_knowledge_is_recorded_at_ingest_and_used(tmp_path, session_cache, tiny_kb):
    (tiny_kb / "desk.yaml").write_text(DESK, encoding="utf-8")
    copilot = _copilot(tmp_path, session_cache, tiny_kb)
    assert copilot.desk.name == "Test desk"
    s = copilot.suggest(conversation(FRAUD))
    assert s.handoff.queue == "security-desk"
    assert "8 800 555-01-99" in s.draft.text
    # the desk's promise is held to the passage it cites: its phone number is in the article
    promise = next(x for x in s.grounding.sentences if "555-01-99" in x.text)
    assert promise.supported and promise.citation is not None
    assert s.citations[promise.citation - 1].source_id == "sim-fraud-en"


def test_the_configured_desk_file_wins_over_the_recorded_one(tmp_path, session_cache, tiny_kb):
    (tiny_kb / "desk.yaml").write_text(DESK, encoding="utf-8")
    other = tmp_path / "other-desk.yaml"
    other.write_text("name: Other desk\n", encoding="utf-8")
    copilot = _copilot(tmp_path, session_cache, tiny_kb, desk_file=other)
    assert copilot.desk.name == "Other desk"
    assert copilot.suggest(conversation(FRAUD)).handoff.queue == neutral_routes()["fraud_or_security"].queue


def test_the_desk_names_its_plans_and_contract_numbers(tmp_path, session_cache, tiny_kb):
    (tiny_kb / "desk.yaml").write_text(DESK, encoding="utf-8")
    copilot = _copilot(tmp_path, session_cache, tiny_kb)
    assert "plan:starter max" in copilot.entities("Switch to Starter Max today")
    assert "plan:starter max" not in entities("Switch to Starter Max today")
    s = copilot.suggest(conversation("My internet does not work, contract AC-123456"))
    assert s.facts.get("contract_number") == "AC-123456"


def test_a_broken_desk_file_is_one_line_naming_the_file_and_field(tmp_path):
    bad = tmp_path / "desk.yaml"
    bad.write_text("routes:\n  fraud_or_security:\n    queue: x\n    urgency: urgent\n    promise: {en: hi}\n")
    with pytest.raises(ConfigError) as exc:
        load_desk(bad)
    message = str(exc.value)
    assert "\n" not in message and str(bad) in message and "routes.fraud_or_security.urgency" in message
    with pytest.raises(ConfigError, match=r"desk.yaml:3: invalid YAML"):
        parse_desk("name: x\nroutes: [unclosed\n", "desk.yaml")
    with pytest.raises(ConfigError, match="plan_names"):
        parse_desk("plan_names: ['(unclosed']", "desk.yaml")
    with pytest.raises(ConfigError, match="routes"):
        parse_desk("routes:\n  not_a_reason: {queue: q, urgency: low, promise: {en: x}}", "desk.yaml")


def test_every_reason_has_a_neutral_route_and_the_demo_desk_overrides_them_all():
    from knowledge_base.documents import HANDOFF_REASONS

    assert set(neutral_routes()) == set(HANDOFF_REASONS)
    assert set(demo_desk().routes) == set(HANDOFF_REASONS)
    for reason in HANDOFF_REASONS:
        assert Desk().route(reason) == neutral_routes()[reason]
        for text in neutral_routes()[reason].promise.values():
            assert not re.search(r"\d", text), f"a neutral promise makes a checkable claim: {text}"


def test_ingest_refuses_a_broken_desk_file_and_stores_nothing(tmp_path, tiny_kb):
    import json
    import os
    import subprocess
    import sys

    from helpers import REPO

    def ingest(*paths):
        return subprocess.run([sys.executable, "-m", "copilot.cli", "ingest", *map(str, paths), "--json"],
                              capture_output=True, text=True, cwd=REPO, timeout=900,
                              env={**os.environ, "COPILOT_DATA_DIR": str(tmp_path / "data")})

    (tiny_kb / "desk.yaml").write_text("routes:\n  fraud_or_security: {queue: q, urgency: soon, promise: {en: x}}\n")
    bad = ingest(tiny_kb)
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        f"Error: {tiny_kb / 'desk.yaml'}: field 'routes.fraud_or_security.urgency': "
        "Input should be 'low', 'medium' or 'high'"]
    assert not (tmp_path / "data" / "index").exists()
    (tiny_kb / "desk.yaml").write_text(DESK, encoding="utf-8")
    good = ingest(tiny_kb)
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["desk_file"] == str(tiny_kb / "desk.yaml")


STOLEN_CARD = """---
id: stolen-card-en
title: Lost or stolen card and payments you did not make
lang: en
---
# Lost or stolen card and payments you did not make

If your card was lost or stolen, lock it at once in the app: Cards, then Lock card. A locked card can be
unlocked later if you find it. Payments you did not make are disputed from the same screen: choose the
payment, then Dispute. We refund a disputed payment while we investigate it.
"""
STOLEN = "My wallet was stolen and I see payments I did not make. Someone is using my card fraudulently."


def test_a_desk_that_handles_fraud_itself_gets_the_procedure_and_a_flag_not_a_handoff(tmp_path, session_cache):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "stolen-card-en.md").write_text(STOLEN_CARD, encoding="utf-8")
    # a one-article base: coverage is not what this tests (a one-article base is judged not to cover
    # its own article's question, see the strict xfail in test_derive), so any passage counts
    s = _copilot(tmp_path, session_cache, kb, retrieval={"min_confidence": 0.0, "off_topic": False}
                 ).suggest(conversation(STOLEN))
    # no desk file: the knowledge base covers the request, so its procedure is the answer
    assert not s.handoff.needed
    assert any(f.startswith("handled_by_procedure: fraud_or_security") for f in s.flags)
    assert [c.source_id for c in s.citations] == ["stolen-card-en"]


def test_a_desk_whose_fraud_team_takes_every_case_hands_off_even_when_covered(tmp_path, session_cache):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "stolen-card-en.md").write_text(STOLEN_CARD, encoding="utf-8")
    (kb / "desk.yaml").write_text("name: Strict desk\nhandled_when_covered: []\n", encoding="utf-8")
    s = _copilot(tmp_path, session_cache, kb).suggest(conversation(STOLEN))
    assert s.handoff.needed and s.handoff.reasons[0] == "fraud_or_security"
    assert not any(f.startswith("handled_by_procedure") for f in s.flags)


CARD_RULES = {
    "card-blocked-en.md": """---
id: card-blocked-en
title: Lost or stolen card
lang: en
handoff:
  - reason: fraud_or_security
    when: "The customer says they never reported the card lost or stolen, yet it was blocked as stolen."
---
# Lost or stolen card

If your card was lost or stolen, lock it at once in the app: Cards, then Lock card. Order a replacement card
from the same screen; it arrives in five working days. Payments you did not make are disputed from the card's
history: choose the payment, then Dispute.
""",
    "card-blocked-ru.md": """---
id: card-blocked-ru
title: Карта потеряна или украдена
lang: ru
handoff:
  - reason: fraud_or_security
    when: "Клиент говорит, что не сообщал о краже или потере карты, но карта заблокирована как украденная."
---
# Карта потеряна или украдена

Если карту потеряли или украли, сразу заблокируйте её в приложении: Карты, затем Заблокировать карту. Новую
карту закажите на том же экране, её доставят за пять рабочих дней. Платёж, который вы не совершали, оспорьте
в истории операций карты: выберите платёж, затем Оспорить.
""",
}


def test_an_articles_rule_keeps_a_case_only_when_the_customer_meets_its_condition(tmp_path, session_cache):
    """A desk that handles fraud itself answers a stolen card from the article's procedure;
    the article's rule ("to the security team if the customer never reported it stolen")
    takes only the case that rule describes, in both languages."""
    kb = tmp_path / "kb"
    kb.mkdir()
    for name, text in CARD_RULES.items():
        (kb / name).write_text(text, encoding="utf-8")
    copilot = _copilot(tmp_path, session_cache, kb, retrieval={"min_confidence": 0.0, "off_topic": False})
    for handled, kept in (
        ("My wallet with my bank card was stolen yesterday. How do I lock the card and get a new one?",
         "My card was blocked as stolen, but I never reported it lost or stolen. Why?"),
        ("Вчера у меня украли кошелёк с банковской картой. Как заблокировать карту и заказать новую?",
         "Мою карту заблокировали как украденную, хотя я не сообщал, что её украли или что я её потерял. Почему?"),
    ):
        s = copilot.suggest(conversation(handled))
        assert not s.handoff.needed, (handled, s.handoff.reasons)
        assert any(f.startswith("handled_by_procedure: fraud_or_security") for f in s.flags)
        s = copilot.suggest(conversation(kept))
        assert s.handoff.needed and s.handoff.reasons[0] == "fraud_or_security", (kept, s.handoff.reasons)
        assert [r.source_id for r in s.handoff.rules] in ([], [s.citations[0].source_id if s.citations else ""])
