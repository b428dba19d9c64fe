"""Diagnosis and routing on a knowledge base nobody annotated: checks and handoff rules
found in the text at ingest, each with its source sentence, reviewed by supervisors."""

from __future__ import annotations

import pytest

from copilot.engine import Copilot
from copilot.facts import FACTS
from knowledge_base.derive import DerivedCheck, DerivedLink, DerivedRule, check_of, derive, link_of, resolve_link, rule_of
from knowledge_base.documents import SourceDocument
from knowledge_base.ingest import Ingestor

from helpers import conversation, copilot_over, proposals_page


def doc(text: str, lang: str = "en", id: str = "guide") -> SourceDocument:
    return SourceDocument(id=id, title="Guide", text=text, lang=lang)


@pytest.mark.parametrize("sentence,lang,words", [
    ("Ask the customer to check whether airplane mode is on.", "en", ["airplane mode", "?"]),
    ("Ask the user to run a speed test.", "en", ["run a speed test", "result"]),
    ("Ask the caller for the error code on the screen.", "en", ["error code"]),
    ("Ask the user if they are outside their usual service area.", "en", ["Are you outside your usual service area?"]),
    ("Ask the user to check if their phone has cellular service.", "en", ["Does your phone have cellular service?"]),
    # a state to confirm with its "that" left out is still asked
    ("Verify the available balance covers the full amount.", "en",
     ["Could you tell me whether the available balance covers the full amount?"]),
    # "has" before an adjective is the verb ("sufficient" is no participle); a second instruction is cut off
    ("Verify that the account has sufficient funds to cover the payment.", "en",
     ["Does the account have sufficient funds to cover the payment?"]),
    ("Check whether the card has been closed and provide the following information.", "en",
     ["Has the card been closed?"]),
    # an adverb between "has" and the participle keeps "has" the auxiliary
    ("Verify that the rebate has not already been applied.", "en", ["Has the rebate not already been applied?"]),
    ("Check whether the participant has already paid.", "en", ["Has the participant already paid?"]),
    # the agent the instruction speaks to is "us" to the customer
    ("Ask the customer if they want you to transfer the deposit now.", "en", ["whether you want us to transfer"]),
    # a second instruction joined by "and"/"or" is cut off; a choice the customer makes ("or transfer") is not
    ("Confirm the charge is labeled as an ATM operator fee and keep the receipt.", "en",
     ["Is the charge labeled as an ATM operator fee?"]),
    ("Confirm extended coverage is available to you and opt in via your account settings.", "en",
     ["Is extended coverage available to you?"]),
    ("Confirm your ERP is among the supported platforms or prepare a custom API integration plan.", "en",
     ["Is your ERP among the supported platforms?"]),
    ("Ask whether they want to pay now or transfer the balance.", "en", ["pay now or transfer the balance?"]),
    ("Проверьте, включён ли роутер, или обратитесь в поддержку.", "ru", ["включён ли роутер — "]),
    # "authorized user" is another person, not the customer; a bare "user" after a verb is the customer
    ("Confirm that authorized user and virtual card purchases have posted.", "en", ["authorized user and virtual card"]),
    ("Confirm user is enrolled in autopay.", "en", ["Are you enrolled in autopay?"]),
    # "had" and irregular participles keep the right auxiliary; a question cut inside a parenthesis ends before it
    ("Confirm the customer had sufficient available funds at the time of processing.", "en",
     ["Did you have sufficient available funds at the time of processing?"]),
    ("Confirm the reward balance has met the 30-point requirement.", "en", ["Has the reward balance met the 30-point"]),
    ("Ask if they want expedited shipping (advise on fees by tier.", "en",
     ["Could you tell me whether you want expedited shipping?"]),
    # a relative clause's auxiliary is not the one to invert; a thing named by a clause of its own is asked for
    ("Confirm that the parcel that was returned is back in stock.", "en",
     ["Could you tell me whether the parcel that was returned is back in stock?"]),
    ("Confirm the address that the customer would like to mail the card to.", "en",
     ["Could you tell me the address that you would like to mail the card to?"]),
    # the same thing named by a clause with no "that": not "Would the address you like ...?"
    ("Confirm the address the customer would like the card mailed to.", "en",
     ["Could you tell me the address you would like the card mailed to?"]),
    ("Check the date the customer was charged.", "en", ["Could you tell me the date you were charged?"]),
    # what the customer is asked for is theirs; the agent's next act ("and explain fees") is not asked
    ("Ask customer for preferred card design (CLASSIC or CUSTOM) and explain fees.", "en",
     ["Could you tell me your preferred card design (CLASSIC or CUSTOM)?"]),
    ("Look at the router lights.", "en", ["router lights"]),
    ("Попросите клиента назвать номер договора.", "ru", ["номер договора", "Подскажите"]),
    ("Уточните у клиента, с какого дня не работает телевидение.", "ru", ["с какого дня не работает телевидение"]),
    ("Проверьте, горит ли индикатор Internet.", "ru", ["горит ли индикатор Internet"]),
    # the customer is addressed as "вы", and the verb agrees with it
    ("Спросите клиента, включён ли режим полёта.", "ru", ["Подскажите, пожалуйста, включён ли режим полёта?"]),
    ("Спросите, находится ли клиент в роуминге.", "ru", ["находитесь ли вы в роуминге?"]),
    ("Уточните, перезагружал ли абонент роутер.", "ru", ["перезагружали ли вы роутер?"]),
    # "he" after the customer was named is the customer
    ("Спросите клиента, сообщал ли он о потере карты.", "ru", ["сообщали ли вы о потере карты?"]),
    ("Спросите клиента, есть ли у него недавние блокировки средств на карте.", "ru",
     ["есть ли у вас недавние блокировки средств на карте?"]),
    ("Уточните, что клиент использует для выхода в сеть.", "ru", ["что вы используете для выхода в сеть?"]),
    # "make sure that ..." is asked with «ли», its predicate first, not as a statement with a question mark
    ("Убедитесь, что роутер включён в розетку.", "ru", ["Подскажите, пожалуйста, включён ли роутер в розетку?"]),
    ("Убедитесь, что кабель не повреждён.", "ru", ["не повреждён ли кабель?"]),
    ("Убедитесь, что индикаторы горят зелёным.", "ru", ["горят ли индикаторы зелёным?"]),
    ("Убедитесь, что у абонента нет задолженности.", "ru", ["нет ли у вас задолженности?"]),
    ("Убедитесь, что на счету достаточно средств.", "ru", ["достаточно ли на счету средств?"]),
    # "check that ..." keeps the action and asks with «ли»; an adverb before the predicate is what is asked
    ("Проверьте, что кабель плотно вставлен в порт WAN.", "ru", ["Проверьте, пожалуйста: плотно ли вставлен кабель в порт WAN?"]),
    ("Попросите клиента проверить, что роутер включён.", "ru", ["включён ли роутер?"]),
    ("Check in your phone's settings that it supports eSIM.", "en",
     ["Could you check in your phone's settings whether it supports eSIM?"]),
    # where to look comes first, then what to find there, asked with «ли»
    ("Убедитесь в настройках телефона, что он поддерживает eSIM.", "ru",
     ["Проверьте, пожалуйста, в настройках телефона: поддерживает ли он eSIM?"]),
    ("Проверьте на роутере, что индикатор горит зелёным.", "ru", ["Проверьте, пожалуйста, на роутере: горит ли индикатор зелёным?"]),
    # two predicates joined: left as written rather than a «ли» in the wrong clause
    ("Убедитесь, что роутер включён, а кабель вставлен в порт WAN.", "ru",
     ["роутер включён, а кабель вставлен в порт WAN?"]),
])
def test_checks_become_questions_to_the_customer_in_the_sources_language(sentence, lang, words):
    found = check_of(sentence, lang)
    assert found is not None, sentence
    topic, question, _form = found
    assert topic and question.endswith("?")
    for w in words:
        assert w in question
    assert "the user" not in question.lower() and "клиент" not in question and "абонент" not in question


