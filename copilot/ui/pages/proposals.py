"""Checks and handoff rules derived from the knowledge base's text: approve, edit or reject
them. Approved ones are used as written here; rejected ones never; pending ones only while
the desk uses unreviewed proposals (COPILOT_ANAMNESIS__DERIVED=all, the default)."""

from __future__ import annotations

import streamlit as st

from copilot.ui import services
from knowledge_base.derive import DerivedCheck, DerivedLink

services.require_role("supervisor")
st.subheader("Derived checks and rules")
index = services.copilot().index
store = index.docstore
mode = services.settings().anamnesis.derived
st.caption("Found at ingest in the articles' own text. "
           + ("Pending ones are already used; approve, edit or reject them." if mode == "all"
              else "Only approved ones are used (COPILOT_ANAMNESIS__DERIVED=approved)."))

a, b, c = st.columns(3)
status = a.selectbox("Status", ["pending", "approved", "rejected"], key="dp-status")
KINDS = {"check": "Questions (checks)", "rule": "Handoff rules", "link": "Paths followed first"}
kind = b.selectbox("Kind", list(KINDS), key="dp-kind", format_func=KINDS.get)
search = c.text_input("Search", key="dp-search", placeholder="source or words")
records = [r for r in store.derived(kind=kind, status=status)
           if not search or search.lower() in f"{r.item.source_id} {r.item.sentence} {r.effective}".lower()]
st.caption(f"{len(records)} shown")
user = services.user().username

if records and status == "pending" and st.button(f"Approve all {len(records)} shown", key="dp-all"):
    for r in records:
        store.review_derived(r.item.id, "approved", user)
    st.rerun()

for r in records[:100]:
    item = r.effective
    with st.container(border=True):
        st.caption(f"{item.source_id} · {item.lang}" + (f" · {item.heading}" if item.heading else "")
                   + (f" · reviewed by {r.reviewer}" if r.reviewer else ""))
        st.text(f"Source: {item.sentence}")
        if isinstance(item, DerivedCheck):
            if item.condition:
                st.caption(f"Follow-up: asked once the customer's words meet \"{item.condition}\"")
            wording = st.text_input("Question to the customer", value=item.question, key=f"dq-{item.id}")
        elif isinstance(item, DerivedLink) and item.condition:
            st.caption(f"Routing: once the customer's words meet \"{item.condition}\", the questions come from "
                       "this path instead of the article that matched")
            wording = st.text_input("The path's article is titled", value=item.target, key=f"dq-{item.id}")
        elif isinstance(item, DerivedLink):
            wording = st.text_input("Its checks are asked first from the article titled", value=item.target,
                                    key=f"dq-{item.id}")
        else:
            st.text(f"Reason: {item.reason}")
            wording = st.text_input("Applies when", value=item.condition, key=f"dq-{item.id}")
        x, y = st.columns(2)
        if x.button("Approve", key=f"da-{item.id}", type="primary"):
            field = {"check": "question", "rule": "condition", "link": "target"}[item.kind]
            changed = wording != getattr(item, field)
            edited = r.item.model_copy(update={field: wording}) if changed or r.edited else None
            store.review_derived(item.id, "approved", user, edited=edited)
            st.rerun()
        if y.button("Reject", key=f"dr-{item.id}"):
            store.review_derived(item.id, "rejected", user)
            st.rerun()
if len(records) > 100:
    st.caption("The first 100 are shown: narrow the list with the search.")
