"""Request Tracker 5 through its REST 2.0 API (httpx).

A ticket's history is a list of transactions; the ones that carry a message are `Create`,
`Correspond` (sent to the requestors) and `Comment` (internal). The conversation is made of
the first two: a reply is the customer's when its creator is one of the ticket's requestors
(or, for a ticket without any, its opener), the agent's otherwise; the opening request (`Create`) is the customer's also when an agent
typed it for a caller (RT records the agent as its creator, the caller as requestor).
Comments stay out; the copilot writes its suggestions as comments, each ending with a marker
line that names the customer transaction it answers, so a suggestion is never posted twice.

Two calls read a ticket: its history (type, creator, time of each transaction) and its
attachments (the message bodies, text/plain preferred, HTML turned into text). RT answers
REST 2.0 with basic auth for a user with a password, or `Authorization: token ...` for an
auth token (RT::AuthToken, made in RT under Settings > Auth Tokens).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Literal

import httpx

from copilot.config import RTSettings, Settings
from copilot.connectors.base import ConnectorError, HelpdeskRef, ReplyKind, Role
from copilot.schema import Conversation, Message, Suggestion

MESSAGE_TYPES = ("Create", "Correspond")
MARKER = "copilot: suggestion for transaction"
_MARKER_RX = re.compile(re.escape(MARKER) + r" (\d+)")
_ROLE_RANK = {"operator": 0, "supervisor": 1, "admin": 2}
_PER_PAGE = 100  # RT's largest page


@dataclass
class Turn:
    """One message of a ticket: a `Create`, `Correspond` or `Comment` transaction."""

    txn_id: int
    type: str
    creator: str
    created: str
    text: str
    role: Literal["customer", "agent", "comment"]


def _user_name(value: Any) -> str:
    """RT names a user as {"id": "name", "type": "user", ...} (or a bare name)."""
    if isinstance(value, dict):
        return str(value.get("id", ""))
    return str(value or "")


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for quoted in soup.find_all("blockquote"):
        quoted.decompose()  # the earlier mail a reply quotes: those turns are in the history already
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for block in soup.find_all(["p", "div", "li", "tr", "pre", "h1", "h2", "h3", "h4", "h5", "h6"]):
        block.insert_after("\n")
    return soup.get_text()


def _clean(text: str) -> str:
    """Trailing blanks and runs of empty lines gone, and the quoted earlier mail (lines that
    start with '>') left out: those turns are in the history already."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n") if not line.startswith(">")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def message_bodies(attachments: Iterable[dict]) -> dict[int, str]:
    """Transaction id -> its message text: the text/plain parts that are not files, or else the
    HTML parts as text (RT keeps both for mail it sends; a message typed in HTML has only HTML)."""
    plain: dict[int, list[str]] = {}
    html: dict[int, list[str]] = {}
    for a in attachments:
        if a.get("Filename"):
            continue  # a file attached to the message, not its body
        txn = a.get("TransactionId")
        txn_id = int(txn.get("id") if isinstance(txn, dict) else txn)
        content = a.get("Content") or ""
        kind = (a.get("ContentType") or "").lower()
        if kind == "text/plain" and content.strip():
            plain.setdefault(txn_id, []).append(content)
        elif kind == "text/html" and content.strip():
            html.setdefault(txn_id, []).append(_html_text(content))
    bodies = {t: _clean("\n\n".join(parts)) for t, parts in html.items()}
    bodies.update({t: _clean("\n\n".join(parts)) for t, parts in plain.items()})
    return bodies


