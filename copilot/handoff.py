"""When a person must take over, why, how urgently, where to, and what to tell them.

Reasons come from three places: the customer's words (an explicit request is always
honoured; frustration, legal threats, fraud, vulnerability, compensation demands, identity
changes), the `handoff` rules of the articles that match the case, and grounding (the
knowledge base does not cover the question). The summary gives the human what the
customer wants, the facts already collected and what was tried, so nobody asks twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from copilot.desk import Desk, HandoffRoute
from copilot.facts import GivenFact
from copilot.schema import Handoff, HandoffReason, RuleCitation
from copilot.understand import Signal, frustrated

# the order reasons are listed in (most serious first) and routed by
PRIORITY: list[HandoffReason] = [
    "fraud_or_security", "legal_or_regulatory_threat", "frustration_or_loop", "explicit_human_request",
    "vulnerable_customer", "complaint_compensation", "account_verification_required", "policy_requires_human",
    "no_grounded_answer",
]
_SIGNAL_REASONS: dict[str, HandoffReason] = {
    "explicit_human": "explicit_human_request",
    "legal_threat": "legal_or_regulatory_threat",
    "fraud": "fraud_or_security",
    "vulnerable": "vulnerable_customer",
    "compensation": "complaint_compensation",
    "identity_change": "account_verification_required",
    "personal_data": "policy_requires_human",
}
_URGENCY = {"low": 0, "medium": 1, "high": 2}
# a person takes over for these; anamnesis questions now would only delay them
PERSON_LED: frozenset[str] = frozenset({
    "fraud_or_security", "legal_or_regulatory_threat", "frustration_or_loop", "explicit_human_request",
    "vulnerable_customer", "complaint_compensation"})


# a rule whose condition is something the customer asks for ("The customer asks for an instalment
# plan ...", «Клиент просит рассрочку ...») rather than a state a diagnosis reaches
_REQUEST = re.compile(
    r"^\W*(?:(?:if|when|если|когда)\s+)?(?:the\s+|a\s+)?(?:customer|client|user|caller|subscriber|buyer|"
    r"клиент|абонент|пользовател|покупател)\w*\s+(?:asks?|requests?|wants?|demands?|insists?|would like|"
    r"прос\w*|треб\w*|хоч\w*|запрашива\w*|настаива\w*)\s+(?:for\s+|to\s+|on\s+|that\s+|чтобы\s+|на\s+)?"
    r"(?P<what>[^:;.!?—]+)", re.I)


def requested(condition: str) -> str:
    """What a rule's condition says the customer asks for ("an instalment plan for the debt"),
    or "" when it describes a situation instead."""
    m = _REQUEST.match(condition)
    return " ".join(m.group("what").split()) if m else ""


@dataclass
class RuleMatch:
    """An article's handoff rule that applies to this conversation."""

    source_id: str
    reason: HandoffReason
    when: str
    similarity: float
    sentence: str = ""                 # the source sentence (a derived rule's; front matter: `when`)
    origin: str = "front_matter"       # or "derived"
    review: str | None = None


@dataclass
class HandoffInputs:
    language: str
    signals: list[Signal]
    rule_matches: list[RuleMatch]
    covered: bool
    intent: str
    customer_request: str
    facts: dict[str, GivenFact]
    tried: str | None = None
    off_topic: bool = False      # outside what the business does: refused, not handed off
    # reasons the matched articles' rules (front matter or derived) give to a person here: rules without a
    # condition, and those whose condition the conversation meets
    kb_reasons: frozenset[str] = frozenset()


def handled_by_procedure(inputs: HandoffInputs, desk: Desk) -> dict[str, str]:
    """Reasons recognised in the customer's words that this desk's agents handle themselves
    because the knowledge base covers the request (`Desk.handled_when_covered`): reason ->
    what the customer said. Where a matched article's rule gives that reason to a person and
    the conversation meets the rule's condition (`kb_reasons`), it still hands off."""
    if not inputs.covered:
        return {}
    out: dict[str, str] = {}
    for signal in inputs.signals:
        reason = _SIGNAL_REASONS.get(signal.name)
        if (reason in desk.handled_when_covered and reason not in inputs.kb_reasons
                and not any(m.reason == reason for m in inputs.rule_matches)):
            out.setdefault(reason, f"customer said \"{signal.evidence}\"")
    return out


