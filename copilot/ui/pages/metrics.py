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

from copilot.feedback.store import BUCKETS, REJECT_REASONS, MetricFilters
from copilot.ui import services
from copilot.ui.labels import labeler

services.require_role("supervisor")
L = labeler(services.language())
st.subheader(L("metrics.title"))
store = services.store()
span = store.date_range()
if span is None:
    st.info(L("metrics.no_data"))
    st.stop()

RATES = {"acceptance_rate": L("metrics.rate_acceptance"), "rejection_rate": L("metrics.rate_rejection"),
         "handoff_rate": L("metrics.rate_handoff"), "unsupported_rate": L("metrics.rate_unsupported")}
OUTCOMES = {o: L(f"metrics.outcome_{o}") for o in ("sent", "rejected", "regenerated", "handed_off", "no_action")}

with st.expander(L("metrics.filters"), expanded=True):
    a, b, c = st.columns(3)
    operators = a.multiselect(L("metrics.operators"), store.operators(), key="m_operators",
                              placeholder=L("metrics.all_operators"))
    topics = b.multiselect(L("metrics.topics"), store.topics(), key="m_topics", placeholder=L("metrics.all_topics"))
    prompts = c.multiselect(L("metrics.prompts"), store.prompts(), key="m_prompts",
                            placeholder=L("metrics.all_prompts"))
    d, e, g = st.columns(3)
    languages = d.multiselect(L("metrics.languages"), ["ru", "en"], key="m_languages", placeholder=L("metrics.both"),
                              format_func=lambda code: L(f"common.lang_{code}"))
    dates = e.date_input(L("metrics.dates"), value=(span[0], max(span[1], date.today())), key="m_dates")
    bucket = g.selectbox(L("metrics.per"), ["auto", *BUCKETS], key="m_bucket", help=L("metrics.per_help"),
                         format_func=lambda b: L(f"metrics.bucket_{b}"))
f = MetricFilters(operators=operators, topics=topics, prompts=prompts, languages=languages)
if isinstance(dates, (tuple, list)) and len(dates) == 2:
    f.since, f.until = dates
data = store.metrics(f, bucket)
if not data["total"]:
    st.info(L("metrics.none_match"))
    st.stop()
o = data["overall"]


def pct(v) -> str:
    return "—" if v is None else f"{v:.0%}"


k = st.columns(3)
k[0].metric(L("metrics.k_suggestions"), o["suggestions"], help=L("metrics.k_suggestions_help"))
k[1].metric(L("metrics.k_acceptance"), pct(o["acceptance_rate"]),
            help=L("metrics.k_acceptance_help", sent=o["sent"], shown=o["suggestions"],
                   acted_rate=pct(o["acceptance_of_acted"]), acted=o["acted"], as_is=o["sent_as_is"]))
k[2].metric(L("metrics.k_edit"), "—" if o["mean_edit_distance"] is None else f"{o['mean_edit_distance']:.2f}",
            help=L("metrics.k_edit_help"))
k = st.columns(3)
k[0].metric(L("metrics.k_rejected"), pct(o["rejection_rate"]),
            help=L("metrics.k_rejected_help", rejected=o["rejected"], shown=o["suggestions"]))
k[1].metric(L("metrics.k_handoff"), pct(o["handoff_rate"]), help=L("metrics.k_handoff_help", n=o["handed_off"]))
k[2].metric(L("metrics.k_unsupported"), pct(o["unsupported_rate"]))
st.caption(L("metrics.latency", p50=f"{o['latency_p50_ms']:.0f}", p95=f"{o['latency_p95_ms']:.0f}",
             none=o["no_action"], shown=o["suggestions"]))

per = L(f"metrics.per_{data['bucket']}")
periods = pd.DataFrame(data["periods"])
periods["period"] = pd.to_datetime(periods["key"])
time_unit = {"day": "yearmonthdate", "week": "yearmonthdate", "month": "yearmonth"}[data["bucket"]]
x = alt.X("period:O", title=per, timeUnit=time_unit, axis=alt.Axis(labelAngle=-45 if len(periods) > 8 else 0))

st.markdown(L("metrics.chart_outcomes", per=per))
counts = periods.melt(id_vars=["period"], value_vars=list(OUTCOMES), var_name="outcome", value_name="count")
counts["outcome"] = counts["outcome"].map(OUTCOMES)
st.altair_chart(alt.Chart(counts).mark_bar().encode(
    x=x, y=alt.Y("count:Q", title=L("metrics.axis_suggestions")),
    color=alt.Color("outcome:N", sort=list(OUTCOMES.values()), title=None, legend=alt.Legend(orient="bottom")),
    tooltip=[alt.Tooltip("period:T", title=per), alt.Tooltip("outcome:N", title=L("metrics.field_outcome")),
             alt.Tooltip("count:Q", title=L("metrics.field_count"))]).properties(height=240),
    width="stretch")

