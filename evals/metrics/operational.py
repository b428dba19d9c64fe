"""Language, length, latency, tokens and cost."""

from __future__ import annotations

import numpy as np

from knowledge_base.language import detect_language
from copilot.text import strip_citations
from evals.metrics.base import NAN, CaseRun, Metric, Score


class LanguageMatch(Metric):
    """language match = 1 if the draft is in the case's language, else 0."""

    name = "language_match"

    def score(self, run: CaseRun) -> Score:
        got = detect_language(strip_citations(run.suggestion.draft.text), default="?")
        return Score(float(got == run.case.language), f"draft in {got}")


class IntentAccuracy(Metric):
    """intent accuracy = 1 if the suggestion's topic is the topic of the case's first expected
    source ("refunds" for refunds-en), else 0; undefined without expected sources."""

    name = "intent_accuracy"

    def score(self, run: CaseRun) -> Score:
        from copilot.engine import topic_of

        if not run.case.expected.sources:
            return Score(NAN, "no expected sources")
        want = topic_of(run.case.expected.sources[0])
        got = run.suggestion.intent.label
        return Score(float(got == want), f"{got} vs {want}")


class ReplyLength(Metric):
    """reply length = words in the draft (citations removed); mean over cases."""

    name = "reply_words"
    higher_is_better = False

    def score(self, run: CaseRun) -> Score:
        return Score(float(len(strip_citations(run.suggestion.draft.text).split())))


class Latency(Metric):
    """latency p50 or p95 (ms) of a stage from the suggestion's timings."""

    higher_is_better = False

    def __init__(self, stage: str = "total", pct: int = 50):
        self.stage, self.pct = stage, pct
        self.name = f"latency_{stage}_p{pct}_ms"  # type: ignore[misc]

    def score(self, run: CaseRun) -> Score:
        value = run.suggestion.timings_ms.get(self.stage)
        return Score(float(value) if value is not None else NAN)

    def aggregate(self, scores: list[Score]) -> float:
        values = [s.value for s in scores if s.defined]
        return float(np.percentile(values, self.pct)) if values else NAN


class Tokens(Metric):
    """tokens = prompt + completion tokens per suggestion (mean)."""

    name = "tokens_per_suggestion"
    higher_is_better = False

    def score(self, run: CaseRun) -> Score:
        u = run.suggestion.usage
        return Score(float(u.get("prompt_tokens", 0) + u.get("completion_tokens", 0)))


class Cost(Metric):
    """estimated cost per suggestion = prompt tokens * input price + completion tokens *
    output price (per million tokens, from the eval configuration; 0 for a local model)."""

    name = "cost_per_suggestion"
    higher_is_better = False

    def __init__(self, input_per_m: float = 0.0, output_per_m: float = 0.0):
        self.input_per_m, self.output_per_m = input_per_m, output_per_m

    def score(self, run: CaseRun) -> Score:
        u = run.suggestion.usage
        return Score((u.get("prompt_tokens", 0) * self.input_per_m + u.get("completion_tokens", 0) * self.output_per_m) / 1e6)