def decide(inputs: HandoffInputs, desk: Desk) -> tuple[Handoff, dict[str, str]]:
    """The handoff, and for each reason the evidence that triggered it."""
    evidence: dict[str, str] = {}
    handled = handled_by_procedure(inputs, desk)
    for signal in inputs.signals:
        reason = _SIGNAL_REASONS.get(signal.name)
        if reason and reason not in evidence and reason not in handled:
            evidence[reason] = f"customer said \"{signal.evidence}\""
    if frustrated(inputs.signals):
        shown = ", ".join(f"{s.name} ({s.evidence})" for s in inputs.signals
                          if s.name in {"repeat_contact", "loop", "frustration", "angry_twice", "angry_recurrence"})
        evidence.setdefault("frustration_or_loop", shown)
    for match in inputs.rule_matches:
        evidence.setdefault(match.reason, f"{match.source_id}: {match.when}")
    if "fraud_or_security" in evidence:  # the fraud team takes the whole case
        for reason in ("account_verification_required", "policy_requires_human"):
            evidence.pop(reason, None)
    if not inputs.covered and not evidence and not inputs.off_topic:
        # only when nothing else already brings a person in: then it is the reason itself;
        # a request no desk of this business would answer gets a refusal instead
        evidence["no_grounded_answer"] = "the knowledge base has no confident match"
    reasons = [r for r in PRIORITY if r in evidence]
    if not reasons:
        return Handoff(needed=False), {}
    routes = [desk.route(r) for r in reasons]
    urgency = max((r.urgency for r in routes), key=_URGENCY.__getitem__)  # the angriest reason sets the pace
    handoff = Handoff(
        needed=True, urgency=urgency, reasons=reasons, queue=desk.route(route_taken(reasons)).queue,  # type: ignore[arg-type]
        summary=summary(inputs, reasons, evidence),
        rules=[RuleCitation(reason=m.reason, source_id=m.source_id, condition=m.when, sentence=m.sentence or m.when,
                            origin=m.origin, review=m.review, similarity=m.similarity)  # type: ignore[arg-type]
               for m in inputs.rule_matches if m.reason in reasons],
    )
    return handoff, evidence


def questions_allowed(handoff: Handoff, rule_matches: list[RuleMatch]) -> bool:
    """Diagnose first, unless a person takes over anyway, or an article's rule already
    says the diagnosed fault needs one."""
    diagnosed_fault = any(m.reason == "policy_requires_human" for m in rule_matches)
    return not (set(handoff.reasons) & PERSON_LED) and not diagnosed_fault


# any person answers these; a team the knowledge base names for the diagnosed case answers
# them better (an angry customer with a line fault needs the 2nd line, not a callback)
_ANY_PERSON: frozenset[str] = frozenset({"frustration_or_loop", "explicit_human_request"})
_NAMED_TEAM: tuple[str, ...] = ("policy_requires_human", "account_verification_required")


def route_taken(reasons: list[str]) -> str | None:
    """The reason whose route the case takes: the most serious one, unless that one only
    asks for a person and the knowledge base names the team for this case."""
    if not reasons:
        return None
    if reasons[0] in _ANY_PERSON:
        return next((r for r in _NAMED_TEAM if r in reasons), reasons[0])
    return reasons[0]


def promised_route(handoff: Handoff) -> str | None:
    """The reason whose route is taken: the customer gets that route's promise and no
    other, since two promises with two deadlines for one conversation contradict each other."""
    return route_taken(handoff.reasons) if handoff.needed else None


_LABELS = {
    "en": {"wants": "Customer wants", "topic": "Topic", "facts": "Facts collected", "tried": "Already tried",
           "why": "Why a person", "none": "none yet"},
    "ru": {"wants": "Клиент хочет", "topic": "Тема", "facts": "Собранные факты", "tried": "Уже пробовали",
           "why": "Почему нужен человек", "none": "пока нет"},
}


def summary(inputs: HandoffInputs, reasons: list[str], evidence: dict[str, str]) -> str:
    """A note for the human who takes over, in the conversation's language."""
    lbl = _LABELS.get(inputs.language, _LABELS["en"])
    facts = "; ".join(f"{k}: {v.evidence}" for k, v in inputs.facts.items() if k != "already_tried")
    tried = inputs.facts.get("already_tried")
    lines = [
        f"{lbl['wants']}: {inputs.customer_request}",
        f"{lbl['topic']}: {inputs.intent}",
        f"{lbl['facts']}: {facts or lbl['none']}",
        f"{lbl['tried']}: {tried.evidence if tried else lbl['none']}",
        f"{lbl['why']}: " + "; ".join(f"{r} ({evidence[r]})" for r in reasons),
    ]
    return "\n".join(lines)
