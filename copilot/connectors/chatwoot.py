"""Chatwoot through its application API (`/api/v1/accounts/{account_id}/...`, header
`api_access_token`): read a conversation's messages, post the suggestion as a private note,
post the operator's reply, hand off to a team.

Shapes this module relies on (Chatwoot's own sources; see tests/data/chatwoot/README.md):
- `GET .../conversations/{id}/messages` answers `{"meta": {...}, "payload": [message, ...]}`,
  about 20 messages at a time, oldest first; `?before=<message id>` pages further back.
- A message: `id`, `content`, `message_type` (0 incoming = the contact, 1 outgoing = an agent
  or bot, 2 activity, 3 template; webhooks spell them as strings), `private` (a private note),
  `created_at` (unix seconds), `sender` {`type`: contact | user | agent_bot}.
- `POST .../conversations/{id}/messages` with `content`, `message_type: "outgoing"`,
  `private: true|false` creates a message (a private note when private) and answers it.
- `POST .../conversations/{id}/assignments` with `team_id` assigns a team; labels are
  `GET`/`POST .../conversations/{id}/labels` (`{"labels": [...]}` replaces the list).
Chatwoot has teams, not queues: a route's queue maps to a team id by configuration.
"""

from __future__ import annotations

from typing import Any

import httpx

from copilot.config import ChatwootSettings, Settings
from copilot.connectors.base import ConnectorError, HelpdeskRef, ReplyKind, Role
from copilot.schema import Conversation, Suggestion

INCOMING, OUTGOING, ACTIVITY, TEMPLATE = 0, 1, 2, 3
MESSAGE_TYPES = {"incoming": INCOMING, "outgoing": OUTGOING, "activity": ACTIVITY, "template": TEMPLATE}
MAX_PAGES = 50  # 20 messages a page: a thousand messages is more than any suggestion reads
CHANNELS = {"Channel::Email": "email", "Channel::Voice": "phone", "Channel::TwilioSms": "chat"}

_NOTE_LABELS = {
    "en": {"head": "Copilot suggestion (for the agent only; not sent)", "draft": "Draft reply",
           "sources": "Sources", "ask": "Ask the customer", "handoff": "Hand off", "urgency": "urgency",
           "queue": "queue", "reasons": "reasons", "summary": "Summary", "confidence": "confidence",
           "handed": "Handed off to", "no_team": "no Chatwoot team is configured for this queue"},
    "ru": {"head": "Подсказка копилота (только для агента; клиенту не отправлена)", "draft": "Черновик ответа",
           "sources": "Источники", "ask": "Уточнить у клиента", "handoff": "Передать человеку",
           "urgency": "срочность", "queue": "очередь", "reasons": "причины", "summary": "Кратко",
           "confidence": "уверенность", "handed": "Передано в", "no_team": "для этой очереди не настроена "
           "команда Chatwoot"},
}


def message_type(value: Any) -> int | None:
    """Chatwoot's message type as its number, whether the API (0..3) or a webhook ("incoming") spelled it."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else MESSAGE_TYPES.get(value.strip().lower())
    return None


def turn_of(message: dict) -> dict | None:
    """A Chatwoot message as a conversation turn, or None for what the copilot must not read
    as the conversation: private notes, activity and template messages, empty content."""
    if not isinstance(message, dict) or message.get("private"):
        return None
    kind = message_type(message.get("message_type"))
    text = message.get("content")
    if kind not in (INCOMING, OUTGOING) or not isinstance(text, str) or not text.strip():
        return None
    return {"role": "customer" if kind == INCOMING else "agent", "text": text.strip()}


def note_labels(language: str) -> dict[str, str]:
    return _NOTE_LABELS.get(language, _NOTE_LABELS["en"])


def suggestion_note(suggestion: Suggestion) -> str:
    """The suggestion as a plain-text private note: the draft, its sources, the questions to
    ask and the hand-off flag with its summary, labelled in the conversation's language."""
    lbl = note_labels(suggestion.language)
    lines = [f"{lbl['head']} · {suggestion.draft.mode} · {lbl['confidence']} {suggestion.confidence:.2f}", "",
             f"{lbl['draft']}:", suggestion.draft.text.strip()]
    if suggestion.citations:
        lines += ["", f"{lbl['sources']}:"]
        lines += [f"[{c.n}] {c.title} ({c.source_id})" for c in suggestion.citations]
    if suggestion.questions:
        lines += ["", f"{lbl['ask']}:"]
        lines += [f"- {q.text}" for q in suggestion.questions]
    handoff = suggestion.handoff
    if handoff.needed:
        head = f"{lbl['handoff']}: {lbl['urgency']} {handoff.urgency}"
        if handoff.queue:
            head += f", {lbl['queue']} {handoff.queue}"
        if handoff.reasons:
            head += f"; {lbl['reasons']}: {', '.join(handoff.reasons)}"
        lines += ["", head]
        if handoff.summary:
            lines.append(f"{lbl['summary']}: {handoff.summary}")
    return "\n".join(lines)


