"""Whether the knowledge base covers a query, and if not, why: the features read off a
search and the calibrated model that turns them into the confidence behind "the knowledge
base does not cover this" (fitted by `copilot bench calibrate`, see knowledge_base/calibrate.py).

More than the top similarity, because a question inside the business's domain that the
knowledge base does not answer ("do you offer satellite internet?") is as close to some
article as a covered one is. What tells them apart:
- key terms: the share of the question's words, weighted by how rare they are in this
  knowledge base, that the index never uses at all (a word no article or past ticket of the
  desk has is a subject it does not deal with: "satellite", "voicemail"); past tickets carry a
  desk's everyday words ("today", "absolutely"), so on a desk with tickets it is judged against
  the share a text on the desk's own subjects usually brings (`novelty`), and on one without
  them words common in the language at large count as known (`everyday_word`: a manual or a
  one-article desk lacks most everyday words); the words are named in the reason;
- agreement: whether the word-based and the meaning-based searches find the same documents
  among their first few (an answer the two reach separately is likelier to be there);
- the margin of the best match over the next ones (a covered question has a passage that
  stands out; a related one is about equally near several).
All are measured against the knowledge base itself (its own word frequencies, its own
ranking), so the fitted weights carry to another desk; the weights depend on the embedder
(its similarities have a scale of their own) and are kept per embedding model id, with a
lexical-only model for languages the embedder does not know.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from pydantic import BaseModel, Field

from knowledge_base.docstore import DocStore
from knowledge_base.documents import SearchHit
from knowledge_base.tokenizer import function_terms, tokenize

CALIBRATION_FILE = Path(__file__).with_name("calibration") / "calibration.json"
PASSAGES = 3       # the best passages whose words and documents are compared with the question
RUNNERS_UP = 5     # the next vector matches the best one is compared with
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_WORD = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+(?:[-'][0-9A-Za-zА-Яа-яЁё]+)*")

# fitted on the demo desk's dev data: the margin over the runners-up added nothing, and the share of
# key terms in the best passages nothing beyond `unknown` (its weight turned negative), so neither is used
VECTOR_FEATURES = ("top_cos", "agreement", "surprise", "ru")
LEXICAL_FEATURES = ("surprise", "coverage")


class CoverageFeatures(BaseModel):
    top_cos: float = Field(0.0, description="Cosine of the best vector match.")
    cos_gap: float = Field(0.0, description="Best cosine minus the mean of the next RUNNERS_UP.")
    agree: bool = Field(False, description="The best lexical and vector hits come from one document.")
    agreement: float = Field(0.0, description="Share of the first PASSAGES documents both retrievers found.")
    coverage: float = Field(0.0, description="Share of the query's terms the top hit contains.")
    key_coverage: float = Field(0.0, description="Rarity-weighted share of the query's terms the best passages contain.")
    unknown: float = Field(0.0, description="Rarity-weighted share of the query's terms no passage of the "
                           "index contains (articles and tickets, any language).")
    novelty: float = Field(0.0, description="The index's own leave-one-out share of new words (LexicalIndex.novelty).")
    surprise: float = Field(0.0, description="unknown relative to novelty (see surprise()): unknown words beyond "
                            "what the desk's own texts bring to each other.")
    missing: list[str] = Field(default_factory=list, description="The query's rarest words no best passage contains.")
    lexical_top: str | None = None
    vector_top: str | None = None
    lang: str = "en"
    used_vectors: bool = False

    def value(self, name: str) -> float:
        return float(self.lang == "ru") if name == "ru" else float(getattr(self, name))


class HeldOutDesk(BaseModel):
    """How a model fitted without one desk judges that desk's queries of one language."""

    desk: str
    lang: str
    not_covered: int = Field(description="Queries the desk does not answer.")
    not_covered_found: int = Field(description="... judged not covered.")
    covered: int = Field(description="Queries the desk answers.")
    covered_refused: int = Field(description="... judged not covered.")


