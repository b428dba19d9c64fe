"""The suggestion and the conversation: the JSON contract of DESIGN.md.

Outside tools read `Suggestion.model_dump_json()`; field names and meanings are fixed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from knowledge_base.documents import HANDOFF_REASONS, HandoffReason  # noqa: F401  (part of the contract)

Language = Literal["ru", "en"]


class Message(BaseModel):
    role: Literal["customer", "agent"]
    text: str = Field(min_length=1)


PROFILE_FIELD_MAX_CHARS = 200  # a helpdesk's profile field is a name or a number, not a document


class CustomerProfile(BaseModel):
    """What the helpdesk knows of the customer; text fields are cut to PROFILE_FIELD_MAX_CHARS
    (a form the customer filled in can hold anything)."""

    contract_number: str | None = None
    name: str | None = None
    plan: str | None = None
    tenure_months: int | None = Field(None, ge=0)

    @field_validator("contract_number", "name", "plan")
    @classmethod
    def _bounded(cls, value: str | None) -> str | None:
        return value[:PROFILE_FIELD_MAX_CHARS] if value else value


class Conversation(BaseModel):
    """Input of `copilot suggest`: {"messages": [...], "profile": {...}}."""

    messages: list[Message] = Field(min_length=1)
    profile: CustomerProfile = CustomerProfile()
    channel: Literal["chat", "email", "phone"] | None = Field(
        None, description="Where the conversation happens (the helpdesk knows); default: the desk's channel. "
        "A reply never tells the customer to contact us through the channel they are already on.")

    @field_validator("messages")
    @classmethod
    def _has_customer_turn(cls, messages: list[Message]) -> list[Message]:
        if not any(m.role == "customer" and m.text.strip() for m in messages):
            raise ValueError("needs at least one message with role 'customer' that is not blank")
        return messages

    def customer_text(self) -> str:
        return "\n".join(m.text for m in self.messages if m.role == "customer")


class Intent(BaseModel):
    label: str
    confidence: float = Field(ge=0, le=1)


class Sentiment(BaseModel):
    label: Literal["negative", "neutral", "positive"]
    score: float = Field(ge=-1, le=1)
    signals: list[str] = Field(default_factory=list, description="What triggered the label.")


class Draft(BaseModel):
    text: str
    mode: Literal["llm", "retrieval"]
    prompt: str
    model: str
    warnings: list[str] = Field(default_factory=list)


class Citation(BaseModel):
    n: int = Field(ge=1)
    source_id: str
    chunk_id: str
    title: str
    quote: str


class SentenceCheck(BaseModel):
    text: str
    supported: bool
    citation: int | None = None
    score: float = 0.0
    factual: bool = True
    reason: str = ""
    removed: bool = Field(False, description="Left out of the draft (an invented fee, date, number...).")


class Grounding(BaseModel):
    supported: int = 0
    unsupported: int = Field(0, description="Unsupported factual sentences still in the draft (marked).")
    removed: int = Field(0, description="Unsupported sentences taken out of the draft.")
    sentences: list[SentenceCheck] = Field(default_factory=list)


class Question(BaseModel):
    fact: str
    text: str
    why: str
    origin: Literal["front_matter", "derived", "tickets", "basics"] = Field(
        "front_matter", description="Where the question comes from: an article's front matter, a check derived "
        "from an article's text (shown as derived until a supervisor approves it), past tickets, or the desk's "
        "basics for any reported problem.")
    source_id: str | None = Field(None, description="The article it comes from.")
    sentence: str | None = Field(None, description="For a derived question: the source sentence.")
    review: Literal["pending", "approved"] | None = Field(None, description="For a derived question: its review.")


class RuleCitation(BaseModel):
    """The knowledge-base sentence that says a person must take over, and how it applies."""

    reason: HandoffReason
    source_id: str
    condition: str
    sentence: str
    origin: Literal["front_matter", "derived"]
    review: Literal["pending", "approved"] | None = None
    similarity: float = 0.0


class Handoff(BaseModel):
    needed: bool = False
    urgency: Literal["low", "medium", "high"] = "low"
    reasons: list[HandoffReason] = Field(default_factory=list)
    queue: str = ""
    summary: str = ""
    rules: list[RuleCitation] = Field(default_factory=list, description="Knowledge-base rules that fired.")


class SimilarCase(BaseModel):
    """A past ticket like this one, for the operator (not cited to the customer)."""

    source_id: str
    title: str
    outcome: str
    resolution: str
    score: float


class Coverage(BaseModel):
    """Whether the knowledge base answers the question, and if not, why (for the operator)."""

    covered: bool = True
    reason: str = Field("", description="When not covered: e.g. off-domain, no passage contains 'static IP', "
                        "retrievers disagree, a weak best match.")


class Suggestion(BaseModel):
    language: Language
    intent: Intent
    sentiment: Sentiment
    draft: Draft
    citations: list[Citation] = Field(default_factory=list)
    grounding: Grounding = Grounding()
    questions: list[Question] = Field(default_factory=list, max_length=3)
    handoff: Handoff = Handoff()
    confidence: float = Field(0.0, ge=0, le=1)
    timings_ms: dict[str, float] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    flags: list[str] = Field(
        default_factory=list, description="Safety flags, e.g. prompt_injection, pii_masked."
    )
    similar_cases: list[SimilarCase] = Field(default_factory=list)
    facts: dict[str, str] = Field(default_factory=dict, description="Facts the customer already gave (key: evidence).")
    coverage: Coverage = Coverage()


class SuggestionTrace(BaseModel):
    """What evaluation looks at inside a suggestion (not part of the JSON contract): the
    search, and the model's own draft with its grounding before any fallback."""

    query: str = ""
    retrieved: list[str] = Field(default_factory=list, description="Source ids of the answer passages, ranked.")
    retrieval_confidence: float | None = None
    llm_raw: str | None = Field(None, description="The model's reply as it came, citations included.")
    llm_grounding: Grounding | None = None
    llm_accepted: bool | None = Field(None, description="None: no model draft was judged.")
    llm_problem: str | None = None
