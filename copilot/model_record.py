"""How often each model's drafts pass verification, as the last eval measured it.

`copilot eval --doc` with the model on records the run here (`docs/model_acceptance.json`,
committed like the benchmark files); the panel reads it to tell the operator, in plain
words, when the configured model's drafts are rarely usable, instead of letting them
wonder why they keep seeing the retrieval-only draft.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError


class Acceptance(BaseModel):
    model: str
    split: str
    accepted: int = Field(ge=0)
    cases: int = Field(ge=1)
    prompt: str
    measured: str = Field(description="UTC time of the run.")
    command: str

    @property
    def rate(self) -> float:
        return self.accepted / self.cases


def load(path: Path) -> list[Acceptance]:
    """The records in `path`; none when it is missing or unreadable (a note, not a failure)."""
    try:
        return [Acceptance.model_validate(r) for r in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, ValidationError, TypeError):
        return []


def record(path: Path, entry: Acceptance) -> None:
    """Keep one record per (model, split, prompt): the newest."""
    kept = [r for r in load(path) if (r.model, r.split, r.prompt) != (entry.model, entry.split, entry.prompt)]
    kept.append(entry)
    kept.sort(key=lambda r: (r.model, r.prompt, r.split))
    path.write_text(json.dumps([r.model_dump() for r in kept], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def rarely_usable(model: str, records: list[Acceptance], threshold: float) -> str | None:
    """The operator's note when the eval measured this model's drafts under `threshold`,
    else None (also when it was never measured: nothing to say then)."""
    mine = [r for r in records if r.model == model]
    if not mine:
        return None
    accepted, cases = sum(r.accepted for r in mine), sum(r.cases for r in mine)
    if accepted / cases >= threshold:
        return None
    splits = ", ".join(f"{r.split} {r.accepted}/{r.cases}" for r in mine)
    return (f"Drafts from {model} passed verification in {accepted} of {cases} eval cases ({splits}; "
            f"`{mine[0].command}`, {max(r.measured for r in mine)}), so you will mostly see the retrieval-only "
            "draft. For worded drafts, point the copilot at a stronger OpenAI-compatible model: set "
            "COPILOT_LLM__BASE_URL, COPILOT_LLM__MODEL and COPILOT_LLM__API_KEY (see README).")
