"""Eval reports: JSON (everything), Markdown (for a pull request) and HTML (charts, and a
per-case table where each failure links to its conversation, draft, citations and the
checks that failed). Generated into an output folder; never edited by hand."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from jinja2 import Environment, select_autoescape

from evals.compare import Comparison
from evals.gate import GateResult
from evals.metrics import default_metrics
from evals.runner import EvalResult

HEADLINE = [
    "retrieval_hit@3", "retrieval_mrr", "citation_validity", "model_citation_validity", "citation_precision", "citation_recall",
    "hallucination_rate", "model_hallucination_rate", "raw_citation_rate", "llm_acceptance_rate", "llm_failure_rate",
    "must_include_coverage", "forbidden_content_rate", "contradiction_rate", "gold_similarity", "handoff_precision",
    "handoff_recall", "handoff_f1", "anamnesis_precision", "anamnesis_recall", "asked_given_facts", "intent_accuracy",
    "language_match", "reply_words",
    "latency_before_llm_p50_ms", "latency_total_p50_ms", "latency_total_p95_ms", "tokens_per_suggestion",
    "cost_per_suggestion",
]
CHARTED = ["must_include_coverage", "hallucination_rate", "handoff_f1", "retrieval_hit@3", "anamnesis_recall"]


def fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.0f}"
    return str(value)


def bar_chart(title: str, rows: dict[str, float | None], lower_is_better: bool = False) -> str:
    """A small horizontal bar chart as inline SVG (values 0..1; n/a rows are shown empty)."""
    width, row_h, label_w = 460, 22, 170
    height = row_h * len(rows) + 30
    parts = [f'<svg class="chart" width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">',
             f'<text x="0" y="14" class="ct">{html.escape(title)}{" (lower is better)" if lower_is_better else ""}</text>']
    for i, (label, value) in enumerate(rows.items()):
        y = 24 + i * row_h
        v = 0.0 if value is None else max(0.0, min(1.0, float(value)))
        w = (width - label_w - 50) * v
        colour = "#c0392b" if (lower_is_better and v > 0.05) else "#2e86c1"
        parts.append(f'<text x="0" y="{y + 14}" class="cl">{html.escape(label)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="14" fill="{colour}"/>'
                     f'<text x="{label_w + w + 4:.1f}" y="{y + 14}" class="cv">{fmt(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


_KINDS = {m.name: m for m in default_metrics()}
BY_CONSTRUCTION = ("retrieval-only drafts are knowledge-base sentences, each verified against the passage it "
                   "cites, and invalid citations are removed before anything is shown")


def shown(result: EvalResult, name: str, value) -> str:
    """A value as a reader should take it: a model metric of a retrieval-only run is not
    applicable, not missing; a value that holds by construction is marked so, not
    presented as an achievement (and a construction that broke is said to have)."""
    metric = _KINDS.get(name)
    if metric is None or result.config.use_llm:
        return fmt(value)
    if metric.model_only:
        return "not applicable (model off)"
    if metric.without_model is not None and value is not None:
        if value == metric.without_model:
            return f"{fmt(value)} (by construction)"
        return f"{fmt(value)} (by construction it is {fmt(metric.without_model)}: the construction broke)"
    return fmt(value)


SUMMARY_KEYS = ["retrieval_hit@3", "must_include_coverage", "handoff_f1", "anamnesis_recall", "language_match"]
CONSTRUCTED = ["hallucination_rate", "citation_validity"]
MODEL_KEYS = ["llm_acceptance_rate", "llm_failure_rate", "model_hallucination_rate", "model_citation_validity",
              "raw_citation_rate"]


def summary_line(result: EvalResult) -> str:
    """The one line `copilot eval` prints: the metrics that can move first; what holds by
    construction or does not apply to this run said as such."""
    head = f"{result.cases} cases, {result.prompt} / {result.model}: "
    moving = ", ".join(f"{k} {fmt(result.summary.get(k))}" for k in SUMMARY_KEYS)
    if result.config.use_llm:
        rest = ", ".join(f"{k} {fmt(result.summary.get(k))}" for k in CONSTRUCTED + MODEL_KEYS)
        return f"{head}{moving}, {rest}"
    constructed = ", ".join(f"{k} {shown(result, k, result.summary.get(k))}" for k in CONSTRUCTED)
    return f"{head}{moving}; {constructed}; model metrics ({', '.join(MODEL_KEYS)}): not applicable (model off)"


def gate_lines(gate: GateResult) -> list[str]:
    """What the gate did: how many metrics and rules it applied, what held by construction
    (checked, not counted), and every rule it did not apply with the reason."""
    verdict = "gate passed" if gate.passed else f"gate FAILED ({len(gate.violations)} violation(s))"
    lines = [f"{verdict}: {len(gate.checked)} metrics checked ({gate.rules_applied} rules applied, "
             f"floors: {gate.floors_of or 'default'})"]
    if gate.by_construction:
        lines.append(f"  held by construction, not counted as checked: {', '.join(gate.by_construction)}")
    reasons: dict[str, list[str]] = {}
    for n in gate.not_applied:
        reasons.setdefault(n.why, []).append(f"{n.metric} {', '.join(n.rules)}".strip())
    for why, items in reasons.items():
        lines.append(f"  not applied, {why}: {'; '.join(items)}")
    return lines


def markdown(result: EvalResult, comparison: Comparison | None, gate: GateResult | None) -> str:
    lines = [f"# Eval report: {result.prompt} / {result.model}", "",
             f"{result.cases} cases (split: {result.config.split}, datasets: "
             f"{', '.join(p.name for p in result.config.datasets)}).", ""]
    if gate is not None:
        lines += [f"**Gate: {'PASSED' if gate.passed else 'FAILED'}**", ""]
        lines += [f"- {v.metric}: {v.rule} violated ({v.detail})" for v in gate.violations]
        lines += [f"- {line.strip()}" for line in gate_lines(gate)]
        lines.append("")
    if not result.config.use_llm:
        lines += [f"By construction: {BY_CONSTRUCTION}; so the hallucination rate is 0 and citation validity 1 "
                  "in a retrieval-only run, and they show that the construction held, not how good the drafts are.", ""]
    langs = list(result.by_language)
    lines += ["## Overall and by language", "", "| metric | all | " + " | ".join(langs) + " |",
              "|---|---:|" + "---:|" * len(langs)]
    for name in HEADLINE:
        lines.append(f"| {name} | {shown(result, name, result.summary.get(name))} | " +
                     " | ".join(shown(result, name, result.by_language[l].get(name)) for l in langs) + " |")
    cats = list(result.by_category)
    columns = ["must_include_coverage", "hallucination_rate", "handoff_recall", "handoff_precision", "anamnesis_recall"]
    lines += ["", "## By category", "", "| category | cases | " + " | ".join(columns) + " |",
              "|---|---:|" + "---:|" * len(columns)]
    for c in cats:
        n = sum(1 for r in result.records if r.category == c)
        lines.append(f"| {c} | {n} | " + " | ".join(shown(result, m, result.by_category[c].get(m)) for m in columns) + " |")
    reasons = [k for k in result.summary if k.startswith("handoff_f1[")]
    lines += ["", "## Handoff F1 per reason code", "", "| reason | F1 |", "|---|---:|"]
    lines += [f"| {k[len('handoff_f1['):-1]} | {fmt(result.summary[k])} |" for k in reasons]
    if comparison is not None:
        lines += ["", f"## Against the baseline ({comparison.baseline})", "",
                  "| metric | baseline | candidate | delta | 95% CI |", "|---|---:|---:|---:|---|"]
        for d in comparison.deltas:
            if d.metric in HEADLINE:
                lines.append(f"| {d.metric} | {fmt(d.baseline)} | {fmt(d.candidate)} | {fmt(d.delta)} | "
                             f"{fmt(d.ci_low)} .. {fmt(d.ci_high)} |")
        lines += ["", f"Better: {', '.join(c.id for c in comparison.better) or 'none'}",
                  f"Worse: {', '.join(c.id for c in comparison.worse) or 'none'}"]
    failing = [r for r in result.records if r.failures]
    lines += ["", f"## Failing cases ({len(failing)} of {result.cases})", "", "| case | lang | category | failed checks |",
              "|---|---|---|---|"]
    lines += [f"| {r.id} | {r.language} | {r.category} | {', '.join(r.failures)} |" for r in failing]
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Eval report: {{ r.prompt }} / {{ r.model }}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8}.num{text-align:right}.pass{color:#1e8449;font-weight:bold}.fail{color:#c0392b;font-weight:bold}
.chart{margin:8px 24px 8px 0}.ct{font-weight:bold;font-size:13px}.cl,.cv{font-size:12px}.charts{display:flex;flex-wrap:wrap}
.case{border:1px solid #ddd;border-radius:6px;padding:10px 14px;margin:12px 0}.case h3{margin:0 0 6px}
.turn{margin:2px 0}.turn b{display:inline-block;width:70px}.draft{background:#f7f9fb;padding:8px;border-radius:4px}
.bad{color:#c0392b}.tag{display:inline-block;background:#eef;border-radius:3px;padding:0 6px;margin-right:4px;font-size:12px}
</style></head><body>
<h1>Eval report: {{ r.prompt }} / {{ r.model }}</h1>
<p>{{ r.cases }} cases, split <b>{{ r.config.split }}</b>.
{% if gate %} Gate: <span class="{{ 'pass' if gate.passed else 'fail' }}">{{ 'PASSED' if gate.passed else 'FAILED' }}</span>{% endif %}</p>
{% if gate %}<ul>{% for v in gate.violations %}<li class="bad">{{ v.metric }}: {{ v.rule }} violated ({{ v.detail }})</li>{% endfor %}
{% for line in gate_lines %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
<h2>Charts</h2><div class="charts">{% for c in charts %}{{ c | safe }}{% endfor %}</div>
<h2>Overall and by language</h2>
<table><tr><th>metric</th><th>all</th>{% for l in langs %}<th>{{ l }}</th>{% endfor %}</tr>
{% for m in headline %}<tr><td>{{ m }}</td><td class="num">{{ shown(r, m, r.summary.get(m)) }}</td>{% for l in langs %}<td class="num">{{ shown(r, m, r.by_language[l].get(m)) }}</td>{% endfor %}</tr>{% endfor %}
</table>
{% if cmp %}<h2>Against the baseline: {{ cmp.baseline }}</h2>
<table><tr><th>metric</th><th>baseline</th><th>candidate</th><th>delta</th><th>95% CI</th></tr>
{% for d in cmp.deltas if d.metric in headline %}<tr><td>{{ d.metric }}</td><td class="num">{{ fmt(d.baseline) }}</td><td class="num">{{ fmt(d.candidate) }}</td><td class="num">{{ fmt(d.delta) }}</td><td>{{ fmt(d.ci_low) }} .. {{ fmt(d.ci_high) }}</td></tr>{% endfor %}</table>
<p>Better: {% for c in cmp.better %}<a href="#case-{{ c.id }}">{{ c.id }}</a> {% else %}none{% endfor %}<br>
Worse: {% for c in cmp.worse %}<a href="#case-{{ c.id }}">{{ c.id }}</a> {% else %}none{% endfor %}</p>{% endif %}
<h2>Cases</h2>
<table><tr><th>case</th><th>lang</th><th>category</th><th>mode</th><th>failed checks</th></tr>
{% for c in r.records %}<tr><td><a href="#case-{{ c.id }}">{{ c.id }}</a></td><td>{{ c.language }}</td><td>{{ c.category }}</td><td>{{ c.mode }}</td>
<td>{% for f in c.failures %}<a class="bad" href="#case-{{ c.id }}">{{ f }}</a> {% endfor %}</td></tr>{% endfor %}</table>
{% for c in r.records %}<div class="case" id="case-{{ c.id }}"><h3>{{ c.id }} <span class="tag">{{ c.language }}</span><span class="tag">{{ c.category }}</span>{% if c.adversarial %}<span class="tag">adversarial</span>{% endif %}</h3>
{% for t in c.conversation %}<div class="turn"><b>{{ t.role }}</b> {{ t.text }}</div>{% endfor %}
<p class="draft"><b>Draft ({{ c.mode }}):</b> {{ c.draft }}</p>
{% if c.warnings %}<p class="bad">{{ c.warnings | join('; ') }}</p>{% endif %}
{% if c.llm_raw and c.mode != 'llm' %}<p><b>Model's discarded draft:</b> {{ c.llm_raw }}</p>{% endif %}
<p><b>Citations:</b> {% for q in c.citations %}[{{ q.n }}] {{ q.source_id }} — {{ q.title }}; {% else %}none{% endfor %}</p>
<p><b>Handoff:</b> expected {{ c.expected_handoff.needed }} {{ c.expected_handoff.reasons }}, got {{ c.handoff.needed }} {{ c.handoff.reasons }}.
<b>Questions:</b> asked {{ c.questions }}, expected {{ c.expected_ask }}.</p>
{% if c.unsupported %}<p class="bad"><b>Unsupported:</b> {{ c.unsupported | join(' | ') }}</p>{% endif %}
{% if c.failures %}<p class="bad"><b>Failed checks:</b> {{ c.failures | join(', ') }}</p><ul>{% for k, v in c.reasons.items() if v %}<li>{{ k }}: {{ v }}</li>{% endfor %}</ul>{% endif %}
</div>{% endfor %}
</body></html>
"""


