"""Supervisor review: the queue of suggestions, worst first; a click on a row opens it (the
conversation, the draft next to what was sent, a rating, and one click to make it an eval
case, written to the data folder, never into the source tree). The open suggestion is also
in the address (`?suggestion=ID`), so a link to it can be shared."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from copilot.feedback.store import QueueFilters
from copilot.masking import scrub
from copilot.schema import HANDOFF_REASONS
from copilot.ui import services
from copilot.ui.handoff_card import reason_label
from copilot.ui.labels import EN, labeler
from copilot.ui.render import plain_md, word_diff_html
from copilot.text import strip_citations
from evals.dataset import CATEGORIES, append_case, supervisor_case, supervisor_cases_file

services.require_role("supervisor")
store = services.store()
settings = services.settings()
lang = services.language()
L = labeler(lang)
st.subheader(L("review.title"))


def choice(value: str) -> str:
    """A filter's option in the supervisor's words: "all" and language codes translated;
    operators, topics and prompt versions are names, shown as they are."""
    return L("common.all") if value == "all" else L(f"common.lang_{value}") if value in ("ru", "en") else value


with st.expander(L("review.filters"), expanded=True):
    c1, c2, c3 = st.columns(3)
    f = QueueFilters(
        unsupported=c1.checkbox(L("review.f_unsupported"), key="f_unsupported"),
        handoff=c1.checkbox(L("review.f_handoff"), key="f_handoff"),
        low_confidence=c2.checkbox(L("review.f_low"), key="f_low"),
        heavy_edits=c2.checkbox(L("review.f_heavy"), key="f_heavy"),
        rejected=c3.checkbox(L("review.f_rejected"), key="f_rejected"),
    )
    d1, d2, d3, d4, d5 = st.columns(5)
    operator = d1.selectbox(L("review.operator"), ["all"] + store.operators(), key="f_operator", format_func=choice)
    topic = d2.selectbox(L("review.topic"), ["all"] + store.topics(), key="f_topic", format_func=choice)
    prompt = d3.selectbox(L("review.prompt"), ["all"] + store.prompts(), key="f_prompt", format_func=choice)
    language = d4.selectbox(L("review.language"), ["all", "ru", "en"], key="f_language", format_func=choice)
    dates = d5.date_input(L("review.dates"), value=(date.today() - timedelta(days=30), date.today()), key="f_dates")
    f.operator = None if operator == "all" else operator
    f.topic = None if topic == "all" else topic
    f.prompt = None if prompt == "all" else prompt
    f.language = None if language == "all" else language
    if isinstance(dates, (tuple, list)) and len(dates) == 2:
        f.since, f.until = dates

items = store.queue(f)
if not items:
    st.info(L("review.nothing"))
    st.stop()


def why(i) -> str:
    """The flags that put the suggestion high in the queue, in short words."""
    flags = []
    if i.unsupported:
        flags.append(L("review.flag_unsupported", n=i.unsupported))
    if i.handoff:
        flags.append(L("review.flag_handoff"))
    if i.confidence < store.settings.low_confidence:
        flags.append(L("review.flag_low"))
    if i.edit_distance is not None and i.edit_distance > store.settings.heavy_edit:
        flags.append(L("review.flag_heavy"))
    return " · ".join(flags) or "—"


def words(prefix: str, code: str | None) -> str:
    """A recorded code (an action, a rejection reason) in the supervisor's words; a code
    with no words yet is shown as it is."""
    return L(f"{prefix}{code}") if f"{prefix}{code}" in EN else (code or "").replace("_", " ")


def reason_words(reason: str) -> str:
    return words("reason_", reason).lower()  # the panel's reject reasons, mid-sentence


def done(i) -> str:
    """What the operator did, in short words."""
    if i.action == "sent":
        return L("review.done_as_drafted") if not i.edit_distance else L("review.done_edited",
                                                                         distance=f"{i.edit_distance:.2f}")
    if i.action == "rejected":
        return L("review.done_rejected_why", reason=reason_words(i.reason)) if i.reason else L("common.action_rejected")
    return words("common.action_", i.action or "none")


# the visible columns fit the page's width (nothing cut off); the rest stay in the table's
# data (filters and tests read them) and in the opened suggestion's header
table = pd.DataFrame([{
    "id": i.id, "when": i.created_at.strftime("%m-%d %H:%M"), "operator": i.operator, "lang": i.language,
    "topic": f"{i.intent} · {i.language}", "flags": why(i), "done": done(i), "action": i.action or "—",
    "edit distance": i.edit_distance, "confidence": round(i.confidence, 2), "prompt": i.prompt,
    "unsupported": i.unsupported, "handoff": i.handoff, "reason": i.reason, "intent": i.intent,
} for i in items])
ids = [int(x) for x in table["id"]]
wanted = st.query_params.get("suggestion")
start = ids.index(int(wanted)) if wanted and wanted.isdigit() and int(wanted) in ids else 0
st.caption(L("review.count", n=len(items)))
event = st.dataframe(
    table, hide_index=True, width="stretch", key="queue_table", on_select="rerun", selection_mode="single-row",
    selection_default={"selection": {"rows": [start], "columns": []}},
    height=min(38 + 35 * len(table), 420),
    column_order=["id", "when", "operator", "topic", "flags", "done"],
    column_config={
        "id": st.column_config.NumberColumn("#", width=40, pinned=True),
        "when": st.column_config.TextColumn(L("review.col_when"), width=82),
        "operator": st.column_config.TextColumn(L("review.col_operator"), width=70),
        "topic": st.column_config.TextColumn(L("review.col_topic"), width=185),
        "flags": st.column_config.TextColumn(L("review.col_flags"), width=115, help=L("review.col_flags_help")),
        "done": st.column_config.TextColumn(L("review.col_done"), width=170),
    })
rows = event.selection.rows if event is not None else []
if rows and rows[0] < len(ids):
    chosen = ids[rows[0]]
elif wanted and wanted.isdigit() and store.get(int(wanted)) is not None:
    chosen = int(wanted)  # a shared link to a suggestion outside these filters
else:
    chosen = ids[0]
if st.query_params.get("suggestion") != str(chosen):
    st.query_params["suggestion"] = str(chosen)

row = store.get(chosen)
s = row.suggestion
st.markdown(f"#### {L('review.suggestion', id=row.id)}")
st.caption(plain_md(L("review.header", when=f"{row.created_at:%Y-%m-%d %H:%M}", operator=row.operator,
                      language=row.language, topic=row.intent, prompt=row.prompt, mode=row.mode,
                      confidence=f"{row.confidence:.2f}")))
with st.container(border=True):
    st.markdown(f"**{L('review.conversation')}**")
    for turn in row.conversation["messages"]:
        who = L(turn["role"]) if turn["role"] in ("customer", "agent") else turn["role"]
        st.markdown(f"*{plain_md(who)}:* {plain_md(turn['text'])}")  # the customer's words as written, never markup
final = row.actions[-1] if row.actions else None
left, right = st.columns(2)
left.markdown(f"**{L('review.draft')}**")
left.markdown(plain_md(row.draft))
right.markdown(f"**{L('review.sent')}**" if final and final.action == "sent" else f"**{L('review.operator_action')}**")
if final is None:
    right.write(L("review.no_action_yet"))
elif final.action == "sent":
    right.markdown(plain_md(final.final_text))
    st.markdown(f"**{L('review.changes')}** ({L('review.edit_distance', distance=final.edit_distance)}):",
                help=L("review.changes_help"))
    st.markdown(word_diff_html(strip_citations(row.draft), final.final_text), unsafe_allow_html=True)
else:
    right.markdown(plain_md(words("common.action_", final.action)
                            + (f" — {reason_words(final.reason)}" if final.reason else "")
                            + (f": {final.note}" if final.note else "")))
if s.get("citations"):
    with st.expander(L("review.citations", n=len(s["citations"]))):
        for c in s["citations"]:
            st.markdown(f"\\[{c['n']}\\] **{plain_md(c['title'])}** ({plain_md(c['source_id'])}): {plain_md(c['quote'])}")
bad = [x for x in s["grounding"]["sentences"] if x.get("factual") and not x.get("supported")]
if bad:
    st.warning(plain_md(L("review.unsupported",
                          sentences="; ".join(f"{x['text']} ({x['reason']})" for x in bad))))
if s["handoff"]["needed"]:
    urgency = s["handoff"]["urgency"]
    st.info(plain_md(L("review.handoff", urgency=words("urgency_", urgency), queue=s["handoff"]["queue"],
                       reasons="; ".join(reason_label(r, lang) for r in s["handoff"]["reasons"]))))
for r in row.reviews:
    stars = f"{'★' * r.rating}{'☆' * (5 - r.rating)}"
    st.caption(L("review.reviewed_by", supervisor=plain_md(r.supervisor), stars=stars, comment=plain_md(r.comment))
               + (L("review.reviewed_case", id=r.eval_case_id) if r.eval_case_id else ""))

with st.form(f"review-{row.id}"):
    rating = st.radio(L("review.rating"), [1, 2, 3, 4, 5], index=3, horizontal=True, key=f"rating-{row.id}")
    comment = st.text_area(L("review.comment"), key=f"comment-{row.id}")
    if st.form_submit_button(L("review.save_review")):
        store.add_review(row.id, services.user().username, rating, comment)
        st.success(L("review.review_saved"))

cases_file = supervisor_cases_file(settings)
with st.expander(L("review.eval_case"), expanded=False):
    st.caption(plain_md(L("review.eval_case_where", file=cases_file)))
    handoff = s["handoff"]
    needed = st.checkbox(L("review.handoff_expected"), value=handoff["needed"], key=f"ec-needed-{row.id}")
    reasons = st.multiselect(L("review.reasons"), HANDOFF_REASONS, default=handoff["reasons"] if needed else [],
                             key=f"ec-reasons-{row.id}", format_func=lambda r: reason_label(r, lang))
    category = st.selectbox(L("review.category"), CATEGORIES, key=f"ec-cat-{row.id}",
                            index=CATEGORIES.index("not_covered") if "no_grounded_answer" in handoff["reasons"] else 0,
                            format_func=lambda c: words("review.cat_", c))
    must = st.text_area(L("review.must_include"), key=f"ec-must-{row.id}")
    gold = st.text_area(L("review.gold_reply"),
                        value=final.final_text if final and final.action == "sent" else row.draft,
                        key=f"ec-gold-{row.id}")
    if st.button(L("review.create_case"), key=f"ec-create-{row.id}"):
        case = supervisor_case(row.id, row.language, row.conversation, s, handoff_needed=needed, reasons=reasons,
                               category=category, must_include=must.splitlines(), gold_reply=gold)
        try:
            append_case(cases_file, case)
            store.add_review(row.id, services.user().username, rating, "turned into an eval case", case.id)
            st.success(L("review.case_added", id=case.id, file=cases_file))
        except Exception as exc:
            st.error(plain_md(scrub(str(exc))))
