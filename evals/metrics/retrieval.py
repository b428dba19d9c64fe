"""Retrieval against the case's expected sources, on the ranked answer sources the engine
searched (distinct source ids, best first)."""

from __future__ import annotations

from evals.metrics.base import NAN, CaseRun, Metric, Score


def ranked_sources(run: CaseRun) -> list[str]:
    return list(dict.fromkeys(run.trace.retrieved))


class HitAtK(Metric):
    """hit@k = 1 if any expected source is among the top k retrieved sources, else 0."""

    def __init__(self, k: int = 3):
        self.k = k
        self.name = f"retrieval_hit@{k}"  # type: ignore[misc]

    def score(self, run: CaseRun) -> Score:
        expected = set(run.case.expected.sources)
        if not expected:
            return Score(NAN, "no expected sources")
        top = ranked_sources(run)[: self.k]
        hit = bool(expected & set(top))
        return Score(float(hit), f"top {self.k}: {top}")


class RecallAtK(Metric):
    """recall@k = |expected ∩ top k| / |expected|."""

    def __init__(self, k: int = 5):
        self.k = k
        self.name = f"retrieval_recall@{k}"  # type: ignore[misc]

    def score(self, run: CaseRun) -> Score:
        expected = set(run.case.expected.sources)
        if not expected:
            return Score(NAN, "no expected sources")
        top = set(ranked_sources(run)[: self.k])
        return Score(len(expected & top) / len(expected))


class MRR(Metric):
    """MRR = mean over cases of 1 / rank of the first expected source (0 if none retrieved)."""

    name = "retrieval_mrr"

    def score(self, run: CaseRun) -> Score:
        expected = set(run.case.expected.sources)
        if not expected:
            return Score(NAN, "no expected sources")
        for rank, source in enumerate(ranked_sources(run), start=1):
            if source in expected:
                return Score(1.0 / rank, f"first expected source at rank {rank}")
        return Score(0.0, "no expected source retrieved")
