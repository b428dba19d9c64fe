"""`copilot eval verifier`: the grounding verifier on labelled (passage, sentence) pairs.

"Positive" is an unsupported sentence (a hallucination to catch): precision = share of
flagged sentences that really are unsupported, recall = share of unsupported sentences
flagged, F1 = 2PR/(P+R), balanced accuracy = (TPR + TNR) / 2. Weight and threshold are
chosen on the dev split and reported on the test split.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel

from copilot.config import Settings, VerificationSettings
from copilot.desk import load_desk
from copilot.errors import BadInputError
from copilot.text import EntityFn, EntityRecognizer, entities
from copilot.verify import Support, Verifier
from evals.metrics.base import prf
from knowledge_base.embeddings import make_embeddings

PAIRS = Path(__file__).resolve().parents[1] / "datasets" / "grounding" / "grounding_pairs.jsonl"


class Pair(BaseModel):
    id: str
    lang: str
    source_id: str
    source: str
    sentence: str
    label: str
    kind: str
    split: str


class VerifierScores(BaseModel):
    n: int
    precision: float
    recall: float
    f1: float
    balanced_accuracy: float
    by_kind: dict[str, float]       # share judged correctly per kind
    by_lang: dict[str, float]       # F1 per language


class VerifierRun(BaseModel):
    """What `copilot eval verifier` measured, and with which settings."""

    split: str
    scores: VerifierScores
    verification: VerificationSettings  # the settings scored (calibrated on dev with --calibrate)
    embedder: str
    dev_scores: VerifierScores | None = None  # with --calibrate: the chosen settings on dev


def load_pairs(path: Path = PAIRS, split: str | None = None) -> list[Pair]:
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    pairs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                pair = Pair.model_validate(json.loads(line))
            except Exception as exc:  # noqa: BLE001 - one-line message naming the line
                raise BadInputError(f"{path}:{n}: {str(exc).splitlines()[0]}") from None
            if split in (None, "all") or pair.split == split:
                pairs.append(pair)
    return pairs


def supports(verifier: Verifier, pairs: list[Pair]) -> list[Support]:
    return [verifier.support(p.sentence, p.source) for p in pairs]


def evaluate(verifier: Verifier, pairs: list[Pair], support: list[Support] | None = None) -> VerifierScores:
    support = support or supports(verifier, pairs)
    flagged = [not verifier.supported(s) for s in support]
    truth = [p.label == "unsupported" for p in pairs]

    def counts(idx):
        tp = sum(flagged[i] and truth[i] for i in idx)
        fp = sum(flagged[i] and not truth[i] for i in idx)
        fn = sum(not flagged[i] and truth[i] for i in idx)
        tn = sum(not flagged[i] and not truth[i] for i in idx)
        return tp, fp, fn, tn

    idx = range(len(pairs))
    tp, fp, fn, tn = counts(idx)
    p, r, f = prf(tp, fp, fn)
    tpr = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    by_kind: dict[str, list[bool]] = defaultdict(list)
    by_lang_idx: dict[str, list[int]] = defaultdict(list)
    for i, pair in enumerate(pairs):
        by_kind[pair.kind].append(flagged[i] == truth[i])
        by_lang_idx[pair.lang].append(i)
    return VerifierScores(
        n=len(pairs), precision=round(p, 4), recall=round(r, 4), f1=round(f, 4),
        balanced_accuracy=round((tpr + tnr) / 2, 4),
        by_kind={k: round(sum(v) / len(v), 3) for k, v in sorted(by_kind.items())},
        by_lang={k: round(prf(*counts(v)[:3])[2], 4) for k, v in sorted(by_lang_idx.items())},
    )


def calibrate(settings: VerificationSettings, embed, dev: list[Pair],
              entities: EntityFn = entities) -> tuple[VerificationSettings, VerifierScores]:
    """Grid search of lexical weight and threshold for the best F1 on the dev pairs."""
    best: tuple[float, VerificationSettings, VerifierScores] | None = None
    for w in (0.0, 0.25, 0.4, 0.5, 0.6, 0.75, 1.0):
        trial = settings.model_copy(update={"lexical_weight": w})
        verifier = Verifier(trial, embed, entities)
        support = supports(verifier, dev)
        for t in [x / 100 for x in range(30, 96, 2)]:
            verifier.settings = trial.model_copy(update={"threshold": t})
            scores = evaluate(verifier, dev, support)
            key = scores.f1 + 0.001 * scores.balanced_accuracy
            if best is None or key > best[0]:
                best = (key, verifier.settings, scores)
    assert best is not None
    return best[1], best[2]


def run(settings: Settings, split: str = "test", calibrate_first: bool = False) -> VerifierRun:
    """Score the verifier on the `split` pairs with the configured settings, or with
    `calibrate_first` with the weight and threshold chosen on the dev pairs."""
    emb = make_embeddings(settings.embedding, settings.cache_dir)
    # the pairs are the demo desk's passages: its plan names are facts a sentence can get wrong
    demo = EntityRecognizer(load_desk(settings.demo_kb / "desk.yaml").plan_names)
    verification = settings.verification
    dev_scores = None
    if calibrate_first:
        verification, dev_scores = calibrate(verification, emb.embeddings.embed_documents, load_pairs(split="dev"), demo)
    pairs = load_pairs(split=split)
    scores = evaluate(Verifier(verification, emb.embeddings.embed_documents, demo), pairs)
    return VerifierRun(split=split, scores=scores, verification=verification, embedder=emb.model_id,
                       dev_scores=dev_scores)


def markdown(result: VerifierRun) -> str:
    """The verifier's section of `docs/benchmarks.md`, next to published anchors."""
    scores, verification, split = result.scores, result.verification, result.split
    kinds = "\n".join(f"| {k} | {v} |" for k, v in scores.by_kind.items())
    return (
        "## Grounding verifier\n\n"
        f"`evals/datasets/grounding/grounding_pairs.jsonl`, {split} split: {scores.n} (passage, sentence) pairs, "
        "half unsupported (changed amounts, dates and deadlines, wrong plans and contacts, negations, invented "
        "policies, overgeneralisations, unrelated claims), half supported (extracts, partial restatements, "
        "paraphrases), Russian and English. Positive class: unsupported. Verifier settings: threshold "
        f"{verification.threshold}, lexical weight {verification.lexical_weight}, embedder {result.embedder}.\n\n"
        "| | precision | recall | F1 | balanced accuracy | F1 en | F1 ru |\n|---|---:|---:|---:|---:|---:|---:|\n"
        f"| this verifier | {scores.precision} | {scores.recall} | {scores.f1} | {scores.balanced_accuracy} | "
        f"{scores.by_lang.get('en')} | {scores.by_lang.get('ru')} |\n"
        "| LettuceDetect (published, RAGTruth, span level) | | | ~0.79 | | | |\n"
        "| HHEM-2.1 (published, RAGTruth-QA) | | | | ~0.74 | | |\n\n"
        "The anchors are measured on other data (RAGTruth: model answers to real QA, summarisation and "
        "data-to-text prompts) and are given for scale only; our pairs are short, single-sentence and "
        "built to contain one kind of error each, which is easier than RAGTruth. Where we are weakest: "
        "faithful paraphrases (share judged correctly below), so a reworded correct sentence is often "
        "marked for the operator.\n\n| kind | judged correctly |\n|---|---:|\n" + kinds)