def html_report(result: EvalResult, comparison: Comparison | None, gate: GateResult | None) -> str:
    charts = []
    for metric in CHARTED:
        if not result.config.use_llm and _KINDS[metric].without_model is not None:
            continue  # a bar at its constructed value says nothing
        lower = not result.higher_is_better.get(metric, True)
        charts.append(bar_chart(f"{metric} by language", {k: v.get(metric) for k, v in result.by_language.items()}, lower))
        charts.append(bar_chart(f"{metric} by category", {k: v.get(metric) for k, v in result.by_category.items()}, lower))
    env = Environment(autoescape=select_autoescape(default=True))
    return env.from_string(_HTML).render(r=result, cmp=comparison, gate=gate, charts=charts, fmt=fmt, shown=shown,
                                         gate_lines=[x.strip() for x in gate_lines(gate)] if gate else [],
                                         headline=HEADLINE, langs=list(result.by_language))


def write_reports(result: EvalResult, out: Path, comparison: Comparison | None = None,
                  gate: GateResult | None = None, baseline: EvalResult | None = None) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "report.json", "markdown": out / "report.md", "html": out / "report.html"}
    payload = {"result": result.model_dump(mode="json"),
               "comparison": comparison.model_dump(mode="json") if comparison else None,
               "gate": gate.model_dump(mode="json") if gate else None,
               "baseline": baseline.model_dump(mode="json") if baseline else None}
    paths["json"].write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    paths["markdown"].write_text(markdown(result, comparison, gate), encoding="utf-8")
    paths["html"].write_text(html_report(result, comparison, gate), encoding="utf-8")
    return paths