@pytest.mark.parametrize("sentence,lang", [
    ("Ask the user to turn Airplane Mode OFF.", "en"),          # a prescription, not a check
    ("Reboot the router and wait two minutes.", "en"),
    ("Перезагрузите роутер и подождите две минуты.", "ru"),
    ("Determine which category best describes the user's issue:", "en"),   # about the document
    ("Check Status Bar - Shows what icons are currently visible.", "en"),  # a reference entry
    ("Refunds reach the card within 10 business days.", "en"),
    ("Make sure you try all the possible ways before transferring.", "en"),  # the agent's own duty
    # verifying or confirming a thing is the agent's act with the customer, not something they can look at
    ("Verify customer identity.", "en"),
    ("Confirm the price.", "en"),
    ("Verify recipient details before submitting to avoid delays.", "en"),
    # a list introduced or pointed back to, and the agent's own lookup tool
    ("Check the following IN ORDER:", "en"),
    ("Check eligibility requirements listed above.", "en"),
    ("Проверьте следующее:", "ru"),
    ("Проверьте условия, перечисленные выше.", "ru"),
    ("Check limits from the debit card lookup.", "en"),
    # advice for the next time: nothing to look at now
    ("Check every digit before you go on.", "en"),
    ("Проверьте каждую цифру, прежде чем продолжить.", "ru"),
    # a code the agent compares with: asking it would read the answer out to the customer
    ("Verify the code exactly matches 9K2X7M4P1N8Q3R5T6A.", "en"),
    ("Проверьте, что код совпадает с 7Q4W9E2R8T.", "ru"),
    # a template's placeholder left in the text: there is nothing to compare with
    ("Confirm the cart total meets or exceeds $[value not available].", "en"),
    ("Проверьте, что сумма корзины не меньше [value not available].", "ru"),
])
def test_prescriptions_statements_and_agent_duties_are_not_checks(sentence, lang):
    assert check_of(sentence, lang) is None


@pytest.mark.parametrize("lang,procedure,customers", [
    ("en", "## Closure procedure\n1. Verify pre-closure requirements are met.\n2. Check that the account balance is "
           "zero.\n3. Confirm the address the customer would like the card mailed to.\n4. Use close_account_123 to close "
           "the account.\n", ["Could you tell me the address you would like the card mailed to?"]),
    ("ru", "## Закрытие счёта\n1. Проверьте, выполнены ли условия закрытия.\n2. Проверьте, что баланс счёта нулевой.\n"
           "3. Уточните у клиента адрес, на который отправить карту.\n4. Закройте счёт инструментом close_account_123.\n",
     ["Подскажите, пожалуйста, адрес, на который отправить карту?"]),
])
def test_the_steps_of_a_procedure_the_agent_runs_with_its_tools_are_not_asked(lang, procedure, customers):
    """A procedure that calls the agent's tools is the agent's: "Verify pre-closure requirements are met" is
    its own check. A step about the customer in it is still asked; without the tool the steps are asked."""
    def questions(text: str) -> list[str]:
        return [d.question for d in derive(SourceDocument(id="d", title="Accounts", text=text, lang=lang))
                if isinstance(d, DerivedCheck)]

    assert questions(procedure) == customers
    by_hand = procedure.replace("4. Use close_account_123 to close the account.", "4. Close the account.").replace(
        "4. Закройте счёт инструментом close_account_123.", "4. Закройте счёт.")
    assert len(questions(by_hand)) == 3


def test_a_workflows_branches_are_one_question_in_the_workflows_order():
    text = ("## Step 1: Airplane mode\n**If Airplane Mode is ON:**\n- Ask the user to turn it OFF\n"
            "**If Airplane Mode is OFF:**\n- Proceed to Step 2\n"
            "## Step 2: Speed\nAsk the user to run a speed test.\n")
    found = [d for d in derive(doc(text)) if isinstance(d, DerivedCheck)]
    assert [d.question for d in found] == ["Is Airplane Mode on or off?", "Could you run a speed test and tell me the result?"]
    assert [d.form for d in found] == ["branch", "ask"]
    assert found[0].sentence.startswith("If Airplane Mode is ON")


@pytest.mark.parametrize("sentence,lang,reason,condition", [
    ("If the SIM is locked with a PUK code, escalate to technical support.", "en", "policy_requires_human",
     "the SIM is locked with a PUK code"),
    ("Transfer the user to a human agent if the request cannot be handled within your actions.", "en",
     "policy_requires_human", "the request cannot be handled within your actions"),
    ("If the customer reports an unauthorised SIM swap, transfer to the fraud team at once.", "en",
     "fraud_or_security", "the customer reports an unauthorised SIM swap"),
    ("If the customer reports a stolen phone, the case is transferred to the fraud team.", "en",
     "fraud_or_security", "the customer reports a stolen phone"),
    ("Если по кабелю меньше 70% от тарифа, обращение передаётся во вторую линию техподдержки.", "ru",
     "policy_requires_human", "по кабелю меньше 70% от тарифа"),
    ("Передайте обращение специалисту второй линии, если индикатор остаётся красным после перезагрузки.", "ru",
     "policy_requires_human", "индикатор остаётся красным после перезагрузки"),
    ("Только оператор может переоформить договор на другого человека.", "ru", "policy_requires_human",
     "переоформить договор на другого человека"),
])
def test_escalation_sentences_become_rules_with_their_condition(sentence, lang, reason, condition):
    assert rule_of(sentence, "", lang) == (reason, condition)


def test_a_rule_under_a_branch_takes_the_branchs_condition():
    text = "### Step 1.2: SIM\n**If SIM is LOCKED with PIN/PUK:**\n- Escalate to technical support for assistance\n"
    rules = [d for d in derive(doc(text)) if isinstance(d, DerivedRule)]
    assert [(r.reason, r.condition) for r in rules] == [("policy_requires_human", "SIM is LOCKED with PIN/PUK")]


@pytest.mark.parametrize("text,lang", [
    ("1. Ask the customer: 'Did you report the card lost?'\n2. If the customer says YES and found the card:\n"
     "   - Order a replacement.\n3. If the customer says NO (they did not report it):\n   - Verify identity.\n", "en"),
    ("1. Спросите клиента, сообщал ли он о потере карты.\n2. Если клиент говорит — да:\n   - Закажите новую карту.\n"
     "3. Если клиент говорит — нет:\n   - Проверьте личность.\n", "ru"),
])
def test_branches_on_the_customers_yes_or_no_are_not_asked_again(text, lang):
    questions = [d.question for d in derive(doc(text, lang)) if isinstance(d, DerivedCheck)]
    assert not any(w in q.lower() for q in questions for w in ("yes or no", "да или нет", "yes, no", "да, нет")), questions


@pytest.mark.parametrize("text,lang,expected", [
    ("## When to escalate\n**Clear the alert when:**\n- The customer's identity is verified\n\n"
     "**Escalate to the security team when:**\n- The alert was raised by the bank (you cannot clear it)\n"
     "- Customer cannot verify their identity\n- card_status is 'frozen' in the lookup\n\nThe team answers within a day.\n", "en",
     [("policy_requires_human", "The alert was raised by the bank"),
      ("account_verification_required", "Customer cannot verify their identity")]),
    ("## Когда передавать обращение\nПередайте обращение специалисту второй линии, если:\n"
     "- индикатор остаётся красным после перезагрузки\n- клиент сообщает о запахе гари от роутера\n\n"
     "Обычно специалист перезванивает в течение дня.\n", "ru",
     [("policy_requires_human", "индикатор остаётся красным после перезагрузки"),
      ("policy_requires_human", "клиент сообщает о запахе гари от роутера")]),
])
def test_each_condition_listed_under_a_handoff_is_a_rule_citing_both_lines(text, lang, expected):
    rules = [d for d in derive(doc(text, lang)) if isinstance(d, DerivedRule)]
    assert [(r.reason, r.condition) for r in rules] == expected
    # the handoff cites the lead with its bullet (the paragraph after the list and the list that does not
    # hand over, "Clear the alert when:", give nothing: the expected list above has no more)
    lead = next(line.strip("*") for line in text.splitlines() if line.startswith(("**Escalate", "Передайте")))
    assert all(r.sentence.startswith(f"{lead} ") and r.condition in r.sentence.removeprefix(lead) for r in rules)


def test_transferring_money_is_not_a_handoff():
    assert rule_of("You can transfer money to another account in the app.", "", "en") is None


@pytest.mark.parametrize("sentence,lang", [
    # a person mentioned after the verb is not the one who takes over
    ("When you refer a friend to open an account, you earn 40 and the person you refer receives 30.", "en"),
    # how to hand over, not when
    ("When using the escalate_to_human tool, pick the reason code that fits best.", "en"),
    ("Use this code when the transfer is due to a system outage.", "en"),
    ("Когда передаёте обращение специалисту, укажите в заметке номер договора.", "ru"),
    # a thing handed to someone else
    ("Если вы хотите передать договор другому человеку, приходите в офис вдвоём с паспортами.", "ru"),
    ("Если хотите оставить номер себе, а передать его другому человеку, оформите переоформление.", "ru"),
])
def test_sentences_about_other_transfers_or_how_to_hand_over_are_not_rules(sentence, lang):
    assert rule_of(sentence, "", lang) is None


@pytest.mark.parametrize("sentence,lang,condition", [
    ("If the card was stolen, transfer the customer to our security team.", "en", "the card was stolen"),
    ("If the router stays offline after a reset, connect the caller with a live agent.", "en",
     "the router stays offline after a reset"),
    ("When the user asks for a transfer to a human specialist, follow the protocol below.", "en",
     "the user asks for a transfer to a human specialist"),
])
def test_handoffs_to_a_named_team_or_asked_for_by_the_customer_stay_rules(sentence, lang, condition):
    found = rule_of(sentence, "", lang)
    assert found is not None and found[1].startswith(condition)


