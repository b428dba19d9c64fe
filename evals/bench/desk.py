"""`copilot eval desk FOLDER`: a knowledge base we did not write, as a team brings it, in
both languages: a help-centre export, an FAQ sheet, an agent handbook and past tickets with
no `required_facts` or `handoff` front matter (`evals/desks/*/kb`), and opening customer
messages written beside it by someone who never read the product's code
(`evals/desks/*/cases.jsonl`; its README says who and when).

The knowledge folder is ingested into an index of its own (kept under the data folder,
named by a hash of its files, so a second run reuses it), then each case of the split runs
through the engine, retrieval-only: the model decides neither questions nor handoffs.
Per language: whether an expected source is among the first three found, the facts a
correct reply must carry, whether diagnostic cases get questions and which of the checks a
good agent asks next they cover (an item counts when at least half of its content words,
stemmed, are in the questions: tau-telecom's rule with this product's Russian and English
stems), questions about what the customer already said, handoffs and their reasons,
off-domain refusals, "not covered" judgements, and whether every question is backed by a
sentence of the knowledge base or a past ticket, in the customer's language.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from copilot.config import Settings
from copilot.engine import OFF_TOPIC, Copilot
from copilot.jsonl import read_records
from copilot.schema import Conversation, HandoffReason, Question, SuggestionTrace
from evals.metrics.resolution import contains
from knowledge_base.errors import SourceError
from knowledge_base.folder_index import folder_index
from knowledge_base.language import detect_language
from knowledge_base.tokenizer import function_terms, tokenize

DESKS = Path(__file__).resolve().parents[1] / "desks"
CATEGORIES = ("covered", "diagnostic", "handoff", "not_covered", "off_domain")
TOP = 3  # an expected source among the first TOP documents found


class DeskCase(BaseModel):
    """One case of `cases.jsonl` (the format its README gives)."""

    id: str = Field(min_length=1)
    split: Literal["dev", "test"]
    language: Literal["en", "ru"]
    category: Literal["covered", "diagnostic", "handoff", "not_covered", "off_domain"]
    conversation: Conversation
    sources: list[str] = Field(default_factory=list, description="kb files (relative to kb/) that answer it.")
    must_include: list[str] = Field(default_factory=list, description="Facts; alternatives separated by '|'.")
    known: list[str] = Field(default_factory=list, description="What the messages already give: 'topic[: value]'.")
    unknown: list[str] = Field(default_factory=list, description="The checks a good agent asks next: 'topic'.")
    handoff_expected: bool = False
    handoff_reasons: list[HandoffReason] = Field(default_factory=list)
    gold_reply: str = ""


class Outcome(BaseModel):
    id: str
    language: str
    category: str
    retrieved: list[str]
    hit: bool | None                 # an expected source in the first TOP (None: the case names none)
    included: list[bool]             # per must_include entry
    questions: list[str]
    unknown_covered: list[bool]      # per unknown item
    reasked: list[str]               # known items a question asks about again
    unbacked: list[str]              # questions with no source sentence or past ticket behind them
    wrong_language: list[str]        # questions not in the customer's language
    handoff: bool
    reasons: list[str]
    refused: bool                    # answered as off-topic
    not_covered: bool                # judged outside what the knowledge base answers (off-topic included)
    draft_language: str


class DeskResult(BaseModel):
    desk: str
    split: str
    documents: int
    outcomes: list[Outcome]


def load_cases(desk: Path, split: str) -> list[DeskCase]:
    path = desk / "cases.jsonl"
    if not path.exists():
        raise SourceError(str(path), "no cases file (a desk folder holds kb/ and cases.jsonl)")
    cases = [c for _, c in read_records(path, DeskCase, "case")]
    return [c for c in cases if split == "all" or c.split == split]


def _topic_terms(item: str) -> set[str]:
    """The content words of an item's topic, stemmed ("order number: HB-1234567" -> order, number);
    a hyphenated word by its parts ("first-time setup" -> first, time, setup)."""
    return {t for t in tokenize(item.split(":", 1)[0]) if "-" not in t} - function_terms()


def covered_by(item: str, questions: list[str]) -> bool:
    """At least half of the item's topic words are in the questions."""
    terms = _topic_terms(item)
    said = set(tokenize(" ".join(questions)))
    return bool(terms) and len(terms & said) * 2 >= len(terms)


