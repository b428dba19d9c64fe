"""Resolutions mined from past tickets: approve (after editing) to index them, or reject."""

from __future__ import annotations

import streamlit as st

from copilot.mining import mine, publish
from copilot.ui import services

services.require_role("supervisor")
st.subheader("Mined resolutions")
store = services.store()
copilot = services.copilot()
if st.button("Mine past tickets", help="Resolved tickets with CSAT 4-5 whose resolution no article covers"):
    added = mine(copilot.index, store)
    st.success(f"{added} new card(s).")

pending = store.mined("pending")
if not pending:
    st.info("No pending cards.")
for row in pending:
    with st.container(border=True):
        st.caption(f"From {row.ticket_id} · {row.lang} · {', '.join(row.tags)}")
        title = st.text_input("Title", value=row.title, key=f"mt-{row.id}")
        text = st.text_area("Article text", value=row.text, key=f"mx-{row.id}", height=150)
        a, b = st.columns(2)
        if a.button("Approve and index", key=f"ma-{row.id}", type="primary"):
            decided = store.decide_mined(row.id, "approved", services.user().username, text=text, title=title)
            article_id, report = publish(decided, services.settings().data_dir / "kb_mined", copilot.index)
            store.decide_mined(row.id, "approved", services.user().username, article_id=article_id)
            st.success(f"Indexed as {article_id} ({report.summary()}).")
            st.rerun()
        if b.button("Reject", key=f"mr-{row.id}"):
            store.decide_mined(row.id, "rejected", services.user().username)
            st.rerun()
approved = store.mined("approved")
if approved:
    st.caption("Approved: " + ", ".join(f"{r.article_id or r.ticket_id}" for r in approved))
