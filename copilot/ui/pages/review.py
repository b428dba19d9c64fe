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
from copilot.ui.render import plain_md, word_diff_html
from copilot.text import strip_citations
from evals.dataset import CATEGORIES, append_case, supervisor_case, supervisor_cases_file

services.require_role("supervisor")
store = services.store()
settings = services.settings()
st.subheader("Review queue")

with st.expander("Filters", expanded=True):
    c1, c2, c3 = st.columns(3)
    f = QueueFilters(
        unsupported=c1.checkbox("Unsupported sentences", key="f_unsupported"),
        handoff=c1.checkbox("Handoffs", key="f_handoff"),
        low_confidence=c2.checkbox("Low confidence", key="f_low"),
        heavy_edits=c2.checkbox("Heavy edits", key="f_heavy"),
        rejected=c3.checkbox("Rejections", key="f_rejected"),
    )
    d1, d2, d3, d4, d5 = st.columns(5)
    operator = d1.selectbox("Operator", ["all"] + store.operators(), key="f_operator")
    topic = d2.selectbox("Topic", ["all"] + store.topics(), key="f_topic")
    prompt = d3.selectbox("Prompt version", ["all"] + store.prompts(), key="f_prompt")
    language = d4.selectbox("Language", ["all", "ru", "en"], key="f_language")
    dates = d5.date_input("Dates", value=(date.today() - timedelta(days=30), date.today()), key="f_dates")
    f.operator = None if operator == "all" else operator
    f.topic = None if topic == "all" else topic
    f.prompt = None if prompt == "all" else prompt
    f.language = None if language == "all" else language
    if isinstance(dates, (tuple, list)) and len(dates) == 2:
        f.since, f.until = dates

items = store.queue(f)
if not items:
    st.info("Nothing matches these filters yet.")
    st.stop()


def why(i) -> str:
    """The flags that put the suggestion high in the queue, in short words."""
    flags = []
    if i.unsupported:
        flags.append(f"{i.unsupported} unsupported")
    if i.handoff:
        flags.append("handoff")
    if i.confidence < store.settings.low_confidence:
        flags.append("low conf.")
    if i.edit_distance is not None and i.edit_distance > store.settings.heavy_edit:
        flags.append("heavy edit")
    return " · ".join(flags) or "—"


