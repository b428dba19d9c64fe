"""Citations: are they valid, do they point at the right sources, and did the model cite
at all before the verifier repaired anything."""

from __future__ import annotations

import re

from evals.metrics.base import NAN, CaseRun, Metric, Score
from copilot.text import citations_of


class CitationValidity(Metric):
    """validity = citations in the draft shown to the operator that resolve to a passage
    retrieved for this suggestion / citations in that draft. Invalid ones are removed
    before anything is shown, so below 1 means that guard is broken: 1 by construction."""

    name = "citation_validity"
    without_model = 1.0

    def score(self, run: CaseRun) -> Score:
        written = citations_of(run.suggestion.draft.text)
        known = {c.n for c in run.suggestion.citations}
        invalid = [n for n in written if n not in known]
        return Score(1 - len(invalid) / len(written) if written else NAN, f"{len(invalid)} invalid of {len(written)}")


class ModelCitationValidity(Metric):
    """model validity = valid citations / all citations the model wrote in its own draft
    (before the verifier removed invalid ones); a valid citation points at a passage
    retrieved for this suggestion. A failed model draft scores 0 (no citation of it could
    be checked); undefined when the model was not asked or wrote no citation."""

    name = "model_citation_validity"
    model_only = True

    def score(self, run: CaseRun) -> Score:
        if run.model_failed:
            return Score(0.0, f"model draft failed: {run.trace.llm_problem}")
        grounding = run.llm_grounding
        if grounding is None:
            return Score(NAN, "no model draft")
        # a citation the verifier attached was not written by the model
        valid = sum(len(citations_of(s.text)) for s in grounding.sentences if not s.reason.endswith("citation added"))
        invalid = sum(len(re.findall(r"\d+", m)) for s in grounding.sentences
                      for m in re.findall(r"invalid citation ((?:\[\d+\])+)", s.reason))
        total = valid + invalid
        if not total:
            return Score(NAN, "the model wrote no citation")
        return Score(valid / total, f"{invalid} invalid of {total}")


def _answer_citations(run: CaseRun) -> set[str]:
    return {c.source_id for c in run.suggestion.citations if c.source_id not in run.internal_sources}


class CitationPrecision(Metric):
    """precision = cited answer sources that are expected / cited answer sources
    (policy passages backing a handoff promise are not answers and are left out)."""

    name = "citation_precision"

    def score(self, run: CaseRun) -> Score:
        expected = set(run.case.expected.sources)
        cited = _answer_citations(run)
        if not expected or not cited:
            return Score(NAN, "nothing cited or nothing expected")
        return Score(len(cited & expected) / len(cited), f"cited {sorted(cited)}")


class CitationRecall(Metric):
    """recall = expected sources cited / expected sources."""

    name = "citation_recall"

    def score(self, run: CaseRun) -> Score:
        expected = set(run.case.expected.sources)
        if not expected:
            return Score(NAN, "no expected sources")
        cited = _answer_citations(run)
        return Score(len(cited & expected) / len(expected), f"cited {sorted(cited)}")


class RawCitationRate(Metric):
    """raw citation rate = factual sentences of the model's own draft that carried a valid
    citation as written / factual sentences (before the verifier attached any). A failed
    model draft scores 0; undefined when the model was not asked. A prompt that stops
    asking for citations shows up here first."""

    name = "raw_citation_rate"
    model_only = True

    def score(self, run: CaseRun) -> Score:
        if run.model_failed:
            return Score(0.0, f"model draft failed: {run.trace.llm_problem}")
        grounding = run.llm_grounding
        if grounding is None:
            return Score(NAN, "no model draft")
        factual = [s for s in grounding.sentences if s.factual]
        if not factual:
            return Score(NAN, "no factual sentence")
        cited = [s for s in factual if not s.reason.endswith(("citation added", "no citation"))]
        return Score(len(cited) / len(factual), f"{len(cited)} of {len(factual)} cited")
