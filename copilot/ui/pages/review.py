"""Supervisor review: the queue of suggestions, worst first, and for each the conversation,
the draft next to what was sent, a rating, and one click to make it an eval case."""

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
from evals.dataset import CATEGORIES, append_case, supervisor_case

services.require_role("supervisor")
store = services.store()
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
    d1, d2, d3 = st.columns(3)
    prompt = d1.selectbox("Prompt version", ["all"] + store.prompts(), key="f_prompt")
    language = d2.selectbox("Language", ["all", "ru", "en"], key="f_language")
    dates = d3.date_input("Dates", value=(date.today() - timedelta(days=30), date.today()), key="f_dates")
    f.prompt = None if prompt == "all" else prompt
    f.language = None if language == "all" else language
    if isinstance(dates, (tuple, list)) and len(dates) == 2:
        f.since, f.until = dates

items = store.queue(f)
if not items:
    st.info("Nothing matches these filters yet.")
    st.stop()
table = pd.DataFrame([{
    "id": i.id, "when": i.created_at.strftime("%Y-%m-%d %H:%M"), "operator": i.operator, "lang": i.language,
    "intent": i.intent, "prompt": i.prompt, "mode": i.mode, "confidence": round(i.confidence, 2),
    "unsupported": i.unsupported, "handoff": i.handoff, "action": i.action or "—",
    "edit distance": i.edit_distance, "reason": i.reason,
} for i in items])
st.dataframe(table, hide_index=True, use_container_width=True)

labels = {i.id: f"#{i.id} · {i.language} · {i.intent} · {i.action or 'no action'}" for i in items}
chosen = st.selectbox("Open suggestion", list(labels), format_func=labels.get, key="review_choice")
row = store.get(chosen)
s = row.suggestion
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
    st.info(f"Handoff ({s['handoff']['urgency']}) to {s['handoff']['queue']}: {', '.join(s['handoff']['reasons'])}")
for r in row.reviews:
    st.caption(f"Reviewed by {plain_md(r.supervisor)}: {'★' * r.rating}{'☆' * (5 - r.rating)} {plain_md(r.comment)}"
               + (f" · eval case {r.eval_case_id}" if r.eval_case_id else ""))

with st.form(f"review-{row.id}"):
    rating = st.radio("Rating", [1, 2, 3, 4, 5], index=3, horizontal=True, key=f"rating-{row.id}")
    comment = st.text_area("Comment", key=f"comment-{row.id}")
    if st.form_submit_button("Save review"):
        store.add_review(row.id, services.user().username, rating, comment)
        st.success("Review saved.")

with st.expander("Turn into an eval case", expanded=False):
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
            path = services.settings().evals.supervisor_cases
            append_case(path, case)
            store.add_review(row.id, services.user().username, rating, "turned into an eval case", case.id)
            st.success(f"Eval case {case.id} added to {path}.")
        except Exception as exc:
            st.error(plain_md(scrub(str(exc))))