def test_content_with_no_troubleshooting_gives_nothing_and_headings_alone_give_nothing():
    prose = doc("# Our plans\nThe Home plan costs 500 a month. Refunds reach the card within 10 business days.\n")
    assert derive(prose) == []
    headings_only = doc("# Troubleshooting\n## Path 1\n## Step 1.1\n## Step 1.2\n### If it fails:\n")
    assert derive(headings_only) == []


def test_every_derived_item_keeps_its_source_and_sentence():
    text = "Ask the user to run a speed test.\nIf the speed is still low after a reboot, escalate to the second line."
    items = derive(doc(text, id="speed-guide"))
    assert {type(i) for i in items} == {DerivedCheck, DerivedRule}
    for item in items:
        assert item.source_id == "speed-guide" and item.sentence in text and item.id


KB_ARTICLE = """---
id: mobile-data-guide
title: Mobile data troubleshooting
lang: en
---
# Mobile data troubleshooting

Use this guide when a customer's mobile data is not working.

## Step 1: Check the basics
Ask the user to run a speed test.
Ask the user to check if their phone has cellular service.

## Step 2: Data saver
Ask the user to check whether Data Saver mode is on.
If the speed is still slow after Data Saver is off, escalate to technical support.
"""


@pytest.fixture
def guide_copilot(tmp_path, session_cache):
    return copilot_over({"mobile-data-guide.md": KB_ARTICLE}, tmp_path, session_cache, judge_coverage=False)


PROBLEM = "My mobile data is not working on my phone, pages do not load."


def test_questions_come_from_the_articles_text_with_provenance(guide_copilot):
    s = guide_copilot.suggest(conversation(PROBLEM))
    derived = [q for q in s.questions if q.origin == "derived"]
    assert derived and derived[0].text == "Could you run a speed test and tell me the result?"
    assert all(q.source_id == "mobile-data-guide" and q.sentence and q.review == "pending" for q in derived)
    as_json = s.model_dump(mode="json")["questions"][0]
    assert as_json["origin"] == "derived" and as_json["sentence"] == "Ask the user to run a speed test."


def test_rejecting_or_approving_a_proposal_changes_the_next_suggestion(guide_copilot):
    store = guide_copilot.index.docstore
    speed = next(r for r in store.derived(kind="check") if "speed test" in r.item.question)
    store.review_derived(speed.item.id, "rejected", "sam")
    s = guide_copilot.suggest(conversation(PROBLEM))
    assert all("speed test" not in q.text for q in s.questions)
    edited = speed.item.model_copy(update={"question": "What does a speed test show right now?"})
    store.review_derived(speed.item.id, "approved", "sam", edited=edited)
    s = guide_copilot.suggest(conversation(PROBLEM))
    approved = next(q for q in s.questions if q.source_id == "mobile-data-guide" and "speed test" in q.text)
    assert approved.text == "What does a speed test show right now?" and approved.review == "approved"


def test_strict_teams_use_approved_proposals_only(guide_copilot):
    strict = guide_copilot.settings.model_copy(update={"anamnesis": guide_copilot.settings.anamnesis.model_copy(
        update={"derived": "approved"})})
    copilot = Copilot(strict, index=guide_copilot.index)
    assert not [q for q in copilot.suggest(conversation(PROBLEM)).questions if q.origin == "derived"]
    first = guide_copilot.index.docstore.derived(kind="check")[0]
    guide_copilot.index.docstore.review_derived(first.item.id, "approved", "sam")
    assert [q.text for q in copilot.suggest(conversation(PROBLEM)).questions if q.origin == "derived"] == [
        first.item.question]


def test_reingesting_keeps_reviews_and_a_changed_source_goes_back_to_review(guide_copilot, tmp_path):
    store = guide_copilot.index.docstore
    first = store.derived(kind="check")[0]
    store.review_derived(first.item.id, "approved", "sam")
    Ingestor(guide_copilot.index).run([tmp_path / "kb"])
    assert next(r for r in store.derived() if r.item.id == first.item.id).status == "approved"
    path = tmp_path / "kb" / "mobile-data-guide.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nAsk the user to check their APN settings.\n",
                    encoding="utf-8")
    Ingestor(guide_copilot.index).run([tmp_path / "kb"])
    assert {r.status for r in store.derived()} == {"pending"}
    assert any("APN" in r.item.question for r in store.derived(kind="check"))


def test_new_derivation_rules_keep_the_reviews_of_proposals_they_make_unchanged(guide_copilot, tmp_path):
    """An upgrade that changes the rules (DERIVE_VERSION) derives every unchanged source again:
    a proposal it makes exactly as before keeps its approval, rejection or edit; one it words
    differently goes back for review."""
    store = guide_copilot.index.docstore
    speed, cellular = (next(r for r in store.derived(kind="check") if word in r.item.question)
                       for word in ("speed test", "cellular"))
    edited = speed.item.model_copy(update={"question": "What does a speed test show right now?"})
    store.review_derived(speed.item.id, "approved", "sam", edited=edited)
    store.review_derived(cellular.item.id, "rejected", "sam")
    # what older rules made of the cellular check: worded otherwise than the rules of today
    older = cellular.item.model_copy(update={"question": "Do you have cellular service?"})
    with store._db:
        store._db.execute("UPDATE derived SET item=? WHERE id=?", (older.model_dump_json(), cellular.item.id))
    store.set_meta("derive_version", "0")

    report = Ingestor(guide_copilot.index).run([tmp_path / "kb"])
    assert report.unchanged == 1 and store.get_meta("derive_version") != "0"
    by_id = {r.item.id: r for r in store.derived()}
    assert by_id[speed.item.id].status == "approved" and by_id[speed.item.id].effective.question == edited.question
    assert by_id[cellular.item.id].status == "pending" and by_id[cellular.item.id].item == cellular.item


@pytest.mark.parametrize("sentence", ["If this is not the case, escalate to technical support.",
                                      "If still not resolved: escalate to technical support",
                                      "Если проблема не решена, передайте обращение специалисту."])
def test_a_rule_whose_condition_names_nothing_is_not_derived(sentence):
    assert rule_of(sentence, "", "ru" if "Если" in sentence else "en") is None


def test_a_derived_rule_fires_once_diagnosed_and_cites_its_sentence(guide_copilot):
    s = guide_copilot.suggest(conversation(
        PROBLEM, "Did you check Data Saver?",
        "Yes, I already turned Data Saver off and restarted, the speed is still slow after Data Saver is off."))
    assert "policy_requires_human" in s.handoff.reasons
    cited = s.handoff.rules[0]
    assert cited.origin == "derived" and cited.source_id == "mobile-data-guide" and cited.review == "pending"
    assert cited.sentence == "If the speed is still slow after Data Saver is off, escalate to technical support."


def test_supervisors_approve_edit_and_reject_proposals_on_their_page(guide_copilot, tmp_path):
    """The page lists derived proposals with their source sentence; an edit is saved as the
    approved wording, a rejection takes the proposal out of use."""
    at = proposals_page(guide_copilot, tmp_path)
    assert any("Ask the user to run a speed test." in t.value for t in at.text)
    store = guide_copilot.index.docstore
    speed = next(r for r in store.derived(kind="check") if "speed test" in r.item.question)
    at.text_input(key=f"dq-{speed.item.id}").input("What does a speed test show now?")
    at.button(key=f"da-{speed.item.id}").click().run()
    record = next(r for r in store.derived() if r.item.id == speed.item.id)
    assert record.status == "approved" and record.reviewer == "sam"
    assert record.effective.question == "What does a speed test show now?"
    other = next(r for r in store.derived(kind="check", status="pending"))
    at.button(key=f"dr-{other.item.id}").click().run()
    assert next(r for r in store.derived() if r.item.id == other.item.id).status == "rejected"


def test_a_customer_in_a_language_the_knowledge_base_lacks_is_told_so_not_asked_in_another(guide_copilot):
    s = guide_copilot.suggest(conversation("Мобильный интернет не работает, страницы не открываются"))
    assert s.language == "ru"
    assert "no_knowledge_in_language: ru" in s.flags
    assert not s.questions  # no English question put to a Russian-speaking customer
    assert s.intent.label != "off_topic"  # a language the desk lacks says nothing about the topic


@pytest.mark.parametrize("sentence,lang,label", [
    ("Follow Path 1 (No Service / No Connection) troubleshooting steps first.", "en", "Path 1"),
    ("Use Path 2.1 (Unavailable Mobile Data) troubleshooting steps to check connectivity.", "en", "Path 2.1"),
    ("First, complete Section 3 of this guide.", "en", "Section 3"),
    ("Сначала выполните шаги раздела 2.", "ru", "раздела 2"),
    ("Proceed to Step 2.1.3", "en", None),                 # the next step of the same path is just its order
    ("Follow the instructions in the main policy.", "en", None),   # names no part
])
def test_a_step_that_runs_another_part_first_names_it(sentence, lang, label):
    assert link_of(sentence, lang) == label


