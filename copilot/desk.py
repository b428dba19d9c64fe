"""One support desk's own configuration: where each handoff goes and what the customer is
promised, the plan and product names the verifier treats as facts, the format of the
desk's contract numbers, and the desk's wording of anamnesis questions.

It lives beside the desk's knowledge (`desk.yaml` next to its articles), never in the
code. Where it comes from, first found wins: `COPILOT_DESK_FILE` (or a `[desk]` table in
`copilot.toml`), then the `desk.yaml` recorded when its folder was ingested, then the
neutral defaults below (no queue names, no deadlines, no phone numbers).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from knowledge_base.documents import HandoffReason
from knowledge_base.errors import ConfigError


class HandoffRoute(BaseModel):
    """Where a handoff reason goes and what the customer is promised."""

    queue: str
    urgency: Literal["low", "medium", "high"]
    promise: dict[str, str] = Field(
        description="What the customer is told, per language. The last sentence carries the promise and "
        "cites the escalation protocol; sentences before it are the engine's own statements.")
    policy_query: str = Field("", description="Search text that finds the escalation-protocol passage to cite; "
                              "empty: the promise names no checkable fact and cites nothing.")


def _route(queue: str, urgency: str, en: str, ru: str) -> HandoffRoute:
    return HandoffRoute(queue=queue, urgency=urgency, promise={"en": en, "ru": ru})  # type: ignore[arg-type]


def neutral_routes() -> dict[str, HandoffRoute]:
    """Routes for a desk that configured none: generic queues and promises without
    deadlines or contacts, which only a desk can promise."""
    return {
        "explicit_human_request": _route(
            "supervisor", "medium", "I am passing your request to a colleague, who will contact you.",
            "Я передаю ваше обращение специалисту, он свяжется с вами."),
        "frustration_or_loop": _route(
            "supervisor", "high", "I am passing your case to a supervisor, who will contact you.",
            "Я передаю ваше обращение руководителю, он свяжется с вами."),
        "legal_or_regulatory_threat": _route(
            "complaints", "high", "I am passing your case to our complaints team, who will contact you.",
            "Я передаю ваше обращение в отдел претензий, с вами свяжутся."),
        "fraud_or_security": _route(
            "fraud", "high", "I am passing this to our security team right away.",
            "Я сразу передаю обращение службе безопасности."),
        "vulnerable_customer": _route(
            "care-team", "medium", "I am passing your request to a colleague who will take care of it personally.",
            "Я передаю ваше обращение специалисту, который лично займётся им."),
        "policy_requires_human": _route(
            "second-line", "medium", "I am passing your request to a specialist, who will contact you.",
            "Я передаю ваше обращение специалисту, он свяжется с вами."),
        "no_grounded_answer": _route(
            "second-line", "low",
            "I don't have a verified answer to this in our knowledge base. I am passing your question to a "
            "specialist, who will contact you.",
            "В нашей базе знаний нет проверенного ответа на этот вопрос. Я передаю его специалисту, он свяжется "
            "с вами."),
        "account_verification_required": _route(
            "account-verification", "medium",
            "This change needs an identity check: I am passing your request to a specialist who will verify "
            "your identity.",
            "Для этого нужно подтвердить личность: я передаю обращение специалисту, который проверит вашу личность."),
        "complaint_compensation": _route(
            "complaints", "medium", "Compensation is decided by our complaints team: I am passing your case to them.",
            "Решение о компенсации принимает отдел претензий: я передаю ваше обращение."),
    }


def _regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc})") from None
    return pattern


class FactWording(BaseModel):
    """A desk's own wording of an anamnesis fact, per language, and how its customers
    state it (regular expressions, replacing the built-in ones)."""

    question: dict[str, str] = Field(default_factory=dict)
    why: dict[str, str] = Field(default_factory=dict)
    given: list[str] = Field(default_factory=list)

    @field_validator("given")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return [_regex(p) for p in patterns]


class Desk(BaseModel):
    """A desk's configuration; every field has a neutral default."""

    name: str = ""
    routes: dict[HandoffReason, HandoffRoute] = Field(
        default_factory=dict, description="Per handoff reason; reasons left out keep the neutral route.")
    plan_names: list[str] = Field(
        default_factory=list, description="Regular expressions of plan and product names: a draft that names "
        "one its source does not is unsupported, like a wrong amount.")
    contract_number: str | None = Field(
        None, description="Regular expression of the desk's contract numbers: recognised as a given fact and "
        "never masked as personal data (they identify a contract, not a person).")
    facts: dict[str, FactWording] = Field(default_factory=dict, description="Wording of anamnesis facts.")
    scope: dict[str, str] = Field(
        default_factory=dict, description="What the desk helps with, per language, completing the off-topic "
        "refusal: 'I can help with {scope}.' / 'Я могу помочь с такими вопросами: {scope}.'")
    diagnostic_basics: list[str] = Field(
        default_factory=lambda: ["since_when", "already_tried"],
        description="Facts worth establishing for any reported problem when neither the articles nor past "
        "tickets say more (when it started, what was already tried; a desk that identifies customers by "
        "contract adds contract_number); not asked when a matched article's front matter lists its facts.")
    channel: Literal["chat", "email", "phone"] | None = Field(
        None, description="Where this desk's conversations happen unless the conversation says otherwise: a "
        "knowledge-base sentence telling the customer to contact us through it ('write to us in the chat' in a "
        "chat) is not copied into a reply. None: not known, nothing is left out for it.")
    handled_when_covered: list[HandoffReason] = Field(
        default_factory=lambda: ["fraud_or_security"],
        description="Reasons recognised in the customer's words that this desk's agents handle themselves when "
        "the knowledge base covers the request: the draft follows the knowledge base's procedure and the panel "
        "flags the reason, with no handoff (a bank whose agents lock cards and open disputes). An article's or "
        "a derived rule for the same reason still hands off when the conversation meets its condition. Empty: every recognised reason hands off (a desk "
        "whose fraud team takes every such case).")

    @field_validator("plan_names")
    @classmethod
    def _names_compile(cls, patterns: list[str]) -> list[str]:
        return [_regex(p) for p in patterns]

    @field_validator("contract_number")
    @classmethod
    def _contract_compiles(cls, pattern: str | None) -> str | None:
        return None if pattern is None else _regex(pattern)

    def off_topic_reply(self, lang: str) -> str:
        """The refusal of a request outside what the business does: the reason, then what
        the desk can help with (its `scope`, or its products and services in general)."""
        scope = self.scope.get(lang)
        if lang == "ru":
            return ("К сожалению, с этим я помочь не смогу: такой вопрос не относится к нашим услугам. "
                    + (f"Я могу помочь с такими вопросами: {scope}." if scope
                       else "Я могу помочь с вопросами о наших услугах."))
        return ("I'm sorry, I can't help with that here: it is outside the services we support. "
                + (f"I can help with {scope}." if scope else "I can help with questions about our own products and services."))

    def small_talk_reply(self, act: str, lang: str) -> str:
        """The reply to customer turns that ask nothing (copilot/small_talk/): after a greeting
        or "I have a question", an invitation to ask; after thanks or a goodbye, whether
        anything else is needed."""
        if act == "greeting":
            return "Чем могу помочь?" if lang == "ru" else "How can I help you?"
        return ("Рады помочь! Подскажите, можем ли мы помочь ещё чем-нибудь?" if lang == "ru"
                else "Glad to help! Is there anything else I can help you with?")

    def route(self, reason: str) -> HandoffRoute:
        return self.routes.get(reason) or neutral_routes()[reason]  # type: ignore[call-overload]

    def contract_pattern(self) -> re.Pattern | None:
        """The desk's contract numbers as a whole run of digits."""
        return re.compile(rf"(?<!\d)(?:{self.contract_number})(?!\d)") if self.contract_number else None


def parse_desk(text: str, where: str) -> Desk:
    """A desk from YAML text; anything wrong is one ConfigError naming `where` and the field."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{where}{line}: invalid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a desk configuration is a mapping (name, routes, plan_names, ...)")
    try:
        return Desk.model_validate(data)
    except ValidationError as exc:
        e = exc.errors()[0]
        loc = ".".join(str(p) for p in e["loc"]) or "desk"
        raise ConfigError(f"{where}: field '{loc}': {e['msg']}") from None


def load_desk(path: Path) -> Desk:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the desk configuration ({exc.strerror or exc})") from None
    return parse_desk(text, str(path))


def resolve_desk(configured: Desk | None, desk_file: Path | None, recorded: tuple[str, str] | None) -> Desk:
    """The desk this copilot serves: configured inline, or by file, or recorded with the
    index at ingest (`DocStore.desk_config()`), or neutral."""
    if configured is not None:
        return configured
    if desk_file is not None:
        return load_desk(desk_file)
    if recorded:
        text, source = recorded
        return parse_desk(text, source or "the desk configuration recorded with the index")
    return Desk()