def _asks_again(item: str, question: str) -> bool:
    """The question names most of a known item's topic: "Which robot model do you have?" asks
    "robot model: Buzz 5 Pro" again, "Look at the status light on top of the robot" does not (half
    of a two-word topic is one shared word); a one-word topic ("код") is too thin to tell."""
    terms = _topic_terms(item)
    return len(terms) > 1 and len(terms & set(tokenize(question))) * 2 > len(terms)


def _backed(q: Question) -> bool:
    """A question from a sentence of the knowledge base, from past tickets, or from the desk's
    basics for any problem; this desk has no front matter, so a front-matter question is not."""
    return bool(q.origin == "derived" and q.sentence or q.origin == "tickets" and q.source_id
                or q.origin == "basics")


def _matches(expected: str, found: str) -> bool:
    """A CSV sheet's rows are documents of their own ("faq.csv#how-do-i-..."): the sheet names them all."""
    return found == expected or found.startswith(expected + "#")


def desk_index(settings: Settings, desk: Path) -> tuple[Settings, int]:
    """Settings whose index holds the desk's kb/ (knowledge_base/folder_index.py), model off."""
    own, documents = folder_index(settings, desk / "kb", desk.name)
    return own.model_copy(update={"llm": own.llm.model_copy(update={"enabled": False})}), documents


def run(settings: Settings, desk: Path, split: str = "dev") -> DeskResult:
    cases = load_cases(desk, split)
    own, documents = desk_index(settings, desk)
    engine = Copilot(own)
    outcomes = []
    for case in cases:
        trace = SuggestionTrace()
        s = engine.suggest(case.conversation, trace)
        questions = [q.text for q in s.questions]
        retrieved = list(dict.fromkeys(trace.retrieved))
        outcomes.append(Outcome(
            id=case.id, language=case.language, category=case.category, retrieved=retrieved[:10],
            hit=any(_matches(e, f) for e in case.sources for f in retrieved[:TOP]) if case.sources else None,
            included=[contains(s.draft.text, f) for f in case.must_include],
            questions=questions,
            unknown_covered=[covered_by(u, questions) for u in case.unknown],
            reasked=[k for k in case.known if any(_asks_again(k, q) for q in questions)],
            unbacked=[q.text for q in s.questions if not _backed(q)],
            wrong_language=[q for q in questions if detect_language(q, case.language) != case.language],
            handoff=s.handoff.needed, reasons=list(s.handoff.reasons),
            refused=s.intent.label == OFF_TOPIC, not_covered=not s.coverage.covered,
            draft_language=detect_language(s.draft.text, s.language)))
    return DeskResult(desk=desk.name, split=split, documents=documents, outcomes=outcomes)


def _ratio(num: int, den: int) -> str:
    return f"{num}/{den} ({num / den:.2f})" if den else "n/a"


def figures(result: DeskResult, lang: str) -> dict[str, tuple[int, int]]:
    """Each figure as (count, of how many) for one language."""
    rows = [o for o in result.outcomes if o.language == lang]
    kind = defaultdict(list)
    for o in rows:
        kind[o.category].append(o)
    sourced = [o for o in rows if o.hit is not None]
    included = [x for o in rows for x in o.included]
    diagnostic = kind["diagnostic"]
    unknown = [x for o in diagnostic for x in o.unknown_covered]
    questions = [q for o in rows for q in o.questions]
    wants = [o for o in rows if o.category in ("handoff", "not_covered")]
    others = [o for o in rows if o.category not in ("handoff", "not_covered")]
    uncovered = [o for o in rows if o.category in ("not_covered", "off_domain")]
    judged = [o for o in rows if o.not_covered]
    return {
        "hit": (sum(o.hit for o in sourced), len(sourced)),
        "must_include": (sum(included), len(included)),
        "asked": (sum(bool(o.questions) for o in diagnostic), len(diagnostic)),
        "unknown": (sum(unknown), len(unknown)),
        "reasked": (sum(len(o.reasked) for o in rows), len(questions)),
        "unbacked": (sum(len(o.unbacked) for o in rows), len(questions)),
        "wrong_language": (sum(len(o.wrong_language) for o in rows) + sum(o.draft_language != lang for o in rows),
                           len(questions) + len(rows)),
        "handoff_recall": (sum(o.handoff for o in wants), len(wants)),
        "false_handoff": (sum(o.handoff for o in others), len(others)),
        "off_domain_refused": (sum(o.refused and not o.handoff for o in kind["off_domain"]), len(kind["off_domain"])),
        "in_domain_refused": (sum(o.refused for o in rows if o.category != "off_domain"),
                              len([o for o in rows if o.category != "off_domain"])),
        "not_covered_recall": (sum(o.not_covered for o in uncovered), len(uncovered)),
        "not_covered_precision": (sum(o.category in ("not_covered", "off_domain") for o in judged), len(judged)),
    }