def test_only_unconditional_steps_of_a_workflow_link_to_another_part():
    text = ("## Step 2.1.0: Speed\n- Ask user to run a speed test.\n- If it returns no connection:\n"
            "    - Follow Path 2.1.\n"
            "**If speed is poor:**\n- Follow Path 2.2\n"
            "## Step 2.1.1: Service\n- Follow Path 1 troubleshooting steps first.\n")
    links = [d for d in derive(doc(text)) if isinstance(d, DerivedLink)]
    assert [(link.target, link.heading) for link in links] == [("Path 1", "Service")]


def test_a_label_resolves_to_the_document_titled_by_it_and_nothing_else():
    titles = {"w-10": "Workflow — Path 10: Billing", "w-12": "Workflow — Path 1.2: SIM",
              "w-1": "Workflow — Path 1: No Service", "w-2": "Workflow — Path 2: Data"}
    assert resolve_link("Path 1", titles) == "w-1"
    assert resolve_link("Path 1.2", titles) == "w-12"
    assert resolve_link("Path 1", titles, exclude="w-1") is None
    assert resolve_link("Path 7", titles) is None
    assert resolve_link("раздела 2", {"r-2": "Раздел 2. Нет интернета", "r-3": "Раздел 3. Оплата"}) == "r-2"


WORKFLOW = {
    "path-2-data.md": """---
id: path-2-data
title: "Path 2: Mobile data not working"
lang: en
---
## Step 2.0: Speed
- Ask the user to run a speed test.

## Step 2.1: Service
- Follow Path 1 (No Service) troubleshooting steps first.

## Step 2.2: Travel
- Ask the user if they are outside their usual service area.
""",
    "path-1-service.md": """---
id: path-1-service
title: "Path 1: No Service"
lang: en
---
## Step 1.0: Status bar
- Ask the user to check their status bar.
- Follow Path 2 troubleshooting steps first.

## Step 1.1: SIM
- Ask the user to check whether their SIM card is active.
""",
}


@pytest.fixture
def workflow_copilot(tmp_path, session_cache):
    return copilot_over(WORKFLOW, tmp_path, session_cache, judge_coverage=False)


def test_a_path_followed_first_asks_its_entry_check_at_that_point_and_cites_it(workflow_copilot):
    s = workflow_copilot.suggest(conversation("Mobile data is not working on my phone, no pages load."))
    assert [(q.source_id, q.sentence) for q in s.questions] == [
        ("path-2-data", "Ask the user to run a speed test."),
        ("path-1-service", "Ask the user to check their status bar."),
        ("path-2-data", "Ask the user if they are outside their usual service area."),
    ]
    # rejected, the link no longer puts Path 1 first: the status bar is asked only as the
    # second matched article's check, after Path 2's own
    store = workflow_copilot.index.docstore
    link = next(r for r in store.derived(kind="link") if r.item.source_id == "path-2-data")
    store.review_derived(link.item.id, "rejected", "sam")
    s = workflow_copilot.suggest(conversation("Mobile data is not working on my phone, no pages load."))
    assert [q.source_id for q in s.questions][:2] == ["path-2-data", "path-2-data"]


def test_supervisors_see_and_reject_the_paths_a_workflow_follows_first(workflow_copilot, tmp_path):
    at = proposals_page(workflow_copilot, tmp_path)
    at.selectbox(key="dp-kind").select("link").run()
    assert not at.exception
    assert any("Follow Path 1 (No Service) troubleshooting steps first." in t.value for t in at.text)
    link = next(r for r in workflow_copilot.index.docstore.derived(kind="link") if r.item.source_id == "path-2-data")
    assert at.text_input(key=f"dq-{link.item.id}").value == "Path 1"
    at.button(key=f"dr-{link.item.id}").click().run()
    assert next(r for r in workflow_copilot.index.docstore.derived(kind="link")
                if r.item.id == link.item.id).status == "rejected"


def test_what_to_check_once_an_outcome_is_known_is_a_follow_up_not_a_first_question():
    text = ("## Step 1: Airplane mode\n**If Airplane Mode is ON:**\n- Ask the user to turn it OFF\n"
            "- Ask the user to look at their status bar and check if service is restored\n"
            "**If Airplane Mode is OFF:**\n- Proceed to Step 2\n"
            "## Step 2: Speed\n- Ask the user to run a speed test.\n"
            "- If it is still slow:\n    - Ask the user to check their VPN status.\n")
    checks = [d for d in derive(doc(text)) if isinstance(d, DerivedCheck)]
    assert [d.question for d in checks if not d.condition] == [
        "Is Airplane Mode on or off?", "Could you run a speed test and tell me the result?"]
    # kept as a follow-up of its outcome; the nested VPN step (under a step's own condition) is not kept
    assert [(d.topic, d.condition) for d in checks if d.condition] == [("status bar service restored", "Airplane Mode is ON")]


WORKFLOW_TEXT = ("## Step 1\n- Ask the user to run a speed test.\n"
                 "**If Mobile Data is OFF:**\n- Ask the user to turn it ON\n"
                 "**If Mobile Data is ON but not working:**\n- Proceed to Step 2\n"
                 "## Step 2\n**If the user is traveling:**\n- Ask the user to check whether Data Roaming is enabled.\n"
                 "**If the user is not traveling:**\n- Proceed to Step 3\n")


def _asked(customer_text: str) -> list[str]:
    from copilot.anamnesis import ArticleFacts, questions

    checks = [(d, "pending") for d in derive(doc(WORKFLOW_TEXT)) if isinstance(d, DerivedCheck)]
    return [q.text for q in questions("en", [ArticleFacts("guide", [], checks)], [], {}, customer_text=customer_text)]


def test_a_check_the_customer_already_answered_is_not_asked_again():
    everything = _asked("Help, my data does not work.")
    assert everything == ["Could you run a speed test and tell me the result?", "Is Mobile Data off or on?",
                          "Are you traveling?"]
    # a value or a check reported in the same sentence as the subject answers it
    assert "Could you run a speed test and tell me the result?" not in _asked(
        "My data does not work. I ran a speed test and it says no connection.")
    # a branch is answered by its subject with one of its states ...
    assert "Is Mobile Data off or on?" not in _asked("My data does not work although mobile data is on.")
    # ... and not by naming the subject alone: "not working" does not say whether it is on
    assert "Is Mobile Data off or on?" in _asked("My mobile data is not working.")
    # when the states are the subject ("traveling"), naming it answers it, and opens its follow-up
    traveling = _asked("I'm traveling in Spain and my data does not work.")
    assert "Are you traveling?" not in traveling and "Is Data Roaming enabled?" in traveling
    assert "Is Data Roaming enabled?" not in everything


def test_the_unannotated_section_says_which_targets_are_met():
    from evals.bench.unannotated import Comparison, markdown

    c = Comparison(split="test", stripped_files=3,
                   annotated={"en": {"anamnesis_recall": 0.8, "handoff_f1": 0.9}, "ru": {"anamnesis_recall": 0.6, "handoff_f1": 0.5}},
                   unannotated={"en": {"anamnesis_recall": 0.5, "handoff_f1": 0.85}, "ru": {"anamnesis_recall": 0.55, "handoff_f1": None}})
    text = markdown(c)
    assert "en anamnesis_recall missed (-0.30)" in text and "en handoff_f1 met (-0.05)" in text
    assert "ru anamnesis_recall met (-0.05)" in text and "ru handoff_f1 n/a" in text


def test_the_derive_benchmark_times_real_articles_per_document(tmp_path):
    from evals.bench import derive as bench

    (tmp_path / "a.md").write_text("---\nid: a\ntitle: A\nlang: en\n---\n# A\n\nAsk the user to run a speed test.\n",
                                   encoding="utf-8")
    result = bench.run(25, folders=(tmp_path,))
    assert result.documents == 25 and result.distinct == 1 and result.derived_items == 25
    assert result.per_document_ms_mean > 0 and "25 documents" in bench.markdown(result)


def test_a_state_counts_only_next_to_its_subject_and_a_named_setting_is_a_subject():
    assert "Is Mobile Data off or on?" in _asked("My mobile data is slow on my phone.")  # "on" is far from "data"
    assert "Is Mobile Data off or on?" in _asked("Mobile data on my phone doesn't work.")  # "on my phone": a place
    assert "Is Mobile Data off or on?" not in _asked("My data doesn't work, I turned off mobile data and on again.")
    from copilot.anamnesis import ArticleFacts, questions

    check = next(d for d in derive(doc("- Ask the user to check if any settings are limiting data usage, like Data Saver mode."))
                 if isinstance(d, DerivedCheck))
    asked = lambda text: [q.text for q in questions("en", [ArticleFacts("guide", [], [(check, "pending")])], [], {},
                                                    customer_text=text)]
    assert asked("My data is slow.") == [check.question]
    assert asked("My data is slow. Data Saver is off, I looked.") == []


