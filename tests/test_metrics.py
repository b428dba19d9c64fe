"""Every metric on a hand-computed example (the formula is in each class's docstring)."""

from __future__ import annotations

import math

import pytest

from copilot.schema import (SuggestionTrace, Citation, Draft, Grounding, Handoff, Intent, Question, SentenceCheck, Sentiment,
                            Suggestion)
from evals.dataset import EvalCase
from evals.metrics.anamnesis import AnamnesisPrecision, AnamnesisRecall, AskedGivenFacts
from evals.metrics.base import CaseRun, Score, prf
from evals.metrics.citations import (CitationPrecision, CitationRecall, CitationValidity, ModelCitationValidity,
                                     RawCitationRate)
from evals.metrics.contradiction import ContradictionRate
from evals.metrics.hallucination import HallucinationRate, LLMAcceptance, LLMFailureRate, ModelHallucinationRate
from evals.metrics.handoff import HandoffDecision, HandoffReasonF1
from evals.metrics.operational import LanguageMatch, Latency, ReplyLength
from evals.metrics.resolution import ForbiddenContentRate, GoldSimilarity, MustIncludeCoverage, contains
from evals.metrics.retrieval import MRR, HitAtK, RecallAtK


def make_case(**expected) -> EvalCase:
    base = {"sources": ["refunds-en", "payment-methods-en"], "must_include": [], "handoff": {"needed": False}}
    base.update(expected)
    return EvalCase.model_validate({
        "id": "t-1", "language": "en", "conversation": {"messages": [{"role": "customer", "text": "refund?"}]},
        "expected": base, "tags": {"category": "covered"}})


def make_run(case: EvalCase | None = None, draft: str = "Hello!", citations=(), sentences=(), handoff=None,
             questions=(), trace=None, timings=None) -> CaseRun:
    grounding = Grounding(supported=sum(s.supported for s in sentences if s.factual and not s.removed),
                          unsupported=sum(not s.supported for s in sentences if s.factual and not s.removed),
                          removed=sum(s.removed for s in sentences), sentences=list(sentences))
    s = Suggestion(language="en", intent=Intent(label="x", confidence=1), sentiment=Sentiment(label="neutral", score=0),
                   draft=Draft(text=draft, mode="retrieval", prompt="p", model="m"),
                   citations=list(citations), grounding=grounding, questions=list(questions),
                   handoff=handoff or Handoff(), timings_ms=timings or {"total": 100})
    return CaseRun(case or make_case(), s, SuggestionTrace(**(trace or {})), frozenset({"escalation-protocol-en"}))


def cite(n, source):
    return Citation(n=n, source_id=source, chunk_id=f"{source}::0", title="t", quote="q")


def test_prf_and_nan_when_undefined():
    assert prf(2, 1, 1) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    p, r, f = prf(0, 0, 0)
    assert math.isnan(p) and math.isnan(r) and math.isnan(f)


def test_retrieval_hit_recall_mrr():
    run = make_run(trace={"retrieved": ["autopay-en", "refunds-en", "refunds-en", "x", "payment-methods-en"]})
    assert HitAtK(1).score(run).value == 0.0
    assert HitAtK(3).score(run).value == 1.0
    assert RecallAtK(3).score(run).value == 0.5       # refunds-en of the two expected
    assert RecallAtK(5).score(run).value == 1.0
    assert MRR().score(run).value == 0.5              # first expected at rank 2
    assert math.isnan(MRR().score(make_run(make_case(sources=[]))).value)


