"""The operator side panel: conversation in, suggestion out, one click to send."""

from __future__ import annotations

import streamlit as st

from copilot.feedback.store import REJECT_REASONS
from copilot.masking import scrub
from copilot.schema import Suggestion
from copilot.ui import services
from copilot.ui.render import URGENCY_ICON, draft_html, flag_notes, parse_transcript, plain_md, plain_reply

DEMO_CASES = ["en-023", "ru-023", "en-001", "ru-010", "en-047", "ru-058", "en-039", "ru-081", "en-060", "ru-033"]
REASON_LABELS = {"wrong_facts": "Wrong facts", "wrong_tone": "Wrong tone", "not_relevant": "Not relevant",
                 "should_hand_off": "Should hand off", "other": "Other"}


@st.cache_data
def demo_conversations() -> dict[str, dict]:
    from evals.dataset import DATASETS, load_dataset

    by_id = {c.id: c for c in load_dataset([DATASETS], "all")}
    out = {}
    for case_id in DEMO_CASES:
        case = by_id.get(case_id)
        if case:
            first = case.conversation.messages[0].text
            out[f"{case.language.upper()} · {first[:48]}{'…' if len(first) > 48 else ''}"] = case.conversation.model_dump()
    return out


def state():
    ss = st.session_state
    ss.setdefault("turns", [])
    ss.setdefault("reply", "")
    ss.setdefault("profile", {})
    return ss


def load_demo() -> None:
    ss = state()
    choice = ss.get("demo_choice")
    if choice and choice in demo_conversations():
        conv = demo_conversations()[choice]
        ss.turns = [dict(m) for m in conv["messages"]]
        ss.suggestion, ss.suggestion_id, ss.reply = None, None, ""


def add_turn() -> None:
    ss = state()
    text = (ss.get("new_turn") or "").strip()
    if text:
        ss.turns.append({"role": ss.get("new_role", "customer"), "text": text})
        ss.new_turn = ""


def use_transcript() -> None:
    ss = state()
    turns = parse_transcript(ss.get("transcript") or "")
    if turns:
        ss.turns = turns
        ss.transcript = ""
        ss.suggestion, ss.suggestion_id, ss.reply = None, None, ""


def clear() -> None:
    ss = state()
    ss.turns, ss.reply, ss.suggestion, ss.suggestion_id = [], "", None, None


def insert_draft() -> None:
    ss = state()
    if ss.get("suggestion"):
        ss.reply = plain_reply(ss.suggestion)


def ask(question: str) -> None:
    ss = state()
    ss.reply = f"{ss.reply.rstrip()} {question}".strip()


def suggest(regenerate: bool = False) -> None:
    """The retrieval-only suggestion appears at once; when the model words a reply, it
    replaces it only after verification, and the operator sees progress, not raw text."""
    ss = state()
    user = services.user()
    if regenerate and ss.get("suggestion_id"):
        services.store().record_action(ss.suggestion_id, user.username, "regenerated")
    profile = {k: v for k, v in ss.profile.items() if v not in (None, "")}
    conversation = {"messages": ss.turns, "profile": profile}
    preview = st.empty()
    budget = services.settings().llm.timeout_s
    status: list = []

    def first_draft(s: Suggestion) -> None:
        # kept in the session: a cancel (or any click) stops this run before it returns
        ss.pending = {"suggestion": s, "conversation": conversation}
        with preview.container():
            st.caption("Retrieval-only draft (the model's draft replaces it only if every sentence checks out):")
            st.markdown(f'<div class="draft" data-testid="draft">{draft_html(s)}</div>', unsafe_allow_html=True)
            status.append(st.status(f"The model is wording a reply (up to {budget:.0f} s)…", expanded=False))
            st.button("Cancel model draft", key="cancel_model", on_click=cancel_model)

    def progress(seconds: float, characters: int) -> None:
        if status:
            status[0].update(label=f"The model is wording a reply: {seconds:.0f} s of {budget:.0f} s, "
                                   f"{characters} characters so far, not shown until checked")

    try:
        suggestion = services.copilot().suggest(conversation, on_draft=first_draft, on_progress=progress)
    except Exception as exc:  # bad input or no index: a message, never a trace
        preview.empty()
        ss.pop("pending", None)
        st.error(f"No suggestion: {plain_md(scrub(str(exc)))}")
        return
    preview.empty()
    ss.pop("pending", None)
    keep(suggestion, conversation)


def keep(suggestion: Suggestion, conversation: dict) -> None:
    ss = state()
    ss.suggestion = suggestion
    ss.suggestion_id = services.store().record_suggestion(services.user().username, conversation, suggestion)
    ss.reply = ""


def settle_pending(why: str) -> None:
    """A model draft that did not finish (cancelled, or the run stopped by another click):
    the retrieval-only suggestion stands, saying why."""
    ss = state()
    pending = ss.pop("pending", None)
    if pending:
        s: Suggestion = pending["suggestion"]
        warning = f"Model draft {why}; retrieval-only draft shown"
        keep(s.model_copy(update={"draft": s.draft.model_copy(update={"warnings": [*s.draft.warnings, warning]})}),
             pending["conversation"])


def cancel_model() -> None:
    settle_pending("cancelled by the operator")


def finish(action: str, final_text: str = "", reason: str = "", note: str = "") -> None:
    ss = state()
    services.store().record_action(ss.suggestion_id, services.user().username, action, final_text, reason, note)
    ss.last_done = f"{'Sent' if action == 'sent' else 'Rejected'} (suggestion #{ss.suggestion_id})."
    ss.suggestion, ss.suggestion_id, ss.reply = None, None, ""


def send_as_is() -> None:
    ss = state()
    if ss.get("suggestion"):
        finish("sent", plain_reply(ss.suggestion))


