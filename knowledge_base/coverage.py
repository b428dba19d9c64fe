"""Whether the knowledge base covers a query: the features read off a search and the
calibrated model that turns them into the confidence behind "the knowledge base does not
cover this" (fitted by `copilot bench calibrate`, see knowledge_base/calibrate.py)."""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import BaseModel, Field

from knowledge_base.docstore import DocStore
from knowledge_base.documents import SearchHit
from knowledge_base.tokenizer import tokenize

CALIBRATION_FILE = Path(__file__).with_name("calibration") / "calibration.json"


class CoverageModel(BaseModel):
    """Logistic model of "the knowledge base covers this query", one per embedding model:
    z = bias + w_cos * top cosine + w_agree * [top vector and lexical hits share a document]
        + w_ru * [query is Russian];  confidence = 1 / (1 + exp(-z)).
    Queries searched lexically only (no embedder for the language) use
    z = bias + w_coverage * share of query terms found in the top hit."""

    bias: float
    w_cos: float = 0.0
    w_agree: float = 0.0
    w_ru: float = 0.0
    w_coverage: float = 0.0
    fitted_on: str = ""
    loo_accuracy: float | None = None

    def confidence(self, features: "CoverageFeatures") -> float:
        z = (self.bias + self.w_cos * features.top_cos + self.w_agree * float(features.agree)
             + self.w_ru * float(features.lang == "ru") + self.w_coverage * features.coverage)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class Calibration(BaseModel):
    """Fitted by `copilot bench calibrate`; vector models are keyed by embedding model id."""

    models: dict[str, CoverageModel] = Field(default_factory=dict)
    lexical_only: CoverageModel = CoverageModel(bias=-3.0, w_coverage=6.0, fitted_on="defaults")

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> "Calibration":
        return cls.model_validate_json(path.read_text()) if path.exists() else cls()

    def save(self, path: Path = CALIBRATION_FILE) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n")

    def model_for(self, model_id: str, used_vectors: bool) -> CoverageModel:
        if used_vectors and model_id in self.models:
            return self.models[model_id]
        return self.lexical_only


class CoverageFeatures(BaseModel):
    top_cos: float = 0.0
    agree: bool = False
    coverage: float = 0.0
    lang: str = "en"
    used_vectors: bool = False


def coverage_features(docstore: DocStore, tokens: list[str], lang: str, hits: list[SearchHit],
                      lexical: list[tuple[str, float]], vector: list[tuple[str, float]]) -> CoverageFeatures:
    """What the coverage model reads off one search: the fused hits and each retriever's own list."""
    if not hits:
        return CoverageFeatures(lang=lang, used_vectors=bool(vector))
    top = hits[0]
    agree = False
    if lexical and vector:
        tops = docstore.chunks([lexical[0][0], vector[0][0]])
        a, b = tops.get(lexical[0][0]), tops.get(vector[0][0])
        agree = bool(a and b and a.source_id == b.source_id)
    q = set(tokens)
    top_tokens = set(tokenize(f"{top.title}\n{top.heading}\n{top.text}"))
    return CoverageFeatures(
        top_cos=vector[0][1] if vector else 0.0, agree=agree,
        coverage=len(q & top_tokens) / len(q) if q else 0.0, lang=lang, used_vectors=bool(vector),
    )
