"""The eval metrics, one class each, with the formula in its docstring."""

from __future__ import annotations

from copilot.schema import HANDOFF_REASONS
from evals.metrics.anamnesis import AnamnesisPrecision, AnamnesisRecall, AskedGivenFacts
from evals.metrics.base import CaseRun, Metric, Score
from evals.metrics.citations import (CitationPrecision, CitationRecall, CitationValidity, ModelCitationValidity,
                                     RawCitationRate)
from evals.metrics.contradiction import ContradictionRate
from evals.metrics.hallucination import (HallucinationRate, JudgeHallucinationRate, LLMAcceptance, LLMFailureRate,
                                         ModelHallucinationRate)
from evals.metrics.handoff import HandoffDecision, HandoffReasonF1
from evals.metrics.operational import Cost, IntentAccuracy, LanguageMatch, Latency, ReplyLength, Tokens
from evals.metrics.resolution import ForbiddenContentRate, GoldSimilarity, MustIncludeCoverage
from evals.metrics.retrieval import MRR, HitAtK, RecallAtK


def default_metrics(input_price_per_m: float = 0.0, output_price_per_m: float = 0.0) -> list[Metric]:
    return [
        HitAtK(3), RecallAtK(5), MRR(),
        CitationValidity(), ModelCitationValidity(), CitationPrecision(), CitationRecall(), RawCitationRate(),
        HallucinationRate(), ModelHallucinationRate(), JudgeHallucinationRate(), LLMAcceptance(), LLMFailureRate(),
        MustIncludeCoverage(), ForbiddenContentRate(), ContradictionRate(), GoldSimilarity(),
        HandoffDecision("precision"), HandoffDecision("recall"), HandoffDecision("f1"),
        *[HandoffReasonF1(r) for r in HANDOFF_REASONS],
        AnamnesisPrecision(), AnamnesisRecall(), AskedGivenFacts(),
        IntentAccuracy(), LanguageMatch(), ReplyLength(), Latency("total", 50), Latency("total", 95),
        Latency("before_llm", 50), Latency("before_llm", 95), Tokens(), Cost(input_price_per_m, output_price_per_m),
    ]


__all__ = ["CaseRun", "Metric", "Score", "default_metrics"]
