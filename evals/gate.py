"""The prompt-change gate: thresholds from `evals/gate.yaml`.

Per metric: `min` / `max` hold for every run; `max_drop` / `max_increase` hold against a
baseline (a drop of a higher-is-better metric, or a rise of a lower-is-better one, beyond
the tolerance is a regression). `models:` replaces parts of those rules for a named model
that cannot meet them (the tiny bundled one), so its runs are judged on what it can do
rather than skipped.

Nothing passes by being skipped. A rule is applied, or it is reported as not applied with
the reason: a model metric in a retrieval-only run is not applicable (model off); a
baseline rule without a baseline has nothing to compare. With the model on, an undefined
model metric is a violation: the model path was meant to be measured and was not. In
retrieval-only runs the hallucination rate and citation validity hold by construction, so
they are still checked (a broken construction fails the gate) but never counted as
evidence.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.errors import BadInputError
from evals.compare import Comparison
from evals.metrics import default_metrics
from evals.runner import EvalResult


class Rule(BaseModel):
    # a misspelt key ("mni") would otherwise gate nothing and say nothing
    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    max_drop: float | None = Field(None, ge=0)
    max_increase: float | None = Field(None, ge=0)
    allow_undefined: bool = Field(
        False, description="With the model on, an undefined model metric passes (reported as not applied) "
        "instead of violating the gate: for a model that may leave it undefined, e.g. one that rarely cites.")


class GateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metrics: dict[str, Rule]
    models: dict[str, dict[str, Rule]] = Field(
        default_factory=dict,
        description="Model name (as the run reports it) -> rules whose given keys replace those of `metrics`.")

    def rules_for(self, model: str) -> dict[str, Rule]:
        rules = dict(self.metrics)
        for name, override in self.models.get(model, {}).items():
            base = rules.get(name, Rule())
            rules[name] = base.model_copy(update=override.model_dump(exclude_unset=True))
        return rules


class Violation(BaseModel):
    metric: str
    rule: str
    value: float | None
    detail: str


class NotApplied(BaseModel):
    metric: str
    rules: list[str]
    why: str


class GateResult(BaseModel):
    passed: bool
    violations: list[Violation]
    checked: list[str] = Field(description="Metrics with at least one rule applied to this run: the evidence.")
    rules_applied: int = 0
    by_construction: list[str] = Field(
        default_factory=list, description="Held by construction in this run (retrieval-only): checked, not counted.")
    not_applied: list[NotApplied] = Field(default_factory=list)
    floors_of: str = Field("", description="Whose floors: the default ones, or the named model's from `models:`.")


def load_gate(path: Path) -> GateConfig:
    if not path.exists():
        raise BadInputError(f"{path}: no such gate file")
    try:
        return GateConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise BadInputError(f"{path}: {str(exc).splitlines()[0]}") from None


def _fmt(rule: Rule, keys: tuple[str, ...]) -> list[str]:
    return [f"{k} {getattr(rule, k)}" for k in keys if getattr(rule, k) is not None]


def _why_undefined(result: EvalResult, name: str) -> str:
    asked = sum(1 for r in result.records if r.scores.get("llm_acceptance_rate") is not None)
    if not asked:
        return "the model was on but no case asked it (it drafts only where the knowledge base covers the question)"
    said = "; ".join(sorted({r.reasons[name] for r in result.records if r.reasons.get(name)}))[:200]
    return f"the model was on and asked in {asked} case(s), none defines it" + (f": {said}" if said else "")


def check(result: EvalResult, config: GateConfig, comparison: Comparison | None = None) -> GateResult:
    kinds = {m.name: m for m in default_metrics()}
    model_on = result.config.use_llm
    rules = config.rules_for(result.model) if model_on else config.metrics
    violations: list[Violation] = []
    checked: list[str] = []
    by_construction: list[str] = []
    not_applied: list[NotApplied] = []
    applied = 0
    deltas = {d.metric: d for d in comparison.deltas} if comparison else {}
    for name, rule in rules.items():
        if name not in result.summary:
            raise BadInputError(f"gate metric '{name}' is not a metric of this run (see evals/metrics)")
        absolute = _fmt(rule, ("min", "max"))
        relative = _fmt(rule, ("max_drop", "max_increase"))
        metric = kinds.get(name)
        value = result.summary[name]
        if metric is not None and metric.model_only and not model_on:
            not_applied.append(NotApplied(metric=name, rules=absolute + relative, why="not applicable (model off)"))
            continue
        if value is None:
            if metric is not None and metric.model_only and not rule.allow_undefined:
                violations.append(Violation(metric=name, rule="defined", value=None, detail=_why_undefined(result, name)))
                checked.append(name)
                applied += 1
            elif metric is not None and metric.model_only:
                not_applied.append(NotApplied(metric=name, rules=absolute + relative,
                                              why=f"undefined, allowed for {result.model} by the gate's models: entry "
                                                  f"({_why_undefined(result, name)})"))
            else:
                not_applied.append(NotApplied(metric=name, rules=absolute + relative,
                                              why="undefined in this run: no case defines it"))
            continue
        used = 0
        if rule.min is not None and value < rule.min:
            violations.append(Violation(metric=name, rule=f"min {rule.min}", value=value, detail=f"{value} < {rule.min}"))
        if rule.max is not None and value > rule.max:
            violations.append(Violation(metric=name, rule=f"max {rule.max}", value=value, detail=f"{value} > {rule.max}"))
        used += len(absolute)
        if relative:
            d = deltas.get(name)
            if comparison is None:
                not_applied.append(NotApplied(metric=name, rules=relative, why="no baseline (--baseline)"))
            elif d is None or d.delta is None:
                not_applied.append(NotApplied(metric=name, rules=relative,
                                              why=f"undefined in the baseline run ({comparison.baseline})"))
            else:
                used += len(relative)
                ci = f"(delta {d.delta}, 95% CI {d.ci_low}..{d.ci_high})"
                if rule.max_drop is not None and -d.delta > rule.max_drop:
                    violations.append(Violation(metric=name, rule=f"max_drop {rule.max_drop}", value=value,
                                                detail=f"{d.baseline} -> {d.candidate} {ci}"))
                if rule.max_increase is not None and d.delta > rule.max_increase:
                    violations.append(Violation(metric=name, rule=f"max_increase {rule.max_increase}", value=value,
                                                detail=f"{d.baseline} -> {d.candidate} {ci}"))
        if not used:
            if not absolute and not relative:
                not_applied.append(NotApplied(metric=name, rules=[], why="no rule given"))
            continue
        if not model_on and metric is not None and metric.without_model is not None:
            # retrieval-only drafts are verified source sentences: this value shows the construction held
            by_construction.append(name)
            continue
        checked.append(name)
        applied += used
    floors = (f"{result.model} (evals gate `models:`)" if model_on and result.model in config.models
              else "default")
    return GateResult(passed=not violations, violations=violations, checked=checked, rules_applied=applied,
                      by_construction=by_construction, not_applied=not_applied, floors_of=floors)