LABELS = {
    "hit": f"an expected source in the first {TOP} found",
    "must_include": "facts a correct reply must carry, in the draft",
    "asked": "diagnostic cases with at least one question",
    "unknown": "checks a good agent asks next, covered by the questions",
    "reasked": "questions about what the customer already said (of all questions)",
    "unbacked": "questions with no knowledge-base sentence or past ticket behind them",
    "wrong_language": "questions and drafts not in the customer's language",
    "handoff_recall": "handoff and not-covered cases handed to a person",
    "false_handoff": "other cases handed to a person (should not be)",
    "off_domain_refused": "off-domain requests refused, no handoff",
    "in_domain_refused": "requests inside the business refused as off-topic (should not be)",
    "not_covered_recall": "uncovered cases (in the domain or not) judged not covered",
    "not_covered_precision": "of the cases judged not covered, truly uncovered",
}


def losses(result: DeskResult) -> list[str]:
    out = []
    for o in result.outcomes:
        why = []
        if o.hit is False:
            why.append(f"found {', '.join(o.retrieved[:TOP]) or 'nothing'}")
        if o.included and not all(o.included):
            why.append(f"{o.included.count(False)} of {len(o.included)} facts missing")
        if o.category == "diagnostic" and not all(o.unknown_covered):
            why.append("no question" if not o.questions else f"{o.unknown_covered.count(False)} checks not asked")
        if o.reasked:
            why.append(f"asked again: {'; '.join(o.reasked)}")
        want = o.category in ("handoff", "not_covered")
        if o.handoff != want:
            why.append("handed off" if o.handoff else "not handed off")
        if o.category == "off_domain" and not o.refused:
            why.append("not refused")
        if o.category != "off_domain" and o.refused:
            why.append("refused as off-topic")
        if why:
            out.append(f"{o.id} ({o.category}): {'; '.join(why)}")
    return out


def markdown(result: DeskResult) -> str:
    langs = sorted({o.language for o in result.outcomes})
    table = {lang: figures(result, lang) for lang in langs}
    rows = ["| figure | " + " | ".join(langs) + " |", "|---|" + "---:|" * len(langs)]
    for key, label in LABELS.items():
        rows.append(f"| {label} | " + " | ".join(_ratio(*table[lang][key]) for lang in langs) + " |")
    counts = ", ".join(f"{lang} {sum(o.language == lang for o in result.outcomes)}" for lang in langs)
    lost = losses(result)
    return (f"## A desk we did not write: {result.desk} ({result.split} split)\n\n"
            f"`evals/desks/{result.desk}`: {result.documents} documents as a team brings them (help-centre HTML, "
            "an FAQ sheet, an agent handbook, past tickets; no `required_facts` or `handoff` front matter), both "
            f"languages, and cases written beside them by someone who never read the product's code ({counts} "
            "cases; the folder's README says who and when). Retrieval-only; questions and policy handoffs can only "
            "come from what the product derives from that text and those tickets.\n\n" + "\n".join(rows) + "\n\n"
            + (f"Where we lose ({len(lost)} cases): " + "; ".join(lost) + "." if lost else "Where we lose: nowhere."))


def summary(result: DeskResult) -> str:
    parts = []
    for lang in sorted({o.language for o in result.outcomes}):
        f = figures(result, lang)
        parts.append(f"{result.split} {lang}: " + ", ".join(f"{k} {_ratio(*f[k])}" for k in (
            "hit", "must_include", "asked", "unknown", "reasked", "handoff_recall", "false_handoff",
            "off_domain_refused", "not_covered_recall")))
    return "\n".join(parts)
