"""Pasted conversations into turns: chat logs with timestamps, names and role words in
Russian and English, and the JSON a helpdesk exports (Chatwoot, Zendesk, Request Tracker,
Freshdesk-like, or a generic {"messages": [...]}).

Who is who: a role word in the speaker's label decides ("Клиент", "Support Anna"); among
plain names the first speaker is the customer unless a role word already named one, and a
name keeps its role through the conversation. The role words are data (`ROLE_WORDS`), one
table per language; nothing here knows a desk's wording.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

# --- the vocabulary (data, per language) -------------------------------------------------------

# a label word that names the role; Russian entries are stems (any ending of up to 2 letters)
ROLE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "customer": {
        "en": ("customer", "client", "user", "visitor", "guest", "caller", "requester", "requestor", "subscriber",
               "buyer", "contact", "enduser", "end-user"),
        "ru": ("клиент", "покупател", "абонент", "пользовател", "посетител", "гост", "заявител", "заказчик"),
    },
    "agent": {
        "en": ("agent", "operator", "support", "specialist", "manager", "staff", "assistant", "bot", "consultant",
               "advisor", "adviser", "helpdesk", "admin", "representative", "rep", "engineer", "technician",
               "supervisor", "moderator"),
        "ru": ("оператор", "агент", "специалист", "поддержк", "техподдержк", "менеджер", "консультант", "сотрудник",
               "бот", "ассистент", "администратор", "инженер", "мастер", "диспетчер", "модератор"),
    },
}
# words a line can start with before a colon without being a speaker ("Error: E-101")
NOT_SPEAKERS: dict[str, tuple[str, ...]] = {
    "en": ("error", "problem", "issue", "note", "ps", "p.s", "update", "upd", "address", "subject", "re", "fwd",
           "question", "answer", "reason", "example", "message", "status", "result", "warning", "date", "time",
           "phone", "email", "account", "contract", "order", "ticket", "amount", "total"),
    "ru": ("ошибка", "проблема", "вопрос", "ответ", "примечание", "адрес", "тема", "причина", "пример", "сообщение",
           "статус", "итог", "результат", "внимание", "дата", "время", "телефон", "договор", "заказ", "заявка",
           "сумма", "итого", "ps", "upd"),
}
# values of a helpdesk's role/type/direction fields (lower-cased)
FIELD_VALUES: dict[str, frozenset[str]] = {
    "customer": frozenset({"customer", "client", "contact", "user", "end-user", "end_user", "enduser", "requester",
                           "requestor", "visitor", "lead", "incoming", "inbound", "in", "клиент"}),
    "agent": frozenset({"agent", "operator", "assistant", "admin", "staff", "support", "bot", "agent_bot", "outgoing",
                        "outbound", "out", "оператор", "агент"}),
    "drop": frozenset({"system", "activity", "template", "note", "private", "internal", "event", "comment"}),
}

_ROLE_FIELDS = ("role", "sender_role", "author_role", "sender_type", "author_type", "from_type", "user_type",
                "direction", "source_direction")
_TEXT_FIELDS = ("content", "body", "plain_body", "text", "message", "Content", "html_body", "value")
_NAME_FIELDS = ("sender", "author", "from", "user", "creator", "Creator", "name", "sender_name", "author_name")
_LIST_FIELDS = ("messages", "payload", "comments", "transactions", "history", "conversation_parts", "conversation",
                "conversations", "thread", "threads", "data", "items", "results", "entries", "ticket")

# --- text transcripts --------------------------------------------------------------------------

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?"
_DATE = r"(?:\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4})"
_STAMP = rf"(?:{_DATE}(?:[ T]+|,\s*))?{_TIME}|{_DATE}"
_HEADER = re.compile(
    rf"^\s*(?:[\[(]?(?P<ts1>{_STAMP})[\])]?\s*[-–—|,:]?\s*)?"           # [10:02] / 2026-11-30 10:02:11 -
    r"(?P<name>[^\W\d_][\w.'’#@ ()-]{0,47}?)"                          # Anna / Клиент / Support (Anna)
    rf"\s*(?:,?\s*[\[(](?P<ts2>{_STAMP})[\])])?"                       # Anna [10:02]
    r"\s*(?:(?P<colon>:)(?=\s|$)|(?P<dash>\s[-–—]\s)|(?P<gt>>)|(?P<end>$))(?P<text>.*)$")
_ONLY_STAMP = re.compile(rf"^\s*[\[(]?(?:{_STAMP})[\])]?\s*$")
_WORD = re.compile(r"[^\W_]+(?:[-.][^\W_]+)*", re.U)


def _label_role(label: str) -> str | None:
    """The role a speaker's label names ("Клиент", "Support Anna", "Оператор (Мария)")."""
    for token in _WORD.findall(label.lower()):
        for role, langs in ROLE_WORDS.items():
            if token in langs["en"] or any(token.startswith(stem) and len(token) - len(stem) <= 2
                                           for stem in langs["ru"]):
                return role
    return None


def _not_a_speaker(label: str) -> bool:
    low = label.lower().strip(" .")
    return any(low == w for words in NOT_SPEAKERS.values() for w in words)


