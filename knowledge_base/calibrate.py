"""Fit the coverage model behind `SearchResult.confidence` on labelled queries:
in-scope ones the knowledge base answers, and out-of-scope ones it does not.

Logistic regression by Newton's method with a small L2 penalty (a few features, a
hundred examples: no library needed beyond numpy); leave-one-out accuracy is reported so
the number in the docs is not the training fit.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from knowledge_base.documents import SearchFilters
from knowledge_base.coverage import Calibration, CoverageFeatures, CoverageModel
from knowledge_base.retriever import HybridRetriever

IN_SCOPE = Path(__file__).resolve().parent.parent / "tests" / "data" / "retrieval_queries.jsonl"
OUT_OF_SCOPE = Path(__file__).resolve().parent / "calibration" / "out_of_scope.jsonl"


def _logistic(X: np.ndarray, y: np.ndarray, l2: float = 1e-2) -> np.ndarray:
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


def _loo_accuracy(X: np.ndarray, y: np.ndarray) -> float:
    right = 0
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        w = _logistic(X[keep], y[keep])
        right += int((w[0] + X[i] @ w[1:] > 0) == bool(y[i]))
    return right / len(y)


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def collect(retriever: HybridRetriever, queries: list[dict]) -> list[CoverageFeatures]:
    out = []
    for q in queries:
        filters = SearchFilters(lang=q.get("lang"), doc_type="article", audience="customer")
        out.append(retriever.search_with_features(q["query"], k=5, filters=filters)[1])
    return out


def fit(retriever: HybridRetriever, in_scope: Path = IN_SCOPE, out_of_scope: Path = OUT_OF_SCOPE) -> Calibration:
    """A calibration with this retriever's embedder fitted, and the lexical-only model."""
    pos, neg = _read(in_scope), _read(out_of_scope)
    feats = collect(retriever, pos + neg)
    y = np.array([1.0] * len(pos) + [0.0] * len(neg))
    note = f"{len(pos)} in-scope ({in_scope.name}) + {len(neg)} out-of-scope ({out_of_scope.name}), {date.today()}"
    calibration = Calibration.load()
    if all(f.used_vectors for f in feats):
        X = np.array([[f.top_cos, float(f.agree), float(f.lang == "ru")] for f in feats])
        w = _logistic(X, y)
        calibration.models[retriever.index.embedding.model_id] = CoverageModel(
            bias=float(w[0]), w_cos=float(w[1]), w_agree=float(w[2]), w_ru=float(w[3]),
            fitted_on=note, loo_accuracy=round(_loo_accuracy(X, y), 3))
    # the same queries searched lexically only
    lexical = retriever.settings.model_copy(update={"vector_weight": 0.0})
    lex_feats = collect(HybridRetriever(retriever.index, lexical, calibration), pos + neg)
    X = np.array([[f.coverage] for f in lex_feats])
    w = _logistic(X, y)
    calibration.lexical_only = CoverageModel(bias=float(w[0]), w_coverage=float(w[1]), fitted_on=note,
                                             loo_accuracy=round(_loo_accuracy(X, y), 3))
    return calibration
