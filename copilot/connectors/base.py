"""The one small interface every helpdesk connector implements (Request Tracker, Chatwoot, ...).

A connector turns the helpdesk's ticket or conversation into our `Conversation`, and carries
what the copilot and the operator produce back: the suggestion as an internal note, the reply
the operator sent, a handoff to another queue. Helpdesk roles map onto ours (operator,
supervisor, admin) so the panel and the API apply the same rights whatever the helpdesk says.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from copilot.schema import Conversation, Suggestion

Role = Literal["operator", "supervisor", "admin"]
ReplyKind = Literal["reply", "note"]


class HelpdeskRef(BaseModel):
    """Where a conversation lives: which helpdesk (`rt`, `chatwoot`) and its id there."""

    helpdesk: str = Field(min_length=1, description="The connector's name, e.g. 'rt' or 'chatwoot'.")
    conversation_id: str = Field(min_length=1, description="The ticket or conversation id in that helpdesk.")
    url: str | None = Field(None, description="A link an operator can open in the helpdesk.")

    def key(self) -> str:
        return f"{self.helpdesk}:{self.conversation_id}"


class ConnectorError(RuntimeError):
    """The helpdesk refused or could not be reached; the message names the helpdesk and the call."""


@runtime_checkable
class Connector(Protocol):
    name: str

    def fetch_conversation(self, ref: HelpdeskRef) -> Conversation:
        """The conversation so far, customer and agent turns in order (internal notes left out)."""

    def post_suggestion(self, ref: HelpdeskRef, suggestion: Suggestion) -> str:
        """Post the suggestion for the agent only (an internal comment or private note); returns its id."""

    def post_reply(self, ref: HelpdeskRef, text: str, kind: ReplyKind = "reply") -> str:
        """Post what the operator sent: to the customer (`reply`) or as an internal `note`; returns its id."""

    def hand_off(self, ref: HelpdeskRef, queue: str, summary: str) -> None:
        """Move the conversation to `queue` (the route's queue) with `summary` as an internal comment."""

    def map_role(self, helpdesk_role: str) -> Role:
        """Our role for a helpdesk user's role or group."""
