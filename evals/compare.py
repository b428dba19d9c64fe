"""Comparing a candidate run with a baseline run case by case.

Deltas are candidate - baseline for every metric, with a 95% confidence interval from a
paired bootstrap: resample the cases (the same case in both runs), recompute both
aggregates, take the 2.5th and 97.5th percentiles of the difference.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel

from evals.metrics import default_metrics
from evals.metrics.base import Score
from evals.runner import CaseRecord, EvalResult


class MetricDelta(BaseModel):
    metric: str
    baseline: float | None
    candidate: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    higher_is_better: bool


class CaseChange(BaseModel):
    id: str
    language: str
    category: str
    baseline_failures: list[str]
    candidate_failures: list[str]


class Comparison(BaseModel):
    baseline: str
    candidate: str
    cases: int
    deltas: list[MetricDelta]
    better: list[CaseChange]
    worse: list[CaseChange]


def _scores(record: CaseRecord, name: str) -> Score:
    value = record.scores.get(name)
    return Score(float("nan") if value is None else value, counts=record.counts.get(name, {}))


def _clean(x: float) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), 4)


def compare(candidate: EvalResult, baseline: EvalResult, n_boot: int = 1000, seed: int = 7) -> Comparison:
    base = {r.id: r for r in baseline.records}
    pairs = [(r, base[r.id]) for r in candidate.records if r.id in base]
    metrics = default_metrics()
    rng = np.random.default_rng(seed)
    samples = [rng.integers(0, len(pairs), len(pairs)) for _ in range(n_boot)] if pairs else []
    deltas = []
    for m in metrics:
        cand_scores = [_scores(c, m.name) for c, _ in pairs]
        base_scores = [_scores(b, m.name) for _, b in pairs]
        cv, bv = m.aggregate(cand_scores), m.aggregate(base_scores)
        boot = []
        for idx in samples:
            d = m.aggregate([cand_scores[i] for i in idx]) - m.aggregate([base_scores[i] for i in idx])
            if not math.isnan(d):
                boot.append(d)
        low, high = (np.percentile(boot, [2.5, 97.5]) if len(boot) >= 20 else (float("nan"), float("nan")))
        deltas.append(MetricDelta(metric=m.name, baseline=_clean(bv), candidate=_clean(cv), delta=_clean(cv - bv),
                                  ci_low=_clean(low), ci_high=_clean(high), higher_is_better=m.higher_is_better))
    better, worse = [], []
    for c, b in pairs:
        change = CaseChange(id=c.id, language=c.language, category=c.category,
                            baseline_failures=b.failures, candidate_failures=c.failures)
        if len(c.failures) < len(b.failures):
            better.append(change)
        elif len(c.failures) > len(b.failures):
            worse.append(change)
    return Comparison(baseline=f"{baseline.prompt} / {baseline.model}", candidate=f"{candidate.prompt} / {candidate.model}",
                      cases=len(pairs), deltas=deltas, better=better, worse=worse)