def done(i) -> str:
    """What the operator did, in short words."""
    if i.action == "sent":
        return "sent as drafted" if not i.edit_distance else f"sent, edit {i.edit_distance:.2f}"
    if i.action == "rejected":
        return f"rejected: {i.reason.replace('_', ' ')}" if i.reason else "rejected"
    return (i.action or "no action").replace("_", " ")


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
st.caption(f"{len(items)} suggestion(s), most worth a look first. Open suggestion: click a row.")
event = st.dataframe(
    table, hide_index=True, width="stretch", key="queue_table", on_select="rerun", selection_mode="single-row",
    selection_default={"selection": {"rows": [start], "columns": []}},
    height=min(38 + 35 * len(table), 420),
    column_order=["id", "when", "operator", "topic", "flags", "done"],
    column_config={
        "id": st.column_config.NumberColumn("#", width=40, pinned=True),
        "when": st.column_config.TextColumn("when", width=82),
        "operator": st.column_config.TextColumn("operator", width=70),
        "topic": st.column_config.TextColumn("topic", width=185),
        "flags": st.column_config.TextColumn("why it is here", width=115,
                                             help="unsupported sentences, handoff, low confidence, heavy edit"),
        "done": st.column_config.TextColumn("operator action", width=170),
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
st.markdown(f"#### Suggestion #{row.id}")
st.caption(plain_md(f"{row.created_at:%Y-%m-%d %H:%M} · {row.operator} · {row.language} · topic {row.intent} · "
                    f"{row.prompt} · {row.mode} · confidence {row.confidence:.2f}"))
with st.container(border=True):
    st.markdown("**Conversation**")
    for turn in row.conversation["messages"]:
        st.markdown(f"*{turn['role']}:* {plain_md(turn['text'])}")  # the customer's words as written, never markup
final = row.actions[-1] if row.actions else None
left, right = st.columns(2)
left.markdown("**Draft**")
left.markdown(plain_md(row.draft))
right.markdown("**Sent**" if final and final.action == "sent" else "**Operator action**")
if final is None:
    right.write("No action yet.")
elif final.action == "sent":
    right.markdown(plain_md(final.final_text))
    st.markdown(f"**Changes** (edit distance {final.edit_distance}):", help="red: removed, green: added")
    st.markdown(word_diff_html(strip_citations(row.draft), final.final_text), unsafe_allow_html=True)
else:
    right.markdown(plain_md(f"{final.action}" + (f" — {final.reason}" if final.reason else "")
                            + (f": {final.note}" if final.note else "")))
if s.get("citations"):
    with st.expander(f"Citations ({len(s['citations'])})"):
        for c in s["citations"]:
            st.markdown(f"\\[{c['n']}\\] **{plain_md(c['title'])}** ({plain_md(c['source_id'])}): {plain_md(c['quote'])}")
bad = [x for x in s["grounding"]["sentences"] if x.get("factual") and not x.get("supported")]
if bad:
    st.warning("Unsupported: " + plain_md("; ".join(f"{x['text']} ({x['reason']})" for x in bad)))
if s["handoff"]["needed"]:
    st.info(plain_md(f"Handoff ({s['handoff']['urgency']}) to {s['handoff']['queue']}: "
                     f"{', '.join(s['handoff']['reasons'])}"))
for r in row.reviews:
    st.caption(f"Reviewed by {plain_md(r.supervisor)}: {'★' * r.rating}{'☆' * (5 - r.rating)} {plain_md(r.comment)}"
               + (f" · eval case {r.eval_case_id}" if r.eval_case_id else ""))

with st.form(f"review-{row.id}"):
    rating = st.radio("Rating", [1, 2, 3, 4, 5], index=3, horizontal=True, key=f"rating-{row.id}")
    comment = st.text_area("Comment", key=f"comment-{row.id}")
    if st.form_submit_button("Save review"):
        store.add_review(row.id, services.user().username, rating, comment)
        st.success("Review saved.")

cases_file = supervisor_cases_file(settings)
with st.expander("Turn into an eval case", expanded=False):
    st.caption(plain_md(f"Written to {cases_file} (the data folder, not the repository's datasets); "
                        "`copilot eval --with-supervisor-cases` runs them."))
    handoff = s["handoff"]
    needed = st.checkbox("Handoff expected", value=handoff["needed"], key=f"ec-needed-{row.id}")
    reasons = st.multiselect("Reasons", HANDOFF_REASONS, default=handoff["reasons"] if needed else [],
                             key=f"ec-reasons-{row.id}")
    category = st.selectbox("Category", CATEGORIES, key=f"ec-cat-{row.id}",
                            index=CATEGORIES.index("not_covered") if "no_grounded_answer" in handoff["reasons"] else 0)
    must = st.text_area("Facts the reply must contain (one per line, | for alternatives)", key=f"ec-must-{row.id}")
    gold = st.text_area("Gold reply", value=final.final_text if final and final.action == "sent" else row.draft,
                        key=f"ec-gold-{row.id}")
    if st.button("Create eval case", key=f"ec-create-{row.id}"):
        case = supervisor_case(row.id, row.language, row.conversation, s, handoff_needed=needed, reasons=reasons,
                               category=category, must_include=must.splitlines(), gold_reply=gold)
        try:
            append_case(cases_file, case)
            store.add_review(row.id, services.user().username, rating, "turned into an eval case", case.id)
            st.success(f"Eval case {case.id} added to {cases_file}.")
        except Exception as exc:
            st.error(plain_md(scrub(str(exc))))
