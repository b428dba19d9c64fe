"""Metrics for supervisors: acceptance, edits, rejections, handoffs, unsupported
sentences and latency, per day and per prompt version."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from copilot.ui import services

services.require_role("supervisor")
st.subheader("Metrics")
data = services.store().metrics()
if not data["total"]:
    st.info("No suggestions recorded yet.")
    st.stop()
rows = pd.DataFrame(data["rows"])
by_prompt = rows[rows.group == "prompt"].set_index("key")
by_day = rows[rows.group == "day"].set_index("key")
total = by_prompt.suggestions.sum()


def weighted(col: str):
    valid = by_prompt[col].notna()
    return (by_prompt[col][valid] * by_prompt.suggestions[valid]).sum() / by_prompt.suggestions[valid].sum() if valid.any() else None


k = st.columns(3)
k[0].metric("Suggestions", int(total))
acc = weighted("acceptance_rate")
k[1].metric("Acceptance", f"{acc:.0%}" if acc is not None else "—")
edit = weighted("mean_edit_distance")
k[2].metric("Mean edit distance", f"{edit:.2f}" if edit is not None else "—")
k = st.columns(3)
k[0].metric("Handoff rate", f"{weighted('handoff_rate'):.0%}")
k[1].metric("With unsupported sentences", f"{weighted('unsupported_rate'):.0%}")
k[2].metric("Latency p50 / p95", f"{by_day.latency_p50_ms.median():.0f} / {by_day.latency_p95_ms.max():.0f} ms")

st.markdown("**Per day**")
st.line_chart(by_day[["acceptance_rate", "handoff_rate", "unsupported_rate", "rejection_rate"]])
st.markdown("**Per prompt version**")
st.bar_chart(by_prompt[["acceptance_rate", "mean_edit_distance", "handoff_rate", "unsupported_rate"]])
st.dataframe(rows.drop(columns=["group"]).rename(columns={"key": "day or prompt"}), hide_index=True,
             use_container_width=True)
if data["rejection_reasons"]:
    st.markdown("**Rejection reasons**")
    st.bar_chart(pd.Series(data["rejection_reasons"], name="rejections"))
