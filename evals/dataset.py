"""Eval cases: one JSON object per line, validated by these models.

The supervisor's "Create eval case" button writes the same format into the data folder
(`supervisor_cases_file`), so cases from real conversations and hand-written ones run
through one runner when asked (`copilot eval --with-supervisor-cases`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from copilot.errors import BadInputError
from copilot.jsonl import read_records
from copilot.schema import Conversation, HandoffReason

DATASETS = Path(__file__).resolve().parent / "datasets"

CATEGORIES = (
    "covered",            # the knowledge base answers it
    "not_covered",        # it does not: say so and hand off
    "facts_given",        # multi-turn, some facts already given: do not ask again
    "diagnostic",         # a problem that needs anamnesis questions first
    "angry",              # frustration, caps, repeated contacts
    "legal_threat",
    "fraud",
    "prompt_injection",
    "pii",                # the message carries personal data
    "refusal",            # the answer is no: reason and alternative
    "explicit_human",     # asks for a person
    "vulnerable",
    "compensation",
    "account_verification",
    "policy",             # the desk's policy says a person handles it (privacy requests, instalments)
)


class ExpectedHandoff(BaseModel):
    needed: bool
    reasons: list[HandoffReason] = Field(default_factory=list)


class Expected(BaseModel):
    sources: list[str] = Field(default_factory=list, description="Source ids that answer the case.")
    must_include: list[str] = Field(
        default_factory=list,
        description="Facts the reply must contain; each entry may list alternatives with '|'.",
    )
    must_not_include: list[str] = Field(
        default_factory=list, description="Content that must not appear (invented or outdated facts)."
    )
    handoff: ExpectedHandoff
    ask_about: list[str] = Field(default_factory=list, description="Missing facts to ask about (fact keys).")
    given_facts: list[str] = Field(default_factory=list, description="Facts already given: never ask.")
    contradicts: list[str] = Field(
        default_factory=list,
        description="Phrases whose presence in the shown draft contradicts what the customer said or where the "
                    "conversation happens (a condition they ruled out, a step they already did, \"write to us in the "
                    "chat\" inside the chat, a second handoff promise); each entry may list alternatives with '|', "
                    "matched case-insensitively like must_not_include.",
    )
    gold_reply: str = ""


class CaseTags(BaseModel):
    category: str
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    adversarial: bool = False

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"unknown category '{v}' (one of {', '.join(CATEGORIES)})")
        return v


class EvalCase(BaseModel):
    id: str = Field(min_length=1)
    # holdout: written once, after the tuning it measures, and never tuned on (datasets/holdout/README.md)
    split: Literal["dev", "test", "holdout"] = "dev"
    language: Literal["ru", "en"]
    conversation: Conversation
    expected: Expected
    tags: CaseTags
    origin: str = Field("hand-written", description="hand-written | supervisor:<suggestion id>")

    @model_validator(mode="after")
    def _reasons_match(self) -> "EvalCase":
        if self.expected.handoff.needed and not self.expected.handoff.reasons:
            raise ValueError("expected.handoff.needed is true but no reasons are given")
        if not self.expected.handoff.needed and self.expected.handoff.reasons:
            raise ValueError("expected.handoff.reasons given but needed is false")
        return self


def load_cases(path: Path, split: str | None = None) -> list[EvalCase]:
    """Cases from a JSONL file; a bad line is a BadInputError naming the file and line."""
    if not path.exists():
        raise BadInputError(f"{path}: no such dataset file")
    cases: list[EvalCase] = []
    seen: set[str] = set()
    for n, case in read_records(path, EvalCase, "case"):
        if case.id in seen:
            raise BadInputError(f"{path}:{n}: duplicate case id '{case.id}'")
        seen.add(case.id)
        if split is None or case.split == split:
            cases.append(case)
    return cases


def supervisor_case(suggestion_id: int, language: str, conversation: dict, suggestion: dict, *,
                    handoff_needed: bool, reasons: list[str], category: str, must_include: list[str],
                    gold_reply: str) -> EvalCase:
    """An eval case from a reviewed suggestion: the conversation as it was, the sources the
    draft cited as the expected ones, the questions it asked as the expected anamnesis,
    and what the supervisor says about handoff, facts and the gold reply."""
    cited = sorted({c["source_id"] for c in suggestion.get("citations", [])})
    return EvalCase(
        id=f"sup-{suggestion_id}", split="dev", language=language,  # type: ignore[arg-type]
        conversation=Conversation.model_validate(conversation),
        expected=Expected(sources=cited, must_include=[m for m in must_include if m.strip()],
                          handoff=ExpectedHandoff(needed=handoff_needed, reasons=reasons if handoff_needed else []),
                          ask_about=[q["fact"] for q in suggestion.get("questions", [])], gold_reply=gold_reply),
        tags=CaseTags(category=category), origin=f"supervisor:{suggestion_id}")


def supervisor_cases_file(settings) -> Path:
    """Where supervisors' eval cases go: `evals.supervisor_cases`, by default
    <data_dir>/eval_cases/supervisor.jsonl, so a click on the review page never changes the
    repository's datasets. `copilot eval --with-supervisor-cases` adds them to a run."""
    return Path(settings.evals.supervisor_cases or Path(settings.data_dir) / "eval_cases" / "supervisor.jsonl")


def append_case(path: Path, case: EvalCase) -> None:
    """Append one case (used by the supervisor page); refuses a duplicate id."""
    existing = {c.id for c in load_cases(path)} if path.exists() else set()
    if case.id in existing:
        raise BadInputError(f"{path}: case id '{case.id}' already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write(case.model_dump_json(exclude_defaults=False) + "\n")


def load_dataset(paths: list[Path], split: str | None) -> list[EvalCase]:
    """Cases of `split` (dev, test, holdout, or all/None) from JSONL files and folders of them; an
    id may appear in one file only."""
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(p.glob("*.jsonl")))
        elif p.exists():
            files.append(p)
        else:
            raise BadInputError(f"{p}: no such dataset file or folder")
    cases: list[EvalCase] = []
    seen: set[str] = set()
    for f in files:
        for case in load_cases(f, None if split in (None, "all") else split):
            if case.id in seen:
                raise BadInputError(f"{f}: case id '{case.id}' also appears in another dataset file")
            seen.add(case.id)
            cases.append(case)
    if not cases:
        raise BadInputError(f"no eval cases in {', '.join(map(str, paths))} for split '{split}'")
    return cases
