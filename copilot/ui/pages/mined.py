"""Resolutions mined from past tickets: search and filter them (status, topic, language),
approve or reject several at once from the table, or open one to edit and approve it;
approved cards are written as articles and indexed. Cards are titled by topic and shown
with personal data masked (cards stored before masking existed are masked when shown)."""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from copilot.mining import mine, publish, publish_many
from copilot.ui import services
from copilot.ui.render import plain_md

PAGE_SIZES = (10, 25, 50)

services.require_role("supervisor")
st.subheader("Mined resolutions")
store = services.store()
settings = services.settings()
user = services.user().username

if st.button("Mine past tickets", help="Resolved tickets with CSAT 4-5 whose resolution no article already says"):
    copilot = services.copilot()
    with st.spinner("Comparing resolutions with the articles…"):
        added = mine(copilot.index, store, verifier=copilot.verifier, settings=settings.mining)
    st.success(f"{added} new card(s).")

with st.container(border=True):
    a, b, c, d = st.columns([3, 2, 2, 1])
    query = a.text_input("Search", key="mined_query", placeholder="words in the title, text, topic or ticket id")
    status = b.selectbox("Status", ["pending", "approved", "rejected", "all"], key="mined_status")
    tags = c.multiselect("Topic", store.mined_tags(), key="mined_tags", placeholder="All topics")
    lang = d.selectbox("Language", ["all", "ru", "en"], key="mined_lang")
filters = (query, status, tuple(tags), lang)
if st.session_state.get("mined_filters") != filters:  # new filters start at page 1
    st.session_state.mined_filters = filters
    st.session_state.mined_page = 1
    st.session_state.mined_version = st.session_state.get("mined_version", 0) + 1  # and no rows selected
size = st.session_state.get("mined_size", PAGE_SIZES[0])
page = st.session_state.get("mined_page", 1)
rows, total = store.find_mined(None if status == "all" else status, None if lang == "all" else lang, tags, query,
                               offset=(page - 1) * size, limit=size)
pages = max(1, math.ceil(total / size))
if page > pages:  # the last page emptied by a decision
    st.session_state.mined_page = page = pages
    rows, total = store.find_mined(None if status == "all" else status, None if lang == "all" else lang, tags,
                                   query, offset=(page - 1) * size, limit=size)
if flash := st.session_state.pop("mined_flash", None):
    st.session_state.mined_version = st.session_state.get("mined_version", 0) + 1  # decided rows leave the selection
    st.success(flash)
if not rows:
    st.info("No cards match." if total == 0 and (query or tags or lang != "all") else f"No {status} cards.")
    st.stop()


def covered_note(row) -> str:
    cov = row.coverage or {}
    if not cov:
        return ""
    if not cov.get("article"):
        return "none found"
    steps = cov.get("steps") or []
    return f"{cov['article']} ({sum(s['supported'] for s in steps)}/{len(steps)} steps)"


table = pd.DataFrame([{
    "id": r.id, "title": store.mask_text(r.title), "topic": ", ".join(r.tags), "lang": r.lang, "status": r.status,
    "ticket": r.ticket_id, "closest article": covered_note(r),
} for r in rows])
st.caption(f"{total} card(s) · page {page} of {pages}. Select rows to approve or reject them together; "
           "open one below to edit it first.")
event = st.dataframe(
    table, hide_index=True, width="stretch", key=f"mined_table_{page}_{st.session_state.get('mined_version', 0)}", on_select="rerun",
    selection_mode="multi-row", height=38 + 35 * len(table),
    # the columns fit the page's width; the full title, text and coverage are in the opened card
    column_order=["title", "topic", "lang", *(["status"] if status == "all" else []), "ticket", "closest article"],
    column_config={
        "title": st.column_config.TextColumn("title", width=290),
        "topic": st.column_config.TextColumn("topic", width=110),
        "lang": st.column_config.TextColumn("lang", width=42),
        "status": st.column_config.TextColumn("status", width=75),
        "ticket": st.column_config.TextColumn("ticket", width=92),
        "closest article": st.column_config.TextColumn(
            "closest article", width=120,
            help="The article whose passages support most of the resolution's steps (how many of them)"),
    })
