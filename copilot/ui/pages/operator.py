"""The operator side panel: conversation in (typed, pasted, a demo, or a helpdesk
conversation), suggestion out, one click to copy, insert, send, reject or hand off.
Its state is kept per operator in the data folder, so a refresh restores it."""

from __future__ import annotations

import html
import json
import re
import time

import streamlit as st

from copilot.connectors.base import ConnectorError, HelpdeskRef
from copilot.feedback.store import REJECT_REASONS
from copilot.masking import scrub
from copilot.safety import mark_role_tags
from copilot.schema import Conversation, Message, Suggestion
from copilot.ui import helpdesk, services, session
from copilot.ui.handoff_card import HandoffCard, card
from copilot.ui.labels import t
from copilot.ui.render import (URGENCY_ICON, draft_html, flag_notes, parse_transcript, plain_md, plain_reply,
                                short_title)

DEMO_CASES = ["en-023", "ru-023", "en-001", "ru-010", "en-047", "ru-058", "en-039", "ru-081", "en-060", "ru-033"]
LONG_MESSAGE = 1500     # characters: longer turns are shown collapsed
SHORTCUTS = {"suggest": "Alt+Enter", "insert": "Alt+I", "send": "Alt+S"}
NOTE_RECORD = "posted as an internal note"  # the action's note when Send posted a helpdesk note


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


def L(key: str, **fields) -> str:
    return t(st.session_state.get("ui_lang", "en"), key, **fields)


def state():
    """The session's panel state; on a new session (a refresh, a new tab) the operator's
    last saved panel is restored first."""
    ss = st.session_state
    if not ss.get("panel_loaded") and services.user() is not None:
        ss.panel_loaded = True
        for key, value in session.load_panel(services.settings(), services.user().username).items():
            if key not in ss:
                ss[key] = value
    ss.setdefault("turns", [])
    ss.setdefault("profile", {})
    if ss.get("reply") is None:
        ss.reply = ""
    return ss


def save() -> None:
    ss = st.session_state
    if services.user() is not None:
        session.save_panel(services.settings(), services.user().username, ss)


def drop_suggestion() -> None:
    ss = state()
    ss.suggestion, ss.suggestion_id, ss.reply = None, None, ""
    ss.rejecting = False


# --- the conversation -----------------------------------------------------------------------

def load_demo() -> None:
    ss = state()
    choice = ss.get("demo_choice")
    if choice and choice in demo_conversations():
        conv = demo_conversations()[choice]
        ss.turns = [dict(m) for m in conv["messages"]]
        ss.helpdesk_ref = None
        drop_suggestion()


def add_turn() -> None:
    ss = state()
    text = (ss.get("new_turn") or "").strip()
    if text:
        role = "agent" if ss.get(f"new_role-{ss.get('ui_lang', 'en')}") == L("agent") else "customer"
        ss.turns.append({"role": role, "text": text})
        ss.new_turn = ""


def start_edit(i: int) -> None:
    ss = state()
    ss.editing = i
    ss[f"edit-text-{i}"] = ss.turns[i]["text"]


def save_edit(i: int) -> None:
    ss = state()
    text = (ss.get(f"edit-text-{i}") or "").strip()
    if text and i < len(ss.turns):
        ss.turns[i]["text"] = text
    ss.editing = None


def delete_turn(i: int) -> None:
    ss = state()
    if i < len(ss.turns):
        ss.turns.pop(i)
    ss.editing = None


def use_transcript() -> None:
    ss = state()
    turns = parse_transcript(ss.get("transcript") or "")
    if turns:
        ss.turns = turns
        ss.transcript = ""
        ss.demo_choice = None  # the demo label no longer names what is shown
        ss.helpdesk_ref = None
        drop_suggestion()