def test_a_derived_condition_needs_the_customers_words_not_just_a_similar_topic():
    from copilot.engine import _shares_words
    from knowledge_base.tokenizer import tokenize

    condition = "you cannot refuel data or change to plan with a higher data limit"
    assert not _shares_words(condition, set(tokenize("In Spain, my mobile data doesn't work. Roaming is on.")))
    assert _shares_words(condition, set(tokenize("I hit my data limit and I can't refuel or change plan")))


def test_an_ask_and_the_decision_on_its_answer_are_one_fact():
    text = ("## Step 2: Verify if user is traveling\nAsk the user if they are outside their usual service area.\n\n"
            "**If the User is not traveling:**\n- Proceed to Step 3\n**If the User is traveling:**\n"
            "- Ask the user to verify if Data Roaming is enabled.\n**If Data Roaming is OFF:**\n- Ask the user to turn it ON\n"
            "**If Data Roaming is ON:**\n- Proceed to Step 3\n")
    checks = [d for d in derive(doc(text)) if isinstance(d, DerivedCheck)]
    # one question per fact, in the source's wording, read by the decision's states
    assert [(d.question, d.topic, d.states, d.condition) for d in checks] == [
        ("Are you outside your usual service area?", "traveling", ["not traveling", "traveling"], ""),
        ("Is Data Roaming enabled?", "data roaming", ["OFF", "ON"], "the User is traveling"),
    ]
    # a decision on something the step does not name stays a question of its own (see WORKFLOW_TEXT)
    topics = [d.topic for d in derive(doc(WORKFLOW_TEXT)) if isinstance(d, DerivedCheck) and not d.condition]
    assert "speed test" in topics and "mobile data" in topics


def test_a_russian_decision_on_where_the_customer_is_asks_them_and_its_follow_up_waits_for_the_answer():
    from copilot.anamnesis import ArticleFacts, meets, questions
    from copilot.facts import given_facts
    from copilot.schema import Conversation

    text = ("## Шаг 2: Проверьте, находится ли клиент за границей\nСпросите, находится ли клиент за границей.\n\n"
            "**Если клиент за границей:**\n- Попросите клиента проверить, включён ли роуминг данных.\n\n"
            "**Если клиент не за границей:**\n- Перейдите к шагу 3.\n\n"
            "## Шаг 3: Мобильные данные\n**Если мобильные данные выключены:**\n- Попросите их включить.\n"
            "**Если мобильные данные включены:**\n- Перейдите к шагу 4.\n")
    checks = [d for d in derive(doc(text, lang="ru")) if isinstance(d, DerivedCheck)]
    assert [(d.question, d.condition) for d in checks] == [
        ("Подскажите, пожалуйста, вы сейчас за границей?", ""),
        ("Проверьте, пожалуйста, включён ли роуминг данных — что вы видите?", "клиент за границей"),
        ("Подскажите, пожалуйста: мобильные данные — выключены или включены?", ""),
    ]
    assert meets("клиент за границей", "ru", ["Я сейчас в отпуске в Турции."])
    assert not meets("клиент за границей", "ru", ["Я дома."]) and meets("клиент не за границей", "ru", ["Я дома."])

    def asked(said: str) -> list[str]:
        given = given_facts(Conversation(messages=[{"role": "customer", "text": said}]))
        return [q.text for q in questions("ru", [ArticleFacts("guide", [], [(c, "pending") for c in checks])], [],
                                          given, customer_text=said)]

    abroad = asked("Я в отпуске в Турции, мобильный интернет не работает.")
    assert abroad[0].startswith("Проверьте, пожалуйста, включён ли роуминг") and not any("за границей" in q for q in abroad)
    home = asked("Я дома, мобильный интернет не работает.")
    assert home == ["Подскажите, пожалуйста: мобильные данные — выключены или включены?"]


def test_a_yes_no_decision_is_one_question_whichever_branch_comes_first():
    # written to the customer ("the user manual" and "as a customer" do not make it a text for the agent)
    text = ("## Step 4\nAs a customer, you can fix most problems yourself; see the user manual.\n\n"
            "**If you are abroad:**\n- Turn on Data Roaming.\n**If you are not abroad:**\n- Restart your phone.\n")
    assert [d.question for d in derive(doc(text)) if isinstance(d, DerivedCheck) and d.form == "branch"] == [
        "Are you abroad?"]


def test_in_a_text_written_to_the_agent_a_decision_about_you_is_the_agents_and_asks_nothing():
    text = ("## Step 1.4: Check Line Suspension\nNo service can be due to a suspended line.\n\n"
            "**If you are able to lift the suspension:**\n- Ask the user to restart the phone.\n"
            "**If you are not able to lift the suspension:**\n- Escalate to technical support.\n")
    questions = [d.question for d in derive(doc(text)) if isinstance(d, DerivedCheck) and not d.condition]
    # neither the agent's decision nor the heading that names it ("Check Line Suspension") is put to the customer
    assert questions == []
    ru = ("## Шаг 4: Проверьте блокировку линии\nПопросите клиента перезагрузить телефон.\n\n"
          "**Если вы — можете снять блокировку:**\n- Попросите клиента перезагрузить телефон.\n"
          "**Если вы — не можете снять блокировку:**\n- Передайте обращение специалисту.\n")
    assert not any(d.form == "branch" for d in derive(doc(ru, lang="ru")) if isinstance(d, DerivedCheck))
    # a decision on what the agent looks up in the step is the agent's too; a follow-up under it still waits
    # for the customer's words
    usage = ("## Step 2.1.4: Check Data Usage\nCheck if, for the line associated with the phone number the user "
             "provided, the user's data usage has exceeded their data limit.\n\n**If Data Usage is EXCEEDED:**\n"
             "- Ask the user whether they want to change plan or refuel data.\n**If Data Usage is NOT EXCEEDED:**\n"
             "- Ask user to run a speed test.\n")
    checks = [d for d in derive(doc(usage)) if isinstance(d, DerivedCheck)]
    assert [(d.question, d.condition) for d in checks] == [
        ("Could you tell me whether you want to change plan or refuel data?", "Data Usage is EXCEEDED"),
        ("Could you run a speed test and tell me the result?", "Data Usage is NOT EXCEEDED")]
    # a decision about the customer stays the customer's, whatever the agent looks up in that step
    travel = ("## Step 2: Verify if user is traveling\nAsk the user if they are outside their usual service area.\n\n"
              "**If the User is not traveling:**\n- Proceed to Step 3\n**If the User is traveling:**\n"
              "- Verify that the line associated with the phone number the user provided is roaming enabled.\n")
    assert [(d.question, d.topic) for d in derive(doc(travel)) if isinstance(d, DerivedCheck)] == [
        ("Are you outside your usual service area?", "traveling")]


ROUTED = {
    "path-1-service.md": "---\nid: path-1-service\ntitle: \"Path 1: No signal\"\nlang: en\n---\n"
                         "## Step 1.0: Signal icon\n- Ask the user to check the signal icon at the top.\n",
    "path-2-1-unavailable.md": "---\nid: path-2-1-unavailable\ntitle: \"Path 2.1: Unavailable mobile data\"\nlang: en\n---\n"
                               "## Step 2.1.1: Verify service\nAsk the user to check if their phone has cellular service.\n\n"
                               "- Follow Path 1 (No signal) troubleshooting steps first.\n\n"
                               "## Step 2.1.2: Mobile data\n**If Mobile Data is OFF:**\n- Ask the user to turn it ON\n"
                               "**If Mobile Data is ON:**\n- Proceed to Step 2.1.3\n",
    "path-2-2-slow.md": "---\nid: path-2-2-slow\ntitle: \"Path 2.2: Slow mobile data\"\nlang: en\n---\n"
                        "## Step 2.2.0: Check if mobile data is slow\nSlow mobile data loads pages slowly.\n\n"
                        "- Ask user to run a speed test.\n"
                        "- If speed test returns 'no connection', mobile data is unavailable.\n    - Follow Path 2.1.\n\n"
                        "## Step 2.2.1: Data Saver\nAsk the user to check if Data Saver mode is limiting their data.\n",
}


@pytest.fixture
def routed_copilot(tmp_path, session_cache):
    return copilot_over(ROUTED, tmp_path, session_cache, judge_coverage=False)


def test_a_routing_step_sends_the_questions_to_the_path_whose_condition_the_customer_met(routed_copilot):
    link = next(r.item for r in routed_copilot.index.docstore.derived(kind="link") if r.item.source_id == "path-2-2-slow")
    assert (link.target, link.condition) == ("Path 2.1", "speed test returns 'no connection'")
    slow = routed_copilot.suggest(conversation("My mobile data is slow, pages load slowly."))
    assert slow.questions[0].source_id == "path-2-2-slow"
    # the speed test says "no connection": the slow-data path routes to the unavailable-data path
    routed = routed_copilot.suggest(conversation("My mobile data is slow. The speed test says no connection."))
    # (Path 2.1's first step checks the service by following Path 1: its signal icon check)
    assert [q.source_id for q in routed.questions][:2] == ["path-1-service", "path-2-1-unavailable"]
    assert "Data Saver" not in " ".join(q.text for q in routed.questions)