st.markdown(L("metrics.chart_rates", per=per))
rates = periods.melt(id_vars=["period", "suggestions"], value_vars=list(RATES), var_name="rate", value_name="share")
rates = rates.dropna(subset=["share"])
rates["rate"] = rates["rate"].map(RATES)
st.altair_chart(alt.Chart(rates).mark_line(point=alt.OverlayMarkDef(size=80)).encode(
    x=x, y=alt.Y("share:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    color=alt.Color("rate:N", sort=list(RATES.values()), title=None, legend=alt.Legend(orient="bottom")),
    tooltip=[alt.Tooltip("period:T", title=per), alt.Tooltip("rate:N", title=L("metrics.field_rate")),
             alt.Tooltip("share:Q", format=".0%", title=L("metrics.field_share")),
             alt.Tooltip("suggestions:Q", title=L("metrics.field_shown"))]).properties(height=240), width="stretch")

edits = periods.dropna(subset=["mean_edit_distance"])
st.markdown(L("metrics.chart_edits", per=per))
if edits.empty:
    st.caption(L("metrics.no_sent"))
else:
    st.altair_chart(alt.Chart(edits).mark_line(point=alt.OverlayMarkDef(size=80), color="#8a5cf6").encode(
        x=x, y=alt.Y("mean_edit_distance:Q", title=L("metrics.axis_edit"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("period:T", title=per),
                 alt.Tooltip("mean_edit_distance:Q", format=".2f", title=L("metrics.axis_edit")),
                 alt.Tooltip("sent:Q", title=L("metrics.field_sent"))]).properties(height=200), width="stretch")

prompts_df = pd.DataFrame(data["by_prompt"])
st.markdown(L("metrics.chart_prompt_rates"))
prompt_rates = prompts_df.melt(id_vars=["key", "suggestions"], value_vars=list(RATES), var_name="rate",
                               value_name="share").dropna(subset=["share"])
prompt_rates["rate"] = prompt_rates["rate"].map(RATES)
st.altair_chart(alt.Chart(prompt_rates).mark_bar().encode(
    x=alt.X("key:N", title=L("metrics.axis_prompt"), axis=alt.Axis(labelAngle=0)),
    xOffset=alt.XOffset("rate:N", sort=list(RATES.values())),
    y=alt.Y("share:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
    color=alt.Color("rate:N", sort=list(RATES.values()), title=None, legend=alt.Legend(orient="bottom")),
    tooltip=[alt.Tooltip("key:N", title=L("metrics.axis_prompt")), alt.Tooltip("rate:N", title=L("metrics.field_rate")),
             alt.Tooltip("share:Q", format=".0%", title=L("metrics.field_share")),
             alt.Tooltip("suggestions:Q", title=L("metrics.field_shown"))],
).properties(height=240), width="stretch")
prompt_edits = prompts_df.dropna(subset=["mean_edit_distance"])
if not prompt_edits.empty:
    st.markdown(L("metrics.chart_prompt_edits"))
    st.altair_chart(alt.Chart(prompt_edits).mark_bar(color="#8a5cf6").encode(
        x=alt.X("key:N", title=L("metrics.axis_prompt"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("mean_edit_distance:Q", title=L("metrics.axis_edit"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("key:N", title=L("metrics.axis_prompt")),
                 alt.Tooltip("mean_edit_distance:Q", format=".2f", title=L("metrics.axis_edit")),
                 alt.Tooltip("sent:Q", title=L("metrics.field_sent"))],
    ).properties(height=180), width="stretch")

COLUMNS = {
    "key": st.column_config.TextColumn("", width="medium"),
    "suggestions": st.column_config.NumberColumn(L("metrics.col_shown")),
    "sent": st.column_config.NumberColumn(L("metrics.col_sent")),
    "acceptance_rate": st.column_config.ProgressColumn(L("metrics.col_accepted"), format="percent", min_value=0,
                                                       max_value=1),
    "rejection_rate": st.column_config.ProgressColumn(L("metrics.col_rejected"), format="percent", min_value=0,
                                                      max_value=1),
    "mean_edit_distance": st.column_config.NumberColumn(L("metrics.col_edit"), format="%.2f"),
    "handoff_rate": st.column_config.ProgressColumn(L("metrics.col_handoff"), format="percent", min_value=0,
                                                    max_value=1),
    "unsupported_rate": st.column_config.ProgressColumn(L("metrics.col_unsupported"), format="percent", min_value=0,
                                                        max_value=1),
    "latency_p50_ms": st.column_config.NumberColumn(L("metrics.col_p50"), format="%.0f"),
}
for title, key, label in ((L("metrics.by_operator"), "by_operator", L("metrics.key_operator")),
                          (L("metrics.by_topic"), "by_topic", L("metrics.key_topic")),
                          (L("metrics.by_prompt"), "by_prompt", L("metrics.key_prompt"))):
    st.markdown(f"**{title}**")
    table = pd.DataFrame(data[key])[list(COLUMNS)]
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={**COLUMNS, "key": st.column_config.TextColumn(label, width="medium")})
with st.expander(L("metrics.as_table", per=per)):
    st.dataframe(pd.DataFrame(data["periods"])[list(COLUMNS)], hide_index=True, width="stretch",
                 column_config={**COLUMNS, "key": st.column_config.TextColumn(per, width="small")})
if data["rejection_reasons"]:
    st.markdown(L("metrics.chart_reasons"))
    reasons = pd.DataFrame({  # the panel's words for the recorded reasons
        "reason": [L(f"reason_{r}") if r in REJECT_REASONS else r.replace("_", " ") for r in data["rejection_reasons"]],
        "count": list(data["rejection_reasons"].values())})
    st.altair_chart(alt.Chart(reasons).mark_bar().encode(
        x=alt.X("count:Q", title=L("metrics.axis_rejections"), axis=alt.Axis(tickMinStep=1)),
        y=alt.Y("reason:N", sort="-x", title=None),
        tooltip=[alt.Tooltip("reason:N", title=L("metrics.field_reason")),
                 alt.Tooltip("count:Q", title=L("metrics.field_count"))]).properties(height=30 * len(reasons) + 30),
        width="stretch")
