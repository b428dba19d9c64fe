"""The panel's side of the helpdesk round trip (no Streamlit here, tested directly): which
conversation a link or the page's query parameters name, fetching it as panel turns, and
whether the helpdesk has a customer turn the panel has not seen."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from copilot.config import Settings
from copilot.connectors.base import ConnectorError, HelpdeskRef
from copilot.connectors.registry import MODULES, connector_for

# links an operator copies from a helpdesk's conversation view
_CHATWOOT = re.compile(r"/app/accounts/\d+/(?:[a-z_]+/\d+/)?conversations/(\d+)(?:[/?#]|$)")
_RT_DISPLAY = re.compile(r"/Ticket/(?:Display|Update|History)\.html$")
_RT_REST = re.compile(r"/REST/2\.0/ticket/(\d+)(?:[/?#]|$)")


def ref_from_params(params) -> HelpdeskRef | None:
    """`?helpdesk=<name>&conversation=<id>` (what the Dashboard App bridge navigates to)."""
    helpdesk, conversation = (params.get("helpdesk") or "").strip(), (params.get("conversation") or "").strip()
    if helpdesk and conversation:
        return HelpdeskRef(helpdesk=helpdesk, conversation_id=conversation)
    return None


def ref_from_url(text: str) -> HelpdeskRef | None:
    """A conversation link: the panel's own (`?helpdesk=..&conversation=..`), a Chatwoot
    conversation (`/app/accounts/1/conversations/42`) or an RT ticket (`Ticket/Display.html?id=42`)."""
    text = text.strip()
    if not text:
        return None
    url = urlparse(text)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    ref = ref_from_params(query)
    if ref is not None:
        return ref
    m = _CHATWOOT.search(url.path)
    if m:
        return HelpdeskRef(helpdesk="chatwoot", conversation_id=m.group(1), url=text)
    if _RT_DISPLAY.search(url.path) and query.get("id", "").isdigit():
        return HelpdeskRef(helpdesk="rt", conversation_id=query["id"], url=text)
    m = _RT_REST.search(url.path)
    if m:
        return HelpdeskRef(helpdesk="rt", conversation_id=m.group(1), url=text)
    return None


def connector(ref: HelpdeskRef, settings: Settings):
    if ref.helpdesk not in MODULES:
        raise ConnectorError(f"unknown helpdesk {ref.helpdesk!r}; known: {', '.join(sorted(MODULES))}")
    try:
        return connector_for(ref.helpdesk, settings)
    except ImportError as exc:
        raise ConnectorError(f"{ref.helpdesk}: its connector cannot be loaded ({exc})") from None


def fetch_turns(ref: HelpdeskRef, settings: Settings) -> list[dict]:
    """The conversation as the panel's turns; a ConnectorError names what failed."""
    conversation = connector(ref, settings).fetch_conversation(ref)
    return [{"role": m.role, "text": m.text} for m in conversation.messages]


def has_new_customer_turn(current: list[dict], fetched: list[dict]) -> bool:
    """The helpdesk holds a customer turn after those the panel shows (a turn the operator
    edited in the panel is not news; only customer turns beyond the panel's count are)."""
    ours = sum(1 for t in current if t["role"] == "customer")
    theirs = sum(1 for t in fetched if t["role"] == "customer")
    return theirs > ours


def merged(current: list[dict], fetched: list[dict]) -> list[dict]:
    """The helpdesk's conversation, as the truth for what was said there."""
    return [dict(t) for t in fetched] if fetched else current
