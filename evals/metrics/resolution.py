"""Resolution quality: the facts a correct reply must carry, content it must not carry,
and closeness to the senior agent's gold reply."""

from __future__ import annotations

import re

from copilot.text import strip_citations
from evals.metrics.base import NAN, CaseRun, Metric, Score
from knowledge_base.tokenizer import tokenize


def normalize(text: str) -> str:
    """Lower case, ё=е, one kind of dash and space, thousands separators dropped."""
    text = strip_citations(text).lower().replace("ё", "е")
    text = re.sub(r"[\u2010-\u2015\u2212]", "-", text)
    text = re.sub(r"[\u00a0\u202f\s]+", " ", text)
    text = re.sub(r"(?<=\d)[ ,](?=\d{3}\b)", "", text)
    return text


def contains(text: str, entry: str) -> bool:
    """Any of the '|'-separated alternatives occurs in the text."""
    norm = normalize(text)
    return any(normalize(alt).strip() and normalize(alt).strip() in norm for alt in entry.split("|"))


class MustIncludeCoverage(Metric):
    """coverage = must-include facts found in the draft / must-include facts of the case."""

    name = "must_include_coverage"

    def score(self, run: CaseRun) -> Score:
        facts = run.case.expected.must_include
        if not facts:
            return Score(NAN, "nothing required")
        missing = [f for f in facts if not contains(run.suggestion.draft.text, f)]
        return Score(1 - len(missing) / len(facts), ("missing: " + "; ".join(missing)) if missing else "")


class ForbiddenContentRate(Metric):
    """forbidden-content rate = 1 if the draft contains any must-not-include content, else 0
    (averaged: the share of cases with forbidden content)."""

    name = "forbidden_content_rate"
    higher_is_better = False

    def score(self, run: CaseRun) -> Score:
        return any_found(run, run.case.expected.must_not_include, "nothing forbidden", "found")


def any_found(run: CaseRun, entries: list[str], none: str, label: str) -> Score:
    """1 if the shown draft contains any of `entries` (each with '|' alternatives), else 0;
    undefined (`none` says why) without entries."""
    if not entries:
        return Score(NAN, none)
    found = [e for e in entries if contains(run.suggestion.draft.text, e)]
    return Score(float(bool(found)), f"{label}: " + "; ".join(found) if found else "")


class GoldSimilarity(Metric):
    """similarity = F1 of the Snowball stems shared by the draft and the gold reply
    (2 * |common| / (|draft| + |gold|), over distinct stems)."""

    name = "gold_similarity"

    def score(self, run: CaseRun) -> Score:
        gold = set(tokenize(run.case.expected.gold_reply))
        if not gold:
            return Score(NAN, "no gold reply")
        draft = set(tokenize(strip_citations(run.suggestion.draft.text)))
        if not draft:
            return Score(0.0, "empty draft")
        return Score(2 * len(gold & draft) / (len(gold) + len(draft)))