def clear() -> None:
    ss = state()
    ss.turns, ss.helpdesk_ref, ss.demo_choice = [], None, None
    drop_suggestion()


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def flagged_turns(s: Suggestion | None, turns: list[dict]) -> tuple[set[int], list[str]]:
    """Customer turns the instruction detector flagged (the engine's `prompt_injection:` flag
    quotes the words it found), and the quoted words no turn shown holds any more."""
    if s is None:
        return set(), []
    found, unmatched = set(), []
    for flag in s.flags:
        if not flag.startswith("prompt_injection:"):
            continue
        m = re.search(r'"(.*)"', flag)
        evidence = _norm(m.group(1)) if m else ""
        hits = {i for i, turn in enumerate(turns) if turn["role"] == "customer" and evidence
                and evidence in _norm(mark_role_tags(turn["text"]))}
        found |= hits
        if not hits:
            unmatched.append(m.group(1) if m else flag.partition(":")[2].strip())
    return found, unmatched


def show_turn(i: int, turn: dict, flagged: bool) -> None:
    ss = state()
    who = L("customer") if turn["role"] == "customer" else L("agent")
    with st.container(key=f"turn-{i}"):
        if ss.get("editing") == i:
            with st.form(f"edit-form-{i}", border=False, enter_to_submit=False):  # Save carries the text as typed
                st.text_area(f"{who} ({i + 1})", key=f"edit-text-{i}", height=100)
                a, b, _ = st.columns([1, 1, 3])
                a.form_submit_button(L("save_turn"), key=f"save-turn-{i}", on_click=save_edit, args=(i,))
                b.form_submit_button(L("cancel"), key=f"cancel-turn-{i}", on_click=lambda: ss.update(editing=None))
            return
        text_col, edit_col, del_col = st.columns([12, 1, 1], vertical_alignment="top")
        with text_col:
            text = turn["text"]
            if len(text) > LONG_MESSAGE:
                st.markdown(f"**{who}:** {plain_md(text[:300].rstrip())}…")
                with st.expander(L("long_message", n=len(text))):
                    st.markdown(plain_md(text))
            else:
                st.markdown(f"**{who}:** {plain_md(text)}")
            if flagged:
                st.caption(L("flagged_turn"))
        edit_col.button(":material/edit:", key=f"edit-turn-{i}", help=L("edit_turn"), on_click=start_edit, args=(i,),
                        type="tertiary")
        del_col.button(":material/delete:", key=f"delete-turn-{i}", help=L("delete_turn"), on_click=delete_turn,
                       args=(i,), type="tertiary")


# --- the helpdesk ---------------------------------------------------------------------------

def current_ref() -> HelpdeskRef | None:
    ref = st.session_state.get("helpdesk_ref")
    return HelpdeskRef.model_validate(ref) if ref else None


def helpdesk_failed(ref: HelpdeskRef, exc: Exception) -> None:
    st.session_state.helpdesk_error = L("helpdesk_error", helpdesk=ref.helpdesk,
                                        error=" ".join(scrub(str(exc)).split())[:300])


def open_conversation(ref: HelpdeskRef, keep_suggestion: bool = False) -> bool:
    ss = state()
    try:
        turns = helpdesk.fetch_turns(ref, services.settings())
    except ConnectorError as exc:
        helpdesk_failed(ref, exc)
        return False
    ss.last_fetch = time.monotonic()
    if keep_suggestion and current_ref() and current_ref().key() == ref.key():
        if helpdesk.has_new_customer_turn(ss.turns, turns):
            ss.notice = L("new_customer_turn", helpdesk=ref.helpdesk)
        ss.turns = turns
        return True
    ss.turns, ss.helpdesk_ref, ss.demo_choice = turns, ref.model_dump(), None
    drop_suggestion()
    return True


def open_from_url() -> None:
    ss = state()
    ref = helpdesk.ref_from_url(ss.get("helpdesk_url") or "")
    if ref is None:
        ss.helpdesk_error = L("helpdesk_unknown_url")
        return
    if open_conversation(ref):
        ss.helpdesk_url = ""


def refresh_conversation() -> None:
    ref = current_ref()
    if ref is not None:
        open_conversation(ref, keep_suggestion=True)


def open_from_params() -> None:
    """`?helpdesk=<name>&conversation=<id>`: opened once per session; the same conversation
    already in the (restored) panel is refreshed, keeping the suggestion and the reply."""
    ss = state()
    ref = helpdesk.ref_from_params(st.query_params)
    if ref is None or ss.get("params_opened") == ref.key():
        return
    ss.params_opened = ref.key()
    open_conversation(ref, keep_suggestion=True)


