"""Fit the coverage model behind `SearchResult.confidence` on labelled queries:
in-scope ones the knowledge base answers, and out-of-scope ones it does not (questions of
the business's own domain it does not answer, and requests outside it).

Logistic regression over standardised features (knowledge_base/coverage.py) by Newton's
method with a small L2 penalty (a few features, a few hundred examples: no library needed
beyond numpy); 10-fold out-of-fold accuracy is reported so the number is not the training fit.
Only data we may tune on goes in: the calibration files here (checked against the held-out
eval cases by `copilot eval audit-splits`) and, from the CLI, the dev split of the eval sets.

More than one desk: a model fitted on one knowledge base learns that desk's scale (how near
its covered questions come, how many words its tickets carry) and hands off ordinary
questions on a desk with fewer tickets. `calibration/desks/*` are knowledge bases of other
businesses (kb/ as a team brings it, and labelled first messages, queries.jsonl) written for
this without reading the product's code; each is ingested into an index of its own and its
queries join the demo desk's. Each desk's accuracy under a model fitted without it is kept
beside the fold accuracy: the figure that says whether the weights carry to a desk unseen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from knowledge_base.coverage import (LEXICAL_FEATURES, VECTOR_FEATURES, Calibration, CoverageFeatures, CoverageModel,
                                     HeldOutDesk)
from knowledge_base.documents import SearchFilters
from knowledge_base.retriever import HybridRetriever

IN_SCOPE = Path(__file__).resolve().parent / "calibration" / "in_scope.jsonl"
OUT_OF_SCOPE = Path(__file__).resolve().parent / "calibration" / "out_of_scope.jsonl"
DESKS = Path(__file__).resolve().parent / "calibration" / "desks"
FOLDS = 10


class DeskQuery(BaseModel):
    """A line of a calibration desk's queries.jsonl: a customer's first message and whether its kb answers it."""

    query: str = Field(min_length=1)
    lang: Literal["en", "ru"]
    covered: bool
    kind: Literal["covered", "in_domain", "off_domain"]
    expected: list[str] = Field(default_factory=list, description="kb files that answer it (covered only).")


@dataclass
class Group:
    """One desk's labelled queries, searched on that desk's own index."""

    name: str
    retriever: HybridRetriever
    in_scope: list[dict]
    out_of_scope: list[dict]


def _logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0) -> np.ndarray:
    Xb = np.hstack([np.ones((len(X), 1)), X])
    w = np.zeros(Xb.shape[1])
    reg = l2 * np.diag(np.r_[0.0, np.ones(Xb.shape[1] - 1)])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(Xb @ w, -50, 50)))
        grad = Xb.T @ (p - y) + reg @ w
        hess = (Xb * (p * (1 - p))[:, None]).T @ Xb + reg
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def _standardised(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale == 0] = 1.0
    return (X - mean) / scale, mean, scale


def _cv_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    fold = np.random.default_rng(0).permutation(len(y)) % FOLDS
    right = 0
    for k in range(FOLDS):
        train, test = fold != k, fold == k
        Z, mean, scale = _standardised(X[train])
        w = _logistic(Z, y[train])
        right += int(((w[0] + ((X[test] - mean) / scale) @ w[1:] > 0) == y[test].astype(bool)).sum())
    return right / len(y)


def _held_out_desks(X: np.ndarray, y: np.ndarray, desks: np.ndarray, langs: np.ndarray) -> list[HeldOutDesk]:
    """Each desk, per language, under a model fitted on the other desks only."""
    out: list[HeldOutDesk] = []
    for name in dict.fromkeys(desks.tolist()):
        train = desks != name
        if len(set(y[train].tolist())) < 2:
            continue
        Z, mean, scale = _standardised(X[train])
        w = _logistic(Z, y[train])
        judged_covered = w[0] + ((X - mean) / scale) @ w[1:] > 0
        for lang in dict.fromkeys(langs[desks == name].tolist()):
            mine = (desks == name) & (langs == lang)
            out.append(HeldOutDesk(
                desk=name, lang=lang, not_covered=int((mine & (y == 0)).sum()),
                not_covered_found=int((mine & (y == 0) & ~judged_covered).sum()),
                covered=int((mine & (y == 1)).sum()), covered_refused=int((mine & (y == 1) & ~judged_covered).sum())))
    return out


def fit_model(features: list[CoverageFeatures], y: np.ndarray, names: tuple[str, ...], note: str,
              desks: list[str] | None = None) -> CoverageModel:
    X = np.array([[f.value(n) for n in names] for f in features])
    Z, mean, scale = _standardised(X)
    w = _logistic(Z, y)
    reference = X[y == 1].mean(axis=0) if (y == 1).any() else mean
    langs = np.array([f.lang for f in features])
    held_out = _held_out_desks(X, y, np.array(desks), langs) if desks and len(set(desks)) > 1 else []
    return CoverageModel(bias=float(w[0]), weights={n: float(v) for n, v in zip(names, w[1:])},
                         mean={n: float(v) for n, v in zip(names, mean)},
                         scale={n: float(v) for n, v in zip(names, scale)},
                         reference={n: float(v) for n, v in zip(names, reference)},
                         fitted_on=note, cv_accuracy=round(_cv_accuracy(X, y), 3), held_out_desks=held_out)


def by_label(queries: list[DeskQuery]) -> tuple[list[dict], list[dict]]:
    """A calibration desk's queries as (covered, not covered), each {query, lang}."""
    return ([{"query": q.query, "lang": q.lang} for q in queries if q.covered],
            [{"query": q.query, "lang": q.lang} for q in queries if not q.covered])


