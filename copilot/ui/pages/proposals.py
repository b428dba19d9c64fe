"""Checks and handoff rules derived from the knowledge base's text: approve, edit or reject
them. Approved ones are used as written here; rejected ones never; pending ones only while
the desk uses unreviewed proposals (COPILOT_ANAMNESIS__DERIVED=all, the default)."""

from __future__ import annotations

import streamlit as st

from copilot.ui import services
from copilot.ui.handoff_card import reason_label
from copilot.ui.labels import labeler
from knowledge_base.derive import DerivedCheck, DerivedLink

services.require_role("supervisor")
lang = services.language()
L = labeler(lang)
st.subheader(L("proposals.title"))
index = services.copilot().index
store = index.docstore
mode = services.settings().anamnesis.derived
st.caption(L("proposals.intro") + L("proposals.mode_all" if mode == "all" else "proposals.mode_approved"))

a, b, c = st.columns(3)
status = a.selectbox(L("proposals.status"), ["pending", "approved", "rejected"], key="dp-status",
                     format_func=lambda v: L(f"common.status_{v}"))
KINDS = {k: L(f"proposals.kind_{k}") for k in ("check", "rule", "link")}
kind = b.selectbox(L("proposals.kind"), list(KINDS), key="dp-kind", format_func=KINDS.get)
search = c.text_input(L("common.search"), key="dp-search", placeholder=L("proposals.search_hint"))
records = [r for r in store.derived(kind=kind, status=status)
           if not search or search.lower() in f"{r.item.source_id} {r.item.sentence} {r.effective}".lower()]
st.caption(L("proposals.shown", n=len(records)))
user = services.user().username

if records and status == "pending" and st.button(L("proposals.approve_all", n=len(records)), key="dp-all"):
    for r in records:
        store.review_derived(r.item.id, "approved", user)
    st.rerun()

for r in records[:100]:
    item = r.effective
    with st.container(border=True):
        st.caption(f"{item.source_id} · {item.lang}" + (f" · {item.heading}" if item.heading else "")
                   + (L("proposals.reviewed_by", who=r.reviewer) if r.reviewer else ""))
        st.text(L("proposals.source", sentence=item.sentence))
        if isinstance(item, DerivedCheck):
            if item.condition:
                st.caption(L("proposals.follow_up", condition=item.condition))
            wording = st.text_input(L("proposals.question"), value=item.question, key=f"dq-{item.id}")
        elif isinstance(item, DerivedLink) and item.condition:
            st.caption(L("proposals.routing_means", condition=item.condition, means=item.means) if item.means
                       else L("proposals.routing", condition=item.condition))
            wording = st.text_input(L("proposals.path_title"), value=item.target, key=f"dq-{item.id}")
        elif isinstance(item, DerivedLink):
            wording = st.text_input(L("proposals.first_from"), value=item.target, key=f"dq-{item.id}")
        else:
            st.text(L("proposals.reason", reason=reason_label(item.reason, lang)))
            # a rule on what only a person decides applies once the customer asks for it, with no diagnosis first
            wording = st.text_input(L("proposals.applies_asked" if item.request else "proposals.applies_when"),
                                    value=item.condition, key=f"dq-{item.id}")
        x, y = st.columns(2)
        if x.button(L("common.approve"), key=f"da-{item.id}", type="primary"):
            field = {"check": "question", "rule": "condition", "link": "target"}[item.kind]
            changed = wording != getattr(item, field)
            edited = r.item.model_copy(update={field: wording}) if changed or r.edited else None
            store.review_derived(item.id, "approved", user, edited=edited)
            st.rerun()
        if y.button(L("common.reject"), key=f"dr-{item.id}"):
            store.review_derived(item.id, "rejected", user)
            st.rerun()
if len(records) > 100:
    st.caption(L("proposals.first_100"))