def test_a_routing_step_is_met_by_what_its_outcome_means_in_the_customers_words(routed_copilot):
    link = next(r.item for r in routed_copilot.index.docstore.derived(kind="link") if r.item.source_id == "path-2-2-slow")
    assert link.means == "mobile data is unavailable"
    # no speed test run, but "isn't working" is what the workflow says "no connection" means: Path 2.1's checks
    down = routed_copilot.suggest(conversation("My mobile data isn't working since this morning."))
    assert [q.source_id for q in down.questions][:2] == ["path-1-service", "path-2-1-unavailable"]
    assert "Data Saver" not in " ".join(q.text for q in down.questions)
    # slow is another state: the slow-data path keeps its questions
    slow = routed_copilot.suggest(conversation("My mobile data is really slow since this morning."))
    assert "Data Saver" in " ".join(q.text for q in slow.questions)


def test_supervisors_see_a_routing_step_with_its_condition_and_reject_it(routed_copilot, tmp_path):
    at = proposals_page(routed_copilot, tmp_path)
    at.selectbox(key="dp-kind").select("link").run()
    assert any("Routing: once the customer's words meet \"speed test returns 'no connection'\" or say \"mobile data "
               "is unavailable\"" in c.value for c in at.caption)
    route = next(r for r in routed_copilot.index.docstore.derived(kind="link") if r.item.condition)
    assert at.text_input(key=f"dq-{route.item.id}").value == "Path 2.1"
    at.button(key=f"dr-{route.item.id}").click().run()
    # rejected, the routing step no longer sends the questions to Path 2.1
    routed = routed_copilot.suggest(conversation("My mobile data is slow. The speed test says no connection."))
    assert routed.questions[0].source_id == "path-2-2-slow"


def test_a_detour_to_another_path_is_moot_once_the_steps_own_check_is_answered(routed_copilot):
    asked = lambda text: [q.source_id for q in routed_copilot.suggest(conversation(text)).questions]
    # the step's service check gives its place to Path 1's signal icon check, how Path 1 makes it
    assert asked("No mobile data. The speed test says no connection.")[:2] == [
        "path-1-service", "path-2-1-unavailable"]  # signal icon, mobile data
    # answered, the detour is dropped: Path 2.1's next check leads (Path 1 may still be asked as a
    # matched article of its own, after it: this tiny knowledge base matches every article)
    facts = [q.fact for q in routed_copilot.suggest(conversation(
        "No mobile data. The speed test says no connection. I checked, my phone has cellular service.")).questions]
    assert facts[0] == "mobile_data" and "phone_cellular_service" not in facts


def test_what_an_article_asks_the_reader_to_tell_us_becomes_a_low_ranked_request():
    from knowledge_base.derive import requests_of

    assert [t for t, _ in requests_of("If there's no network in one place, tell us the exact address, whether "
                                      "you're indoors or outdoors, and your phone model.", "en")] == [
        "exact address", "you're indoors outdoors", "phone model"]
    assert [q for _, q in requests_of("Укажите номер договора и способ оплаты.", "ru")] == [
        "Подскажите, пожалуйста, номер договора?", "Подскажите, пожалуйста, способ оплаты?"]
    # a channel is not a fact; the request after it is
    assert requests_of("Tell us in the chat or by phone.", "en") == []
    assert [t for t, _ in requests_of("Напишите нам в чат и укажите номер договора.", "ru")] == ["номер договора"]
    # written to the reader: ranked below what the agent is told to ask
    checks = [d for d in derive(doc("- Ask the user to run a speed test.\n- Tell us your contract number."))
              if isinstance(d, DerivedCheck)]
    assert [(d.topic, d.form) for d in checks] == [("speed test", "ask"), ("contract number", "step")]


def test_a_detour_asks_the_check_it_goes_there_for_and_a_reported_inability_answers_a_can_you_question(
        tmp_path, session_cache):
    mms = ("---\nid: path-3-mms\ntitle: \"Path 3: MMS\"\nlang: en\n---\n"
           "## Step 3.0: Check MMS\n- Ask user if they can send an MMS message using the default messaging app.\n\n"
           "## Step 3.2: Verify Mobile Data Status\nMobile data is required for MMS.\n\n"
           "- Use Path 2.1 (Unavailable Mobile Data) troubleshooting steps to check if mobile data connectivity "
           "is working.\n")
    copilot = copilot_over({"path-3-mms.md": mms, "path-2-1-unavailable.md": ROUTED["path-2-1-unavailable.md"]},
                           tmp_path, session_cache, judge_coverage=False)
    questions = copilot.suggest(conversation("Hello, MMS is not working on my phone.")).questions
    assert questions[0].text == "Can you send an MMS message using the default messaging app?"
    # the step goes to Path 2.1 "to check if mobile data connectivity is working": its mobile data
    # check, not its first one (the cellular service check)
    assert [(q.fact, q.source_id) for q in questions][1] == ("mobile_data", "path-2-1-unavailable")
    # "I can't send ..." answers "Can you send ...?"
    said = copilot.suggest(conversation("MMS is not working on my phone: I can't send an MMS message.")).questions
    assert [q.fact for q in said][:2] == ["mobile_data", "phone_cellular_service"]


TRAVEL_PATH = ("---\nid: path-2-1-unavailable\ntitle: \"Path 2.1: Unavailable mobile data\"\nlang: en\n---\n"
               "## Step 2.1.0: Speed\n- Ask user to run a speed test.\n\n"
               "## Step 2.1.1: Verify if user is traveling\nAsk the user if they are outside their usual service area.\n\n"
               "**If the User is not traveling:**\n- Proceed to Step 2.1.2\n**If the User is traveling:**\n"
               "- Ask the user to verify if Data Roaming is enabled.\n\n"
               "## Step 2.1.2: Mobile data\n**If Mobile Data is OFF:**\n- Ask the user to turn it ON\n"
               "**If Mobile Data is ON:**\n- Proceed to Step 2.1.3\n")


def test_a_detour_with_a_purpose_takes_the_paths_steps_up_to_that_check_and_a_met_follow_up_among_them(
        tmp_path, session_cache):
    mms = ("---\nid: path-3-mms\ntitle: \"Path 3: MMS\"\nlang: en\n---\n"
           "## Step 3.2: Verify Mobile Data Status\nMobile data is required for MMS.\n\n"
           "- Use Path 2.1 (Unavailable Mobile Data) troubleshooting steps to check if mobile data connectivity "
           "is working.\n\n## Step 3.3: Network\nAsk the user to check what type of cellular network their phone "
           "is connected to.\n")
    copilot = copilot_over({"path-3-mms.md": mms, "path-2-1-unavailable.md": TRAVEL_PATH},
                           tmp_path, session_cache, judge_coverage=False)
    asked = lambda text: [q.fact for q in copilot.suggest(conversation(text)).questions]
    # the path's steps up to its mobile data check, not its speed test (the purpose replaces that entry test)
    assert asked("MMS is not working on my phone.")[:2] == ["traveling", "mobile_data"]
    # abroad: the question is answered and its follow-up, the roaming check, comes before mobile data
    assert asked("MMS is not working on my phone. I'm abroad in France this week.")[:2] == [
        "data_roaming_enabled", "mobile_data"]
    # at home: answered the other way, so no roaming question
    home = asked("MMS is not working on my phone. I'm at home.")
    assert "data_roaming_enabled" not in home and "traveling" not in home and home[0] == "mobile_data"


@pytest.mark.parametrize("condition, said, met", [
    ("the User is traveling", "I'm traveling in Spain and my data does not work.", True),
    ("the User is traveling", "I'm not traveling, I'm at home.", False),
    ("the User is not traveling", "I'm not traveling, I'm at home.", True),
    ("the User is not traveling", "I'm traveling in Spain.", False),
    # the vocabulary's words for a yes-no fact count: abroad, on holiday, at home, in both languages
    ("the User is traveling", "I'm abroad for a week and nothing loads.", True),
    ("the User is traveling", "Я сейчас в отпуске в Турции, интернет не работает.", True),
    ("the User is not traveling", "Я дома, никуда не уезжал.", True),
    ("the User is traveling", "Я дома, никуда не уезжал.", False),
    ("the User is traveling", "My data does not work.", False),
    # any other subject the customer names: its polarity decides
    ("the user is outside coverage", "I am not outside coverage, the signal is fine.", False),
    ("the user is outside coverage", "I think I am outside coverage here.", True),
])
def test_a_yes_no_outcome_is_met_only_by_the_same_answer(condition, said, met):
    from copilot.anamnesis import meets

    assert meets(condition, "en", [said]) is met