def follow_helpdesk() -> None:
    """Checks the helpdesk every `connectors.panel_refresh_s`; a new customer turn reruns the panel."""
    ss = state()
    ref = current_ref()
    every = services.settings().connectors.panel_refresh_s
    if ref is None or time.monotonic() - ss.get("last_fetch", 0.0) < every / 2:
        return
    try:
        turns = helpdesk.fetch_turns(ref, services.settings())
    except ConnectorError:
        return  # the Refresh button says what failed
    ss.last_fetch = time.monotonic()
    if helpdesk.has_new_customer_turn(ss.turns, turns):
        ss.turns = turns
        ss.notice = L("new_customer_turn", helpdesk=ref.helpdesk)
        save()
        st.rerun(scope="app")


# --- the suggestion -------------------------------------------------------------------------

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
    # what this run has made so far, kept in the session: a click made while the engine works
    # (seconds on a slow machine) stops this run at the next Streamlit call, a write to the
    # session state included, so the drafts are put in this dict in place, never assigned
    pending: dict = {"conversation": conversation}
    ss.pending = pending

    def first_draft(s: Suggestion) -> None:
        pending["suggestion"] = s  # a cancel (or any click) stops this run before it returns
        with preview.container():
            st.caption(L("draft_first"))
            st.markdown(f'<div class="draft" data-testid="draft">{draft_html(s)}</div>', unsafe_allow_html=True)
            status.append(st.status(L("model_wording", budget=f"{budget:.0f}"), expanded=False))
            st.button(L("cancel_model"), key="cancel_model", on_click=cancel_model)

    def progress(seconds: float, characters: int) -> None:
        if status:
            status[0].update(label=L("model_progress", seconds=f"{seconds:.0f}", budget=f"{budget:.0f}",
                                     characters=characters))

    try:
        suggestion = services.copilot().suggest(conversation, on_draft=first_draft, on_progress=progress)
    except Exception as exc:  # bad input or no index: a message, never a trace
        preview.empty()
        ss.pop("pending", None)
        st.error(L("no_suggestion", error=plain_md(scrub(str(exc)))))
        return
    pending.update(suggestion=suggestion, complete=True)  # finished: the next run keeps it if this one stops
    preview.empty()
    ss.pop("pending", None)
    keep(suggestion, conversation)
    st.rerun()  # the conversation above is drawn again with what the suggestion found (flagged turns)


def keep(suggestion: Suggestion, conversation: dict) -> None:
    ss = state()
    ss.suggestion = suggestion
    ss.suggestion_id = services.store().record_suggestion(services.user().username, conversation, suggestion)
    ss.reply = ""
    ss.rejecting = False


def settle_pending(why: str) -> None:
    """A model draft that did not finish (cancelled, or the run stopped by another click):
    the retrieval-only suggestion stands, saying why (`why`: a label key). A suggestion the
    engine had finished when another click stopped the run (the click landed while it worked,
    before it was shown) is kept as it is; without this it was lost, never recorded."""
    ss = state()
    pending = ss.pop("pending", None)
    if not pending or "suggestion" not in pending:  # stopped before any draft: nothing to keep
        return
    if pending.get("complete"):  # finished, the run stopped only before it was shown
        keep(pending["suggestion"], pending["conversation"])
    else:
        s: Suggestion = pending["suggestion"]
        warning = L("model_draft_stopped", why=L(why))
        keep(s.model_copy(update={"draft": s.draft.model_copy(update={"warnings": [*s.draft.warnings, warning]})}),
             pending["conversation"])


def cancel_model() -> None:
    settle_pending("stop_cancelled")


def finish(action: str, done: str, final_text: str = "", reason: str = "", note: str = "") -> None:
    ss = state()
    services.store().record_action(ss.suggestion_id, services.user().username, action, final_text, reason, note)
    ss.last_done = done
    drop_suggestion()


