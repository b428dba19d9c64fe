"""The prompt-change gate: thresholds from `evals/gate.yaml`.

Per metric: `min` / `max` hold for every run; `max_drop` / `max_increase` hold against a
baseline (a drop of a higher-is-better metric, or a rise of a lower-is-better one, beyond
the tolerance is a regression). Metrics a run does not define (NaN: e.g. model metrics in
retrieval-only mode) are skipped, and say so.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

from copilot.errors import BadInputError
from evals.compare import Comparison
from evals.runner import EvalResult


class Rule(BaseModel):
    min: float | None = None
    max: float | None = None
    max_drop: float | None = Field(None, ge=0)
    max_increase: float | None = Field(None, ge=0)


class GateConfig(BaseModel):
    metrics: dict[str, Rule]


class Violation(BaseModel):
    metric: str
    rule: str
    value: float | None
    detail: str


class GateResult(BaseModel):
    passed: bool
    violations: list[Violation]
    skipped: list[str]
    checked: list[str]


def load_gate(path: Path) -> GateConfig:
    if not path.exists():
        raise BadInputError(f"{path}: no such gate file")
    try:
        return GateConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise BadInputError(f"{path}: {str(exc).splitlines()[0]}") from None


def check(result: EvalResult, config: GateConfig, comparison: Comparison | None = None) -> GateResult:
    violations: list[Violation] = []
    skipped: list[str] = []
    checked: list[str] = []
    deltas = {d.metric: d for d in comparison.deltas} if comparison else {}
    for name, rule in config.metrics.items():
        if name not in result.summary:
            raise BadInputError(f"gate metric '{name}' is not a metric of this run (see evals/metrics)")
        value = result.summary[name]
        if value is None:
            skipped.append(name)
            continue
        checked.append(name)
        if rule.min is not None and value < rule.min:
            violations.append(Violation(metric=name, rule=f"min {rule.min}", value=value, detail=f"{value} < {rule.min}"))
        if rule.max is not None and value > rule.max:
            violations.append(Violation(metric=name, rule=f"max {rule.max}", value=value, detail=f"{value} > {rule.max}"))
        d = deltas.get(name)
        if d is None or d.delta is None:
            continue
        if rule.max_drop is not None and -d.delta > rule.max_drop:
            violations.append(Violation(metric=name, rule=f"max_drop {rule.max_drop}", value=value,
                                        detail=f"{d.baseline} -> {d.candidate} (delta {d.delta}, 95% CI {d.ci_low}..{d.ci_high})"))
        if rule.max_increase is not None and d.delta > rule.max_increase:
            violations.append(Violation(metric=name, rule=f"max_increase {rule.max_increase}", value=value,
                                        detail=f"{d.baseline} -> {d.candidate} (delta {d.delta}, 95% CI {d.ci_low}..{d.ci_high})"))
    return GateResult(passed=not violations, violations=violations, skipped=skipped, checked=checked)