def test_citation_validity_precision_recall_raw_rate():
    sentences = [SentenceCheck(text="a [1].", supported=True, citation=1),
                 SentenceCheck(text="b [2].", supported=True, citation=2, reason="invalid citation [5] removed; supported"),
                 SentenceCheck(text="c [3].", supported=True, citation=3)]
    run = make_run(citations=[cite(1, "refunds-en"), cite(2, "autopay-en"), cite(3, "escalation-protocol-en")],
                   sentences=sentences, draft="a [1]. b [2]. c [3] [4].", trace={"llm_grounding": Grounding(sentences=sentences)})
    assert CitationValidity().score(run).value == pytest.approx(3 / 4)  # [4] shown but never retrieved
    assert ModelCitationValidity().score(run).value == pytest.approx(3 / 4)  # the model wrote [5] too
    assert math.isnan(ModelCitationValidity().score(make_run()).value)
    assert CitationPrecision().score(run).value == 0.5   # refunds-en right, autopay-en wrong; policy passage left out
    assert CitationRecall().score(run).value == 0.5      # payment-methods-en not cited
    raw = Grounding(supported=2, unsupported=1, sentences=[
        SentenceCheck(text="x [1].", supported=True, citation=1, reason="supported"),
        SentenceCheck(text="y [2].", supported=True, citation=2, reason="citation added"),
        SentenceCheck(text="z.", supported=False, reason="no citation"),
        SentenceCheck(text="Hello!", supported=True, factual=False)])
    assert RawCitationRate().score(make_run(trace={"llm_grounding": raw})).value == pytest.approx(1 / 3)
    assert math.isnan(RawCitationRate().score(make_run()).value)
    # [1] was written by the model, [2] attached by the verifier: 1 written, 1 valid
    assert ModelCitationValidity().score(make_run(trace={"llm_grounding": raw})).value == 1.0
    uncited = Grounding(supported=1, sentences=[SentenceCheck(text="y [2].", supported=True, citation=2,
                                                              reason="citation added")])
    score = ModelCitationValidity().score(make_run(trace={"llm_grounding": uncited, "llm_accepted": True}))
    assert math.isnan(score.value) and score.reason == "the model wrote no citation"


@pytest.mark.parametrize("problem", [
    "LLM draft failed (ConfigError: prompt draft_reply@v3: missing value for customer_tier)",  # cannot render
    "no usable answer from http://127.0.0.1:8088/v1 after 3 attempt(s): invalid answer: not JSON",  # junk
    "the model endpoint refused the request (HTTP 400)",                                        # model error
])
def test_a_failed_model_draft_is_a_failure_on_every_model_metric_not_undefined(problem):
    failed = make_run(trace={"llm_accepted": False, "llm_problem": problem})  # no grounding: nothing came back
    assert failed.model_failed
    assert LLMAcceptance().score(failed).value == 0.0
    assert ModelHallucinationRate().score(failed).value == 1.0
    assert ModelCitationValidity().score(failed).value == 0.0
    assert RawCitationRate().score(failed).value == 0.0
    assert LLMFailureRate().score(failed).value == 1.0
    assert problem in ModelHallucinationRate().score(failed).reason
    # a draft that came back and was discarded is scored on what it said, not as a failure
    discarded = make_run(trace={"llm_accepted": False, "llm_grounding": Grounding(supported=1, unsupported=1)})
    assert not discarded.model_failed and ModelHallucinationRate().score(discarded).value == 0.5
    assert LLMFailureRate().score(discarded).value == 0.0
    # the model not asked at all (model off, or nothing to word): undefined, not a failure
    assert not make_run().model_failed and math.isnan(ModelHallucinationRate().score(make_run()).value)
    assert math.isnan(LLMFailureRate().score(make_run()).value)
    m = LLMAcceptance()
    assert m.aggregate([m.score(failed), m.score(make_run()), m.score(make_run(trace={"llm_accepted": True}))]) == 0.5


def test_hallucination_rates_and_acceptance():
    shown = [SentenceCheck(text="a", supported=True), SentenceCheck(text="b", supported=False),
             SentenceCheck(text="c", supported=True), SentenceCheck(text="Hi", supported=True, factual=False)]
    run = make_run(sentences=shown)
    assert HallucinationRate().score(run).value == pytest.approx(1 / 3)
    model = Grounding(supported=1, unsupported=0, removed=3)
    run = make_run(trace={"llm_grounding": model, "llm_accepted": False})
    assert ModelHallucinationRate().score(run).value == 0.75   # 3 invented of 4, before removal
    assert LLMAcceptance().score(run).value == 0.0
    assert math.isnan(LLMAcceptance().score(make_run()).value)


def test_must_include_forbidden_and_gold_similarity():
    case = make_case(must_include=["10 business days|ten business days", "original payment method", "4,990 RUB"],
                     must_not_include=["30 business days", "in cash"], gold_reply="Refunds take 10 business days.")
    run = make_run(case, draft="Refunds take ten business days [1]. We charge 4 990 RUB [2].")
    assert MustIncludeCoverage().score(run).value == pytest.approx(2 / 3)
    assert ForbiddenContentRate().score(run).value == 0.0
    assert ForbiddenContentRate().score(make_run(case, draft="It takes 30 business days.")).value == 1.0
    # gold stems {refund, take, 10, busi, day}; draft {refund, take, ten, busi, day, we, charg, 4, 990, rub}:
    # 4 shared -> 2*4/(5+10)
    assert GoldSimilarity().score(run).value == pytest.approx(2 * 4 / (5 + 10))
    assert contains("Срок — десять рабочих дней", "10 рабочих дней|десять рабочих дней")



