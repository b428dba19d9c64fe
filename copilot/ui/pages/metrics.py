"""Metrics for supervisors: how many suggestions were shown and what became of them
(acceptance over ALL shown, rejections, handoffs), edit distance of what was sent,
unsupported sentences and latency; per day, week or month (chosen by the span, so one day
of data and a year both read), per prompt version, operator and topic; filtered by
operator, topic, prompt version, language and dates."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from copilot.feedback.store import BUCKETS, MetricFilters
from copilot.ui import services

services.require_role("supervisor")
st.subheader("Metrics")
store = services.store()
span = store.date_range()
if span is None:
    st.info("No suggestions recorded yet.")
    st.stop()

RATES = {"acceptance_rate": "Accepted (sent)", "rejection_rate": "Rejected", "handoff_rate": "Handoff flagged",
         "unsupported_rate": "With unsupported sentences"}
OUTCOMES = {"sent": "Sent", "rejected": "Rejected", "regenerated": "Regenerated", "handed_off": "Handed off",
            "no_action": "No action"}

with st.expander("Filters", expanded=True):
    a, b, c = st.columns(3)
    operators = a.multiselect("Operators", store.operators(), key="m_operators", placeholder="All operators")
    topics = b.multiselect("Topics", store.topics(), key="m_topics", placeholder="All topics")
    prompts = c.multiselect("Prompt versions", store.prompts(), key="m_prompts", placeholder="All versions")
    d, e, g = st.columns(3)
    languages = d.multiselect("Languages", ["ru", "en"], key="m_languages", placeholder="Both")
    dates = e.date_input("Dates", value=(span[0], max(span[1], date.today())), key="m_dates")
    bucket = g.selectbox("Per", ["auto", *BUCKETS], key="m_bucket",
                         help="auto: days up to two months, weeks up to a year and a half, then months")
f = MetricFilters(operators=operators, topics=topics, prompts=prompts, languages=languages)
if isinstance(dates, (tuple, list)) and len(dates) == 2:
    f.since, f.until = dates
data = store.metrics(f, bucket)
if not data["total"]:
    st.info("No suggestions match these filters.")
    st.stop()
o = data["overall"]


def pct(v) -> str:
    return "—" if v is None else f"{v:.0%}"


k = st.columns(3)
k[0].metric("Suggestions", o["suggestions"], help="Suggestions shown to operators in the selection.")
k[1].metric("Acceptance", pct(o["acceptance_rate"]),
            help=f"{o['sent']} of {o['suggestions']} suggestions shown were sent (as drafted or edited); "
                 f"{pct(o['acceptance_of_acted'])} of the {o['acted']} an operator acted on. "
                 f"{o['sent_as_is']} sent without any edit.")
k[2].metric("Mean edit distance", "—" if o["mean_edit_distance"] is None else f"{o['mean_edit_distance']:.2f}",
            help="Of the drafts that were sent: 0 = sent as drafted, 1 = rewritten.")
k = st.columns(3)
k[0].metric("Rejected", pct(o["rejection_rate"]), help=f"{o['rejected']} of {o['suggestions']} shown.")
k[1].metric("Handoff flagged", pct(o["handoff_rate"]), help=f"Handed off from the panel: {o['handed_off']}.")
k[2].metric("With unsupported sentences", pct(o["unsupported_rate"]))
st.caption(f"Latency p50 / p95: {o['latency_p50_ms']:.0f} / {o['latency_p95_ms']:.0f} ms · "
           f"{o['no_action']} of {o['suggestions']} suggestions had no action (or were not sent yet).")

per = {"day": "day", "week": "week (from Monday)", "month": "month"}[data["bucket"]]
periods = pd.DataFrame(data["periods"])
periods["period"] = pd.to_datetime(periods["key"])
time_unit = {"day": "yearmonthdate", "week": "yearmonthdate", "month": "yearmonth"}[data["bucket"]]
x = alt.X("period:O", title=per, timeUnit=time_unit, axis=alt.Axis(labelAngle=-45 if len(periods) > 8 else 0))

st.markdown(f"**Suggestions per {per}**, by what became of them")
counts = periods.melt(id_vars=["period"], value_vars=list(OUTCOMES), var_name="outcome", value_name="count")
counts["outcome"] = counts["outcome"].map(OUTCOMES)
st.altair_chart(alt.Chart(counts).mark_bar().encode(
    x=x, y=alt.Y("count:Q", title="suggestions"),
    color=alt.Color("outcome:N", sort=list(OUTCOMES.values()), title=None, legend=alt.Legend(orient="bottom")),
    tooltip=[alt.Tooltip("period:T", title=per), "outcome:N", "count:Q"]).properties(height=240),
    width="stretch")

st.markdown(f"**Rates per {per}** (share of all suggestions shown)")
rates = periods.melt(id_vars=["period", "suggestions"], value_vars=list(RATES), var_name="rate", value_name="share")
rates = rates.dropna(subset=["share"])
rates["rate"] = rates["rate"].map(RATES)
st.altair_chart(alt.Chart(rates).mark_line(point=alt.OverlayMarkDef(size=80)).encode(
    x=x, y=alt.Y("share:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    color=alt.Color("rate:N", sort=list(RATES.values()), title=None, legend=alt.Legend(orient="bottom")),
    tooltip=[alt.Tooltip("period:T", title=per), "rate:N", alt.Tooltip("share:Q", format=".0%"),
             alt.Tooltip("suggestions:Q", title="shown")]).properties(height=240), width="stretch")

edits = periods.dropna(subset=["mean_edit_distance"])
st.markdown(f"**Edit distance per {per}** (of what was sent: 0 = as drafted, 1 = rewritten)")
if edits.empty:
    st.caption("No draft was sent in this selection.")
else:
    st.altair_chart(alt.Chart(edits).mark_line(point=alt.OverlayMarkDef(size=80), color="#8a5cf6").encode(
        x=x, y=alt.Y("mean_edit_distance:Q", title="mean edit distance", scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("period:T", title=per), alt.Tooltip("mean_edit_distance:Q", format=".2f"),
                 alt.Tooltip("sent:Q", title="sent")]).properties(height=200), width="stretch")

prompts_df = pd.DataFrame(data["by_prompt"])
st.markdown("**Per prompt version**: rates")
prompt_rates = prompts_df.melt(id_vars=["key", "suggestions"], value_vars=list(RATES), var_name="rate",
                               value_name="share").dropna(subset=["share"])
prompt_rates["rate"] = prompt_rates["rate"].map(RATES)
st.altair_chart(alt.Chart(prompt_rates).mark_bar().encode(
    x=alt.X("key:N", title="prompt version", axis=alt.Axis(labelAngle=0)),
    xOffset=alt.XOffset("rate:N", sort=list(RATES.values())),
    y=alt.Y("share:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    color=alt.Color("rate:N", sort=list(RATES.values()), title=None, legend=alt.Legend(orient="bottom")),
    tooltip=["key:N", "rate:N", alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("suggestions:Q", title="shown")],
).properties(height=240), width="stretch")
prompt_edits = prompts_df.dropna(subset=["mean_edit_distance"])
if not prompt_edits.empty:
    st.markdown("**Per prompt version**: edit distance of what was sent")
    st.altair_chart(alt.Chart(prompt_edits).mark_bar(color="#8a5cf6").encode(
        x=alt.X("key:N", title="prompt version", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("mean_edit_distance:Q", title="mean edit distance", scale=alt.Scale(domain=[0, 1])),
        tooltip=["key:N", alt.Tooltip("mean_edit_distance:Q", format=".2f"), alt.Tooltip("sent:Q", title="sent")],
    ).properties(height=180), width="stretch")

COLUMNS = {
    "key": st.column_config.TextColumn("", width="medium"),
    "suggestions": st.column_config.NumberColumn("shown"),
    "sent": st.column_config.NumberColumn("sent"),
    "acceptance_rate": st.column_config.ProgressColumn("accepted", format="percent", min_value=0, max_value=1),
    "rejection_rate": st.column_config.ProgressColumn("rejected", format="percent", min_value=0, max_value=1),
    "mean_edit_distance": st.column_config.NumberColumn("edit distance", format="%.2f"),
    "handoff_rate": st.column_config.ProgressColumn("handoff", format="percent", min_value=0, max_value=1),
    "unsupported_rate": st.column_config.ProgressColumn("unsupported", format="percent", min_value=0, max_value=1),
    "latency_p50_ms": st.column_config.NumberColumn("p50 ms", format="%.0f"),
}
for title, key, label in (("Per operator", "by_operator", "operator"), ("Per topic", "by_topic", "topic"),
                          ("Per prompt version", "by_prompt", "prompt version")):
    st.markdown(f"**{title}**")
    table = pd.DataFrame(data[key])[list(COLUMNS)]
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={**COLUMNS, "key": st.column_config.TextColumn(label, width="medium")})
with st.expander(f"Per {per}, as a table"):
    st.dataframe(pd.DataFrame(data["periods"])[list(COLUMNS)], hide_index=True, width="stretch",
                 column_config={**COLUMNS, "key": st.column_config.TextColumn(per, width="small")})
if data["rejection_reasons"]:
    st.markdown("**Rejection reasons**")
    reasons = pd.DataFrame({"reason": list(data["rejection_reasons"]), "count": list(data["rejection_reasons"].values())})
    st.altair_chart(alt.Chart(reasons).mark_bar().encode(
        x=alt.X("count:Q", title="rejections", axis=alt.Axis(tickMinStep=1)), y=alt.Y("reason:N", sort="-x", title=None),
        tooltip=["reason:N", "count:Q"]).properties(height=30 * len(reasons) + 30), width="stretch")
