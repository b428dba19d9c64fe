"""Handoff: was a person called when one was needed, and for the right reasons."""

from __future__ import annotations

from evals.metrics.base import CaseRun, CountMetric, Score


class HandoffDecision(CountMetric):
    """Over cases, with "handoff needed" as the positive class: tp = expected and flagged,
    fp = flagged but not expected, fn = expected but not flagged. kind selects precision =
    tp/(tp+fp), recall = tp/(tp+fn) or F1 = 2PR/(P+R)."""

    def __init__(self, kind: str = "f1"):
        self.kind = kind  # type: ignore[misc]
        self.name = f"handoff_{kind}"  # type: ignore[misc]

    def score(self, run: CaseRun) -> Score:
        expected = run.case.expected.handoff.needed
        got = run.suggestion.handoff.needed
        counts = {"tp": float(expected and got), "fp": float(got and not expected), "fn": float(expected and not got)}
        return Score(float(expected == got), f"expected {expected}, got {got} {run.suggestion.handoff.reasons}", counts)


class HandoffReasonF1(CountMetric):
    """Per reason code r: tp = cases expecting r that were flagged with r, fp = flagged with r
    but not expecting it, fn = expecting r but not flagged with it; F1 = 2PR/(P+R)."""

    def __init__(self, reason: str, kind: str = "f1"):
        self.reason = reason
        self.kind = kind  # type: ignore[misc]
        self.name = f"handoff_{kind}[{reason}]"  # type: ignore[misc]

    def score(self, run: CaseRun) -> Score:
        expected = self.reason in run.case.expected.handoff.reasons
        got = self.reason in run.suggestion.handoff.reasons
        counts = {"tp": float(expected and got), "fp": float(got and not expected), "fn": float(expected and not got)}
        return Score(float(expected == got), "", counts)
