"""The records that flow through ingestion and retrieval."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import BaseModel, Field

# Why a person must take over: the fixed codes of DESIGN.md. Articles name them in their
# `handoff` rules; the application's suggestion carries them.
HandoffReason = Literal[
    "explicit_human_request",
    "frustration_or_loop",
    "legal_or_regulatory_threat",
    "fraud_or_security",
    "vulnerable_customer",
    "policy_requires_human",
    "no_grounded_answer",
    "account_verification_required",
    "complaint_compensation",
]
HANDOFF_REASONS: tuple[str, ...] = HandoffReason.__args__  # type: ignore[attr-defined]

DocType = Literal["article", "ticket"]
Audience = Literal["customer", "internal"]


class RequiredFact(BaseModel):
    """One fact of the anamnesis a problem article needs, with the question per language."""

    fact: str
    question: dict[str, str]
    why: str = ""


class HandoffRule(BaseModel):
    """A case of the article that needs a person."""

    reason: HandoffReason
    when: str = ""


class TicketInfo(BaseModel):
    """What a past ticket adds beyond its text."""

    outcome: Literal["resolved", "escalated"]
    csat: int | None = Field(None, ge=1, le=5)
    resolution: str
    agent_questions: list[str] = Field(default_factory=list)
    created: str | None = None


class SourceDocument(BaseModel):
    """One knowledge source after parsing and cleaning: an article or a past ticket."""

    id: str = Field(min_length=1)
    title: str
    text: str
    lang: str
    doc_type: DocType = "article"
    audience: Audience = Field("customer", description="internal: guidance for agents, never cited to customers.")
    tags: list[str] = Field(default_factory=list)
    updated: str | None = None
    status: Literal["current", "outdated"] = "current"
    superseded_by: str | None = None
    required_facts: list[RequiredFact] = Field(default_factory=list)
    handoff: list[HandoffRule] = Field(default_factory=list)
    ticket: TicketInfo | None = None
    path: str = Field("", description="Path relative to the source root.")
    fmt: str = Field("", description="md, txt, html, json, jsonl or csv.")
    line: int | None = Field(None, description="Line of the record in a JSONL or CSV file.")

    def content_hash(self) -> str:
        """Hash of everything that affects the index; unchanged hash = skip the document."""
        payload = self.model_dump(mode="json", exclude={"path", "line"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def meta(self) -> dict:
        """Document metadata kept in the docstore (anamnesis, handoff, ticket details): the
        JSON of `DocumentMeta`."""
        return self.model_dump(mode="json", include=set(DocumentMeta.model_fields))


class DocumentMeta(BaseModel):
    """What the docstore keeps of a document beyond its chunks, typed."""

    required_facts: list[RequiredFact] = Field(default_factory=list)
    handoff: list[HandoffRule] = Field(default_factory=list)
    ticket: TicketInfo | None = None
    updated: str | None = None
    superseded_by: str | None = None
    fmt: str = ""


class Chunk(BaseModel):
    """A retrievable passage. `index_text` (title, heading path, text) is what both
    indexes see, so a passage keeps the context of the article it came from."""

    chunk_id: str
    source_id: str
    ord: int
    title: str
    heading: str = ""
    text: str
    lang: str
    doc_type: DocType
    audience: Audience = "customer"
    tags: list[str] = Field(default_factory=list)

    @property
    def index_text(self) -> str:
        head = self.title if not self.heading or self.heading == self.title else f"{self.title} > {self.heading}"
        return f"{head}\n{self.text}"


class SearchHit(BaseModel):
    source_id: str
    chunk_id: str
    title: str
    heading: str = ""
    text: str
    score: float
    found_by: list[Literal["vector", "lexical", "tickets"]]
    lang: str
    doc_type: DocType
    audience: Audience = "customer"
    tags: list[str] = Field(default_factory=list)
    vector_similarity: float | None = None
    lexical_score: float | None = None


class SearchFilters(BaseModel):
    lang: str | None = None
    doc_type: DocType | None = None
    audience: Audience | None = None
    tags: list[str] = Field(default_factory=list, description="Any of these tags.")

    def is_empty(self) -> bool:
        return not (self.lang or self.doc_type or self.audience or self.tags)


class SearchResult(BaseModel):
    query: str
    hits: list[SearchHit]
    confidence: float = Field(ge=0, le=1)
    covered: bool = Field(description="False: the knowledge base likely does not cover the query.")
    coverage_reason: str = Field("", description="When not covered, why (words no passage contains, retrievers "
                                 "that disagree, a weak best match).")
    timings_ms: dict[str, float] = Field(default_factory=dict)