def send() -> None:
    """One click: the reply box's text (the draft as is when the box is empty) is posted to
    the helpdesk when a helpdesk conversation is open, recorded as sent, and joins the
    conversation as an agent turn. A helpdesk error keeps the reply in the box.

    Posted as an internal note (`connectors.send_as = "note"`), the text is recorded as sent
    but joins no conversation: the customer never sees a note, so it is nothing said to them
    (the helpdesks keep notes out of the conversations they return, too), and the panel says so."""
    ss = state()
    s = ss.get("suggestion")
    if s is None:
        return
    text = ss.reply.strip() or plain_reply(s)
    ref = current_ref()
    sid = ss.suggestion_id
    as_note = False
    if ref is not None:
        kind = services.settings().connectors.send_as
        try:
            helpdesk.connector(ref, services.settings()).post_reply(ref, text, kind)
        except ConnectorError as exc:
            ss.reply = text
            helpdesk_failed(ref, exc)
            return
        as_note = kind == "note"
        done = L("sent_note_done" if as_note else "sent_helpdesk_done", helpdesk=ref.helpdesk, id=sid)
    else:
        done = L("sent_done", id=sid)
    finish("sent", done, text, note=NOTE_RECORD if as_note else "")
    if not as_note:
        ss.turns.append({"role": "agent", "text": text})


def reject() -> None:
    ss = state()
    picked = ss.get(f"reject_reason-{ss.get('ui_lang', 'en')}")  # the radio's value now, in the operator's words
    reason = next((r for r in REJECT_REASONS if picked is not None and L(f"reason_{r}") == picked), None)
    if not ss.get("suggestion"):
        return
    if reason not in REJECT_REASONS:  # never a default reason recorded for the operator
        ss.reject_error = True
        return
    finish("rejected", L("rejected_done", id=ss.suggestion_id), reason=reason, note=ss.get("reject_note") or "")
    ss.reject_reason, ss.reject_note = None, ""


def hand_off(queue: str, summary: str) -> None:
    """Records the handoff and, for a helpdesk conversation, moves it to the queue there."""
    ss = state()
    if not ss.get("suggestion"):
        return
    ref = current_ref()
    if ref is not None:
        try:
            helpdesk.connector(ref, services.settings()).hand_off(ref, queue, summary)
        except ConnectorError as exc:
            helpdesk_failed(ref, exc)
            return
    finish("handed_off", L("handed_off_done", queue=queue or "—", id=ss.suggestion_id), summary, note=queue)


def _card(s: Suggestion, lang: str) -> HandoffCard:
    """The handoff in plain words in the operator's language, with the desk's promise and the
    customer's request picked from every customer turn."""
    try:
        desk = services.desk()
    except Exception:  # no desk recorded (an index from another version): neutral routes
        desk = None
    turns = [Message(**t) for t in st.session_state.get("turns", []) if t.get("text", "").strip()]
    return card(s, lang, desk=desk, conversation=Conversation(messages=turns) if turns else None)


def show_handoff(s: Suggestion) -> None:
    lang = st.session_state.get("ui_lang", "en")
    c = _card(s, lang)
    h = s.handoff
    urgency, queue, summary = c.urgency, c.queue or h.queue, c.summary or h.summary
    with st.container(border=True, key="handoff-card"):
        st.markdown(f"{URGENCY_ICON.get(urgency, '')} **{plain_md(L('handoff_title'))}:** {plain_md(c.label)}")
        st.markdown(f"{L('urgency')}: **{plain_md(c.urgency_label or L('urgency_' + urgency))}** · "
                    f"{L('queue')}: **{plain_md(queue or '—')}**")
        if c.wants:
            st.markdown(f"{L('wants')}: {plain_md(c.wants)}")
        if c.promise:
            st.markdown(f"{L('promise')}: “{plain_md(c.promise)}”")
        if c.facts:
            st.markdown(f"{L('facts')}:  \n" + "  \n".join(f"· {plain_md(k)}: {plain_md(v)}" for k, v in c.facts.items()))
        if summary:
            st.markdown(f"{L('summary')}:")
            st.markdown(plain_md(summary))  # wrapped text, one item a line, never a code block cut off
        for rule in h.rules:  # the knowledge-base sentence that calls for a person
            st.caption(L("rule_from", source=rule.source_id) + (f" ({rule.review})" if rule.origin == "derived" else "")
                       + f": “{plain_md(rule.sentence)}”")
        ref = current_ref()
        st.button(L("hand_off"), key="hand_off", type="primary", on_click=hand_off, args=(queue, summary),
                  help=L("hand_off_help", to_helpdesk=L("to_helpdesk", helpdesk=ref.helpdesk) if ref else ""))


