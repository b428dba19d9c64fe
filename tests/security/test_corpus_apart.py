"""Issue 14, "nothing in the corpus is copied into the product's patterns": the adversarial
corpus stays a held-out test. No sentence the detectors learn from (the instruction sentences
of knowledge_base/instructions.jsonl, the routing utterances) and no line of the modules that
hold the patterns shares a run of five words with a corpus injection, a benign look-alike or a
hidden instruction's payload."""

from __future__ import annotations

import json
import re
from pathlib import Path

from evals.security import REPO, load_corpus

RUN = 5
# runs a corpus case took from a pattern written before the corpus (the pattern was not fitted to it)
EARLIER = {("for", "the", "rest", "of", "this"), ("the", "rest", "of", "this", "conversation")}  # instructions.py
# "from_now_on" since ff6abdf, the corpus since dbc236d
TRAINING = [REPO / "knowledge_base" / "instructions.jsonl", REPO / "copilot" / "routing" / "utterances.jsonl"]
PATTERNS = [REPO / "copilot" / "safety.py", REPO / "knowledge_base" / "instructions.py",
            REPO / "copilot" / "masking.py", REPO / "copilot" / "understand.py"]


def _runs(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i:i + RUN]) for i in range(len(words) - RUN + 1)}


def _corpus_runs() -> dict[tuple[str, ...], str]:
    out: dict[tuple[str, ...], str] = {}
    for case in load_corpus():
        if case.category in ("customer_injection", "customer_benign"):
            texts = case.input.get("turns") or [case.input["text"]]
        elif case.category == "kb_instruction" and "payload" in case.input:
            texts = [case.input["payload"]]
        else:
            continue
        for text in texts:
            for run in _runs(text):
                out.setdefault(run, case.id)
    return out


def test_no_training_sentence_repeats_the_corpus():
    corpus = _corpus_runs()
    shared = []
    for path in TRAINING:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                for run in _runs(json.loads(line)["text"]) & corpus.keys():
                    shared.append(f"{Path(path).name}:{n} shares '{' '.join(run)}' with {corpus[run]}")
    assert not shared, shared[:5]


def test_no_pattern_module_repeats_the_corpus():
    corpus = _corpus_runs()
    shared = [f"{p.name}: '{' '.join(run)}' ({corpus[run]})" for p in PATTERNS
              for run in (_runs(p.read_text(encoding="utf-8")) & corpus.keys()) - EARLIER]
    assert not shared, shared[:5]