# the rows of the per-language table in docs/evals.md: what an operator and a prompt owner read first
DOC_METRICS = [
    ("retrieval_hit@3", "retrieval hit@3"), ("citation_validity", "citation validity"),
    ("citation_precision", "citation precision"), ("citation_recall", "citation recall"),
    ("hallucination_rate", "hallucination rate (unsupported factual sentences shown)"),
    ("must_include_coverage", "must-include coverage"), ("forbidden_content_rate", "forbidden-content rate"),
    ("contradiction_rate", "contradiction rate (drafts that contradict what the customer said)"),
    ("gold_similarity", "similarity to the gold reply"), ("handoff_precision", "handoff precision"),
    ("handoff_recall", "handoff recall"), ("handoff_f1", "handoff F1"),
    ("anamnesis_precision", "anamnesis precision"), ("anamnesis_recall", "anamnesis recall"),
    ("asked_given_facts", "questions about facts already given (count)"), ("intent_accuracy", "intent accuracy"),
    ("language_match", "reply in the customer's language"), ("llm_acceptance_rate", "model drafts accepted"),
    ("llm_failure_rate", "model calls that failed (error, timeout, junk, prompt not rendered)"),
    ("model_hallucination_rate", "hallucination rate of the model's own drafts (a failed draft counts 1)"),
    ("model_citation_validity", "valid citations among those the model wrote"),
    ("raw_citation_rate", "factual sentences the model cited itself"),
]