def test_a_russian_routing_step_is_derived_and_met_by_the_customers_words():
    from copilot.anamnesis import meets

    text = ("## Шаг 2.0: Проверка\n- Попросите клиента запустить тест скорости.\n"
            "- Если тест скорости показывает «нет соединения», мобильный интернет недоступен.\n"
            "    - Выполните раздел 2.1.\n")
    link = next(d for d in derive(doc(text, lang="ru")) if isinstance(d, DerivedLink))
    assert (link.target, link.condition) == ("раздел 2.1", "тест скорости показывает «нет соединения»")
    # what the source says the outcome means is kept with it
    assert link.means == "мобильный интернет недоступен"
    assert meets(link.condition, "ru", ["Тест скорости показывает нет соединения."])
    assert not meets(link.condition, "ru", ["Тест скорости показывает 20 Мбит/с."])


def test_two_if_sentences_on_one_subject_are_a_decision_point_in_both_languages():
    en = ("## Is it Wi-Fi or the line?\nLook at the router when the connection drops. If the Internet light turns red "
          "or goes off, the problem is the line. If the Internet light stays solid green while devices lose the "
          "connection, it's a Wi-Fi issue.\n")
    ru = ("## Wi-Fi или линия?\nПосмотрите на роутер, когда пропадает связь. Если индикатор Internet становится "
          "красным или гаснет, проблема в линии. Если Internet горит ровным зелёным, а устройства отключаются, "
          "дело в Wi-Fi.\n")
    branch = lambda text, lang: next(d for d in derive(doc(text, lang=lang))
                                     if isinstance(d, DerivedCheck) and d.form == "branch")
    assert (branch(en, "en").topic, branch(en, "en").states) == ("internet light", ["red or goes off", "solid green"])
    assert branch(ru, "ru").states == ["красным или гаснет", "ровным зелёным"]
    # a judgement of the reader ("If you believe ...") is not a state to ask about
    judged = "If you believe you are owed more, write a claim. If you are not happy with the answer, appeal."
    assert not [d for d in derive(doc(judged)) if isinstance(d, DerivedCheck) and d.form == "branch"]


@pytest.mark.parametrize("text,lang,question", [
    # "condition → outcome": the state ends at the arrow
    ("If the card status is PENDING → Card not yet activated\nIf the card status is ACTIVE → Continue to step 2\n", "en",
     "Is the card status pending or active?"),
    ("Если статус карты — ожидает → карта ещё не активирована.\nЕсли статус карты — активна → переходите к шагу 2.\n", "ru",
     "Подскажите, пожалуйста: статус карты — ожидает или активна?"),
    # a field of the agent's tools or a flag set to true/false is nothing the customer can see
    ("If pin_locked is TRUE:\n- Follow the protocol.\nIf pin_locked is FALSE:\n- Unlock the card.\n", "en", None),
    ("If Yes is True:\n- The account converts.\nIf Yes is False:\n- Nothing changes.\n", "en", None),
    ("Если pin_locked — TRUE:\n- Следуйте протоколу.\nЕсли pin_locked — FALSE:\n- Разблокируйте карту.\n", "ru", None),
])
def test_a_branch_states_what_the_customer_sees_not_its_outcome_or_a_tools_flag(text, lang, question):
    found = [d.question for d in derive(doc("## Step 1\n" + text, lang=lang)) if isinstance(d, DerivedCheck)]
    assert found == ([question] if question else [])


@pytest.mark.parametrize("sentence,lang,topic", [
    ("Check the date: the regular top-up is on the 25th.", "en", "date"),
    ("Проверьте дату: обычное пополнение 25-го, повтор 27-го.", "ru", "дату"),
    ("Проверьте кабель — он должен щёлкнуть в порту.", "ru", "кабель"),
])
def test_a_check_stops_where_its_explanation_starts_in_both_languages(sentence, lang, topic):
    # the explanation after the colon is not part of what to check: one-word Russian heads
    # are cut like two-word English ones ("the date"), so the fact is named by its subject
    found = check_of(sentence, lang)
    assert found is not None and found[0] == topic


KB_ARTICLE_RU = """---
id: mobile-data-guide-ru
title: Не работает мобильный интернет
lang: ru
---
# Не работает мобильный интернет

Это руководство для случаев, когда у клиента не работает мобильный интернет.

## Шаг 1: Основные проверки
Попросите клиента запустить тест скорости.
Попросите клиента проверить, есть ли на телефоне сеть.

## Шаг 2: Экономия трафика
Попросите клиента проверить, включён ли режим экономии трафика.
Если после отключения экономии трафика скорость всё ещё низкая, передайте обращение в техническую поддержку.
"""


@pytest.mark.parametrize("article,covered,uncovered", [
    (KB_ARTICLE, PROBLEM, "Do you offer satellite internet for my country house?"),
    # a chatty message (a greeting, a place, "honestly") on a desk with no past tickets to know those words from;
    # a rare surname still counts against it (where we lose)
    (KB_ARTICLE, "Hello there! Honestly, my mobile data is not working on my phone and pages do not load at all.",
     "Do you offer satellite internet?"),
    (KB_ARTICLE_RU, "На телефоне не работает мобильный интернет, страницы не открываются.",
     "Можно ли заказать у вас спутниковое телевидение на дачу?"),
    (KB_ARTICLE_RU, "Добрый вечер! Я сейчас в поездке в Казани. Честно говоря, на телефоне совсем не работает "
     "мобильный интернет.", "Можно ли заказать у вас спутниковое телевидение?"),
])
def test_a_one_article_knowledge_base_covers_the_question_its_article_answers_and_no_other(
        tmp_path, session_cache, article, covered, uncovered):
    # over one article (and no past tickets) the index lacks most everyday words ("pages", "load",
    # "honestly"): words common in the language at large count as known
    judged = copilot_over({"guide.md": article}, tmp_path, session_cache)
    suggestion = judged.suggest(conversation(covered))
    assert suggestion.coverage.covered, suggestion.coverage.reason
    assert suggestion.citations
    other = judged.suggest(conversation(uncovered))
    assert not other.coverage.covered and other.coverage.reason


DETOUR = {
    "path-1-en.md": "---\nid: path-1-en\ntitle: \"Path 1: No signal\"\nlang: en\n---\n"
                    "## Step 1.0: Signal icon\n- Ask the user to check the signal icon at the top.\n",
    "path-2-en.md": "---\nid: path-2-en\ntitle: \"Path 2: No mobile data\"\nlang: en\n---\n"
                    "## Step 2.1: Verify service\nAsk the user to check if their phone has cellular service.\n\n"
                    "- Follow Path 1 (No signal) troubleshooting steps first.\n\n"
                    "## Step 2.2: Mobile data\nAsk the user to check if Mobile Data is on.\n",
    "path-1-ru.md": "---\nid: path-1-ru\ntitle: \"Раздел 1: Нет сети\"\nlang: ru\n---\n"
                    "## Шаг 1.0: Значок сети\n- Попросите клиента посмотреть на значок сети в строке состояния.\n",
    "path-2-ru.md": "---\nid: path-2-ru\ntitle: \"Раздел 2: Нет мобильного интернета\"\nlang: ru\n---\n"
                    "## Шаг 2.1: Проверка сети\nПопросите клиента проверить, есть ли у телефона сотовая связь.\n\n"
                    "- Сначала выполните шаги раздела 1 (Нет сети).\n\n"
                    "## Шаг 2.2: Передача данных\nПопросите клиента проверить, включена ли передача данных.\n",
}


@pytest.mark.parametrize("text,lang,step,entry", [
    ("Mobile data does not work on my phone.", "en", "cellular service", "signal icon"),
    ("На телефоне не работает мобильный интернет.", "ru", "сотовая связь", "значок сети"),
])
def test_a_steps_check_made_by_following_another_path_is_asked_once_as_that_paths_check(
        tmp_path, session_cache, text, lang, step, entry):
    copilot = copilot_over(DETOUR, tmp_path, session_cache, judge_coverage=False)
    questions = [q.text for q in copilot.suggest(conversation(text)).questions]
    # "check the service; follow Path 1 first": Path 1's first check is how the service is checked
    assert any(entry in q for q in questions[:2]), questions
    assert not any(step in q for q in questions), questions