def read(path: Path) -> list[dict]:
    """{query, lang} per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def collect(retriever: HybridRetriever, queries: list[dict]) -> list[CoverageFeatures]:
    out = []
    for q in queries:
        filters = SearchFilters(lang=q.get("lang"), doc_type="article", audience="customer")
        out.append(retriever.search_with_features(q["query"], k=5, filters=filters)[1])
    return out


def fit(groups: list[Group]) -> Calibration:
    """A calibration with the embedder of the groups' retrievers fitted, and the lexical-only
    model, on every group's queries searched on its own desk."""
    origin = "; ".join(f"{g.name}: {len(g.in_scope)} in-scope + {len(g.out_of_scope)} out-of-scope" for g in groups)
    note = f"{origin}, {date.today()}"
    calibration = Calibration.load()
    y = np.array([v for g in groups for v in [1.0] * len(g.in_scope) + [0.0] * len(g.out_of_scope)])
    desks = [g.name for g in groups for _ in g.in_scope + g.out_of_scope]
    feats = [f for g in groups for f in collect(g.retriever, g.in_scope + g.out_of_scope)]
    model_ids = {g.retriever.index.embedding.model_id for g in groups}
    if len(model_ids) != 1:
        raise ValueError(f"the desks' indexes use different embedders ({', '.join(sorted(model_ids))})")
    if all(f.used_vectors for f in feats):
        calibration.models[model_ids.pop()] = fit_model(feats, y, VECTOR_FEATURES, note, desks)
    # the same queries searched lexically only
    lex_feats = []
    for g in groups:
        lexical = g.retriever.settings.model_copy(update={"vector_weight": 0.0})
        lex_feats += collect(HybridRetriever(g.retriever.index, lexical, calibration), g.in_scope + g.out_of_scope)
    calibration.lexical_only = fit_model(lex_feats, y, LEXICAL_FEATURES, note, desks)
    return calibration


def markdown(calibration: Calibration, model_id: str, with_dev: bool = True) -> str:
    """The held-out-desk figures of the fitted models, for docs/benchmarks.md (`with_dev`: the
    demo desk's queries include the dev split of its eval sets)."""
    demo = "in_scope.jsonl and out_of_scope.jsonl" + (", and the dev split of the demo and scope sets" if with_dev else "")
    lines = ["Does the \"not covered\" judgement carry to a desk it was not fitted on? Each desk's labelled "
             "first messages, judged by a model fitted on the other desks only (at the 0.5 the engine uses; "
             f"`COPILOT_RETRIEVAL__MIN_CONFIDENCE`). Desks: the demo desk (knowledge_base/calibration/{demo}) and "
             "the other businesses of knowledge_base/calibration/desks.", ""]
    for name, model in ((model_id, calibration.models.get(model_id)), ("lexical only", calibration.lexical_only)):
        if model is None or not model.held_out_desks:
            continue
        lines += [f"**{name}** ({model.fitted_on}; 10-fold accuracy on all of them {model.cv_accuracy})", "",
                  "| desk | language | not covered, found | covered, refused |", "|---|---|---|---|"]
        for h in model.held_out_desks:
            lines.append(f"| {h.desk} | {h.lang} | {h.not_covered_found}/{h.not_covered} "
                         f"({h.not_covered_found / max(h.not_covered, 1):.2f}) | {h.covered_refused}/{h.covered} "
                         f"({h.covered_refused / max(h.covered, 1):.2f}) |")
        worst = max(model.held_out_desks, key=lambda h: h.covered_refused / max(h.covered, 1))
        missed = min(model.held_out_desks, key=lambda h: h.not_covered_found / max(h.not_covered, 1))
        lines += ["", f"Where it loses: {worst.covered_refused}/{worst.covered} of {worst.desk}'s covered {worst.lang} "
                  f"questions are judged not covered (handed off instead of answered), and {missed.desk}'s "
                  f"{missed.lang} questions it does not answer are found {missed.not_covered_found}/"
                  f"{missed.not_covered}.", ""]
    return "\n".join(lines)
