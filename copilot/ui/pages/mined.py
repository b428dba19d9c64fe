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
from copilot.ui.labels import labeler
from copilot.ui.render import plain_md

PAGE_SIZES = (10, 25, 50)

services.require_role("supervisor")
L = labeler(services.language())
st.subheader(L("mined.title"))
store = services.store()
settings = services.settings()
user = services.user().username

if st.button(L("mined.mine"), help=L("mined.mine_help")):
    copilot = services.copilot()
    with st.spinner(L("mined.mining")):
        added = mine(copilot.index, store, verifier=copilot.verifier, settings=settings.mining)
    st.success(L("mined.mined", n=added))


def choice(value: str) -> str:
    """A status or language filter's option in the supervisor's words."""
    return L("common.all") if value == "all" else L(f"common.lang_{value}") if value in ("ru", "en") \
        else L(f"common.status_{value}")


with st.container(border=True):
    a, b, c, d = st.columns([3, 2, 2, 1])
    query = a.text_input(L("common.search"), key="mined_query", placeholder=L("mined.search_hint"))
    status = b.selectbox(L("mined.status"), ["pending", "approved", "rejected", "all"], key="mined_status",
                         format_func=choice)
    tags = c.multiselect(L("mined.topic"), store.mined_tags(), key="mined_tags", placeholder=L("mined.all_topics"))
    lang = d.selectbox(L("mined.language"), ["all", "ru", "en"], key="mined_lang", format_func=choice)
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
    st.info(L("mined.no_match") if total == 0 and (query or tags or lang != "all")
            else L("mined.no_status", status=choice(status)))
    st.stop()


def covered_note(row) -> str:
    cov = row.coverage or {}
    if not cov:
        return ""
    if not cov.get("article"):
        return L("mined.none_found")
    steps = cov.get("steps") or []
    return L("mined.steps", article=cov["article"], supported=sum(s["supported"] for s in steps), total=len(steps))


table = pd.DataFrame([{
    "id": r.id, "title": store.mask_text(r.title), "topic": ", ".join(r.tags), "lang": r.lang,
    "status": choice(r.status),
    "ticket": r.ticket_id, "closest article": covered_note(r),
} for r in rows])
st.caption(L("mined.count", total=total, page=page, pages=pages))
event = st.dataframe(
    table, hide_index=True, width="stretch", key=f"mined_table_{page}_{st.session_state.get('mined_version', 0)}", on_select="rerun",
    selection_mode="multi-row", height=38 + 35 * len(table),
    # the columns fit the page's width; the full title, text and coverage are in the opened card
    column_order=["title", "topic", "lang", *(["status"] if status == "all" else []), "ticket", "closest article"],
    column_config={
        "title": st.column_config.TextColumn(L("mined.col_title"), width=290),
        "topic": st.column_config.TextColumn(L("mined.col_topic"), width=110),
        "lang": st.column_config.TextColumn(L("mined.col_lang"), width=42),
        "status": st.column_config.TextColumn(L("mined.col_status"), width=75),
        "ticket": st.column_config.TextColumn(L("mined.col_ticket"), width=92),
        "closest article": st.column_config.TextColumn(L("mined.col_article"), width=120,
                                                       help=L("mined.col_article_help")),
    })
picked = [rows[i] for i in (event.selection.rows if event is not None else []) if i < len(rows)]
bar = st.columns([3, 3, 2, 3])
pending_picked = [r for r in picked if r.status == "pending"]
if bar[0].button(L("mined.approve_selected", n=len(pending_picked)), type="primary", disabled=not pending_picked,
                 key="mined_bulk_approve"):
    decided = store.decide_mined_many([r.id for r in pending_picked], "approved", user)
    article_ids, report = publish_many(decided, settings.data_dir / "kb_mined", services.copilot().index)
    for r, article_id in zip(decided, article_ids):
        store.set_mined_article(r.id, article_id)
    st.session_state.mined_flash = L("mined.approved_many", n=len(decided), report=report.summary())
    st.rerun()
if bar[1].button(L("mined.reject_selected", n=len(pending_picked)), disabled=not pending_picked,
                 key="mined_bulk_reject"):
    store.decide_mined_many([r.id for r in pending_picked], "rejected", user)
    st.session_state.mined_flash = L("mined.rejected_many", n=len(pending_picked))
    st.rerun()
bar[2].selectbox(L("mined.per_page"), PAGE_SIZES, key="mined_size", label_visibility="collapsed",
                 format_func=lambda n: L("mined.n_per_page", n=n))
with bar[3]:
    prev, label, nxt = st.columns([1, 2, 1], vertical_alignment="center")
    if prev.button("‹", disabled=page <= 1, key="mined_prev", help=L("mined.prev")):
        st.session_state.mined_page = page - 1
        st.rerun()
    label.caption(L("mined.page", page=page, pages=pages))
    if nxt.button("›", disabled=page >= pages, key="mined_next", help=L("mined.next")):
        st.session_state.mined_page = page + 1
        st.rerun()

row = picked[0] if len(picked) == 1 else None
if row is None:
    st.caption(L("mined.select_one"))
    st.stop()
with st.container(border=True):
    st.markdown(f"**{plain_md(store.mask_text(row.title))}**")
    st.caption(plain_md(L("mined.from", ticket=row.ticket_id, lang=row.lang, topics=", ".join(row.tags),
                          status=choice(row.status))))
    if row.coverage and row.coverage.get("steps"):
        with st.expander(L("mined.why_not_covered")):
            cov = row.coverage
            st.caption(plain_md(f"{cov.get('article') or L('mined.no_article')} — {cov.get('title', '')}"))
            for step in cov["steps"]:
                mark = "✓" if step["supported"] else "✗"
                extra = L("mined.not_in_article", terms=", ".join(step["missing"])) if step.get("missing") else ""
                st.markdown(plain_md(L("mined.step", mark=mark, step=step["step"], score=f"{step['score']:.2f}",
                                       lexical=f"{step['lexical']:.0%}", extra=extra)))
    title = st.text_input(L("mined.card_title"), value=store.mask_text(row.title), key=f"mt-{row.id}",
                          disabled=row.status != "pending")
    text = st.text_area(L("mined.card_text"), value=store.mask_text(row.text), key=f"mx-{row.id}", height=180,
                        disabled=row.status != "pending")
    if row.status == "pending":
        a, b = st.columns(2)
        if a.button(L("mined.approve_index"), key=f"ma-{row.id}", type="primary"):
            decided = store.decide_mined(row.id, "approved", user, text=text, title=title)
            article_id, report = publish(decided, settings.data_dir / "kb_mined", services.copilot().index)
            store.set_mined_article(row.id, article_id)
            st.session_state.mined_flash = L("mined.indexed_as", id=article_id, report=report.summary())
            st.rerun()
        if b.button(L("common.reject"), key=f"mr-{row.id}"):
            store.decide_mined(row.id, "rejected", user)
            st.session_state.mined_flash = L("mined.rejected_one", ticket=row.ticket_id)
            st.rerun()
    elif row.article_id:
        st.caption(plain_md(L("mined.is_indexed", id=row.article_id)))
