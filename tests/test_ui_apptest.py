"""The panel's page logic with Streamlit's AppTest: sign-in, suggest, insert, edit, send,
reject, the review queue's filters, and supervisor pages refusing operators."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from copilot.auth import Auth
from copilot.config import AuthSettings, UserAccount
from copilot.feedback.store import FeedbackStore, QueueFilters
from copilot.ui.session import Sessions

from helpers import REPO

APP = str(REPO / "app.py")
TIMEOUT = 120


@pytest.fixture
def ui(retrieval_copilot, tmp_path):
    """What the app would build for itself, pre-seeded: the engine (retrieval-only, demo
    desk), a fresh feedback store, and two accounts with known passwords."""
    from copilot.auth import hash_password

    settings = retrieval_copilot.settings.model_copy(update={
        "data_dir": tmp_path / "panel-data",  # sessions and saved panels of this test only
        "auth": AuthSettings(users=[
            UserAccount(username="olga", role="operator", password_hash=hash_password("op-secret")),
            UserAccount(username="sam", role="supervisor", password_hash=hash_password("sup-secret"))]),
    })
    settings.evals.supervisor_cases = tmp_path / "supervisor.jsonl"
    store = FeedbackStore(settings.feedback, tmp_path)
    return {"settings": settings, "copilot": retrieval_copilot, "store": store, "auth": Auth(settings),
            "sessions": Sessions(settings)}


def app(ui, user: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in ui.items():
        at.session_state[key] = value
    if user:
        at.session_state["user"] = ui["auth"].users[user]
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_sign_in_rejects_a_wrong_password_and_accepts_the_right_one(ui):
    at = app(ui)
    assert not at.exception
    at.text_input[0].input("olga")
    at.text_input[1].input("wrong")
    at.button[0].click().run()
    assert "Wrong user name or password." in [e.value for e in at.error]
    at.text_input[1].input("op-secret")
    at.button[0].click().run()
    assert at.session_state["user"].username == "olga"
    assert any("Conversation" in h.value for h in at.subheader)


def test_operator_gets_a_suggestion_and_sends_it_as_is(ui):
    at = app(ui, "olga")
    at.text_area(key="new_turn").input("How long does a refund take to reach my card?")
    at.button(key="FormSubmitter:add-turn-Add turn").click().run()
    assert at.session_state["turns"] == [{"role": "customer", "text": "How long does a refund take to reach my card?"}]
    button(at, "Suggest").click().run()
    assert not at.exception
    s = at.session_state["suggestion"]
    assert s.citations and "10 business days" in s.draft.text
    assert any("[1]" in m.value for m in at.markdown)  # the draft with its citation marks
    sid = at.session_state["suggestion_id"]
    button(at, "Mark sent").click().run()  # one click, the reply box empty: the draft as is
    row = ui["store"].get(sid)
    assert row.actions[-1].action == "sent" and row.actions[-1].edit_distance == 0.0
    assert "[1]" not in row.actions[-1].final_text
    assert any("Sent" in m.value for m in at.success)
    # what was sent joins the conversation as the agent's turn
    assert at.session_state["turns"][-1] == {"role": "agent", "text": row.actions[-1].final_text}


def suggested(ui, text: str) -> AppTest:
    """The panel after the operator adds one customer turn and asks for a suggestion."""
    at = app(ui, "olga")
    at.text_area(key="new_turn").input(text)
    at.button(key="FormSubmitter:add-turn-Add turn").click().run()
    button(at, "Suggest").click().run()
    assert not at.exception
    return at


def test_an_off_topic_request_shows_the_operator_why_the_draft_declines(ui):
    at = suggested(ui, "Please book me a table for six at a Georgian restaurant on Saturday.")
    assert any(i.value.startswith("Off-topic:") for i in at.info)
    assert not any("Hand off to a person" in w.value for w in [*at.warning, *at.error])


def test_a_greeting_alone_gets_an_invitation_and_the_operator_is_told_nothing_was_searched(ui):
    at = suggested(ui, "Good evening!")
    s = at.session_state["suggestion"]
    assert s.intent.label == "greeting" and not s.citations and not s.handoff.needed
    assert any(i.value.startswith("Nothing asked yet") for i in at.info)
    assert not any("Hand off to a person" in w.value for w in [*at.warning, *at.error])


def test_operator_inserts_edits_and_marks_sent(ui):
    at = app(ui, "olga")
    at.selectbox(key="demo_choice").select(next(o for o in at.selectbox(key="demo_choice").options if o.startswith("EN · Hi, the internet")))
    at.run()
    assert at.session_state["turns"][0]["text"].startswith("Hi, the internet")
    button(at, "Suggest").click().run()
    s = at.session_state["suggestion"]
    assert s.questions  # a no-internet case asks first
    at.text_area(key="reply").input("Hello.")  # a reply of their own: every question is offered
    at.button(key="reply_keep").click().run()  # committed as the focus leaves the reply form
    q = s.questions[0]
    at.button(key=f"ask-{q.fact}").click().run()  # a chip adds the question to the reply
    assert q.text in at.session_state["reply"]
    button(at, "Insert to edit").click().run()
    at.text_area(key="reply").input(at.session_state["reply"] + " Thank you for your patience!")
    sid = at.session_state["suggestion_id"]
    button(at, "Mark sent").click().run()
    action = ui["store"].get(sid).actions[-1]
    assert action.action == "sent" and action.final_text.endswith("Thank you for your patience!")
    assert 0 < action.edit_distance < 0.5


def test_operator_rejects_with_a_reason_and_regenerates(ui):
    at = app(ui, "olga")
    at.text_area(key="new_turn").input("Когда списывается абонентская плата?")
    at.button(key="FormSubmitter:add-turn-Add turn").click().run()
    button(at, "Suggest").click().run()
    first = at.session_state["suggestion_id"]
    button(at, "Regenerate").click().run()
    second = at.session_state["suggestion_id"]
    assert second != first and ui["store"].get(first).actions[-1].action == "regenerated"
    button(at, "Reject…").click().run()
    at.radio(key="reject_reason-en").set_value("Wrong tone").run()  # a reason enables Reject
    at.text_input(key="reject_note").input("too formal")
    button(at, "Reject suggestion").click().run()  # the reject form's button carries the note as typed
    action = ui["store"].get(second).actions[-1]
    assert (action.action, action.reason, action.note) == ("rejected", "wrong_tone", "too formal")


def test_supervisor_pages_refuse_operators(ui):
    at = app(ui, "olga")
    with pytest.raises(ValueError, match="Known pages: .*operator.py'\\]"):
        at.switch_page("copilot/ui/pages/review.py")  # not in an operator's navigation at all
    for page in ("review", "metrics", "mined"):  # and refused if opened directly
        direct = AppTest.from_file(str(REPO / "copilot" / "ui" / "pages" / f"{page}.py"), default_timeout=TIMEOUT)
        for key, value in ui.items():
            direct.session_state[key] = value
        direct.session_state["user"] = ui["auth"].users["olga"]
        direct.run()
        assert [e.value for e in direct.error] == ["This page is for supervisors. You are signed in as operator."]
        assert not direct.dataframe and not direct.metric


def test_review_queue_filters_and_eval_case(ui):
    store, copilot = ui["store"], ui["copilot"]
    for text, action in [("How long does a refund take?", "sent"), ("Operator please, I want a human", "rejected"),
                         ("Когда списывается абонентская плата?", None)]:
        conv = {"messages": [{"role": "customer", "text": text}]}
        sid = store.record_suggestion("olga", conv, copilot.suggest(conv))
        if action == "sent":
            store.record_action(sid, "olga", "sent", "Refunds: 10 business days after approval.")
        elif action == "rejected":
            store.record_action(sid, "olga", "rejected", reason="should_hand_off")
    at = app(ui, "sam")
    at.switch_page("copilot/ui/pages/review.py").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 3
    at.checkbox(key="f_handoff").check().run()
    assert list(at.dataframe[0].value["handoff"]) == [True]
    at.checkbox(key="f_handoff").uncheck()
    at.checkbox(key="f_rejected").check().run()
    assert list(at.dataframe[0].value["reason"]) == ["should_hand_off"]
    at.checkbox(key="f_rejected").uncheck()
    at.selectbox(key="f_language").select("ru").run()
    assert list(at.dataframe[0].value["lang"]) == ["ru"]
    sid = int(at.dataframe[0].value["id"].iloc[0])
    at.button(key=f"ec-create-{sid}").click().run()
    assert any(f"Eval case sup-{sid}" in s.value for s in at.success)
    from evals.dataset import load_cases
    (case,) = load_cases(ui["settings"].evals.supervisor_cases)
    assert case.id == f"sup-{sid}" and case.language == "ru" and case.origin == f"supervisor:{sid}"
    assert store.get(sid).reviews[-1].eval_case_id == case.id


def test_metrics_page_for_a_supervisor(ui):
    store, copilot = ui["store"], ui["copilot"]
    conv = {"messages": [{"role": "customer", "text": "How do I set up autopay?"}]}
    sid = store.record_suggestion("olga", conv, copilot.suggest(conv))
    store.record_action(sid, "olga", "sent", "ok")
    at = app(ui, "sam")
    at.switch_page("copilot/ui/pages/metrics.py").run()
    assert not at.exception
    assert [m.label for m in at.metric][:3] == ["Suggestions", "Acceptance", "Mean edit distance"]
    assert at.metric[1].value == "100%"


def test_queue_filters_in_the_store(ui):
    store, copilot = ui["store"], ui["copilot"]
    conv = {"messages": [{"role": "customer", "text": "What's the capital of Australia?"}]}
    sid = store.record_suggestion("olga", conv, copilot.suggest(conv))
    assert [i.id for i in store.queue(QueueFilters(low_confidence=True))] == [sid]
    assert store.queue(QueueFilters(heavy_edits=True)) == []
    store.record_action(sid, "olga", "sent", "Completely different text written by the operator.")
    assert [i.id for i in store.queue(QueueFilters(heavy_edits=True))] == [sid]


def test_the_panel_says_plainly_when_the_models_drafts_are_rarely_usable(ui, tmp_path):
    from copilot import model_record

    record = tmp_path / "model_acceptance.json"
    settings = ui["settings"].model_copy(update={
        "llm": ui["settings"].llm.model_copy(update={"enabled": True, "model": "tiny-model"}),
        "model_acceptance_file": record})
    entry = dict(model="tiny-model", prompt="draft_reply@v1", command="copilot eval --split dev --doc",
                 measured="2026-12-02 10:00 UTC")
    model_record.record(record, model_record.Acceptance(split="dev", accepted=1, cases=20, **entry))
    model_record.record(record, model_record.Acceptance(split="test", accepted=2, cases=20, **entry))
    at = app({**ui, "settings": settings}, "olga")
    notes = [i.value for i in at.info if "tiny-model" in i.value]
    assert notes and "3 of 40" in notes[0] and "COPILOT_LLM__BASE_URL" in notes[0]
    # a model the eval found usable gets no such note
    model_record.record(record, model_record.Acceptance(split="dev", accepted=15, cases=20, **entry))
    model_record.record(record, model_record.Acceptance(split="test", accepted=14, cases=20, **entry))
    from copilot.ui.services import _model_note

    _model_note.clear()  # the panel re-reads the record every few minutes
    at = app({**ui, "settings": settings}, "olga")
    assert not [i.value for i in at.info if "tiny-model" in i.value]


def test_a_model_draft_stopped_midway_leaves_the_retrieval_draft_with_the_reason(ui):
    """A click while the model is still wording (or Cancel) stops that run: the next run
    keeps the retrieval-only suggestion it had already shown, says why, and records it."""
    at = app(ui, "olga")
    conversation = {"messages": [{"role": "customer", "text": "How long does a refund take to reach my card?"}], "profile": {}}
    first = ui["copilot"].suggest(conversation)
    at.session_state["pending"] = {"suggestion": first, "conversation": conversation}
    at.run()
    kept = at.session_state["suggestion"]
    assert kept.draft.text == first.draft.text
    assert kept.draft.warnings[-1] == "Model draft interrupted; retrieval-only draft shown"
    assert any("Model draft interrupted" in i.value for i in at.info)
    assert ui["store"].get(at.session_state["suggestion_id"]).suggestion["draft"]["warnings"][-1].startswith("Model draft")
