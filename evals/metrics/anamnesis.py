"""Anamnesis: did the copilot ask for the missing facts, and never for ones already given."""

from __future__ import annotations

from evals.metrics.base import NAN, CaseRun, Metric, Score
from copilot.anamnesis import MAX_QUESTIONS


class AnamnesisPrecision(Metric):
    """precision = facts asked that the case lists as missing / facts asked
    (undefined when nothing was asked)."""

    name = "anamnesis_precision"

    def score(self, run: CaseRun) -> Score:
        asked = [q.fact for q in run.suggestion.questions]
        if not asked:
            return Score(NAN, "nothing asked")
        wanted = set(run.case.expected.ask_about)
        return Score(len(set(asked) & wanted) / len(asked), f"asked {asked}, wanted {sorted(wanted)}")


class AnamnesisRecall(Metric):
    """recall = missing facts asked / min(missing facts, 3): at most three questions are
    allowed, so asking the three most important of five is full recall."""

    name = "anamnesis_recall"

    def score(self, run: CaseRun) -> Score:
        wanted = run.case.expected.ask_about
        if not wanted:
            return Score(NAN, "nothing to ask")
        asked = {q.fact for q in run.suggestion.questions}
        top = set(wanted[:MAX_QUESTIONS]) if len(wanted) > MAX_QUESTIONS else set(wanted)
        hits = len(asked & set(wanted))
        return Score(min(1.0, hits / len(top)), f"asked {sorted(asked)}, wanted {wanted}")


class AskedGivenFacts(Metric):
    """asked-given = number of questions about facts the customer already gave (summed over
    cases; should be 0)."""

    name = "asked_given_facts"
    higher_is_better = False

    def score(self, run: CaseRun) -> Score:
        given = set(run.case.expected.given_facts)
        asked = [q.fact for q in run.suggestion.questions if q.fact in given]
        return Score(float(len(asked)), ", ".join(asked))

    def aggregate(self, scores: list[Score]) -> float:
        return sum(s.value for s in scores if s.defined)