SIBLINGS = {
    "path-2-1-en.md": "---\nid: path-2-1-en\ntitle: \"Path 2.1: Unavailable mobile data\"\nlang: en\n---\n"
                      "## Step 2.1.0: Data issue\n- Ask user to run a speed test.\n"
                      "- If speed test returns a speed, mobile data is available.\n    - Follow Path 2.2.\n\n"
                      "## Step 2.1.1: Service\nAsk the user to check if their phone has cellular service.\n\n"
                      "## Step 2.1.2: Mobile data\nAsk the user to check if Mobile Data is on.\n",
    "path-2-2-en.md": "---\nid: path-2-2-en\ntitle: \"Path 2.2: Slow mobile data\"\nlang: en\n---\n"
                      "## Step 2.2.0: Data issue\n- Ask user to run a speed test.\n"
                      "- If speed test returns 'no connection', mobile data is unavailable.\n    - Follow Path 2.1.\n\n"
                      "## Step 2.2.1: Data Saver\nAsk the user to check if Data Saver mode is on.\n\n"
                      "## Step 2.2.2: VPN\nAsk the user to check if they're using a VPN.\n",
    "path-2-1-ru.md": "---\nid: path-2-1-ru\ntitle: \"Раздел 2.1: Мобильный интернет недоступен\"\nlang: ru\n---\n"
                      "## Шаг 2.1.0: Проблема с интернетом\n- Попросите клиента запустить тест скорости.\n"
                      "- Если тест скорости показывает число, интернет доступен.\n    - Выполните раздел 2.2.\n\n"
                      "## Шаг 2.1.1: Сеть\nПопросите клиента проверить, есть ли у телефона сотовая связь.\n\n"
                      "## Шаг 2.1.2: Передача данных\nПопросите клиента проверить, включена ли передача данных.\n",
    "path-2-2-ru.md": "---\nid: path-2-2-ru\ntitle: \"Раздел 2.2: Медленный мобильный интернет\"\nlang: ru\n---\n"
                      "## Шаг 2.2.0: Проблема с интернетом\n- Попросите клиента запустить тест скорости.\n"
                      "- Если тест скорости показывает «нет соединения», интернет недоступен.\n"
                      "    - Выполните раздел 2.1.\n\n"
                      "## Шаг 2.2.1: Экономия трафика\nПопросите клиента проверить, включён ли режим экономии трафика.\n\n"
                      "## Шаг 2.2.2: VPN\nПопросите клиента проверить, подключён ли VPN.\n",
}


@pytest.mark.parametrize("text,lang", [
    ("Mobile data on my phone is not working well since this morning.", "en"),
    ("С утра плохо работает мобильный интернет на телефоне.", "ru"),
])
def test_two_paths_routed_by_a_check_not_yet_answered_are_both_asked_about(tmp_path, session_cache, text, lang):
    copilot = copilot_over(SIBLINGS, tmp_path, session_cache, judge_coverage=False)
    questions = copilot.suggest(conversation(text)).questions
    # the speed test decides between the paths: it leads, and until it is answered the next
    # checks of both paths come in turn, whichever path matched the words a little better
    assert "speed" in questions[0].text or "скорости" in questions[0].text
    assert {q.source_id for q in questions[1:]} == {f"path-2-1-{lang}", f"path-2-2-{lang}"}, questions
    # answered ("no connection"), the routing step decides: Path 2.1's checks only
    said = {"en": "Mobile data is not working. The speed test says no connection.",
            "ru": "Не работает мобильный интернет. Тест скорости показывает нет соединения."}[lang]
    assert {q.source_id for q in copilot.suggest(conversation(said)).questions if q.source_id} == {f"path-2-1-{lang}"}
    # saying what "no connection" means does too, in either language
    said = {"en": "My mobile data stopped working this morning.",
            "ru": "В поездке по области не работает мобильный интернет."}[lang]
    assert {q.source_id for q in copilot.suggest(conversation(said)).questions if q.source_id} == {f"path-2-1-{lang}"}


def test_a_check_the_operator_sent_and_the_customer_answered_is_not_suggested_again(guide_copilot):
    first = guide_copilot.suggest(conversation(PROBLEM)).questions
    sent = next(q for q in first if q.fact not in FACTS)  # a check of this article's own, not the vocabulary's
    again = guide_copilot.suggest(conversation(PROBLEM, f"Thanks. {sent.text}", "yes")).questions
    assert sent.text not in [q.text for q in again]
    assert [q.text for q in again if q.text != sent.text][:1] == [q.text for q in first if q.text != sent.text][:1]
    # "not sure" answers nothing, and "how do I check?" in reply is part of the diagnosis, not a how-to
    # question that would end it: the check is still there to ask
    unsure = guide_copilot.suggest(conversation(PROBLEM, f"Thanks. {sent.text}", "not sure, how do I check?")).questions
    assert sent.text in [q.text for q in unsure]


@pytest.mark.parametrize("text,lang,kept", [
    # the section under the heading is the agent's own work: its tool, or the customer in the third person
    ("## Step 2: Check for Previous Retention Attempts\nUse the get_closure_reason_history tool to see whether "
     "this account was offered a retention bonus before.\n", "en", None),
    ("## Check Automatic Escalation Triggers\nBefore calculating flags, ask the customer whether the card is "
     "with them and note it.\n", "en", None),
    ("## Проверьте историю обращений\nОткройте карточку обращения в CRM и посмотрите, было ли уже списание.\n", "ru", None),
    # written to the customer, the heading is the step to ask about
    ("## Check your balance\nOpen the app: if the balance is negative, the service is paused until you top up.\n",
     "en", "Could you check your balance and tell me what you see?"),
    ("## Проверьте баланс\nОткройте приложение: если баланс отрицательный, услуги приостановлены до пополнения.\n",
     "ru", "Проверьте, пожалуйста, баланс — что вы видите?"),
])
def test_a_heading_names_a_question_only_over_text_written_to_the_customer(text, lang, kept):
    questions = [d.question for d in derive(doc(text, lang)) if isinstance(d, DerivedCheck)]
    assert questions == ([kept] if kept else []), questions


def test_a_labelled_step_asks_what_its_text_says_to_ask_and_nothing_for_the_agents_own_lookup():
    text = ("## Insufficient funds\n"
            "1. **Check Current Balance**: Look up the customer's accounts to get the checking account balance.\n"
            "2. **Check Authorization Holds**: Ask the customer if they have any recent authorization holds that "
            "might be reducing their available balance.\n")
    questions = [d.question for d in derive(doc(text)) if isinstance(d, DerivedCheck)]
    assert questions == ["Do you have any recent authorization holds that might be reducing your available balance?"]
    text_ru = ("## Недостаточно средств\n1. **Проверьте баланс**: посмотрите счета клиента в CRM.\n"
               "2. **Проверьте блокировки**: спросите клиента, есть ли у него недавние блокировки средств на карте.\n")
    questions = [d.question for d in derive(doc(text_ru, "ru")) if isinstance(d, DerivedCheck)]
    assert questions == ["Подскажите, пожалуйста, есть ли у вас недавние блокировки средств на карте?"]


@pytest.mark.parametrize("sentence,lang,situation,condition", [
    # the condition ends where what to do then begins
    ("If you cannot locate the dedicated number, contact us through digital banking and ask to be connected to "
     "the senior support team.", "en", "", "you cannot locate the dedicated number"),
    ("Если вы не можете дозвониться, напишите нам в чат, и оператор передаст обращение специалисту.", "ru", "",
     "вы не можете дозвониться"),
    # how the customer gets in touch is no condition of the case: the case is the section's
    ("If you write to us in the chat instead, the agent passes your case to the fraud team immediately.", "en",
     "Someone is using your account", "Someone is using your account"),
    ("Если вы напишете нам в чат, оператор сразу передаст обращение в отдел по борьбе с мошенничеством.", "ru",
     "Кто-то пользуется вашим кабинетом", "Кто-то пользуется вашим кабинетом"),
    # a promise to hand over is a handoff sentence in Russian too («передаст», «передадим»)
    ("Мы передадим обращение инженеру, если после перезагрузки индикатор остаётся красным.", "ru", "",
     "после перезагрузки индикатор остаётся красным"),
    # a condition that names nothing stays no rule, whatever the section
    ("If this is not the case, escalate to technical support.", "en", "Check for Active VPN", None),
])
def test_a_rules_condition_is_the_case_not_the_action_nor_the_channel(sentence, lang, situation, condition):
    rule = rule_of(sentence, "", lang, situation=situation)
    assert (rule[1] if rule else None) == condition


def test_a_branch_line_that_also_says_what_to_do_keeps_only_its_condition():
    text = ("## Option 2: with a support specialist\nIf it is hard for you to get to an office, contact support:\n"
            "- a support specialist verifies your identity and passes the change to the team.\n")
    rules = [d for d in derive(doc(text)) if isinstance(d, DerivedRule)]
    assert [r.condition for r in rules] == ["it is hard for you to get to an office"]


def test_a_section_on_the_transfer_tools_says_how_to_hand_over_not_when():
    text = ("## Required Agent Discoverable Tools\n- initial_transfer_to_human_agent_1822\n"
            "## Internal tool to use for the first three requests\nUse the agent discoverable tool: "
            "initial_transfer_to_human_agent_0218()\n"
            "## Incident: duplicate charges\nThis requires immediate escalation.\n")
    rules = [d for d in derive(doc(text)) if isinstance(d, DerivedRule)]
    assert [r.condition for r in rules] == ["Incident: duplicate charges"]
