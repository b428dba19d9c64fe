"""The handoff as an operator reads it, in the operator's language: why a person takes over
in plain words (never a reason code), how urgently, which queue, what the customer was
promised, what they want in one sentence, the facts already collected as values, and a
summary to paste into the helpdesk as plain text.

Pure functions (no streamlit): the panel renders the card, tests read it directly.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from copilot.desk import Desk
from copilot.facts import FACTS, says_no
from copilot.handoff import route_taken
from copilot.masking import mask_pii
from copilot.schema import Conversation, Suggestion
from copilot.text import split_sentences
from knowledge_base.documents import HANDOFF_REASONS

# --- words (data, per language) ------------------------------------------------------------------

REASON_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "explicit_human_request": "The customer asked for a person",
        "frustration_or_loop": "The customer is upset or going round in circles",
        "legal_or_regulatory_threat": "The customer mentions court, a lawyer or a regulator",
        "fraud_or_security": "Possible fraud or a security problem",
        "vulnerable_customer": "The customer may need extra care",
        "policy_requires_human": "By the rules a specialist handles this",
        "no_grounded_answer": "The knowledge base has no verified answer",
        "account_verification_required": "The customer's identity must be checked",
        "complaint_compensation": "A complaint or a claim for compensation",
    },
    "ru": {
        "explicit_human_request": "Клиент просит соединить с человеком",
        "frustration_or_loop": "Клиент раздражён или ходит по кругу",
        "legal_or_regulatory_threat": "Клиент упоминает суд, юриста или надзорный орган",
        "fraud_or_security": "Возможное мошенничество или угроза безопасности",
        "vulnerable_customer": "Клиенту может быть нужна особая забота",
        "policy_requires_human": "По правилам этим занимается специалист",
        "no_grounded_answer": "В базе знаний нет проверенного ответа",
        "account_verification_required": "Нужно подтвердить личность клиента",
        "complaint_compensation": "Жалоба или требование компенсации",
    },
}
URGENCY_LABELS: dict[str, dict[str, str]] = {
    "en": {"high": "Urgent: take it first", "medium": "Soon: within the working day", "low": "In turn"},
    "ru": {"high": "Срочно: взять первым", "medium": "Скоро: в течение рабочего дня", "low": "В порядке очереди"},
}
FACT_LABELS: dict[str, dict[str, str]] = {
    "en": {"contract_number": "Contract", "since_when": "Since", "router_lights": "Router lights",
           "devices_affected": "Devices", "connection_type": "Connection", "already_tried": "Already tried",
           "address": "Address", "error_code": "Error", "speed_test_result": "Measured speed",
           "time_of_day": "When it happens", "payment_date": "Paid", "payment_amount": "Amount",
           "payment_method": "Paid by", "phone_model": "Phone", "location": "Where", "new_address": "New address",
           "move_date": "Move date", "contact_phone": "Contact phone", "traveling": "Away from home"},
    "ru": {"contract_number": "Договор", "since_when": "С какого времени", "router_lights": "Индикаторы роутера",
           "devices_affected": "Устройства", "connection_type": "Подключение", "already_tried": "Уже пробовали",
           "address": "Адрес", "error_code": "Ошибка", "speed_test_result": "Замер скорости",
           "time_of_day": "Когда происходит", "payment_date": "Дата оплаты", "payment_amount": "Сумма",
           "payment_method": "Способ оплаты", "phone_model": "Телефон", "location": "Где", "new_address": "Новый адрес",
           "move_date": "Дата переезда", "contact_phone": "Контактный телефон", "traveling": "В поездке"},
}
_SUMMARY_LABELS: dict[str, dict[str, str]] = {
    "en": {"why": "Why a person", "wants": "Customer wants", "topic": "Topic", "facts": "Facts", "tried": "Already tried",
           "promise": "Promised", "none": "none yet"},
    "ru": {"why": "Почему нужен человек", "wants": "Клиент хочет", "topic": "Тема", "facts": "Факты",
           "tried": "Уже пробовали", "promise": "Обещано клиенту", "none": "пока нет"},
}
# what a sentence that states the problem contains (lower-case stems): weighs most
PROBLEM_CUES: dict[str, tuple[str, ...]] = {
    "en": ("not working", "doesn't work", "does not work", "isn't working", "stopped", "no internet", "no signal",
           "no connection", "is down", "broken", "error", "charged", "missing", "wrong", "slow", "problem", "issue",
           "lost", "blocked", "didn't", "did not", "hasn't", "haven't", "can't", "cannot", "won't", "failed"),
    "ru": ("не работает", "не могу", "не получается", "нет интернета", "нет связи", "пропал", "не ловит", "тормоз",
           "ошибк", "списал", "не пришл", "не приход", "не поступ", "проблем", "сломал", "заблокир", "не показ", "не гру",
           "медленн", "не открыва", "не включа", "дважды"),
}
# what a sentence that states the request contains
REQUEST_CUES: dict[str, tuple[str, ...]] = {
    "en": ("i want", "i need", "would like", "please", "can you", "could you", "how do i", "how can i", "how to",
           "help", "when will", "refund", "cancel", "change", "connect", "move", "fix", "return"),
    "ru": ("хочу", "хотел", "нужн", "надо", "прошу", "помогите", "подскажите", "как мне", "как ", "когда",
           "верните", "возврат", "отключ", "подключ", "поменять", "сменить", "перенести", "переезд", "исправ"),
}
# what opens or closes a message without saying anything about the case
GREETINGS: dict[str, tuple[str, ...]] = {
    "en": ("hello", "hi", "hey", "good morning", "good afternoon", "good evening", "dear support", "thanks",
           "thank you", "regards", "best regards"),
    "ru": ("здравствуйте", "добрый день", "добрый вечер", "доброе утро", "привет", "приветствую", "спасибо",
           "благодарю", "с уважением"),
}
MAX_WANTS_CHARS = 160

_GREETING = re.compile(r"^(?:" + "|".join(re.escape(g) for words in GREETINGS.values() for g in
                                           sorted(words, key=len, reverse=True)) + r")\b[\s,.!:;-]*", re.I)


class HandoffCard(BaseModel):
    """What the operator sees when a person must take over."""

    needed: bool
    lang: Literal["ru", "en"]
    label: str = Field("", description="Why a person takes over, in words, most serious reason first.")
    reasons: list[str] = Field(default_factory=list, description="Every reason, in words, most serious first.")
    reason_codes: list[str] = Field(default_factory=list, description="The codes, for records, never shown.")
    urgency: Literal["low", "medium", "high"] = "low"
    urgency_label: str = ""
    queue: str = ""
    promise: str = Field("", description="What the customer is told about the handoff (the route's promise).")
    wants: str = Field("", description="What the customer wants: their own sentence, trimmed, personal data masked.")
    topic: str = ""
    facts: dict[str, str] = Field(default_factory=dict, description="Label -> value, in the operator's language.")
    summary: str = Field("", description="Plain text for the colleague or the helpdesk note, one item a line.")


def reason_label(reason: str, lang: str) -> str:
    labels = REASON_LABELS.get(lang, REASON_LABELS["en"])
    return labels.get(reason) or reason.replace("_", " ").capitalize()


def fact_label(key: str, lang: str) -> str:
    labels = FACT_LABELS.get(lang, FACT_LABELS["en"])
    return labels.get(key) or key.replace("_", " ").capitalize()


_YES_NO = {"en": ("yes", "no"), "ru": ("да", "нет")}


def shown_value(key: str, value: str, lang: str) -> str:
    """A fact's value as the operator reads it: a yes-no fact of the vocabulary says which,
    with the customer's words ("no (at home)" for "Away from home"), others are the words."""
    value = " ".join(value.split())
    fact = FACTS.get(key)
    said_no = says_no(value, fact) if fact is not None else None
    if said_no is None:
        return value
    yes, no = _YES_NO.get(lang, _YES_NO["en"])
    return f"{no if said_no else yes} ({value})"


