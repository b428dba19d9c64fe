"""Turns that ask nothing (a greeting alone, "I have a question", thanks, a goodbye) get the
desk's own short reply, not a search: no quoted article, no question, no specialist, no
off-topic refusal. Requests dressed as small talk ("hi, my card was declined", "thanks, but it
still doesn't work", "no" to "Did that help?") are answered as requests.

Data: `evals/datasets/small_talk/small_talk.jsonl` (hand-written conversations, any business,
both languages, dev/test: greetings, closings after an agent's answer, and requests that look
like them), asked of the configured index (the demo desk); retrieval-only. Run twice: with the
small-talk reply on (the product) and off (every turn searched as a request, as before).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from copilot.config import Settings
from copilot.engine import OFF_TOPIC, Copilot
from copilot.jsonl import read_records
from copilot.schema import Conversation, Message
from evals.dataset import DATASETS

SMALL_TALK_FILE = DATASETS / "small_talk" / "small_talk.jsonl"
ACTS = ("greeting", "closing")


class SmallTalkCase(BaseModel):
    id: str
    split: Literal["dev", "test"]
    language: Literal["en", "ru"]
    kind: Literal["greeting", "closing", "request"]
    conversation: Conversation
    origin: str = "hand-written"


class Outcome(BaseModel):
    id: str
    language: str
    kind: str
    answered_as: str   # the intent the suggestion gave: greeting, closing, or a request's
    handoff: bool
    refused: bool      # answered as off-topic
    cited: bool        # quoted the knowledge base
    asked: bool        # asked diagnostic questions

    @property
    def right(self) -> bool:
        if self.kind == "request":
            return self.answered_as not in ACTS
        return self.answered_as == self.kind and not (self.handoff or self.refused or self.cited or self.asked)


class SmallTalkResult(BaseModel):
    split: str
    mode: str  # a key of MODES
    outcomes: list[Outcome]
    # customer turns of the routing utterances' test split that call for a person (never trained on):
    # language -> (answered as small talk, asked)
    other_turns: dict[str, tuple[int, int]] = Field(default_factory=dict)

    def count(self, lang: str, kinds: tuple[str, ...], what: str) -> tuple[int, int]:
        rows = [o for o in self.outcomes if o.language == lang and o.kind in kinds]
        return sum(bool(getattr(o, what)) for o in rows), len(rows)


def load_cases(split: str, path: Path = SMALL_TALK_FILE) -> list[SmallTalkCase]:
    return [case for _, case in read_records(path, SmallTalkCase, "case") if split == "all" or case.split == split]


MODES = {"off": "off (every turn searched)", "formulas": "the formulas alone",
         "classifier": "the formulas, then the classifier (default)"}


def run(settings: Settings, split: str = "test", mode: str = "classifier") -> SmallTalkResult:
    settings = settings.model_copy(update={
        "llm": settings.llm.model_copy(update={"enabled": False}),
        "routing": settings.routing.model_copy(update={"small_talk": mode != "off",
                                                       "small_talk_classifier": mode == "classifier"})})
    copilot = Copilot(settings)
    outcomes = []
    other: dict[str, list[int]] = {}
    try:
        for case in load_cases(split):
            s = copilot.suggest(case.conversation)
            outcomes.append(Outcome(id=case.id, language=case.language, kind=case.kind, answered_as=s.intent.label,
                                    handoff=s.handoff.needed, refused=s.intent.label == OFF_TOPIC,
                                    cited=bool(s.citations), asked=bool(s.questions)))
        if mode != "off":
            for u in routing_test_turns():
                s = copilot.suggest(Conversation(messages=[Message(role="customer", text=u.text)]))
                counts = other.setdefault(u.lang, [0, 0])
                counts[0] += s.intent.label in ACTS
                counts[1] += 1
    finally:
        copilot.close()
    return SmallTalkResult(split=split, mode=mode, outcomes=outcomes,
                           other_turns={lang: (n, total) for lang, (n, total) in other.items()})


def routing_test_turns() -> list:
    from copilot.routing.classifier import DATA, Utterance

    # the labelled ones: each calls for a person (the unlabelled ordinary turns include plain thank-yous)
    return [u for _, u in read_records(DATA, Utterance, "utterance") if u.split == "test" and u.labels]


def _pct(n: int, total: int) -> str:
    return f"{n}/{total} ({n / total:.2f})" if total else "n/a"


def _row(r: SmallTalkResult, lang: str) -> list[str]:
    talk = [o for o in r.outcomes if o.language == lang and o.kind in ACTS]
    requests = [o for o in r.outcomes if o.language == lang and o.kind == "request"]
    return [_pct(sum(o.right for o in talk), len(talk)), _pct(*r.count(lang, ACTS, "handoff")),
            _pct(*r.count(lang, ACTS, "refused")), _pct(*r.count(lang, ACTS, "cited")),
            _pct(sum(not o.right for o in requests), len(requests))]


def summary(r: SmallTalkResult) -> str:
    return "\n".join(f"{r.split} {lang}, small talk {r.mode}: answered as such "
                     "{}, handed off {}, refused {}, quoted an article {}; requests taken for small talk {}"
                     .format(*_row(r, lang)) + (f"; turns that call for a person taken for small talk "
                                                f"{_pct(*r.other_turns[lang])}" if lang in r.other_turns else "")
                     for lang in sorted({o.language for o in r.outcomes}))


def markdown(runs: list[SmallTalkResult]) -> str:
    """One row per language and mode; where the last run (the product's setting) loses."""
    rows = ["| language | small-talk reply | greetings and closings answered as such (no handoff, refusal, "
            "citation or question) | handed off | refused as off-topic | quoted an article | requests taken for "
            "small talk (should be 0) | turns that call for a person taken for small talk (should be 0) |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    last = runs[-1]
    for lang in sorted({o.language for o in last.outcomes}):
        for r in runs:
            other = _pct(*r.other_turns[lang]) if lang in r.other_turns else "n/a"
            rows.append(f"| {lang} | {MODES[r.mode]} | " + " | ".join(_row(r, lang)) + f" | {other} |")
    wrong = [o for o in last.outcomes if not o.right]
    lose = ", ".join(f"{o.id} ({o.kind} answered as {o.answered_as}"
                     + "".join(f", {w}" for w in ("handoff", "refused", "cited", "asked") if getattr(o, w)) + ")"
                     for o in wrong[:24]) or "none"
    counts = {k: sum(o.kind == k for o in last.outcomes) for k in ("greeting", "closing", "request")}
    return (f"## Turns that ask nothing (greetings, thanks, goodbyes), {last.split} split\n\n"
            f"`{SMALL_TALK_FILE.relative_to(DATASETS.parent.parent)}` ({last.split} split, both languages): "
            f"{counts['greeting']} conversations whose pending customer turns only greet or announce a question, "
            f"{counts['closing']} that only thank, confirm it works or say goodbye after an agent's answer, and "
            f"{counts['request']} requests that look like them (a request inside a greeting or thanks, \"no\" to an "
            "agent's question, a question then \"hello??\"); any business, asked of the demo desk, retrieval-only. "
            "Off is every turn searched like a request (the behaviour before the reply). The classifier is trained "
            "on `copilot/small_talk/utterances.jsonl` and the dev split of `copilot/routing/utterances.jsonl`, never "
            "on this set. Turns that call for a person: the test split of the routing utterances that call for a person "
            "(a request for one, a threat, fraud, a vulnerable customer, anger and sarcasm), each alone as a "
            "conversation; taking one for small talk would answer it with \"Glad to help!\".\n\n"
            + "\n".join(rows) + f"\n\nWhere we lose with {MODES[last.mode]} ({len(wrong)} cases): {lose}.")
