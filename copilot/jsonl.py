"""Reading JSONL files of pydantic records, with one-line errors naming the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, TypeVar

from pydantic import BaseModel, ValidationError

from copilot.errors import BadInputError

M = TypeVar("M", bound=BaseModel)


def read_records(path: Path, model: type[M], what: str = "record") -> Iterator[tuple[int, M]]:
    """(line number, record) for each non-empty line; a bad line is a BadInputError naming
    the file, the line and the field."""
    if not path.exists():
        raise BadInputError(f"{path}: no such file")
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield n, model.model_validate(json.loads(line))
        except json.JSONDecodeError as exc:
            raise BadInputError(f"{path}:{n}: invalid JSON ({exc.msg})") from None
        except ValidationError as exc:
            e = exc.errors()[0]
            loc = ".".join(str(p) for p in e["loc"]) or what
            raise BadInputError(f"{path}:{n}: field '{loc}': {e['msg']}") from None
