"""Turns the formulas leave open ("good evening, hope you can help", «есть кто живой?», "wifi's
back, thanks!"), judged over the multilingual embedder: is the turn a greeting, a closing, or
something to answer?

Features of a text: its L2-normalised embedding (the configured embedder's `embed_documents`)
and what the formulas read off it (`formula_features`: the share of its clauses that are
formulas, whether one greets, closes or acknowledges, its length), standardised. Two
L2-regularised logistic regressions (knowledge_base/logistic.py): small talk (greeting or
closing) vs a request, on every turn, and closing vs greeting, on the small talk. Trained on `utterances.jsonl` (hand-written customer turns of
many businesses, both languages, labelled greeting / closing / request) and, as requests, the
dev split of the routing utterances (ordinary and difficult customer turns; the ordinary ones the
formulas take for small talk left out). Lambda is chosen
per label by 5-fold cross-validation (out-of-fold log loss), and the threshold from the
out-of-fold probabilities as the lowest that keeps the precision at `PRECISION` or more: a
request taken for small talk gets "How can I help you?" instead of an answer, which costs more
than a greeting searched as a request. The eval set (evals/datasets/small_talk) is never
trained on.

Cached in `<cache_dir>/small-talk-<embedder id>-<hash>.npz`, the hash covering the data and
the code, so any change to them retrains.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, Field

from copilot.jsonl import read_records
from copilot.small_talk import formulas
from copilot.small_talk.formulas import Act, formula_features, turn_act
from knowledge_base.logistic import (chosen_l2, cross_validated, fit_logistic, one_blas_thread, sigmoid,
                                    stratified_folds)

DATA = Path(__file__).with_name("utterances.jsonl")
ROUTING_DATA = Path(__file__).resolve().parent.parent / "routing" / "utterances.jsonl"
PRECISION = 0.97

EmbedFn = Callable[[list[str]], list[list[float]]]


class Turn(BaseModel):
    text: str = Field(min_length=1)
    lang: Literal["en", "ru"]
    label: Literal["greeting", "closing", "request"]
    origin: str = Field(min_length=1)


def training_turns(data: Path = DATA, routing: Path = ROUTING_DATA) -> list[Turn]:
    turns = [t for _, t in read_records(data, Turn, "turn")]
    if routing.exists():
        from copilot.routing.classifier import Utterance

        # requests here, except the ordinary turns the formulas alone take for small talk (the routing
        # utterances hold a few plain thank-yous: "it works now, thank you!" is not a request)
        turns += [Turn(text=u.text, lang=u.lang, label="request", origin=f"{routing.name} ({u.origin})")
                  for _, u in read_records(routing, Utterance, "utterance")
                  if u.split == "dev" and (u.labels or turn_act(u.text, agent_spoke=False) is None)]
    return turns


def precise_threshold(scores: np.ndarray, y: np.ndarray, precision: float = PRECISION) -> float:
    """The lowest threshold whose flagged scores (>= it) keep `precision`; inf when none does."""
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order]
    tp = np.cumsum(t)
    k = np.arange(1, len(s) + 1)
    valid = np.append(s[:-1] > s[1:], True) & (tp / k >= precision)
    if not valid.any():
        return float("inf")
    best = int(np.nonzero(valid)[0].max())
    return float(s[best]) if best == len(s) - 1 else float((s[best] + s[best + 1]) / 2)


class SmallTalkClassifier:
    _memo: ClassVar[dict[Path, "SmallTalkClassifier"]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, embed_fn: EmbedFn, w: np.ndarray, b: np.ndarray, mean: np.ndarray, scale: np.ndarray,
                 thresholds: np.ndarray, cv_probabilities: np.ndarray):
        self.embed_fn = embed_fn
        self.w, self.b, self.mean, self.scale = w, b, mean, scale  # w: features x labels
        self.thresholds = thresholds
        self.cv_probabilities = cv_probabilities  # training turns, each scored by a fold model that did not see it

    @staticmethod
    def features(embed_fn: EmbedFn, texts: Sequence[str]) -> np.ndarray:
        emb = np.asarray(embed_fn(list(texts)), dtype=np.float64).reshape(len(texts), -1)
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
        extra = np.array([formula_features(t) for t in texts], dtype=np.float64)
        extra[:, -1] = np.log1p(extra[:, -1])  # the length: 3 words against 30 matters, 30 against 60 less
        return np.hstack([emb, extra])

    @classmethod
    def train(cls, embed_fn: EmbedFn, turns: list[Turn]) -> "SmallTalkClassifier":
        X = cls.features(embed_fn, [t.text for t in turns])
        folds = stratified_folds([f"{t.lang}:{t.label}" for t in turns])
        talk = np.array([t.label != "request" for t in turns])
        closing = np.array([t.label == "closing" for t in turns], dtype=np.float64)
        W, B, T = [], [], []
        cv = np.zeros((len(turns), 2))
        with one_blas_thread():
            mean, sd = X.mean(axis=0), X.std(axis=0)
            scale = np.where(sd > 1e-8, sd, 1.0)
            # asks nothing vs a request, on every turn; then which act, on the small talk alone
            for j, (rows, y) in enumerate(((np.ones(len(turns), bool), talk.astype(np.float64)), (talk, closing))):
                idx = np.nonzero(rows)[0]
                Xs, ys = X[idx], y[idx]
                oof = cross_validated(Xs, ys, folds[idx])
                l2 = chosen_l2(oof, ys)
                w, b = fit_logistic((Xs - mean) / scale, ys, l2)
                W.append(w)
                B.append(b)
                T.append(precise_threshold(oof[l2], ys) if j == 0 else 0.5)
                cv[idx, j] = oof[l2]
        return cls(embed_fn, np.stack(W, axis=1), np.array(B), mean, scale, np.array(T), cv)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """p(asks nothing), p(closing | asks nothing) per text."""
        if not texts:
            return np.zeros((0, 2))
        return sigmoid(((self.features(self.embed_fn, texts) - self.mean) / self.scale) @ self.w + self.b)

    def acts(self, texts: list[str]) -> list[Act | None]:
        """The act of each text: None when p(asks nothing) is below its threshold, else the
        likelier of greeting and closing."""
        return [None if p[0] < self.thresholds[0] else ("closing" if p[1] >= self.thresholds[1] else "greeting")
                for p in self.probabilities(texts)]

    def with_embedder(self, embed_fn: EmbedFn) -> "SmallTalkClassifier":
        """The same model reading texts through another route to the same embedder (customer
        text: memory-cached only)."""
        return SmallTalkClassifier(embed_fn, self.w, self.b, self.mean, self.scale, self.thresholds,
                                   self.cv_probabilities)

    @staticmethod
    def cache_path(model_id: str, cache_dir: Path, data: Path = DATA, routing: Path = ROUTING_DATA) -> Path:
        h = hashlib.sha256()
        for part in (model_id.encode(), data.read_bytes(), routing.read_bytes() if routing.exists() else b"",
                     Path(__file__).read_bytes(), Path(formulas.__file__).read_bytes()):
            h.update(hashlib.sha256(part).digest())
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model_id)
        return Path(cache_dir) / f"small-talk-{safe}-{h.hexdigest()[:16]}.npz"

    @classmethod
    def load_or_train(cls, embed_fn: EmbedFn, model_id: str, cache_dir: Path,
                      data: Path = DATA, routing: Path = ROUTING_DATA) -> "SmallTalkClassifier":
        path = cls.cache_path(model_id, cache_dir, data, routing)
        with cls._lock:
            if path in cls._memo:
                return cls._memo[path].with_embedder(embed_fn)
            model = None
            if path.exists():
                try:
                    with np.load(path, allow_pickle=False) as f:
                        model = cls(embed_fn, f["w"], f["b"], f["mean"], f["scale"], f["thresholds"], f["cv"])
                except (OSError, ValueError, KeyError):
                    model = None  # a damaged cache is retrained, not trusted
            if model is None:
                model = cls.train(embed_fn, training_turns(data, routing))
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
                os.close(fd)
                np.savez_compressed(tmp, w=model.w, b=model.b, mean=model.mean, scale=model.scale,
                                    thresholds=model.thresholds, cv=model.cv_probabilities)
                os.replace(tmp, path)  # another process sees the old file or the whole new one
            cls._memo[path] = model
            return model