picked = [rows[i] for i in (event.selection.rows if event is not None else []) if i < len(rows)]
bar = st.columns([3, 3, 2, 3])
pending_picked = [r for r in picked if r.status == "pending"]
if bar[0].button(f"Approve selected ({len(pending_picked)})", type="primary", disabled=not pending_picked,
                 key="mined_bulk_approve"):
    decided = store.decide_mined_many([r.id for r in pending_picked], "approved", user)
    article_ids, report = publish_many(decided, settings.data_dir / "kb_mined", services.copilot().index)
    for r, article_id in zip(decided, article_ids):
        store.set_mined_article(r.id, article_id)
    st.session_state.mined_flash = f"Approved and indexed {len(decided)} card(s) ({report.summary()})."
    st.rerun()
if bar[1].button(f"Reject selected ({len(pending_picked)})", disabled=not pending_picked, key="mined_bulk_reject"):
    store.decide_mined_many([r.id for r in pending_picked], "rejected", user)
    st.session_state.mined_flash = f"Rejected {len(pending_picked)} card(s)."
    st.rerun()
bar[2].selectbox("Per page", PAGE_SIZES, key="mined_size", label_visibility="collapsed",
                 format_func=lambda n: f"{n} per page")
with bar[3]:
    prev, label, nxt = st.columns([1, 2, 1], vertical_alignment="center")
    if prev.button("‹", disabled=page <= 1, key="mined_prev", help="Previous page"):
        st.session_state.mined_page = page - 1
        st.rerun()
    label.caption(f"page {page} / {pages}")
    if nxt.button("›", disabled=page >= pages, key="mined_next", help="Next page"):
        st.session_state.mined_page = page + 1
        st.rerun()

row = picked[0] if len(picked) == 1 else None
if row is None:
    st.caption("Select one row to open its card.")
    st.stop()
with st.container(border=True):
    st.markdown(f"**{plain_md(store.mask_text(row.title))}**")
    st.caption(plain_md(f"From {row.ticket_id} · {row.lang} · {', '.join(row.tags)} · {row.status}"))
    if row.coverage and row.coverage.get("steps"):
        with st.expander("Why it is not covered: each step against the closest article"):
            cov = row.coverage
            st.caption(plain_md(f"{cov.get('article') or 'no article'} — {cov.get('title', '')}"))
            for step in cov["steps"]:
                mark = "✓" if step["supported"] else "✗"
                extra = f", not in the article: {', '.join(step['missing'])}" if step.get("missing") else ""
                st.markdown(plain_md(f"{mark} {step['step']} (support {step['score']:.2f}, key terms "
                                     f"{step['lexical']:.0%}{extra})"))
    title = st.text_input("Title", value=store.mask_text(row.title), key=f"mt-{row.id}",
                          disabled=row.status != "pending")
    text = st.text_area("Article text", value=store.mask_text(row.text), key=f"mx-{row.id}", height=180,
                        disabled=row.status != "pending")
    if row.status == "pending":
        a, b = st.columns(2)
        if a.button("Approve and index", key=f"ma-{row.id}", type="primary"):
            decided = store.decide_mined(row.id, "approved", user, text=text, title=title)
            article_id, report = publish(decided, settings.data_dir / "kb_mined", services.copilot().index)
            store.set_mined_article(row.id, article_id)
            st.session_state.mined_flash = f"Indexed as {article_id} ({report.summary()})."
            st.rerun()
        if b.button("Reject", key=f"mr-{row.id}"):
            store.decide_mined(row.id, "rejected", user)
            st.session_state.mined_flash = f"Rejected {row.ticket_id}."
            st.rerun()
    elif row.article_id:
        st.caption(plain_md(f"Indexed as {row.article_id}."))