def show_suggestion(s: Suggestion, unmatched_flags: list[str]) -> None:
    if s.handoff.needed:
        show_handoff(s)
    for w in s.draft.warnings:
        st.info(plain_md(w))
    for note in flag_notes(s, st.session_state.get("ui_lang", "en")):
        st.info(note)
    for evidence in unmatched_flags:
        st.warning(L("flagged_note", evidence=plain_md(evidence)))
    st.markdown(f'<div class="draft" data-testid="draft">{draft_html(s)}</div>', unsafe_allow_html=True)
    if s.citations:
        cols = st.columns(min(3, len(s.citations)))
        for i, c in enumerate(s.citations):
            with cols[i % len(cols)].popover(f"\\[{c.n}\\] {plain_md(short_title(c.title))}", use_container_width=True):
                st.markdown(f"**{plain_md(c.title)}**  \n`{c.source_id}`")
                st.markdown(plain_md(c.quote))  # the knowledge base's words as written, never markup
    unsupported = [x for x in s.grounding.sentences if x.factual and not x.supported and not x.removed]
    if unsupported:
        st.caption(L("highlighted", items=plain_md("; ".join(f"“{x.text[:60]}” — {x.reason}" for x in unsupported))))


def show_details(s: Suggestion) -> None:
    """How the suggestion was made: draft mode (and model), prompt version, language, intent,
    sentiment, confidence and time taken."""
    model = f" · {s.draft.model}" if s.draft.mode == "llm" else ""
    st.caption(L("details", mode=f"{s.draft.mode}{model}", prompt=s.draft.prompt, language=s.language,
                 intent=s.intent.label, sentiment=s.sentiment.label, confidence=f"{s.confidence:.2f}",
                 ms=f"{s.timings_ms.get('total', 0):.0f}"))


def copy_button(s: Suggestion) -> None:
    """Copies what is in the reply box now (typed but not yet committed included), or the
    draft without citation marks when the box is empty; runs in the page, no round trip."""
    draft = html.escape(json.dumps(plain_reply(s)), quote=True)
    st.html(f"""
<button id="copilot-copy" data-draft="{draft}" data-done="{html.escape(L('copied'))}" title="{html.escape(L('copy_help'))}"
  style="width:100%;padding:0.35rem 0.75rem;border:1px solid rgba(49,51,63,0.2);border-radius:0.5rem;
         background:white;cursor:pointer;font:inherit">📋 {html.escape(L('copy'))}</button>
<script>
(() => {{
  const btn = document.getElementById("copilot-copy");
  if (!btn || btn.dataset.bound) return;
  btn.dataset.bound = "1";
  btn.addEventListener("click", async () => {{
    const box = document.querySelector(".st-key-reply textarea");
    const text = (box && box.value.trim()) ? box.value : JSON.parse(btn.dataset.draft);
    try {{ await navigator.clipboard.writeText(text); }}
    catch (e) {{
      const tmp = document.createElement("textarea"); tmp.value = text; document.body.appendChild(tmp);
      tmp.select(); document.execCommand("copy"); tmp.remove();
    }}
    const label = btn.textContent; btn.textContent = "✓ " + btn.dataset.done;
    setTimeout(() => {{ btn.textContent = label; }}, 1500);
  }});
}})();
</script>""", unsafe_allow_javascript=True)