def ticket_turns(ticket: dict, history: Iterable[dict], attachments: Iterable[dict]) -> list[Turn]:
    """The messages of a ticket in order: customer and agent turns, and comments (kept apart)."""
    history = sorted(history, key=lambda t: int(t["id"]))
    requestors = {_user_name(r).lower() for r in ticket.get("Requestor") or []}
    if not requestors:  # RT's REST 2.0 opens a ticket with no requestor unless told: then its opener asks
        requestors = {_user_name(t.get("Creator")).lower() for t in history if t.get("Type") == "Create"}
    bodies = message_bodies(attachments)
    turns: list[Turn] = []
    for txn in history:
        kind = txn.get("Type")
        if kind not in (*MESSAGE_TYPES, "Comment"):
            continue
        txn_id = int(txn["id"])
        text = bodies.get(txn_id, "")
        if not text:
            continue  # a status change with an empty message, or an attachment only
        creator = _user_name(txn.get("Creator"))
        if kind == "Comment":
            role = "comment"
        elif kind == "Create" or creator.lower() in requestors:
            role = "customer"  # the opening request is the customer's, also when an agent typed it for a caller
        else:
            role = "agent"
        turns.append(Turn(txn_id, kind, creator, str(txn.get("Created", "")), text, role))  # type: ignore[arg-type]
    return turns


def conversation_of(turns: Iterable[Turn]) -> Conversation:
    messages = [Message(role=t.role, text=t.text) for t in turns if t.role != "comment"]  # type: ignore[arg-type]
    return Conversation(messages=messages, channel="email")


def answered_transactions(turns: Iterable[Turn]) -> set[int]:
    """Customer transactions the copilot already posted a suggestion for (its comments' marker)."""
    return {int(m.group(1)) for t in turns if t.role == "comment" for m in _MARKER_RX.finditer(t.text)}


_LABELS = {
    "en": {"title": "Copilot suggestion (for the agent, not sent to the customer)", "draft": "Draft reply",
           "sources": "Sources", "questions": "Ask the customer", "handoff": "Hand off",
           "to": "to queue", "urgency": "urgency", "summary": "Summary", "unsupported": "Unsupported (check)",
           "confidence": "confidence", "mode": {"llm": "model draft", "retrieval": "retrieval draft"}},
    "ru": {"title": "Подсказка копилота (для агента, клиенту не отправляется)", "draft": "Черновик ответа",
           "sources": "Источники", "questions": "Спросить клиента", "handoff": "Передать",
           "to": "в очередь", "urgency": "срочность", "summary": "Сводка", "unsupported": "Без опоры (проверьте)",
           "confidence": "уверенность", "mode": {"llm": "черновик модели", "retrieval": "черновик по базе"}},
}


def format_suggestion(s: Suggestion, answers: int | None = None) -> str:
    """The suggestion as the plain text of an internal comment, in the customer's language."""
    lbl = _LABELS.get(s.language, _LABELS["en"])
    lines = [f"{lbl['title']} · {lbl['mode'].get(s.draft.mode, s.draft.mode)} · {lbl['confidence']} {s.confidence:.2f}",
             "", f"{lbl['draft']}:", s.draft.text.strip()]
    unsupported = [c.text for c in s.grounding.sentences if not c.supported and not c.removed and c.factual]
    if unsupported:
        lines += ["", f"{lbl['unsupported']}:"] + [f"- {t}" for t in unsupported]
    if s.citations:
        lines += ["", f"{lbl['sources']}:"]
        for c in s.citations:
            lines.append(f"[{c.n}] {c.source_id}: {c.title}")
            quote = " ".join(c.quote.split())
            if quote:
                lines.append(f"    \"{quote[:300]}{'…' if len(quote) > 300 else ''}\"")
    if s.questions:
        lines += ["", f"{lbl['questions']}:"] + [f"- {q.text}" for q in s.questions]
    h = s.handoff
    if h.needed:
        lines += ["", f"{lbl['handoff']}: {lbl['to']} {h.queue or '-'}, {lbl['urgency']} {h.urgency}; "
                      f"{', '.join(h.reasons)}"]
        if h.summary:
            lines.append(f"{lbl['summary']}: {h.summary}")
    if answers is not None:
        lines += ["", f"{MARKER} {answers}"]
    return "\n".join(lines)


