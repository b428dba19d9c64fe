"""Composition that respects the conversation: does the shown draft contradict what the
customer stated (a condition they ruled out, a step they already took), where the
conversation happens (\"write to us in the chat\" inside the chat), or the one handoff
promise of the route taken (a second promise with another deadline)?"""

from __future__ import annotations

from evals.metrics.base import CaseRun, Metric, Score
from evals.metrics.resolution import any_found


class ContradictionRate(Metric):
    """contradiction rate = 1 if the shown draft contains any `contradicts` entry of the case
    (an entry's '|' alternatives matched like must_not_include), else 0; undefined for a case
    without `contradicts` (averaged: the share of cases whose draft contradicts the
    conversation)."""

    name = "contradiction_rate"
    higher_is_better = False

    def score(self, run: CaseRun) -> Score:
        return any_found(run, run.case.expected.contradicts, "no stated facts to contradict", "contradicts")