def _looks_like_name(label: str) -> bool:
    """Up to three words, each capitalised (a name), or a number/handle ("Agent #12")."""
    words = label.replace("(", " ").replace(")", " ").split()
    return 0 < len(words) <= 3 and all(w[0].isupper() or not w[0].isalpha() for w in words)


def _header(line: str) -> tuple[str, str, bool] | None:
    """(speaker label, text, has a timestamp) when the line opens a turn."""
    m = _HEADER.match(line)
    if not m:
        return None
    name, text = m.group("name").strip(" -"), m.group("text").strip()
    stamped = bool(m.group("ts1") or m.group("ts2"))
    if m.group("end") is not None and not (stamped and (_label_role(name) or _looks_like_name(name))):
        return None  # a bare word alone on a line is text; "Anna, [10:02]" opens a turn
    if (m.group("dash") or m.group("gt")) and not stamped and not _label_role(name):
        return None  # "Anna - text" only in a log with times
    if not stamped and (_not_a_speaker(name) or not (_label_role(name) or _looks_like_name(name))):
        return None
    if stamped and len(name.split()) > 4 or re.search(r"[.!?]\s", name):
        return None  # a sentence, not a name
    return name, text, stamped


class _Roles:
    """A speaker's role: the role word in the label, else a name keeps the role it got
    first; the first unnamed speaker is the customer unless a label already named one."""

    def __init__(self, labels: list[str]):
        self.by_name: dict[str, str] = {}
        self.customer_named = any(_label_role(lb) == "customer" for lb in labels)
        self.customer_taken = False

    def __call__(self, label: str) -> str:
        key = " ".join(label.lower().split())
        if key in self.by_name:
            return self.by_name[key]
        role = _label_role(label)
        if role is None:
            role = "agent" if (self.customer_named or self.customer_taken) else "customer"
        if role == "customer":
            self.customer_taken = True
        self.by_name[key] = role
        return role


def _parse_lines(text: str) -> list[dict]:
    lines = text.splitlines()
    heads = [_header(line) for line in lines]
    # a plain name before a colon ("Anna: ...") counts only in a log where some name speaks
    # twice or a role word names a speaker: "Problem: ..." and "Вчера: ..." are the customer's text
    plain = [h[0].lower() for h in heads if h and not h[2] and not _label_role(h[0])]
    dialogue = any(plain.count(n) > 1 for n in plain) or any(h and (h[2] or _label_role(h[0])) for h in heads)
    if not dialogue:
        heads = [h if h and (h[2] or _label_role(h[0])) else None for h in heads]
    if not any(heads):
        body = "\n".join(line.strip() for line in lines if line.strip())
        return [{"role": "customer", "text": body}] if body else []
    roles = _Roles([h[0] for h in heads if h])
    turns: list[dict] = []
    for line, h in zip(lines, heads):
        if h:
            turns.append({"role": roles(h[0]), "text": h[1]})
        elif line.strip() and not _ONLY_STAMP.match(line):
            if turns:
                turns[-1]["text"] = f"{turns[-1]['text']}\n{line.strip()}".strip()
            else:  # words before the first speaker (a title, a preamble): the customer's
                turns.append({"role": "customer", "text": line.strip()})
    return _merge(turns)


def _merge(turns: list[dict]) -> list[dict]:
    """Turns with text, each as it was sent (two messages in a row stay two turns)."""
    return [{"role": t["role"], "text": t["text"].strip()} for t in turns if t["text"].strip()]


# --- helpdesk exports (JSON) -------------------------------------------------------------------

def _plain(value: str) -> str:
    """HTML bodies (Zendesk html_body, RT) as text."""
    if "<" in value and re.search(r"</?[a-zA-Z][^>]*>", value):
        value = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", value)
        value = re.sub(r"<[^>]+>", "", value)
    return html.unescape(value).replace("\xa0", " ").strip()


def _text(msg: dict) -> str:
    for key in _TEXT_FIELDS:
        value = msg.get(key)
        if isinstance(value, str) and value.strip():
            return _plain(value)
    return ""


def _name(msg: dict) -> str:
    for key in _NAME_FIELDS:
        value = msg.get(key)
        if isinstance(value, dict):
            value = value.get("name") or value.get("email") or value.get("Name") or value.get("id")
        if isinstance(value, (str, int)) and str(value).strip():
            return str(value).strip()
    for key in ("author_id", "sender_id", "user_id", "creator_id"):
        if msg.get(key) is not None:
            return f"#{msg[key]}"
    return ""


def _value_role(value: Any) -> str | None:
    if isinstance(value, str):
        low = value.strip().lower()
        for role, values in FIELD_VALUES.items():
            if low in values:
                return role
        return _label_role(low)
    return None


