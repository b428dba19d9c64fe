"""Fit the coverage model behind `SearchResult.confidence` on labelled queries:
in-scope ones the knowledge base answers, and out-of-scope ones it does not (questions of
the business's own domain it does not answer, and requests outside it).

Logistic regression over standardised features (knowledge_base/coverage.py) by Newton's
method with a small L2 penalty (a few features, a few hundred examples: no library needed
beyond numpy); 10-fold out-of-fold accuracy is reported so the number is not the training fit.
Only data we may tune on goes in: the calibration files here (checked against the held-out
eval cases by `copilot eval audit-splits`) and, from the CLI, the dev split of the eval sets.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from knowledge_base.coverage import LEXICAL_FEATURES, VECTOR_FEATURES, Calibration, CoverageFeatures, CoverageModel
from knowledge_base.documents import SearchFilters
from knowledge_base.retriever import HybridRetriever

IN_SCOPE = Path(__file__).resolve().parent / "calibration" / "in_scope.jsonl"
OUT_OF_SCOPE = Path(__file__).resolve().parent / "calibration" / "out_of_scope.jsonl"
FOLDS = 10


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


def fit_model(features: list[CoverageFeatures], y: np.ndarray, names: tuple[str, ...], note: str) -> CoverageModel:
    X = np.array([[f.value(n) for n in names] for f in features])
    Z, mean, scale = _standardised(X)
    w = _logistic(Z, y)
    reference = X[y == 1].mean(axis=0) if (y == 1).any() else mean
    return CoverageModel(bias=float(w[0]), weights={n: float(v) for n, v in zip(names, w[1:])},
                         mean={n: float(v) for n, v in zip(names, mean)},
                         scale={n: float(v) for n, v in zip(names, scale)},
                         reference={n: float(v) for n, v in zip(names, reference)},
                         fitted_on=note, cv_accuracy=round(_cv_accuracy(X, y), 3))


def read(path: Path) -> list[dict]:
    """{query, lang} per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def collect(retriever: HybridRetriever, queries: list[dict]) -> list[CoverageFeatures]:
    out = []
    for q in queries:
        filters = SearchFilters(lang=q.get("lang"), doc_type="article", audience="customer")
        out.append(retriever.search_with_features(q["query"], k=5, filters=filters)[1])
    return out


def fit(retriever: HybridRetriever, in_scope: list[dict], out_of_scope: list[dict], origin: str) -> Calibration:
    """A calibration with this retriever's embedder fitted, and the lexical-only model."""
    queries = in_scope + out_of_scope
    y = np.array([1.0] * len(in_scope) + [0.0] * len(out_of_scope))
    note = f"{len(in_scope)} in-scope + {len(out_of_scope)} out-of-scope queries ({origin}), {date.today()}"
    calibration = Calibration.load()
    feats = collect(retriever, queries)
    if all(f.used_vectors for f in feats):
        calibration.models[retriever.index.embedding.model_id] = fit_model(feats, y, VECTOR_FEATURES, note)
    # the same queries searched lexically only
    lexical = retriever.settings.model_copy(update={"vector_weight": 0.0})
    lex_feats = collect(HybridRetriever(retriever.index, lexical, calibration), queries)
    calibration.lexical_only = fit_model(lex_feats, y, LEXICAL_FEATURES, note)
    return calibration
