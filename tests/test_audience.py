"""Text written to the agent stays out of the customer's draft on a knowledge base that marks
no audience (copilot/audience.py): "Ask the customer ...", the agent's tools, "agents must",
what not to reveal, an internal section; third-person terms written to customers stay."""

from __future__ import annotations

import pytest

from copilot.audience import for_agents, internal_section
from copilot.draft import candidate_sentences
from knowledge_base.documents import SearchHit

from helpers import conversation, copilot_over


@pytest.mark.parametrize("sentence", [
    "Ask the customer to read out the code on the back of the card.",
    "Warn customer: 'You have two PIN attempts left.'",
    "When using the log_verification tool, enter the code in every field.",
    "Call unlock_card() only after the risk score is computed.",
    "When a card shows a lock, agents must run a fraud risk assessment first.",
    "Do not reveal the scoring rules to the caller.",
    "Look up the customer's accounts to check the account status.",
    "If the customer insists, offer a branch appointment.",
    "Before unlocking, follow the Internal PIN Lock protocol.",
    "Попросите клиента назвать номер договора.",
    "Уточните у абонента, когда пропала связь.",
    "Не сообщайте клиенту внутренний код блокировки.",
    "Оператор обязан проверить личность перед разблокировкой.",
])
def test_sentences_written_to_the_agent_are_recognised_in_both_languages(sentence):
    assert for_agents(sentence)


@pytest.mark.parametrize("sentence", [
    "The subscriber must pay the monthly fee by the 25th.",
    "Support agents cannot promise you an amount in the chat.",
    "Open my.volna.example/my_account and choose Pay.",
    "Free up internal storage on your phone before the update.",
    "Освободите внутреннюю память телефона перед обновлением.",
    "Write to support_team@volna.example with your contract number.",
    "Ask your bank whether the payment left your account.",
    "Абонент оплачивает услуги до 25 числа каждого месяца.",
    "Напишите нам в чат, и оператор ответит в течение 10 минут.",
])
def test_text_written_to_customers_is_not_taken_for_the_agents(sentence):
    assert not for_agents(sentence)


def test_only_a_section_named_internal_is_internal_not_quick_answers_for_agents():
    assert internal_section("Special Support Codes (Internal)")
    assert internal_section("", "Внутренний регламент блокировок")
    assert internal_section("Internal: PIN Lock Investigation Protocol")
    assert not internal_section("Clearing internal storage", "Внутренняя память телефона")
    # canned replies for agents are written to be sent to customers
    assert not internal_section("Quick answers for support agents / Быстрые ответы для операторов")


@pytest.mark.parametrize("lang,manual,customer,gone,kept", [
    ("en",
     "Ask the customer for the last four digits of the card. Look up the customer's cards in the card tool. "
     "If the customer insists, transfer to the security team.",
     "A blocked card is unblocked in the app under Cards > Unblock. Unblocking takes effect at once.",
     ["Ask the customer", "Look up", "If the customer insists"], ["Cards > Unblock"]),
    ("ru",
     "Попросите клиента назвать последние четыре цифры карты. Уточните у клиента, когда заблокировалась карта. "
     "Оператор обязан проверить личность.",
     "Заблокированную карту можно разблокировать в приложении: Карты > Разблокировать. Разблокировка действует сразу.",
     ["Попросите клиента", "Уточните у клиента", "Оператор обязан"], ["Карты > Разблокировать"]),
])
def test_the_agents_section_of_an_unannotated_manual_is_never_quoted_to_the_customer(lang, manual, customer, gone, kept):
    hits = [SearchHit(source_id="manual", chunk_id="manual::0", title="Cards", text=manual, score=1.0,
                      found_by=["lexical"], lang=lang, doc_type="article"),
            SearchHit(source_id="help", chunk_id="help::0", title="Cards", text=customer, score=0.9,
                      found_by=["lexical"], lang=lang, doc_type="article")]
    chosen = " ".join(c[3] for c in candidate_sentences(hits))
    assert all(g not in chosen for g in gone), chosen
    assert all(k in chosen for k in kept), chosen


@pytest.mark.slow
def test_a_draft_over_an_unannotated_knowledge_base_quotes_its_help_text_not_its_agent_manual(tmp_path, session_cache):
    files = {
        "card-unblock.md": "# Unblocking a card\n\nA blocked card is unblocked in the app under Cards > Unblock. "
                           "Unblocking takes effect at once and costs nothing.\n",
        "card-unblock-procedure.md": "# Card unblock procedure (Internal)\n\nAsk the customer to confirm the last four "
                                     "digits of the card. Use the card_unblock tool only after the identity check. "
                                     "Agents must log the reason in the card notes.\n",
    }
    cp = copilot_over(files, tmp_path, session_cache, judge_coverage=False)
    s = cp.suggest(conversation("My card is blocked, how do I unblock it?"))
    assert "Cards > Unblock" in s.draft.text
    for agent_words in ("Ask the customer", "card_unblock", "Agents must"):
        assert agent_words not in s.draft.text
    assert all(c.source_id != "card-unblock-procedure" for c in s.citations)
    assert not any("written to agents" in w for w in s.draft.warnings)  # it quotes the help text: nothing to explain


@pytest.mark.slow
def test_when_only_the_agents_manual_answers_the_operator_is_told_why_the_draft_is_a_greeting(tmp_path, session_cache):
    files = {"pin-unlock.md": "# PIN lock procedure (Internal)\n\nAsk the customer to confirm the last four digits of "
                              "the card. Agents must run the risk check before unlocking a locked PIN. Use the "
                              "pin_unlock tool only after the check.\n"}
    cp = copilot_over(files, tmp_path, session_cache, judge_coverage=False)
    s = cp.suggest(conversation("My PIN is locked after three wrong tries, please unlock it."))
    assert not s.citations and "pin_unlock" not in s.draft.text
    assert any("written to agents" in w for w in s.draft.warnings), s.draft