def _field_role(msg: dict, ctx: dict) -> str | None:
    """customer / agent / drop from a helpdesk's own fields, or None when they say nothing."""
    if msg.get("private") is True or msg.get("public") is False or msg.get("internal") is True:
        return "drop"  # private notes (Chatwoot, Zendesk, Freshdesk)
    kind = msg.get("message_type")  # Chatwoot: 0 incoming, 1 outgoing, 2 activity, 3 template
    if kind is not None:
        return {0: "customer", 1: "agent"}.get(kind, "drop") if isinstance(kind, int) else (_value_role(kind) or "drop")
    if isinstance(msg.get("incoming"), bool):  # Freshdesk conversations
        return "customer" if msg["incoming"] else "agent"
    rt_type = msg.get("Type")  # Request Tracker transactions
    if isinstance(rt_type, str):
        if rt_type not in ("Create", "Correspond"):
            return "drop"
        creator = _name(msg)
        if rt_type == "Create":
            ctx.setdefault("rt_requester", creator)
        requesters = ctx.get("requesters") or {ctx.get("rt_requester")}
        return "customer" if creator in requesters else "agent"
    for key in _ROLE_FIELDS:
        role = _value_role(msg.get(key))
        if role:
            return role
    for key in ("sender", "author"):  # Chatwoot/Intercom sender objects: contact vs agent
        who = msg.get(key)
        if isinstance(who, dict) and isinstance(who.get("type"), str):
            t = who["type"].lower()
            if t in ("contact", "lead", "customer", "end-user"):
                return "customer"
            if t in ("agent", "admin", "agent_bot", "bot", "operator"):
                return "agent"
            # "user" means staff in one helpdesk and the customer in another: the name decides
    author = msg.get("author_id")
    if author is not None and ctx.get("requester_id") is not None:  # Zendesk comments
        return "customer" if author == ctx["requester_id"] else "agent"
    return None


def _message_list(data: Any, ctx: dict, depth: int = 0) -> list[dict] | None:
    """The list of messages inside an export, and what the export says of the requester."""
    if depth > 4:
        return None
    if isinstance(data, list):
        if any(isinstance(x, dict) and _text(x) for x in data):
            return [x for x in data if isinstance(x, dict)]
        return None
    if not isinstance(data, dict):
        return None
    for key in ("requester_id", "requester", "Requestors", "requestors"):
        if key in data and key not in ctx:
            ctx[key] = data[key]
    for key in _LIST_FIELDS:
        if key in data:
            found = _message_list(data[key], ctx, depth + 1)
            if found:
                return found
    return None


def _sort_key(msg: dict) -> Any:
    return msg.get("created_at") or msg.get("Created") or msg.get("timestamp") or msg.get("date") or ""


def parse_export(data: Any) -> list[dict] | None:
    """Turns of a helpdesk's JSON export; None when it holds no list of messages."""
    ctx: dict = {}
    messages = _message_list(data, ctx)
    if messages is None:
        return None
    requesters = ctx.get("Requestors") or ctx.get("requestors")
    if isinstance(requesters, list):
        ctx["requesters"] = {_name({"name": r}) for r in requesters}
    if isinstance(ctx.get("requester"), dict) and ctx.get("requester_id") is None:
        ctx["requester_id"] = ctx["requester"].get("id")
    stamps = [_sort_key(m) for m in messages]
    if all(stamps) and len({type(s) for s in stamps}) == 1:
        messages = [m for _, m in sorted(zip(stamps, messages), key=lambda p: p[0])]
    rows = []
    for msg in messages:
        text = _text(msg)
        role = _field_role(msg, ctx)
        if role == "drop" or not text:
            continue
        rows.append((role, _name(msg), text))
    labels = [name for role, name, _ in rows if role is None and name]
    roles = _Roles(labels)
    if any(role == "customer" for role, _, _ in rows):
        roles.customer_named = True
    turns = []
    for role, name, text in rows:
        if role is None:
            role = roles(name) if name else ("agent" if roles.customer_named or roles.customer_taken else "customer")
            roles.customer_taken = roles.customer_taken or role == "customer"
        turns.append({"role": role, "text": text})
    return _merge(turns)


# --- the entry points --------------------------------------------------------------------------

def parse_transcript(text: str) -> list[dict]:
    """Turns ({"role": "customer"|"agent", "text": ...}) of a pasted conversation: a helpdesk's
    JSON export, or a chat log with timestamps, names or role words; text with no speakers
    is one customer message."""
    stripped = text.strip()
    if stripped[:1] in "[{":
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if data is not None:
            turns = parse_export(data)
            if turns is not None:
                return turns
    return _parse_lines(text)


_PREVIEW_ROLES = {"en": {"customer": "Customer", "agent": "Agent"}, "ru": {"customer": "Клиент", "agent": "Оператор"}}


def transcript_preview(turns: list[dict], lang: str = "en", width: int = 160) -> str:
    """One line per turn, role in the operator's language and the text cut at `width`
    characters, so the operator sees how a paste was read before it replaces the conversation."""
    names = _PREVIEW_ROLES.get(lang, _PREVIEW_ROLES["en"])
    lines = []
    for i, turn in enumerate(turns, 1):
        text = " ".join(turn["text"].split())
        if len(text) > width:
            text = text[: width - 1].rsplit(" ", 1)[0] + "…"
        lines.append(f"{i}. {names.get(turn['role'], turn['role'])}: {text}")
    return "\n".join(lines)