class CoverageModel(BaseModel):
    """Logistic model of "the knowledge base covers this query" over standardised features:
    z = bias + sum(weight[f] * (x[f] - mean[f]) / scale[f]);  confidence = 1 / (1 + exp(-z)).
    `reference` holds the features' means over covered training queries: a feature that pulls
    a query far below it is the reason given for "not covered"."""

    bias: float
    weights: dict[str, float] = Field(default_factory=dict)
    mean: dict[str, float] = Field(default_factory=dict)
    scale: dict[str, float] = Field(default_factory=dict)
    reference: dict[str, float] = Field(default_factory=dict)
    fitted_on: str = ""
    cv_accuracy: float | None = Field(None, description="Accuracy out of fold (10-fold) on the training queries.")
    held_out_desks: list[HeldOutDesk] = Field(default_factory=list, description="Each training desk, per "
                                                "language, under a model fitted on the other desks only.")

    def contributions(self, features: CoverageFeatures) -> dict[str, float]:
        """Each feature's push on z relative to a typical covered query (negative: towards 'not covered')."""
        return {f: w * (features.value(f) - self.reference.get(f, self.mean.get(f, 0.0))) / self.scale.get(f, 1.0)
                for f, w in self.weights.items()}

    def confidence(self, features: CoverageFeatures) -> float:
        z = self.bias + sum(w * (features.value(f) - self.mean.get(f, 0.0)) / self.scale.get(f, 1.0)
                            for f, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class Calibration(BaseModel):
    """Fitted by `copilot bench calibrate`; vector models are keyed by embedding model id."""

    models: dict[str, CoverageModel] = Field(default_factory=dict)
    lexical_only: CoverageModel = CoverageModel(bias=0.0, weights={"coverage": 1.0, "surprise": -2.0},
                                                mean={"coverage": 0.5, "surprise": 0.1},
                                                scale={"coverage": 0.2, "surprise": 0.2}, fitted_on="defaults")

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


def _documents(ranked: list[tuple[str, float]], source_of: dict[str, str]) -> list[str]:
    out: list[str] = []
    for cid, _ in ranked:
        source = source_of.get(cid)
        if source and source not in out:
            out.append(source)
    return out


def _surface(query: str) -> dict[str, str]:
    """Each term of the query as the customer wrote it (the first word that stems to it)."""
    out: dict[str, str] = {}
    for word in _WORD.findall(query):
        for term in tokenize(word):
            out.setdefault(term, word)
    return out


def coverage_features(docstore: DocStore, query: str, tokens: list[str], lang: str, hits: list[SearchHit],
                      lexical: list[tuple[str, float]], vector: list[tuple[str, float]],
                      frequencies: tuple[dict[str, int], int], anywhere: dict[str, int],
                      novelty: float = 0.0, everyday: float = 0.0) -> CoverageFeatures:
    """What the coverage model reads off one search: the fused hits, each retriever's own list,
    how many passages of the searched part of the knowledge base hold each query term
    (`frequencies`: term -> passages, and the number of passages searched) and how many of the
    whole index do (`anywhere`: articles and past tickets of every language, so a greeting or a
    weekday customers write is known even if no article uses it), and the index's `novelty`."""
    if not hits:
        return CoverageFeatures(lang=lang, used_vectors=bool(vector), missing=list(_surface(query).values())[:3])
    heads = [cid for cid, _ in lexical[:20]] + [cid for cid, _ in vector[:20]]
    source_of = {cid: c.source_id for cid, c in docstore.chunks(list(dict.fromkeys(heads))).items()}
    lex_docs, vec_docs = _documents(lexical, source_of), _documents(vector, source_of)
    agree = bool(lex_docs and vec_docs and lex_docs[0] == vec_docs[0])
    agreement = len(set(lex_docs[:PASSAGES]) & set(vec_docs[:PASSAGES])) / PASSAGES if lex_docs and vec_docs else 0.0

    passage_terms = [set(tokenize(f"{h.title}\n{h.heading}\n{h.text}")) for h in hits[:PASSAGES]]
    best = set().union(*passage_terms)
    q = set(tokens)
    df, total = frequencies
    # inverse document frequency: a word every passage has says little about the answer
    idf = {t: math.log((total + 1) / (df.get(t, 0) + 0.5)) for t in q}
    weight = sum(idf.values()) or 1.0
    # words the index never uses first (the subject it does not deal with), then the rarest
    # the reason names subject words: the index's stop list is short in English (33 words against
    # 151 in Russian), so "do" or "my" would otherwise be named as missing
    surface = _surface(query)

    known = {t for t in q if anywhere.get(t) or everyday_word(surface.get(t, t), everyday)}
    unknown = sum(idf[t] for t in q if t not in known) / weight if q else 0.0
    absent = sorted((t for t in q - function_terms() if t not in best), key=lambda t: (t in known, -idf[t], t))
    cosines = [s for _, s in vector]
    return CoverageFeatures(
        top_cos=cosines[0] if cosines else 0.0,
        cos_gap=cosines[0] - sum(cosines[1:RUNNERS_UP + 1]) / len(cosines[1:RUNNERS_UP + 1]) if len(cosines) > 1 else 0.0,
        agree=agree, agreement=agreement,
        coverage=len(q & passage_terms[0]) / len(q) if q else 0.0,
        key_coverage=sum(idf[t] for t in q if t in best) / weight if q else 0.0,
        unknown=unknown, novelty=novelty, surprise=surprise(unknown, novelty),
        missing=list(dict.fromkeys(surface.get(t, t) for t in absent))[:3],  # "555-123" is one word
        lexical_top=lex_docs[0] if lex_docs else None, vector_top=vec_docs[0] if vec_docs else None,
        lang=lang, used_vectors=bool(vector),
    )


def everyday_word(word: str, zipf: float) -> bool:
    """A word of everyday speech in its language (wordfreq's Zipf frequency at least `zipf`;
    0: none is): "absolutely", "hello", "France" say nothing of whether a desk covers a
    question, even when its articles never use them and it has no past tickets that do
    (while "voicemail", "satellite" or "биткоинами" are rarer, and still count)."""
    if zipf <= 0:
        return False
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "ru" if _CYRILLIC.search(word) else "en") >= zipf