def reply_form(s: Suggestion, ref: HelpdeskRef | None) -> None:
    """The questions to ask, the reply box and the buttons that act on it, as one form: a
    click (or a shortcut) sends the box's text as typed along with it. Outside a form a text
    area is committed when it loses the focus, in a rerun of its own, and a click made
    straight from the box is dropped or runs with the old text (streamlit#8725, #10007).
    Text typed in the box is committed when the focus leaves the form (keep_typed_reply), so
    a refresh keeps it as it did before the form."""
    ss = state()
    with st.form("reply-form", border=False, enter_to_submit=False):
        # what would be sent now: the reply box, or the draft as is while the box is empty
        already = _norm(ss.reply) if ss.reply.strip() else _norm(plain_reply(s))
        questions = [q for q in s.questions if _norm(q.text).rstrip("?.!") not in already]
        if questions:
            st.caption(L("ask_caption"))
            for q in questions:
                # a question derived from the knowledge base's text says so, with its source sentence
                label = plain_md(f"{q.text}  · {L('derived')}" if q.origin == "derived" else q.text)
                why = (f"{q.why}\n\n" + L("derived_from", source=q.source_id, sentence=q.sentence, review=q.review)
                       if q.origin == "derived" else q.why)
                st.form_submit_button(label, key=f"ask-{q.fact}", on_click=ask, args=(q.text,), help=why)
        st.text_area(L("reply"), key="reply", height=140)
        as_note = ref is not None and services.settings().connectors.send_as == "note"
        if ref is None:
            send_label, send_help = L("send"), L("send_help")
        elif as_note:
            send_label, send_help = L("send_note", helpdesk=ref.helpdesk), L("send_note_help", helpdesk=ref.helpdesk)
        else:
            send_label, send_help = L("send_helpdesk", helpdesk=ref.helpdesk), L("send_help_helpdesk", helpdesk=ref.helpdesk)
        a, b, c = st.columns(3)
        with a:
            copy_button(s)
        b.form_submit_button(L("insert"), key="insert", on_click=insert_draft, use_container_width=True,
                             shortcut=SHORTCUTS["insert"])
        c.form_submit_button(send_label, key="send", type="primary", on_click=send, use_container_width=True,
                             help=send_help, shortcut=SHORTCUTS["send"])
        d, e = st.columns(2)
        d.form_submit_button(L("regenerate"), key="regenerate", use_container_width=True,
                             on_click=lambda: ss.update(regenerate=True))
        e.form_submit_button(L("reject_open"), key="reject_open", use_container_width=True,
                             on_click=lambda: ss.update(rejecting=not ss.get("rejecting")))
        keep_typed_reply()


def keep_typed_reply() -> None:
    """A hidden submit button the page clicks when the focus leaves the reply box for anywhere
    outside the form, after typing: the text is committed (and saved for a refresh) as a text
    area outside a form would be on losing the focus. A click on one of the form's own buttons
    carries the text itself, and a click on any other button starts a run of its own, so
    nothing is clicked then (a second run would race that click and could lose it)."""
    st.form_submit_button("keep", key="reply_keep")
    st.html("""
<style>.st-key-reply_keep { display: none; }</style>
<script>
(() => {
  const box = document.querySelector(".st-key-reply textarea");
  const keep = document.querySelector(".st-key-reply_keep button");
  const form = box && box.closest("[data-testid='stForm']");
  if (!box || !keep || !form || box.dataset.keeps) return;
  box.dataset.keeps = "1";
  let typed = false, pressed = false;
  box.addEventListener("input", () => { typed = true; });
  form.addEventListener("pointerdown", (e) => {
    if (e.target.closest("button")) { pressed = true; setTimeout(() => { pressed = false; }, 1500); }
  }, true);
  box.addEventListener("blur", (e) => {
    const to = e.relatedTarget;
    if (!typed || pressed || (to && (form.contains(to) || to.closest("button")))) return;
    typed = false;
    document.querySelector(".st-key-reply_keep button")?.click();
  });
})();
</script>""", unsafe_allow_javascript=True)


def reject_panel() -> None:
    ss = state()
    with st.container(border=True, key="reject-panel"):
        words = {L(f"reason_{r}"): r for r in REJECT_REASONS}  # the operator's words -> the recorded reason
        picked = st.radio(L("reject_why"), list(words), index=None, key=f"reject_reason-{ss.get('ui_lang', 'en')}",
                          horizontal=True)
        ss.reject_reason = words.get(picked)
        if ss.pop("reject_error", False):
            st.warning(L("reject_need_reason"))
        # the note and the buttons as a form: Reject carries the note as typed (the reason, a
        # radio, is committed when chosen, so Reject is enabled only once there is one)
        with st.form("reject-form", border=False, enter_to_submit=False):
            st.text_input(L("reject_note"), key="reject_note")
            a, b = st.columns(2)
            a.form_submit_button(L("reject"), key="reject", on_click=reject, disabled=ss.get("reject_reason") is None,
                                 use_container_width=True)
            b.form_submit_button(L("cancel"), key="reject_cancel", on_click=lambda: ss.update(rejecting=False),
                                 use_container_width=True)