def mark_sent() -> None:
    ss = state()
    if ss.get("suggestion") and ss.reply.strip():
        finish("sent", ss.reply)


def reject() -> None:
    ss = state()
    if ss.get("suggestion"):
        finish("rejected", reason=ss.get("reject_reason") or "other", note=ss.get("reject_note") or "")


def show_suggestion(s: Suggestion) -> None:
    h = s.handoff
    if h.needed:
        banner = st.error if h.urgency == "high" else st.warning
        banner(f"{URGENCY_ICON[h.urgency]} **Hand off to a person** · urgency {h.urgency} · queue `{h.queue}`  \n"
               f"Reasons: {', '.join(h.reasons)}")
        for rule in h.rules:  # the knowledge-base sentence that calls for a person
            st.caption(f"Rule from {rule.source_id}" + (f" (derived, {rule.review})" if rule.origin == "derived" else "")
                       + f": “{plain_md(rule.sentence)}”")
        with st.expander("Summary for the human (copy)"):
            st.code(h.summary, language=None)
    for w in s.draft.warnings:
        st.info(plain_md(w))
    for note in flag_notes(s):
        st.info(note)
    st.markdown(f'<div class="draft" data-testid="draft">{draft_html(s)}</div>', unsafe_allow_html=True)
    if s.citations:
        cols = st.columns(min(4, len(s.citations)))
        for i, c in enumerate(s.citations):
            with cols[i % len(cols)].popover(f"\\[{c.n}\\] {plain_md(c.title[:28])}", use_container_width=True):
                st.markdown(f"**{plain_md(c.title)}**  \n`{c.source_id}`")
                st.markdown(plain_md(c.quote))  # the knowledge base's words as written, never markup
    unsupported = [x for x in s.grounding.sentences if x.factual and not x.supported and not x.removed]
    if unsupported:
        st.caption("Highlighted: " + plain_md("; ".join(f"“{x.text[:60]}” — {x.reason}" for x in unsupported)))
    if s.questions:
        st.caption("Ask the customer (click to add to the reply):")
        for q in s.questions:
            # a question derived from the knowledge base's text says so, with its source sentence
            label = plain_md(f"{q.text}  · derived" if q.origin == "derived" else q.text)
            why = f"{q.why}\n\nFrom {q.source_id}: “{q.sentence}” ({q.review})" if q.origin == "derived" else q.why
            st.button(label, key=f"ask-{q.fact}", on_click=ask, args=(q.text,), help=why)
    model = f" · {s.draft.model}" if s.draft.mode == "llm" else ""
    st.caption(f"{s.draft.mode}{model} · {s.draft.prompt} · {s.language} · intent {s.intent.label} · "
               f"sentiment {s.sentiment.label} · confidence {s.confidence:.2f} · {s.timings_ms.get('total', 0):.0f} ms")


ss = state()
settle_pending("interrupted")  # a run stopped mid-draft by a click elsewhere
model_note = services.model_note()
if model_note:
    st.info(model_note)
st.subheader("Conversation")
if ss.get("last_done"):
    st.success(ss.pop("last_done"))
st.selectbox("Demo conversation", [""] + list(demo_conversations()), key="demo_choice", on_change=load_demo,
             format_func=lambda x: x or "— pick one —")
for turn in ss.turns:
    st.markdown(f"**{'Customer' if turn['role'] == 'customer' else 'Agent'}:** {plain_md(turn['text'])}")
with st.form("add-turn", clear_on_submit=False, border=False):
    cols = st.columns([1, 3])
    cols[0].radio("Who", ["customer", "agent"], key="new_role", label_visibility="collapsed")
    cols[1].text_area("Message", key="new_turn", height=68, placeholder="Type a turn; Ctrl+Enter adds it")
    st.form_submit_button("Add turn", on_click=add_turn)
with st.expander("Paste a transcript"):
    st.text_area("Transcript", key="transcript", placeholder="Customer: ...\nAgent: ...")
    st.button("Use transcript", on_click=use_transcript)
with st.expander("Customer profile"):
    ss.profile["contract_number"] = st.text_input("Contract number", value=ss.profile.get("contract_number", ""))
    ss.profile["plan"] = st.text_input("Plan", value=ss.profile.get("plan", ""))
    ss.profile["tenure_months"] = st.number_input("Tenure (months)", min_value=0, step=1,
                                                  value=ss.profile.get("tenure_months") or 0) or None

has_customer = any(t["role"] == "customer" for t in ss.turns)
cols = st.columns(2)
regenerate = ss.pop("regenerate", False)
if cols[0].button("Suggest", type="primary", disabled=not has_customer, use_container_width=True) or regenerate:
    suggest(regenerate=regenerate)
cols[1].button("Clear", on_click=clear, use_container_width=True)

suggestion: Suggestion | None = ss.get("suggestion")
if suggestion is not None:
    st.subheader("Suggestion")
    show_suggestion(suggestion)
    st.text_area("Reply to send", key="reply", height=140)
    a, b, c = st.columns(3)
    a.button("Send as is", type="primary", on_click=send_as_is, use_container_width=True,
             help="Sends the draft without citation marks")
    b.button("Insert to edit", on_click=insert_draft, use_container_width=True)
    c.button("Mark sent", on_click=mark_sent, use_container_width=True, disabled=not ss.reply.strip(),
             help="Records the text in the reply box as sent")
    d, e = st.columns(2)
    d.button("Regenerate", use_container_width=True, on_click=lambda: ss.update(regenerate=True))
    with e.popover("Reject…", use_container_width=True):
        st.selectbox("Why", REJECT_REASONS, key="reject_reason", format_func=REASON_LABELS.get)
        st.text_input("Note (optional)", key="reject_note")
        st.button("Reject suggestion", on_click=reject)