def test_contradiction_rate_counts_drafts_that_contradict_the_conversation():
    # the customer said none of their devices can connect, that they rebooted twice, and is in the chat
    case = make_case(contradicts=["only one device|while the others work", "in the chat|in chat",
                                  "Unplug the router's power|reboot the router"])
    m = ContradictionRate()
    bad = make_run(case, draft="If only one device has no internet while the others work, restart that device [1].")
    assert m.score(bad).value == 1.0 and "only one device" in m.score(bad).reason
    assert m.score(make_run(case, draft="Write to us in the Chat in the Volna app [1].")).value == 1.0  # any case
    good = make_run(case, draft="As the light stays red after your reboots, this is a line fault [1].")
    assert m.score(good).value == 0.0
    assert math.isnan(m.score(make_run(make_case(), draft="If only one device has no internet ...")).value)
    # the share of cases that contradict; undefined cases are left out
    assert m.aggregate([m.score(bad), m.score(good), m.score(make_run())]) == 0.5
    assert m.higher_is_better is False


def test_contradiction_rate_in_russian_one_promise_and_the_chat():
    case = make_case(contradicts=["в течение 4 часов", "напишите нам в чат|напишите в чат",
                                  "только на одном устройстве|а на остальных всё работает"])
    m = ContradictionRate()
    two_promises = ("Я передаю ваше обращение руководителю смены, он перезвонит вам в течение 2 часов (с 9:00 до 21:00). "
                    "Вторая линия техподдержки свяжется с вами в течение 4 часов [1].")
    assert m.score(make_run(case, draft=two_promises)).value == 1.0
    assert m.score(make_run(case, draft="Если не получится, Напишите нам в ЧАТ в приложении «Волна» [1].")).value == 1.0
    assert m.score(make_run(case, draft="Если интернета нет только на одном устройстве, перезагрузите его [1].")).value == 1.0
    one_promise = ("Я передаю ваше обращение руководителю смены, он перезвонит вам в течение 2 часов "
                   "(с 9:00 до 21:00). Если авария длится больше 24 часов, можно попросить компенсацию [1].")
    assert m.score(make_run(case, draft=one_promise)).value == 0.0   # "24 часов" is not "в течение 4 часов"
    assert math.isnan(m.score(make_run(make_case(must_include=["4 часов"]), draft=two_promises)).value)

def test_handoff_precision_recall_f1_overall_and_per_reason():
    yes = make_case(handoff={"needed": True, "reasons": ["fraud_or_security"]})
    no = make_case()
    runs = [
        make_run(yes, handoff=Handoff(needed=True, reasons=["fraud_or_security"])),   # tp
        make_run(yes, handoff=Handoff(needed=False)),                                 # fn
        make_run(no, handoff=Handoff(needed=True, reasons=["no_grounded_answer"])),   # fp
        make_run(no, handoff=Handoff(needed=False)),                                  # tn
    ]
    for kind, value in (("precision", 0.5), ("recall", 0.5), ("f1", 0.5)):
        m = HandoffDecision(kind)
        assert m.aggregate([m.score(r) for r in runs]) == pytest.approx(value)
    fraud = HandoffReasonF1("fraud_or_security")
    assert fraud.aggregate([fraud.score(r) for r in runs]) == pytest.approx(2 / 3)  # tp 1, fn 1, fp 0


def test_anamnesis_metrics():
    case = make_case(ask_about=["since_when", "router_lights", "devices_affected", "already_tried", "address"],
                     given_facts=["contract_number"])
    q = lambda f: Question(fact=f, text="?", why="")  # noqa: E731
    run = make_run(case, questions=[q("since_when"), q("router_lights"), q("contract_number")])
    assert AnamnesisPrecision().score(run).value == pytest.approx(2 / 3)
    assert AnamnesisRecall().score(run).value == pytest.approx(2 / 3)  # 2 of the 3 allowed questions
    m = AskedGivenFacts()
    assert m.aggregate([m.score(run), m.score(run)]) == 2.0


def test_language_length_latency():
    run = make_run(draft="Hello! Refunds take 10 business days [1].")
    assert LanguageMatch().score(run).value == 1.0
    assert ReplyLength().score(run).value == 6.0
    lat = Latency("total", 50)
    scores = [Score(v) for v in (10.0, 20.0, 30.0, 40.0)]
    assert lat.aggregate(scores) == 25.0