# --- the page -------------------------------------------------------------------------------

ss = state()
settle_pending("stop_interrupted")  # a run stopped mid-draft by a click elsewhere
open_from_params()
model_note = services.model_note()
if model_note:
    st.info(model_note)
st.subheader(L("conversation"))
for key in ("last_done", "notice"):
    if ss.get(key):
        st.success(ss.pop(key))
if ss.get("helpdesk_error"):
    st.error(ss.pop("helpdesk_error"))
ref = current_ref()
if ref is not None:
    a, b = st.columns([3, 1], vertical_alignment="center")
    a.caption(L("from_helpdesk", helpdesk=ref.helpdesk, id=ref.conversation_id)
              + (f" · [{ref.url}]({ref.url})" if ref.url and ref.url.startswith(("http://", "https://")) else ""))
    b.button(L("refresh"), key="refresh", on_click=refresh_conversation, use_container_width=True)
    st.fragment(follow_helpdesk, run_every=services.settings().connectors.panel_refresh_s)()
st.selectbox(L("demo"), list(demo_conversations()), key="demo_choice", on_change=load_demo, index=None,
             placeholder=L("demo_pick"))
suggestion: Suggestion | None = ss.get("suggestion")
flagged, unmatched = flagged_turns(suggestion, ss.turns)
for i, turn in enumerate(ss.turns):
    show_turn(i, turn, i in flagged)
with st.form("add-turn", clear_on_submit=False, border=False):
    cols = st.columns([1, 3])
    # keyed by the language: the options' words change with it
    cols[0].radio(L("who"), [L("customer"), L("agent")], key=f"new_role-{ss.get('ui_lang', 'en')}",
                  label_visibility="collapsed")
    cols[1].text_area(L("message"), key="new_turn", height=68, placeholder=L("message_hint"))
    st.form_submit_button(L("add_turn"), on_click=add_turn)
with st.expander(L("paste"), expanded=bool(ss.get("transcript"))):
    st.text_area(L("transcript"), key="transcript", placeholder=L("transcript_hint"))
    if (ss.get("transcript") or "").strip():
        parsed = parse_transcript(ss.transcript)
        with st.container(border=True, key="transcript-preview"):
            if parsed:
                st.caption(L("preview", n=len(parsed)))
                for turn in parsed:
                    who = L("customer") if turn["role"] == "customer" else L("agent")
                    text = turn["text"]
                    st.markdown(f"**{who}:** {plain_md(text[:200])}{'…' if len(text) > 200 else ''}")
                st.button(L("use_transcript", n=len(parsed)), key="use_transcript", on_click=use_transcript)
            else:
                st.caption(L("preview_none"))
with st.expander(L("open_helpdesk")):
    st.text_input(L("helpdesk_url"), key="helpdesk_url", placeholder=L("helpdesk_url_hint"))
    st.button(L("open"), key="open_helpdesk", on_click=open_from_url)
with st.expander(L("profile")):
    ss.profile["contract_number"] = st.text_input(L("contract"), value=ss.profile.get("contract_number", ""))
    ss.profile["plan"] = st.text_input(L("plan"), value=ss.profile.get("plan", ""))
    ss.profile["tenure_months"] = st.number_input(L("tenure"), min_value=0, step=1,
                                                  value=ss.profile.get("tenure_months") or 0) or None

has_customer = any(turn["role"] == "customer" for turn in ss.turns)
cols = st.columns(2)
regenerate = ss.pop("regenerate", False)
if cols[0].button(L("suggest"), key="suggest", type="primary", disabled=not has_customer, use_container_width=True,
                  shortcut=SHORTCUTS["suggest"]) or regenerate:
    suggest(regenerate=regenerate)
cols[1].button(L("clear"), key="clear", on_click=clear, use_container_width=True)

suggestion = ss.get("suggestion")
if suggestion is not None:
    st.subheader(L("suggestion"))
    show_suggestion(suggestion, unmatched)
    reply_form(suggestion, ref)
    if ss.get("rejecting"):
        reject_panel()
    show_details(suggestion)
    st.caption(L("shortcuts"))
save()