def _trim(text: str, limit: int = MAX_WANTS_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:—-") + "…"


def _score(sentence: str) -> float:
    low = sentence.lower()
    problem = sum(2 for words in PROBLEM_CUES.values() for cue in words if cue in low)
    request = sum(1 for words in REQUEST_CUES.values() for cue in words if cue in low)
    return problem + request + (0.5 if sentence.rstrip().endswith("?") else 0.0)


def customer_wants(turns: list[str], keep: re.Pattern | None = None) -> str:
    """The customer's sentence that states the request or the problem (problem words weigh
    twice request words, a question a little; earlier turns first on a tie), without the greeting, cut to
    MAX_WANTS_CHARS, personal data masked. `keep`: the desk's contract-number format."""
    best: tuple[float, str] | None = None
    for i, turn in enumerate(turns):
        for sentence in split_sentences(turn):
            body = _GREETING.sub("", sentence.strip()).strip()
            while body != (again := _GREETING.sub("", body).strip()):
                body = again
            if len(re.findall(r"\w+", body)) < 2:
                continue  # "Hi!", "Thanks.", a bare contract number
            score = _score(body) - 0.25 * i  # the request is usually said first; later turns answer questions
            if best is None or score > best[0]:
                best = (score, body)
    if best is None:
        return ""
    text = mask_pii(best[1], keep).text
    return _trim(text[:1].upper() + text[1:])


def _wants_from_summary(summary: str) -> str:
    """The engine's summary starts with the customer's (masked) first message."""
    first = summary.splitlines()[0] if summary else ""
    _, _, said = first.partition(": ")
    return said.strip()


def card(suggestion: Suggestion, lang: str, desk: Desk | None = None,
         conversation: Conversation | None = None) -> HandoffCard:
    """The handoff card in the operator's language `lang` ("ru" or "en"). `desk` gives the
    route's promise (neutral routes without it); `conversation` lets the card pick the
    customer's request from every turn (without it, from the first message the summary carries)."""
    lang = lang if lang in REASON_LABELS else "en"
    h = suggestion.handoff
    if not h.needed:
        return HandoffCard(needed=False, lang=lang)  # type: ignore[arg-type]
    desk = desk or Desk()
    keep = desk.contract_pattern()
    words = _SUMMARY_LABELS[lang]
    taken = route_taken(list(h.reasons)) or (h.reasons[0] if h.reasons else "")
    route = desk.route(taken) if taken in HANDOFF_REASONS else None
    promise = ""
    if route is not None:
        promise = route.promise.get(lang) or route.promise.get(suggestion.language) or next(iter(route.promise.values()), "")
    turns = [m.text for m in conversation.messages if m.role == "customer"] if conversation else []
    wants = customer_wants(turns or [_wants_from_summary(h.summary)], keep)
    facts = {fact_label(k, lang): shown_value(k, v, lang) for k, v in suggestion.facts.items() if v and v.strip()}
    tried_label = fact_label("already_tried", lang)
    reasons = [reason_label(r, lang) for r in h.reasons]
    topic = suggestion.intent.label.replace("_", " ").replace("-", " ").strip()
    label = "; ".join(reasons)
    lines = [f"{words['why']}: {'; '.join(reasons)}",
             f"{words['wants']}: {wants or words['none']}",
             f"{words['topic']}: {topic}",
             f"{words['facts']}: " + ("; ".join(f"{k}: {v}" for k, v in facts.items() if k != tried_label)
                                      or words["none"]),
             f"{words['tried']}: {facts.get(tried_label) or words['none']}"]
    if promise:
        lines.append(f"{words['promise']}: {promise}")
    return HandoffCard(
        needed=True, lang=lang, label=label, reasons=reasons, reason_codes=list(h.reasons),  # type: ignore[arg-type]
        urgency=h.urgency, urgency_label=URGENCY_LABELS[lang][h.urgency], queue=h.queue or (route.queue if route else ""),
        promise=promise, wants=wants, topic=topic, facts=facts, summary="\n".join(lines))
