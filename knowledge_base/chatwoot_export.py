"""Chatwoot conversations as past tickets, so an export ingests as resolution cards.

An export record is what Chatwoot's application API answers, kept together:
`{"conversation": <GET /api/v1/accounts/{a}/conversations/{id}>, "messages": <the "payload"
of GET .../conversations/{id}/messages, all pages>}`; a conversation object that carries its
own `messages` list is read the same way. (`copilot chatwoot export` writes one file per
conversation in that shape; see tests/data/chatwoot/README.md for where the shapes come from.)

The card is DESIGN.md's past ticket: the contact's messages (message_type 0) are the
customer's turns, outgoing messages (1) the agent's, private notes, activity (2) and
template (3) messages are left out; the last agent message is the resolution; labels are
the tags; a CSAT rating is kept when the record has one (`csat_survey_response.rating`).
Only resolved conversations with a customer message and an agent reply become cards: an
open one has no resolution yet and is skipped until a later export finds it resolved.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

_TYPES = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}


def _type(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else _TYPES.get(value.strip().lower())
    return None


def _parts(rec: dict) -> tuple[dict, list]:
    conversation = rec.get("conversation") if isinstance(rec.get("conversation"), dict) else rec
    messages = rec.get("messages")
    if not isinstance(messages, list):
        messages = conversation.get("messages") if isinstance(conversation.get("messages"), list) else []
    return conversation, messages


def is_chatwoot(rec: Any) -> bool:
    """A Chatwoot conversation (with its messages), not a DESIGN.md ticket or an article."""
    if not isinstance(rec, dict):
        return False
    _, messages = _parts(rec)
    return any(isinstance(m, dict) and "message_type" in m for m in messages)


def is_export(data: Any) -> bool:
    """A whole JSON file holding one exported conversation."""
    return is_chatwoot(data)


def unfinished(rec: Any) -> bool:
    """A Chatwoot conversation that is not resolved: nothing to learn from it yet."""
    if not is_chatwoot(rec):
        return False
    conversation, _ = _parts(rec)
    return conversation.get("status") != "resolved"


def _date(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, tz=timezone.utc).date().isoformat()
    if isinstance(value, str) and value[:10].count("-") == 2:
        return value[:10]
    return None


def to_ticket(rec: dict) -> dict:
    """The past-ticket record of a resolved Chatwoot conversation; ValueError names what is missing."""
    conversation, messages = _parts(rec)
    cid = conversation.get("id", conversation.get("display_id"))
    if cid is None:
        raise ValueError("field 'conversation.id': missing (the conversation's id in Chatwoot)")
    ordered = sorted((m for m in messages if isinstance(m, dict)),
                     key=lambda m: (m.get("created_at") if isinstance(m.get("created_at"), (int, float)) else 0,
                                    m.get("id") if isinstance(m.get("id"), int) else 0))
    turns = []
    for m in ordered:
        kind, text = _type(m.get("message_type")), m.get("content")
        if m.get("private") or kind not in (0, 1) or not isinstance(text, str) or not text.strip():
            continue
        turns.append({"role": "customer" if kind == 0 else "agent", "text": text.strip()})
    if not any(t["role"] == "customer" for t in turns):
        raise ValueError(f"conversation {cid}: no message from the contact (message_type 0) to learn from")
    agent = [t["text"] for t in turns if t["role"] == "agent"]
    if not agent:
        raise ValueError(f"conversation {cid}: resolved without an agent reply, so there is no resolution")
    account = conversation.get("account_id") or (conversation.get("account") or {}).get("id")
    survey = rec.get("csat_survey_response") or conversation.get("csat_survey_response") or {}
    rating = survey.get("rating") if isinstance(survey, dict) else None
    labels = conversation.get("labels") or []
    return {
        "id": f"chatwoot-{account}-{cid}" if account else f"chatwoot-{cid}",
        "messages": turns,
        "resolution": agent[-1],
        "tags": [str(x) for x in labels if isinstance(x, (str, int))],
        "outcome": "resolved",
        "csat": rating if isinstance(rating, int) and 1 <= rating <= 5 else None,
        "created": _date(conversation.get("created_at")),
    }