def language_section(result: EvalResult) -> str:
    """The docs/evals.md section of one run: its data, and each metric per language."""
    cfg = result.config
    langs = sorted(result.by_language)
    mode = "retrieval-only drafts" if not cfg.use_llm else f"model drafts ({result.model}, {result.prompt})"
    counts = {lang: sum(r.language == lang for r in result.records) for lang in langs}
    rows = [f"| metric | {' | '.join(langs)} |", "|---|" + "---:|" * len(langs)]
    constructed = []
    for key, label in DOC_METRICS:
        values = [result.by_language[lang].get(key) for lang in langs]
        if all(v is None for v in values):
            continue
        if not cfg.use_llm and _KINDS[key].without_model is not None:
            # not a result: said below the table, with whether the construction held
            held = _KINDS[key].without_model
            per_lang = ", ".join(f"{fmt(v)} {lang}" + ("" if v is None or v == held else " (the construction broke)")
                                 for lang, v in zip(langs, values))
            constructed.append(f"{label.split(' (')[0]} {per_lang}")
            continue
        cells = [fmt(int(v)) if key == "asked_given_facts" and v is not None else fmt(v) for v in values]
        rows.append(f"| {label} | {' | '.join(cells)} |")
    cats = ["| category | cases | must-include | handoff recall | handoff precision | anamnesis recall |",
            "|---|---:|---:|---:|---:|---:|"]
    for cat, m in sorted(result.by_category.items(), key=lambda kv: -sum(r.category == kv[0] for r in result.records)):
        n = sum(r.category == cat for r in result.records)
        cats.append(f"| {cat.replace('_', ' ')} | {n} | {fmt(m.get('must_include_coverage'))} | "
                    f"{fmt(m.get('handoff_recall'))} | {fmt(m.get('handoff_precision'))} | {fmt(m.get('anamnesis_recall'))} |")
    reasons = {k[len("handoff_f1["):-1]: v for k, v in result.summary.items()
               if k.startswith("handoff_f1[") and v is not None}
    from evals.dataset import DATASETS

    where = ", ".join(f"`{_shown_path(p)}`" for p in cfg.datasets) or "`evals/datasets`"
    title = "" if [p.resolve() for p in cfg.datasets] in ([], [DATASETS.resolve()]) else f" ({where})"
    return (f"### The demo desk{title}, {cfg.split} split, {mode}\n\n"
            f"{result.cases} cases of {where} ({', '.join(f'{n} {lang}' for lang, n in counts.items())}), "
            f"over the index `copilot ingest knowledge_base/demo` builds. n/a: no case of that language defines "
            f"the metric.\n\n" + "\n".join(rows)
            + (f"\n\nBy construction, not results ({BY_CONSTRUCTION}): {'; '.join(constructed)}." if constructed else "")
            + "\n\nPer category, both languages (n/a: no such expectation):\n\n"
            + "\n".join(cats) + "\n\nHandoff F1 per reason, both languages: "
            + (", ".join(f"{r.replace('_', ' ')} {fmt(v)}" for r, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
               or "none defined") + ".")


def _shown_path(path: Path) -> str:
    """A dataset path as the docs show it: relative to the repository when inside it."""
    from evals.dataset import DATASETS

    try:
        return str(path.resolve().relative_to(DATASETS.resolve().parents[1]))
    except ValueError:
        return str(path)
