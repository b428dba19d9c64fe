"""`copilot eval`: run eval cases through the engine and score them.

Model answers are cached by (endpoint, model, prompt messages), so a re-run of the same
prompt and model is fast and gives the same numbers; a changed prompt, model or input
misses the cache and is really asked.
"""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Callable

from pydantic import BaseModel, Field

from copilot.config import Settings
from copilot.engine import RETRIEVAL_COMPOSER, Copilot
from copilot.errors import BadInputError
from copilot.llm import AnswerCache, ChatClient
from copilot.schema import SuggestionTrace
from evals.dataset import DATASETS, load_dataset
from evals.judge import Judge
from evals.metrics import CaseRun, Metric, default_metrics
from evals.metrics.base import Score

ProgressFn = Callable[[int, int], None]


class EvalConfig(BaseModel):
    datasets: list[Path] = Field(default_factory=lambda: [DATASETS])
    split: str | None = "dev"
    prompt: str = "draft_reply@v1"
    use_llm: bool = True
    model: str | None = None
    limit: int | None = None
    ids: list[str] = Field(default_factory=list)
    input_price_per_m: float = 0.0
    output_price_per_m: float = 0.0


class CaseRecord(BaseModel):
    id: str
    language: str
    category: str
    split: str
    adversarial: bool
    conversation: list[dict]
    draft: str
    mode: str
    warnings: list[str]
    citations: list[dict]
    unsupported: list[str]
    handoff: dict
    expected_handoff: dict
    questions: list[str]
    expected_ask: list[str]
    llm_raw: str | None = None
    scores: dict[str, float | None]
    counts: dict[str, dict[str, float]] = Field(default_factory=dict)
    reasons: dict[str, str]
    failures: list[str]


class EvalResult(BaseModel):
    config: EvalConfig
    prompt: str
    model: str
    cases: int
    summary: dict[str, float | None]
    by_language: dict[str, dict[str, float | None]]
    by_category: dict[str, dict[str, float | None]]
    records: list[CaseRecord]
    higher_is_better: dict[str, bool]


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else round(value, 4)


def failures(run: CaseRun, scores: dict[str, Score]) -> list[str]:
    """The per-case checks a person would call failures."""
    out = []
    s = run.suggestion
    if scores["must_include_coverage"].defined and scores["must_include_coverage"].value < 1:
        out.append("must_include")
    if scores["forbidden_content_rate"].defined and scores["forbidden_content_rate"].value > 0:
        out.append("forbidden_content")
    if s.grounding.unsupported:
        out.append("unsupported_sentence")
    exp = run.case.expected.handoff
    if exp.needed != s.handoff.needed:
        out.append("handoff_missed" if exp.needed else "handoff_unneeded")
    elif exp.needed and not set(exp.reasons) & set(s.handoff.reasons):
        out.append("handoff_reason")
    if scores["language_match"].value < 1:
        out.append("language")
    if scores["asked_given_facts"].value > 0:
        out.append("asked_given_fact")
    if scores["retrieval_hit@3"].defined and scores["retrieval_hit@3"].value < 1:
        out.append("retrieval_miss")
    if run.model_failed:  # the operator still got the retrieval-only draft; the model path did not work
        out.append("model_draft_failed")
    return out


def aggregate(metrics: list[Metric], scored: list[dict[str, Score]]) -> dict[str, float | None]:
    return {m.name: _clean(m.aggregate([s[m.name] for s in scored])) for m in metrics}


def run_eval(config: EvalConfig, settings: Settings, progress: ProgressFn | None = None,
             copilot: Copilot | None = None) -> EvalResult:
    cases = load_dataset(config.datasets, config.split)
    if config.ids:
        wanted = set(config.ids)
        cases = [c for c in cases if c.id in wanted]
    if config.limit:
        cases = cases[: config.limit]
    llm_settings = settings.llm.model_copy(update={"enabled": config.use_llm, **({"model": config.model} if config.model else {})})
    settings = settings.model_copy(update={"llm": llm_settings})
    prompts_dir = settings.prompts_dir
    if copilot is None:
        chat = None
        if config.use_llm:
            from copilot.local_llm import ensure_local_llm

            ensure_local_llm(settings.llm)
            assert settings.cache_dir is not None
            chat = ChatClient(settings.llm, cache=AnswerCache(settings.cache_dir / "llm_answers.sqlite"))
        copilot = Copilot(settings, prompt=config.prompt, chat=chat, prompts_dir=prompts_dir)
    if copilot.index.docstore.count_documents() == 0:
        raise BadInputError(f"the index in {copilot.index.index_dir} is empty; run `copilot ingest knowledge_base/demo` first")
    judge = Judge.from_settings(settings)
    internal = frozenset(copilot.index.docstore.sources_with_audience("internal"))
    metrics = default_metrics(config.input_price_per_m, config.output_price_per_m)
    runs: list[CaseRun] = []
    for i, case in enumerate(cases):
        trace = SuggestionTrace()
        suggestion = copilot.suggest(case.conversation, trace=trace)
        verdicts = judge.judge(suggestion, copilot) if judge is not None else None
        runs.append(CaseRun(case, suggestion, trace, internal, verdicts))
        if progress:
            progress(i + 1, len(cases))
    scored = [{m.name: m.score(r) for m in metrics} for r in runs]
    records = []
    for run, scores in zip(runs, scored):
        s = run.suggestion
        records.append(CaseRecord(
            id=run.case.id, language=run.case.language, category=run.case.tags.category, split=run.case.split,
            adversarial=run.case.tags.adversarial,
            conversation=[m.model_dump() for m in run.case.conversation.messages],
            draft=s.draft.text, mode=s.draft.mode, warnings=s.draft.warnings,
            citations=[c.model_dump() for c in s.citations],
            unsupported=[f"{x.text} ({x.reason})" for x in s.grounding.sentences if x.factual and not x.supported],
            handoff=s.handoff.model_dump(), expected_handoff=run.case.expected.handoff.model_dump(),
            questions=[q.fact for q in s.questions], expected_ask=run.case.expected.ask_about,
            llm_raw=run.trace.llm_raw,
            scores={k: _clean(v.value) for k, v in scores.items()},
            counts={k: v.counts for k, v in scores.items() if v.counts},
            reasons={k: v.reason for k, v in scores.items() if v.reason},
            failures=failures(run, scores),
        ))
    by_language: dict[str, list] = defaultdict(list)
    by_category: dict[str, list] = defaultdict(list)
    for run, scores in zip(runs, scored):
        by_language[run.case.language].append(scores)
        by_category[run.case.tags.category].append(scores)
    return EvalResult(
        config=config, prompt=config.prompt if config.use_llm else RETRIEVAL_COMPOSER,
        model=settings.llm.model if config.use_llm else "none", cases=len(runs),
        summary=aggregate(metrics, scored),
        by_language={k: aggregate(metrics, v) for k, v in sorted(by_language.items())},
        by_category={k: aggregate(metrics, v) for k, v in sorted(by_category.items())},
        records=records,
        higher_is_better={m.name: m.higher_is_better for m in metrics},
    )

