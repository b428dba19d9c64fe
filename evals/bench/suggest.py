"""`copilot bench suggest`: stage latencies of `suggest()` over the demo conversations.

Retrieval-only over every eval conversation (both splits), then the configured model over
a subset; the first call of each run is a warm-up and not counted (it loads the models).
"""

from __future__ import annotations


import numpy as np
from pydantic import BaseModel

from copilot.config import Settings
from copilot.engine import Copilot
from copilot.llm import ChatClient
from copilot.schema import SuggestionTrace
from evals.dataset import DATASETS, load_dataset

STAGES = ("understand", "retrieval", "handoff_anamnesis", "before_llm", "llm", "draft_verify", "total")


class StageStats(BaseModel):
    stage: str
    p50_ms: float
    p95_ms: float


class SuggestBench(BaseModel):
    mode: str
    conversations: int
    stages: list[StageStats]
    completion_tokens_per_s: float | None = None
    llm_drafts_accepted: int | None = None


def _stats(rows: list[dict], mode: str, extra: dict | None = None) -> SuggestBench:
    stages = []
    for stage in STAGES:
        values = [r[stage] for r in rows if stage in r]
        if values:
            stages.append(StageStats(stage=stage, p50_ms=round(float(np.percentile(values, 50)), 1),
                                     p95_ms=round(float(np.percentile(values, 95)), 1)))
    return SuggestBench(mode=mode, conversations=len(rows), stages=stages, **(extra or {}))


def run(settings: Settings, llm_cases: int = 20) -> list[SuggestBench]:
    cases = load_dataset([DATASETS], "all")
    off = settings.model_copy(update={"llm": settings.llm.model_copy(update={"enabled": False})})
    copilot = Copilot(off)
    copilot.suggest(cases[0].conversation)  # warm-up
    rows = [copilot.suggest(c.conversation).timings_ms for c in cases]
    results = [_stats(rows, "retrieval-only")]
    if llm_cases and settings.llm.enabled:
        from copilot.local_llm import ensure_local_llm

        ensure_local_llm(settings.llm)
        with_llm = Copilot(settings, index=copilot.index, chat=ChatClient(settings.llm))
        with_llm.suggest(cases[0].conversation)
        rows, tokens, seconds, accepted = [], 0, 0.0, 0
        for c in cases[1 : llm_cases + 1]:
            trace = SuggestionTrace()
            s = with_llm.suggest(c.conversation, trace=trace)
            rows.append(s.timings_ms)
            tokens += s.usage.get("completion_tokens", 0)
            seconds += s.timings_ms.get("llm", 0) / 1000
            accepted += bool(trace.llm_accepted)
        results.append(_stats(rows, f"with {settings.llm.model}", {
            "completion_tokens_per_s": round(tokens / seconds, 1) if seconds else None,
            "llm_drafts_accepted": accepted}))
    return results


def markdown(results: list[SuggestBench]) -> str:
    lines = ["## suggest() latency per stage", "",
             "Over the eval conversations (`evals/datasets`, both splits); the first call of each run is a "
             "warm-up. Target: everything before the model under 300 ms p50 on 2 cores.", ""]
    for r in results:
        lines += [f"**{r.mode}** ({r.conversations} conversations"
                  + (f"; {r.completion_tokens_per_s} completion tokens/s; model drafts accepted "
                     f"{r.llm_drafts_accepted} of {r.conversations}" if r.completion_tokens_per_s is not None else "")
                  + ")", "", "| stage | p50 ms | p95 ms |", "|---|---:|---:|"]
        lines += [f"| {s.stage} | {s.p50_ms} | {s.p95_ms} |" for s in r.stages]
        lines.append("")
    return "\n".join(lines)