class ChatwootConnector:
    name = "chatwoot"

    def __init__(self, settings: ChatwootSettings, transport: httpx.BaseTransport | None = None):
        missing = [f"connectors.chatwoot.{name}" for name in ("url", "account_id", "api_token")
                   if getattr(settings, name) is None]
        if missing:
            raise ConnectorError(f"chatwoot: not configured; set {', '.join(missing)} "
                                 "(COPILOT_CONNECTORS__CHATWOOT__... or [connectors.chatwoot] in copilot.toml)")
        self.settings = settings
        assert settings.url is not None and settings.api_token is not None
        self._http = httpx.Client(base_url=settings.url.rstrip("/"), timeout=settings.timeout_s, transport=transport,
                                  headers={"api_access_token": settings.api_token.get_secret_value(),
                                           "Accept": "application/json"})

    def close(self) -> None:
        self._http.close()

    # -- plumbing ------------------------------------------------------------------------
    def _path(self, conversation_id: str, tail: str = "") -> str:
        cid = str(conversation_id).strip()
        if not cid.isdigit():
            raise ConnectorError(f"chatwoot: conversation id must be a number, not {cid!r}")
        return f"/api/v1/accounts/{self.settings.account_id}/conversations/{cid}{tail}"

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> Any:
        """One API call; any failure is a one-line ConnectorError naming the call (never the token)."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ConnectorError(f"chatwoot: {what} failed: {type(exc).__name__} reaching "
                                 f"{self.settings.url}") from None
        if response.status_code >= 400:
            detail = " ".join(response.text.split())[:160]
            raise ConnectorError(f"chatwoot: {what} failed: HTTP {response.status_code}"
                                 + (f" ({detail})" if detail else ""))
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise ConnectorError(f"chatwoot: {what}: the answer is not JSON") from None

    # -- reading -------------------------------------------------------------------------
    def messages(self, conversation_id: str) -> tuple[dict, list[dict]]:
        """(meta, every message oldest first): pages back with `before=` until none are left."""
        path = self._path(conversation_id, "/messages")
        what = f"reading conversation {conversation_id}"
        meta: dict = {}
        seen: dict[int, dict] = {}
        before: int | None = None
        for _ in range(MAX_PAGES):
            page = self._call("GET", path, what, params={"before": before} if before else None)
            if not isinstance(page, dict) or not isinstance(page.get("payload"), list):
                raise ConnectorError(f"chatwoot: {what}: expected {{'payload': [messages]}}")
            meta = meta or (page.get("meta") or {})
            fresh = [m for m in page["payload"] if isinstance(m, dict) and isinstance(m.get("id"), int)
                     and m["id"] not in seen]
            if not fresh:
                break
            for m in fresh:
                seen[m["id"]] = m
            before = min(m["id"] for m in fresh)
        ordered = sorted(seen.values(), key=lambda m: (m.get("created_at") or 0, m["id"]))
        return meta, ordered

    def fetch_conversation(self, ref: HelpdeskRef) -> Conversation:
        meta, messages = self.messages(ref.conversation_id)
        turns = [t for t in (turn_of(m) for m in messages) if t]
        contact = meta.get("contact") or meta.get("sender") or {}
        profile = {"name": contact.get("name")} if isinstance(contact, dict) and contact.get("name") else {}
        try:
            return Conversation.model_validate({"messages": turns, "profile": profile})
        except ValueError:
            raise ConnectorError(f"chatwoot: conversation {ref.conversation_id} has no message from the "
                                 "customer yet") from None

    # -- writing -------------------------------------------------------------------------
    def _post_message(self, ref: HelpdeskRef, content: str, private: bool, what: str) -> str:
        answer = self._call("POST", self._path(ref.conversation_id, "/messages"), what,
                            json={"content": content, "message_type": "outgoing", "private": private})
        if not isinstance(answer, dict) or "id" not in answer:
            raise ConnectorError(f"chatwoot: {what}: the answer has no message id")
        return str(answer["id"])

    def post_suggestion(self, ref: HelpdeskRef, suggestion: Suggestion) -> str:
        return self._post_message(ref, suggestion_note(suggestion), True,
                                  f"posting the suggestion to conversation {ref.conversation_id}")

    def post_reply(self, ref: HelpdeskRef, text: str, kind: ReplyKind = "reply") -> str:
        if not text.strip():
            raise ConnectorError("chatwoot: the reply is empty")
        return self._post_message(ref, text.strip(), kind == "note",
                                  f"posting the {kind} to conversation {ref.conversation_id}")

    def hand_off(self, ref: HelpdeskRef, queue: str, summary: str, language: str = "en") -> None:
        """Assign the route's team (by `queue_teams`), add the hand-off label if one is set,
        then leave the summary as a private note."""
        lbl = note_labels(language)
        team = self.settings.queue_teams.get(queue)
        if team is not None:
            self._call("POST", self._path(ref.conversation_id, "/assignments"),
                       f"assigning conversation {ref.conversation_id} to team {team}", json={"team_id": team})
        label = self.settings.handoff_label
        if label:
            what = f"labelling conversation {ref.conversation_id}"
            current = self._call("GET", self._path(ref.conversation_id, "/labels"), what)
            labels = [x for x in (current.get("payload") or []) if isinstance(x, str)] if isinstance(current, dict) else []
            if label not in labels:
                self._call("POST", self._path(ref.conversation_id, "/labels"), what, json={"labels": labels + [label]})
        where = queue if team is not None else f"{queue} ({lbl['no_team']})"
        note = f"{lbl['handed']} {where}." + (f"\n{lbl['summary']}: {summary.strip()}" if summary.strip() else "")
        self._post_message(ref, note, True, f"posting the hand-off note to conversation {ref.conversation_id}")

    def map_role(self, helpdesk_role: str) -> Role:
        return self.settings.roles.get(helpdesk_role.strip().lower(), "operator")

    # -- past conversations (for `copilot chatwoot export`) ------------------------------
    def conversations(self, status: str = "resolved", max_pages: int = 1000):
        """Conversations with this status, page by page (`GET .../conversations?status=&page=`,
        answering `{"data": {"meta": ..., "payload": [conversation, ...]}}`)."""
        path = f"/api/v1/accounts/{self.settings.account_id}/conversations"
        for page in range(1, max_pages + 1):
            answer = self._call("GET", path, f"listing {status} conversations (page {page})",
                                params={"status": status, "assignee_type": "all", "page": page})
            data = answer.get("data", answer) if isinstance(answer, dict) else {}
            batch = data.get("payload") if isinstance(data, dict) else None
            if not batch:
                return
            yield from (c for c in batch if isinstance(c, dict))


def connector(settings: Settings) -> ChatwootConnector:
    return ChatwootConnector(settings.connectors.chatwoot)