class RTConnector:
    """The `Connector` for Request Tracker 5 (REST 2.0)."""

    name = "rt"

    def __init__(self, settings: RTSettings, client: httpx.Client | None = None):
        if not settings.url:
            raise ConnectorError("RT: no URL configured (set COPILOT_CONNECTORS__RT__URL, e.g. http://127.0.0.1:8080)")
        self.settings = settings
        self.base = settings.url.rstrip("/")
        headers = {"Accept": "application/json"}
        auth = None
        if settings.token is not None:
            headers["Authorization"] = f"token {settings.token.get_secret_value()}"
        elif settings.user:
            auth = (settings.user, settings.password.get_secret_value() if settings.password else "")
        else:
            raise ConnectorError("RT: no credentials configured (set COPILOT_CONNECTORS__RT__TOKEN, or __USER and "
                                 "__PASSWORD)")
        self.client = client or httpx.Client(base_url=f"{self.base}/REST/2.0", headers=headers, auth=auth,
                                             timeout=settings.timeout_s)
        self._queue_names: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    # -- calls -------------------------------------------------------------------------
    def _call(self, what: str, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ConnectorError(f"RT {what}: no answer from {self.base} within {self.settings.timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise ConnectorError(f"RT {what}: cannot reach {self.base} ({type(exc).__name__})") from None
        if response.status_code >= 400:
            raise ConnectorError(f"RT {what}: HTTP {response.status_code} {self._reason(response)}")
        return response

    @staticmethod
    def _reason(response: httpx.Response) -> str:
        if response.status_code == 401:
            return "(RT refused the credentials)"
        try:
            message = response.json().get("message", "")
        except ValueError:
            message = ""
        return f"({' '.join(str(message).split())[:200]})" if message else f"({response.reason_phrase})"

    def _json(self, what: str, method: str, path: str, **kwargs) -> Any:
        response = self._call(what, method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(f"RT {what}: the answer is not JSON (is {self.base} RT's address?)") from None

    def _pages(self, what: str, path: str, params: dict[str, str]) -> list[dict]:
        items: list[dict] = []
        page = 1
        while True:
            data = self._json(what, "GET", path, params={**params, "per_page": str(_PER_PAGE), "page": str(page)})
            items.extend(data.get("items") or [])
            if page >= int(data.get("pages") or 1) or not data.get("items"):
                return items
            page += 1

    @staticmethod
    def _ticket_id(ref: HelpdeskRef) -> str:
        tid = ref.conversation_id.strip().lstrip("#")
        if not tid.isdigit():
            raise ConnectorError(f"RT: ticket id must be a number, got {ref.conversation_id!r}")
        return tid

    def ref(self, ticket_id: int | str) -> HelpdeskRef:
        return HelpdeskRef(helpdesk="rt", conversation_id=str(ticket_id),
                           url=f"{self.base}/Ticket/Display.html?id={ticket_id}")

    # -- reading -----------------------------------------------------------------------
    def ticket(self, ticket_id: str) -> dict:
        return self._json(f"ticket {ticket_id}", "GET", f"/ticket/{ticket_id}")

    def turns(self, ref: HelpdeskRef, ticket: dict | None = None) -> list[Turn]:
        """Every message of the ticket, comments included (role 'comment')."""
        tid = self._ticket_id(ref)
        ticket = ticket or self.ticket(tid)
        history = self._pages(f"history of ticket {tid}", f"/ticket/{tid}/history",
                              {"fields": "Type,Creator,Created"})
        attachments = self._pages(f"attachments of ticket {tid}", f"/ticket/{tid}/attachments",
                                  {"fields": "TransactionId,ContentType,Content,Filename"})
        return ticket_turns(ticket, history, attachments)

    def fetch_conversation(self, ref: HelpdeskRef) -> Conversation:
        turns = self.turns(ref)
        if not any(t.role == "customer" for t in turns):
            raise ConnectorError(f"RT ticket {self._ticket_id(ref)}: no message from the customer yet")
        return conversation_of(turns)

    def search(self, query: str, fields: str = "Queue,Status,LastUpdated,Created,Subject,Requestor") -> list[dict]:
        """Tickets matching a TicketSQL query, oldest id first."""
        return self._pages("ticket search", "/tickets", {"query": query, "fields": fields, "fields[Queue]": "Name",
                                                          "orderby": "id", "order": "ASC"})

    def queue_name(self, queue: Any) -> str:
        """A queue's name from the {"id": "3", ...} RT puts in a ticket."""
        if isinstance(queue, dict) and queue.get("Name"):
            return str(queue["Name"])
        qid = str(queue.get("id") if isinstance(queue, dict) else queue)
        if qid not in self._queue_names:
            self._queue_names[qid] = str(self._json(f"queue {qid}", "GET", f"/queue/{qid}").get("Name", qid))
        return self._queue_names[qid]

    # -- writing -----------------------------------------------------------------------
    def _message(self, what: str, tid: str, kind: Literal["comment", "correspond"], text: str) -> str:
        if not text.strip():
            raise ConnectorError(f"RT {what} on ticket {tid}: empty text")
        response = self._call(f"{what} on ticket {tid}", "POST", f"/ticket/{tid}/{kind}",
                              json={"Content": text, "ContentType": "text/plain"})
        location = response.headers.get("Location", "")
        match = re.search(r"/transaction/(\d+)", location)
        return match.group(1) if match else ""

    def post_suggestion(self, ref: HelpdeskRef, suggestion: Suggestion, answers: int | None = None) -> str:
        """The suggestion as an internal comment; `answers` (the customer transaction it
        answers) goes into its marker line. Returns the comment's transaction id."""
        return self._message("comment (suggestion)", self._ticket_id(ref), "comment",
                             format_suggestion(suggestion, answers))

    def post_reply(self, ref: HelpdeskRef, text: str, kind: ReplyKind = "reply") -> str:
        what, endpoint = ("correspond (reply)", "correspond") if kind == "reply" else ("comment (note)", "comment")
        return self._message(what, self._ticket_id(ref), endpoint, text)  # type: ignore[arg-type]

    def hand_off(self, ref: HelpdeskRef, queue: str, summary: str) -> None:
        tid = self._ticket_id(ref)
        if not queue.strip():
            raise ConnectorError(f"RT hand off ticket {tid}: no queue given")
        try:
            target = self._json(f"queue {queue}", "GET", f"/queue/{queue}")
        except ConnectorError as exc:
            if "HTTP 404" in str(exc):
                raise ConnectorError(f"RT hand off ticket {tid}: no queue {queue!r} in RT (or no right to see it)") from None
            raise
        qid = str(target.get("id"))
        self._call(f"move ticket {tid} to queue {queue}", "PUT", f"/ticket/{tid}", json={"Queue": qid})
        moved = self.ticket(tid).get("Queue") or {}
        if str(moved.get("id") if isinstance(moved, dict) else moved) != qid:
            raise ConnectorError(f"RT move ticket {tid} to queue {queue}: RT did not move it (check the rights "
                                 "of the copilot's RT user on that queue)")
        if summary.strip():
            self._message("comment (handoff summary)", tid, "comment", summary)

    # -- roles -------------------------------------------------------------------------
    def map_role(self, helpdesk_role: str) -> Role:
        """Our role for an RT group name, by `role_groups` (case-insensitive); else operator."""
        wanted = helpdesk_role.strip().lower()
        for group, role in self.settings.role_groups.items():
            if group.strip().lower() == wanted:
                return role
        return "operator"

    def user_role(self, user: str) -> Role | None:
        """Our role for an RT user: the highest role of their groups; None for an
        unprivileged user (a customer has no place in the panel)."""
        info = self._json(f"user {user}", "GET", f"/user/{user}")
        if str(info.get("Privileged", "0")) in ("0", "", "False", "false"):
            return None
        groups = self._pages(f"groups of user {user}", f"/user/{user}/groups", {})
        names = [str(g.get("Name") or self._json(f"group {g.get('id')}", "GET", f"/group/{g.get('id')}").get("Name", ""))
                 for g in groups]  # RT 5.0.3 ignores `fields` here: each group is read for its name
        roles = [self.map_role(name) for name in names]
        return max(roles, key=_ROLE_RANK.__getitem__, default="operator")


def connector(settings: Settings) -> RTConnector:
    return RTConnector(settings.connectors.rt)