def surprise(unknown: float, novelty: float) -> float:
    """Where the query's share of unknown words sits between a typical text on the desk's own
    subjects (0: as many as `novelty`) and a text sharing no word with the index (1), down to
    -1 for a more familiar one. On a large desk (novelty near 0) this is `unknown` itself, up
    to a scale the fitted model absorbs; a small desk with tickets is judged against its own
    wording (a desk without tickets gets novelty 0 and `everyday_word` instead)."""
    return max(-1.0, min(1.0, (unknown - novelty) / max(1.0 - novelty, 0.05)))


def not_covered_reason(model: CoverageModel, features: CoverageFeatures, confidence: float, threshold: float) -> str:
    """Why the query was judged not covered: the features that pull it furthest below a
    typical covered query, in words an operator can check against the passages."""
    if confidence >= threshold:
        return ""
    pulls = sorted((c, f) for f, c in model.contributions(features).items() if c < -0.25 and f != "ru")
    said: list[str] = []
    for _, f in pulls[:2]:
        if f in ("key_coverage", "surprise", "coverage"):
            words = ", ".join(f"'{w}'" for w in features.missing)
            text = f"no passage contains {words}" if words else "the passages share few of its words"
        elif f == "agreement":
            text = (f"retrievers disagree (by words: {features.lexical_top or 'nothing'}; "
                    f"by meaning: {features.vector_top or 'nothing'})")
        elif f == "top_cos":
            text = f"the closest passage is a weak match (similarity {features.top_cos:.2f})"
        else:  # cos_gap
            text = "no passage stands out from the rest"
        if text not in said:
            said.append(text)
    return "; ".join(said) or f"confidence {confidence:.2f} below {threshold:.2f}"
