"""Hallucination: factual sentences the sources do not support."""

from __future__ import annotations

from evals.metrics.base import NAN, CaseRun, Metric, Score


class HallucinationRate(Metric):
    """hallucination rate = unsupported factual sentences / factual sentences of the draft
    shown to the operator, as judged by the grounding verifier (copilot/verify.py). 0 by
    construction for retrieval-only drafts: they are built from source sentences, each
    checked against the passage it cites."""

    name = "hallucination_rate"
    higher_is_better = False
    without_model = 0.0

    def score(self, run: CaseRun) -> Score:
        g = run.suggestion.grounding
        factual = g.supported + g.unsupported
        if not factual:
            return Score(NAN, "no factual sentence")
        bad = [s.text for s in g.sentences if s.factual and not s.supported]
        return Score(g.unsupported / factual, "; ".join(bad)[:300])


class ModelHallucinationRate(HallucinationRate):
    """The same ratio on the model's own draft, before any fallback replaced it: what the
    model under test would have put in front of the operator. A failed model draft (see
    `CaseRun.model_failed`) scores 1: nothing it would have shown could be checked, and a
    prompt that breaks the model path must not look clean. Undefined when the model was
    not asked."""

    name = "model_hallucination_rate"
    model_only = True
    without_model = None

    def score(self, run: CaseRun) -> Score:
        if run.model_failed:
            return Score(1.0, f"model draft failed: {run.trace.llm_problem}")
        g = run.llm_grounding
        if g is None:
            return Score(NAN, "no model draft")
        bad = g.unsupported + g.removed  # what the model wrote, before anything was removed
        factual = g.supported + bad
        return Score(bad / factual if factual else NAN)


class JudgeHallucinationRate(Metric):
    """judge hallucination rate = factual sentences an LLM judge (a different model or
    endpoint than the one under test) finds unsupported by their cited passage / factual
    sentences judged. Undefined when no judge is configured."""

    name = "judge_hallucination_rate"
    higher_is_better = False

    def score(self, run: CaseRun) -> Score:
        verdicts = run.judge_verdicts
        if not verdicts:
            return Score(NAN, "no judge")
        bad = sum(1 for v in verdicts if not v)
        return Score(bad / len(verdicts), f"{bad} of {len(verdicts)} unsupported")


class LLMAcceptance(Metric):
    """acceptance = 1 when the model's draft passed language and grounding checks and was
    shown, 0 when it was replaced by the retrieval-only draft, failed checks or failed to
    arrive at all (an error anywhere in the model path); undefined when the model was not
    asked (model off, or nothing in the knowledge base to word)."""

    name = "llm_acceptance_rate"
    model_only = True

    def score(self, run: CaseRun) -> Score:
        if run.trace.llm_accepted is None:
            return Score(NAN, "no model call")
        return Score(float(run.trace.llm_accepted), run.trace.llm_problem or "")


class LLMFailureRate(Metric):
    """failure rate = model calls that ended without a draft to check (the prompt did not
    render, the endpoint erred or ran out of time, the answer was not the JSON asked for)
    / model calls; undefined when the model was not asked. Whether the model path works at
    all, apart from how good its drafts are: a tiny model whose drafts are nearly always
    discarded still answers every call, a prompt that cannot render answers none."""

    name = "llm_failure_rate"
    higher_is_better = False
    model_only = True

    def score(self, run: CaseRun) -> Score:
        if run.trace.llm_accepted is None:
            return Score(NAN, "no model call")
        if run.model_failed:
            return Score(1.0, run.trace.llm_problem or "")
        return Score(0.0, "a draft came back")
