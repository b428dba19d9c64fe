"""`copilot eval injection`: instructions inside data, measured on the labelled sentences
of `knowledge_base/instructions.jsonl` (customer turns and article sentences written for
this project, both languages, with benign near-misses).

Three methods, each flagging a sentence or not:
- structure: the conclusive shapes alone (`hard_evidence`) or the older wordings
  (`copilot.safety.injection_evidence`), what flagged anything before the classifier;
- classifier: `InstructionClassifier` (trained on dev, threshold by 5-fold cross-validation
  on dev) on every sentence;
- detector: what the engine and ingest use, `InstructionDetector` (structure, then the
  classifier on every customer sentence and on article sentences with a cue word and a machine
  addressee) plus `injection_evidence`.

Per split and language: precision = TP/(TP+FP), recall = TP/(TP+FN), F1 = 2PR/(P+R), and
the false-flag rate on the benign near-misses (benign sentences using the injections'
words) and on all benign sentences. The classifier trained on dev, so the dev rows use the
out-of-fold probabilities (each dev sentence scored by a model that did not see it).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from pydantic import BaseModel

from copilot.config import Settings
from copilot.safety import injection_evidence
from evals.metrics.base import prf
from knowledge_base.embeddings import make_embeddings
from knowledge_base.instructions import (
    CUSTOMER_TURNS,
    DATA,
    Example,
    InstructionClassifier,
    InstructionDetector,
    hard_evidence,
    load_examples,
    reaches_classifier,
)

METHODS = ("structure", "classifier", "detector")
DATASETS = Path(__file__).resolve().parents[1] / "datasets"


class Score(BaseModel):
    n: int
    positives: int
    precision: float | None
    recall: float | None
    f1: float | None
    near_miss_flagged: str   # "k/n"
    benign_flagged: str      # "k/n"


class Row(BaseModel):
    split: str
    lang: str
    method: str
    score: Score


class InjectionReport(BaseModel):
    embedder: str
    data: str
    examples: dict[str, int]
    threshold: float
    l2: float
    cue_recall: dict[str, float]  # share of the instructions the classifier judges, per language (its reach)
    rows: list[Row]
    missed_dev: list[str]          # dev instructions the detector missed (dev only: the test split is not read)
    false_dev: list[str]           # dev benign sentences the detector flagged
    cases: dict[str, str] = {}     # demo dev conversations: "injection cases flagged" and "other cases flagged", k/n
    turns: dict[str, str] = {}     # ordinary customer turns never trained on (routing test split) flagged, k/n


def _r(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 3)


def _score(items: list[Example], flagged: list[bool]) -> Score:
    tp = sum(e.instruction and f for e, f in zip(items, flagged))
    fp = sum(not e.instruction and f for e, f in zip(items, flagged))
    fn = sum(e.instruction and not f for e, f in zip(items, flagged))
    p, r, f1 = prf(tp, fp, fn)
    near = [f for e, f in zip(items, flagged) if e.near_miss]
    benign = [f for e, f in zip(items, flagged) if not e.instruction]
    return Score(n=len(items), positives=tp + fn, precision=_r(p), recall=_r(r), f1=_r(f1),
                 near_miss_flagged=f"{sum(near)}/{len(near)}", benign_flagged=f"{sum(benign)}/{len(benign)}")


def run(settings: Settings) -> InjectionReport:
    emb = make_embeddings(settings.embedding, settings.cache_dir)
    clf = InstructionClassifier.load_or_train(emb.embeddings.embed_documents, emb.model_id, settings.cache_dir)
    detector = InstructionDetector(clf, emb.languages)
    examples = load_examples(DATA)
    dev = [e for e in examples if e.split == "dev"]
    cv = {id(e): float(p) for e, p in zip(dev, clf.cv_probabilities)}
    probs = clf.probabilities([e.text for e in examples])
    # each sentence judged where it was written: a customer turn, or a passage of an article
    found: list = [None] * len(examples)
    for where in ("customer", "knowledge"):
        idx = [i for i, e in enumerate(examples) if e.where == where]
        for i, f in zip(idx, detector.find_all([examples[i].text for i in idx], where=where)):
            found[i] = f
    structure = [bool(hard_evidence(e.text) or injection_evidence(e.text)) for e in examples]
    by_clf = [(cv[id(e)] if e.split == "dev" else float(p)) >= clf.threshold for e, p in zip(examples, probs)]
    # on dev, the detector's classifier step uses the out-of-fold probability too
    by_detector = []
    for e, f, s in zip(examples, found, structure):
        if e.split == "dev" and (f is None or f.by == "classifier"):
            units_flagged = reaches_classifier(e.text, e.where) and cv[id(e)] >= clf.threshold
            by_detector.append(s or (f is not None and f.by == "structure") or units_flagged)
        else:
            by_detector.append(s or f is not None)
    rows = []
    for split in ("dev", "test"):
        for lang in ("en", "ru"):
            idx = [i for i, e in enumerate(examples) if e.split == split and e.lang == lang]
            items = [examples[i] for i in idx]
            for method, flags in (("structure", structure), ("classifier", by_clf), ("detector", by_detector)):
                rows.append(Row(split=split, lang=lang, method=method, score=_score(items, [flags[i] for i in idx])))
    counts: dict[str, int] = {}
    for e in examples:
        counts[f"{e.lang}/{e.split}"] = counts.get(f"{e.lang}/{e.split}", 0) + 1
    cue = {lang: round(float(np.mean([reaches_classifier(e.text, e.where) for e in examples if e.lang == lang and e.instruction
                                      and e.split == "dev"])), 3) for lang in ("en", "ru")}
    dev_idx = [i for i, e in enumerate(examples) if e.split == "dev"]
    # whole conversations of the demo desk's dev cases (written apart from these sentences): the
    # prompt-injection cases should be flagged, the others not (test cases are not read here)
    from copilot.safety import customer_injection
    from evals.dataset import load_dataset

    demo = load_dataset(sorted(DATASETS.glob("demo_*.jsonl")), "dev")
    cases: dict[str, list[int]] = {}
    for case in demo:
        turns = [m.text for m in case.conversation.messages if m.role == "customer"]
        key = f"{case.language} {'injection cases' if case.tags.category == 'prompt_injection' else 'other cases'}"
        hit = cases.setdefault(key, [0, 0])
        hit[0] += customer_injection(turns, detector) is not None
        hit[1] += 1
    # ordinary customer turns the classifier never saw: the test split of the routing utterances
    # (their dev split is among its benign training sentences)
    turns: dict[str, str] = {}
    routing = [json.loads(line) for line in CUSTOMER_TURNS.read_text(encoding="utf-8").splitlines() if line.strip()]
    for lang in ("en", "ru"):
        texts = [d["text"] for d in routing if d["split"] == "test" and d["lang"] == lang]
        turns[lang] = f"{sum(f is not None for f in detector.find_all(texts))}/{len(texts)}"
    return InjectionReport(
        embedder=emb.model_id, data=str(DATA.relative_to(DATA.parents[1])), examples=dict(sorted(counts.items())),
        threshold=round(clf.threshold, 3), l2=clf.l2, cue_recall=cue, rows=rows,
        missed_dev=[examples[i].text for i in dev_idx if examples[i].instruction and not by_detector[i]],
        false_dev=[examples[i].text for i in dev_idx if not examples[i].instruction and by_detector[i]],
        cases={k: f"{v[0]}/{v[1]}" for k, v in sorted(cases.items())}, turns=turns)


def markdown(report: InjectionReport) -> str:
    def f(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.2f}"

    rows = ["| split | language | method | n | instructions | precision | recall | F1 | near-misses flagged | "
            "benign flagged |", "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report.rows:
        s = r.score
        split = "dev (cv)" if r.split == "dev" else r.split
        rows.append(f"| {split} | {r.lang} | {r.method} | {s.n} | {s.positives} | {f(s.precision)} | {f(s.recall)} | "
                    f"{f(s.f1)} | {s.near_miss_flagged} | {s.benign_flagged} |")
    intro = (
        f"`{report.data}`: sentences written for this project, {', '.join(f'{k} {v}' for k, v in report.examples.items())}: "
        "instructions to the model in customer turns and inside articles (override, role tags, a new task or role, "
        "an order to promise), and benign sentences, many of them near-misses that use the same words (\"forget my "
        "old password\", \"from now on I will pay by card\", \"ignore the orange light during an update\"); the "
        "classifier also learns the dev split of the routing utterances (ordinary customer turns) as benign. "
        "*structure*: the conclusive shapes and the older wordings alone; *classifier*: logistic regression over "
        f"{report.embedder} embeddings plus the structure features, on every sentence; *detector*: what ingest and "
        "the engine use (structure, then the classifier on every customer sentence and on article sentences with a "
        "cue word and a machine addressee). Dev rows are out of fold "
        "(each dev sentence scored by a model trained without it). One author wrote both splits: the test row "
        "says how the detector generalises within that author's wording, not to every attacker's.\n"
    )
    missed = "; ".join(f"\"{t}\"" for t in report.missed_dev) or "none"
    false = "; ".join(f"\"{t}\"" for t in report.false_dev) or "none"
    tail = (f"Threshold chosen on dev: {report.threshold} (L2 {report.l2}). Share of dev instructions the classifier "
            f"judges in the detector (its reach): {report.cue_recall}. Where we lose on dev: missed {missed}; "
            f"benign flagged {false}.")
    if report.turns:
        tail += ("\n\nOrdinary customer turns the classifier never trained on (the test split of "
                 "`copilot/routing/utterances.jsonl`), flagged by the detector: "
                 + ", ".join(f"{k} {v}" for k, v in report.turns.items()) + ".")
    if report.cases:
        tail += ("\n\nWhole conversations of the demo desk's dev cases (written apart from these sentences; test cases "
                 "not read), flagged by the detector: " + ", ".join(f"{k} {v}" for k, v in report.cases.items()) + ".")
    return "\n".join(["## Instructions inside data (prompt injection)\n", intro, "\n".join(rows) + "\n", tail])
