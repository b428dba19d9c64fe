"""Versioned prompts: `prompts/<name>/v<N>.yaml`, referred to as `name@vN`.

A released version is never edited; a change is a new file with a changelog entry. Each
file declares its variables, and loading fails if the template uses others or misses
some, so a typo is an error at start-up rather than an empty string in production.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from langchain_core.messages import BaseMessage
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel, Field, ValidationError, field_validator

from copilot.errors import BadInputError, ConfigError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class ChangelogEntry(BaseModel):
    version: int
    date: str
    change: str

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, v: object) -> str:
        return str(v)


class PromptSpec(BaseModel):
    name: str
    version: int = Field(ge=0)
    description: str = ""
    changelog: list[ChangelogEntry] = Field(min_length=1)
    variables: list[str]
    output: str = Field(description="Name of the pydantic model the answer is parsed into.")
    system: str
    template: str

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    def chat_template(self) -> ChatPromptTemplate:
        return ChatPromptTemplate.from_messages([("system", self.system), ("human", self.template)])

    def render(self, **values: str) -> list[BaseMessage]:
        missing = set(self.variables) - set(values)
        if missing:
            raise ConfigError(f"prompt {self.ref}: missing value for {', '.join(sorted(missing))}")
        return self.chat_template().format_messages(**{k: values[k] for k in self.variables})


def parse_ref(ref: str) -> tuple[str, int]:
    m = re.fullmatch(r"([a-z][a-z0-9_]*)@v?(\d+)", ref.strip())
    if not m:
        raise BadInputError(f"prompt reference '{ref}' must look like NAME@vN, e.g. draft_reply@v1")
    return m.group(1), int(m.group(2))


def load_prompt(ref: str, prompts_dir: Path = PROMPTS_DIR) -> PromptSpec:
    """Load and validate `name@vN` from the prompts folder."""
    return _load(ref, str(prompts_dir))


@lru_cache(maxsize=64)
def _load(ref: str, prompts_dir: str) -> PromptSpec:
    name, version = parse_ref(ref)
    path = Path(prompts_dir) / name / f"v{version}.yaml"
    if not path.exists():
        known = ", ".join(available(Path(prompts_dir))) or "none"
        raise BadInputError(f"no prompt {name}@v{version} ({path} not found; available: {known})")
    try:
        spec = PromptSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        detail = f"field '{'.'.join(map(str, first['loc']))}': {first['msg']}" if first else str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {detail}") from None
    if (spec.name, spec.version) != (name, version):
        raise ConfigError(f"{path}: declares {spec.ref}, expected {name}@v{version}")
    used = set(spec.chat_template().input_variables)
    declared = set(spec.variables)
    if used != declared:
        raise ConfigError(f"{path}: template variables {sorted(used)} differ from declared {sorted(declared)}")
    return spec


def available(prompts_dir: Path = PROMPTS_DIR) -> list[str]:
    refs = []
    for path in sorted(prompts_dir.glob("*/v*.yaml")):
        m = re.fullmatch(r"v(\d+)", path.stem)
        if m:
            refs.append(f"{path.parent.name}@v{m.group(1)}")
    return refs
