"""What the API reads and writes, beyond the suggestion itself (copilot/schema.py). These
models are the OpenAPI schema committed as docs/openapi.json."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from copilot.feedback.store import REJECT_REASONS
from copilot.schema import Conversation, Draft, Citation, Grounding, Handoff, Question, Suggestion

FeedbackAction = Literal["inserted", "edited", "sent", "rejected"]


class HelpdeskReference(BaseModel):
    """Where the conversation lives in the helpdesk, kept with the suggestion."""

    system: str = Field(min_length=1, max_length=50, description="The helpdesk, e.g. 'rt' or 'chatwoot'.")
    conversation_id: str = Field(min_length=1, max_length=200, description="Its ticket or conversation id.")
    url: str | None = Field(None, max_length=2000)


class SuggestionRequest(Conversation):
    """The conversation of `copilot suggest FILE` and, optionally, where it comes from."""

    reference: HelpdeskReference | None = None
    operator: str | None = Field(None, min_length=1, max_length=100,
                                 description="The agent the suggestion is for; default: the API token's name.")
    deadline_s: float | None = Field(None, gt=0, le=600, description="Answer within this many seconds (at most the "
                                     "server's `api.deadline_s`): past it the model's draft is dropped.")


class FeedbackRequest(BaseModel):
    action: FeedbackAction = Field(description="inserted into the reply box, edited there, sent to the customer, "
                                   "or rejected.")
    text: str = Field("", max_length=50_000, description="The reply as sent (required for 'sent'), or as edited.",
                      validate_default=True)
    reason: Literal[REJECT_REASONS] | None = Field(  # type: ignore[valid-type]
        None, description="Why it was rejected (required for 'rejected').", validate_default=True)
    note: str = Field("", max_length=5_000)
    operator: str | None = Field(None, min_length=1, max_length=100, description="Default: the API token's name.")

    @field_validator("text")
    @classmethod
    def _sent_has_text(cls, text: str, info: ValidationInfo) -> str:
        if info.data.get("action") == "sent" and not text.strip():
            raise ValueError("the text sent to the customer is required when action is 'sent'")
        return text

    @field_validator("reason")
    @classmethod
    def _rejected_has_reason(cls, reason: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("action") == "rejected" and reason is None:
            raise ValueError(f"required when action is 'rejected': one of {', '.join(REJECT_REASONS)}")
        return reason


class FeedbackReceipt(BaseModel):
    id: int
    suggestion_id: int
    action: str
    edit_distance: float | None = Field(None, description="0 = sent as drafted, 1 = rewritten (sent, edited).")


class FeedbackRecord(BaseModel):
    id: int
    created_at: datetime
    operator: str
    action: str
    text: str
    reason: str
    note: str
    edit_distance: float | None


class SuggestionRecord(BaseModel):
    """A stored suggestion: any instance serves it, the feedback store keeps it."""

    id: int
    created_at: datetime
    operator: str
    reference: HelpdeskReference | None = None
    suggestion: Suggestion
    feedback: list[FeedbackRecord] = Field(default_factory=list)


class Health(BaseModel):
    status: Literal["ok"]
    instance: str = Field(description="host:pid of the instance that answered.")
    documents: int
    feedback_revision: str | None


# -- server-sent events of POST /v1/suggestions?stream=true, in this order ------------------
class DraftEvent(BaseModel):
    """`retrieval_draft` and `model_draft`: a verified draft with its citations."""

    draft: Draft
    citations: list[Citation]
    grounding: Grounding


class QuestionsEvent(BaseModel):
    questions: list[Question]


class HandoffEvent(BaseModel):
    handoff: Handoff


class ModelDroppedEvent(BaseModel):
    reason: str = Field(description="Why no model draft replaces the retrieval draft.")


class ErrorEvent(BaseModel):
    status: int
    detail: str
