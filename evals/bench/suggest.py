"""`copilot bench suggest`: stage latencies of `suggest()` over the demo conversations.

Retrieval-only over every eval conversation (both splits), then long pasted transcripts
(each ~20,000 characters of the eval customers' own sentences, one per language and more,
with the embedding cache off so every sentence costs what a first paste costs), then the
configured model over a subset; the first call of each run is a warm-up and not counted
(it loads the models).
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
    screened_by_patterns: float | None = None  # long pastes: mean sentences over the classifier's budget


LONG_CHARS = 20_000


def long_pastes(cases: list, n: int) -> list:
    """`n` single-turn conversations of ~LONG_CHARS characters, alternating languages, each
    the customer turns of eval cases of that language run together (a pasted transcript),
    each starting where the previous one of its language stopped. Turns that carry an
    instruction to the model are left out: one found by its shape ends the screening there,
    and the paste would time nothing of the classifier."""
    from copilot.safety import injection_evidence
    from copilot.schema import Conversation

    pools = {lang: [m.text for c in cases if c.language == lang for m in c.conversation.messages
                    if m.role == "customer" and not injection_evidence(m.text)] for lang in ("en", "ru")}
    cursor = {lang: 0 for lang in pools}
    out = []
    for k in range(n):
        lang = ("en", "ru")[k % 2]
        if not pools[lang]:
            continue
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < LONG_CHARS:
            parts.append(pools[lang][cursor[lang] % len(pools[lang])])
            cursor[lang] += 1
        out.append(Conversation.model_validate({"messages": [{"role": "customer", "text": " ".join(parts)}]}))
    return out


def _stats(rows: list[dict], mode: str, extra: dict | None = None) -> SuggestBench:
    stages = []
    for stage in STAGES:
        values = [r[stage] for r in rows if stage in r]
        if values:
            stages.append(StageStats(stage=stage, p50_ms=round(float(np.percentile(values, 50)), 1),
                                     p95_ms=round(float(np.percentile(values, 95)), 1)))
    return SuggestBench(mode=mode, conversations=len(rows), stages=stages, **(extra or {}))


def run(settings: Settings, llm_cases: int = 20, long_cases: int = 4,
        conversations: int | None = None) -> list[SuggestBench]:
    """`conversations`: time only the first this many eval conversations (all by default)."""
    every = load_dataset([DATASETS], "all")
    cases = every[:conversations]
    off = settings.model_copy(update={"llm": settings.llm.model_copy(update={"enabled": False})})
    copilot = Copilot(off)
    copilot.suggest(cases[0].conversation)  # warm-up
    rows = [copilot.suggest(c.conversation).timings_ms for c in cases]
    results = [_stats(rows, "retrieval-only")]
    pastes = long_pastes(every, long_cases)
    if pastes:
        cold = off.model_copy(update={"embedding": off.embedding.model_copy(update={"cache": False})})
        fresh = Copilot(cold)
        fresh.suggest(cases[0].conversation)  # warm-up
        suggestions = [fresh.suggest(c) for c in pastes]
        over = [int(f.split()[1]) for s in suggestions for f in s.flags if f.startswith("screened_by_patterns:")]
        results.append(_stats([s.timings_ms for s in suggestions],
                              f"retrieval-only, pasted transcripts of ~{LONG_CHARS:,} characters, embedding cache off",
                              {"screened_by_patterns": round(sum(over) / len(suggestions), 1)}))
        fresh.close()
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
                  + (f"; on average {r.screened_by_patterns} customer sentences each over the instruction "
                     f"classifier's budget, judged by the patterns only" if r.screened_by_patterns is not None else "")
                  + ")", "", "| stage | p50 ms | p95 ms |", "|---|---:|---:|"]
        lines += [f"| {s.stage} | {s.p50_ms} | {s.p95_ms} |" for s in r.stages]
        lines.append("")
    return "\n".join(lines)
