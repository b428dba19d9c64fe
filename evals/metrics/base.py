"""What every metric shares: a name, whether higher is better, a per-case `score` that
returns a value (NaN when the metric does not apply to the case) and a reason, and an
`aggregate` over cases (the mean of defined values unless the metric says otherwise).

Two class flags tell the gate how to read a metric: `model_only` (only a model draft
defines it: not applicable when the model is off, a violation when it is on and the value
is undefined) and `without_model` (the value retrieval-only drafts have by construction,
so in those runs it shows the construction held and is no evidence of quality)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from copilot.schema import Grounding, Suggestion, SuggestionTrace
from evals.dataset import EvalCase

NAN = float("nan")


@dataclass
class CaseRun:
    """One case as the runner saw it."""

    case: EvalCase
    suggestion: Suggestion
    trace: SuggestionTrace = field(default_factory=SuggestionTrace)
    internal_sources: frozenset[str] = frozenset()   # policy passages, never "answers"
    judge_verdicts: list[bool] | None = None          # an LLM judge's per-sentence verdicts, if one ran

    @property
    def llm_grounding(self) -> Grounding | None:
        return self.trace.llm_grounding

    @property
    def model_failed(self) -> bool:
        """The model was asked and the call ended without a draft that could be checked
        (the prompt did not render, the endpoint failed, the answer was not the JSON asked
        for, or the engine raised on it): a failed model draft, never a case without one."""
        return self.trace.llm_accepted is False and self.trace.llm_grounding is None


@dataclass
class Score:
    value: float
    reason: str = ""
    counts: dict[str, float] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)


class Metric:
    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = True
    description: ClassVar[str] = ""
    model_only: ClassVar[bool] = False
    without_model: ClassVar[float | None] = None

    def score(self, run: CaseRun) -> Score:  # pragma: no cover - abstract
        raise NotImplementedError

    def aggregate(self, scores: list[Score]) -> float:
        values = [s.value for s in scores if s.defined]
        return sum(values) / len(values) if values else NAN


class CountMetric(Metric):
    """Corpus-level precision/recall/F1 from summed counts (tp, fp, fn)."""

    kind: ClassVar[str] = "f1"  # precision | recall | f1

    def aggregate(self, scores: list[Score]) -> float:
        tp = sum(s.counts.get("tp", 0) for s in scores)
        fp = sum(s.counts.get("fp", 0) for s in scores)
        fn = sum(s.counts.get("fn", 0) for s in scores)
        return prf(tp, fp, fn)[{"precision": 0, "recall": 1, "f1": 2}[self.kind]]


def prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    """precision = tp/(tp+fp), recall = tp/(tp+fn), F1 = 2PR/(P+R); NaN when undefined."""
    p = tp / (tp + fp) if tp + fp else NAN
    r = tp / (tp + fn) if tp + fn else NAN
    f = 2 * p * r / (p + r) if not (math.isnan(p) or math.isnan(r)) and p + r else (0.0 if tp + fp and tp + fn else NAN)
    return p, r, f
