"""Read knowledge sources in the formats of DESIGN.md into `SourceDocument`s.

Every problem becomes a `SourceError` naming the file (and line or record) so one bad file
or record never stops the others.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from bs4 import BeautifulSoup, Tag
from markdownify import markdownify
from pydantic import BaseModel, Field, ValidationError, field_validator

from knowledge_base import chatwoot_export
from knowledge_base.errors import SourceError, printable, shown_path
from knowledge_base.settings import IngestSettings
from knowledge_base.language import detect_language
from knowledge_base.documents import (
    HandoffRule,
    RequiredFact,
    SourceDocument,
    TicketInfo,
)

_DEFAULT_NESTING: int = IngestSettings.model_fields["max_nesting"].default

FORMATS = {
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "jsonl",
    ".csv": "csv",
}


@dataclass
class LoadResult:
    documents: list[SourceDocument] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    # files that had an error: what was stored from them before must not be removed
    files_with_errors: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class SourceFile:
    path: Path
    root: Path
    given: str = ""  # the folder as the user named it: messages start from it

    @property
    def rel(self) -> str:
        return self.path.relative_to(self.root).as_posix()

    @property
    def shown(self) -> str:
        """The file as messages name it: the folder the user gave, then the path inside it,
        control characters of a hostile name escaped (`shown_path`)."""
        return shown_path((Path(self.given) / self.rel).as_posix() if self.given else self.rel)


def discover(paths: Iterable[Path]) -> tuple[list[SourceFile], list[SourceError]]:
    """Files to ingest under each path. A directory contributes its supported files,
    except hidden ones and README files (folder documentation, not knowledge); a folder
    linked into it is read too, and a link that cannot be followed is reported."""
    files: list[SourceFile] = []
    errors: list[SourceError] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            errors.append(SourceError(str(raw), _broken_link(path) or "no such file or directory"))
            continue
        if path.is_file():
            if path.suffix.lower() not in FORMATS:
                errors.append(
                    SourceError(str(raw), f"unsupported format '{printable(path.suffix) or 'no extension'}' "
                                f"(supported: {', '.join(sorted(set(FORMATS)))})")
                )
                continue
            files.append(SourceFile(path.resolve(), path.resolve().parent, str(path.parent)))
            continue
        root = path.resolve()
        _walk(root, SourceFile(root, root, str(raw)), {root}, {root: str(raw)}, files, errors)
    return files, errors


def _broken_link(path: Path) -> str | None:
    """Why a symbolic link cannot be followed (a loop, a missing target), or None."""
    if not path.is_symlink():
        return None
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop; skipped"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop; skipped"
        return f"symbolic link to a missing file ({shown_path(os.readlink(path))}); skipped"
    return None


def _walk(folder: Path, top: SourceFile, chain: set[Path], seen: dict[Path, str], files: list[SourceFile],
          errors: list[SourceError]) -> None:
    """Supported files under `folder` (inside the ingested folder `top`). `chain` holds the
    real folders being walked, so a link back to one of them is a loop, not a descent;
    `seen`, every real folder read and where, so a folder linked twice is read once."""
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        errors.append(SourceError(SourceFile(folder, top.root, top.given).shown,
                                  f"cannot read the folder ({exc.strerror or exc})"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        here = SourceFile(entry, top.root, top.given)
        why = _broken_link(entry)
        if why and ("loop" in why or entry.suffix.lower() in FORMATS or not entry.suffix):
            errors.append(SourceError(here.shown, why))
        if why:
            continue
        if entry.is_dir():
            real = entry.resolve()
            if real in chain:
                errors.append(SourceError(here.shown, f"symbolic link to a folder that contains it ({shown_path(real)}), "
                                                      "a loop; skipped"))
                continue
            if real in seen:
                errors.append(SourceError(here.shown, f"the same folder as {shown_path(seen[real])}, already read; skipped"))
                continue
            seen[real] = here.shown
            _walk(entry, top, chain | {real}, seen, files, errors)
            continue
        if not entry.is_file() or entry.suffix.lower() not in FORMATS or entry.stem.lower() == "readme":
            continue
        files.append(here)


def read_text(src: SourceFile, max_bytes: int) -> str:
    """The file as text, or a SourceError for empty, too large, binary, unreadable or
    non-UTF-8 files."""
    try:
        size = src.path.stat().st_size
        if size > max_bytes:
            raise SourceError(
                src.shown,
                f"file too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.0f} MB limit; "
                "split it or raise COPILOT_INGEST__MAX_FILE_MB)",
            )
        data = src.path.read_bytes()
    except OSError as exc:
        raise SourceError(src.shown, f"cannot be read ({exc.strerror or exc})") from None
    if not data.strip():
        raise SourceError(src.shown, "empty file")
    if b"\x00" in data[:8192]:
        raise SourceError(src.shown, "binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"{src.shown}:{line}", f"invalid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None


def load_file(src: SourceFile, max_bytes: int, max_nesting: int = _DEFAULT_NESTING) -> LoadResult:
    """The documents of one file and an error per bad file or record: nothing in a file,
    however hostile, stops the files beside it."""
    result = LoadResult()
    try:
        text = read_text(src, max_bytes)
        fmt = FORMATS[src.path.suffix.lower()]
        loader = _LOADERS[fmt]
        for item in loader(src, text, max_nesting):
            if isinstance(item, SourceError):
                result.errors.append(item)
            else:
                item.fmt = fmt
                result.documents.append(item)
    except SourceError as exc:
        result.errors.append(exc)
    except RecursionError:  # a parser that recurses (YAML, HTML) met nesting deeper than Python's stack
        result.errors.append(SourceError(src.shown, "nested too deeply to read; flatten the structure"))
    except Exception as exc:  # noqa: BLE001 - any other parser failure is this file's, not the run's
        reason = (str(exc).strip().splitlines() or [""])[0][:200]
        result.errors.append(SourceError(src.shown, f"cannot be parsed ({type(exc).__name__}: {reason})"))
    if result.errors:
        result.files_with_errors.add(src.rel)
    return result


# --- Markdown -------------------------------------------------------------------------

def _parse_tags(v: Any) -> Any:
    """Tags as a list; a string is split on commas, semicolons or pipes."""
    if v is None:
        return []
    if isinstance(v, str):
        return [t.strip() for t in re.split(r"[,;|]", v) if t.strip()]
    return v


class FrontMatter(BaseModel):
    """The YAML front matter of a Markdown article."""

    model_config = {"extra": "ignore"}

    id: str | None = None
    title: str | None = None
    lang: str | None = None
    audience: str = "customer"
    tags: list[str] = Field(default_factory=list)
    updated: str | None = None
    status: str = "current"
    superseded_by: str | None = None
    required_facts: list[RequiredFact] = Field(default_factory=list)
    handoff: list[HandoffRule] = Field(default_factory=list)
    type: str | None = None

    @field_validator("updated", mode="before")
    @classmethod
    def _date_to_str(cls, v: Any) -> Any:
        return None if v is None else str(v)

    @field_validator("id", "title", mode="before")
    @classmethod
    def _scalar_to_str(cls, v: Any) -> Any:
        return None if v is None else str(v)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> Any:
        return _parse_tags(v)

    @field_validator("handoff", mode="before")
    @classmethod
    def _handoff(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, (str, dict)):
            v = [v]
        return [{"reason": x} if isinstance(x, str) else x for x in v]

    @field_validator("status")
    @classmethod
    def _status(cls, v: str) -> str:
        if v not in {"current", "outdated"}:
            raise ValueError("must be 'current' or 'outdated'")
        return v

    @field_validator("audience")
    @classmethod
    def _audience(cls, v: str) -> str:
        if v not in {"customer", "internal"}:
            raise ValueError("must be 'customer' or 'internal'")
        return v


def _field_error(rel: str, exc: ValidationError, line: int | None = None) -> SourceError:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "record"
    where = f"{rel}:{line}" if line else rel
    return SourceError(where, f"field '{loc}': {err['msg']}")


def _split_front_matter(rel: str, text: str, max_nesting: int = _DEFAULT_NESTING) -> tuple[dict, str, int]:
    """(front matter, body, line where the body starts)."""
    if not text.startswith("---"):
        return {}, text, 1
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            raw = "".join(lines[1:i])
            at = _too_deep(raw, max_nesting)  # the YAML parser recurses once per level, as JSON's does
            if at is not None:
                raise SourceError(f"{rel}:{raw.count(chr(10), 0, at) + 2}",
                                  f"front matter nested deeper than {max_nesting} levels "
                                  "(limit: COPILOT_INGEST__MAX_NESTING)")
            try:
                meta = yaml.safe_load(raw) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"{rel}:{mark.line + 2}" if mark else rel
                problem = getattr(exc, "problem", None) or "cannot be parsed"
                raise SourceError(where, f"invalid YAML front matter: {problem}") from None
            if not isinstance(meta, dict):
                raise SourceError(f"{rel}:2", "front matter must be a YAML mapping")
            return meta, "".join(lines[i + 1 :]), i + 2
    raise SourceError(f"{rel}:1", "front matter opened with '---' is never closed")


def _first_heading(body: str) -> str | None:
    m = re.search(r"^#\s+(.+)$", body, flags=re.M)
    return m.group(1).strip() if m else None


def load_markdown(src: SourceFile, text: str, max_nesting: int) -> Iterable[SourceDocument | SourceError]:
    meta, body, _ = _split_front_matter(src.shown, text, max_nesting)
    try:
        fm = FrontMatter.model_validate(meta)
    except ValidationError as exc:
        yield _field_error(src.shown, exc)
        return
    if not body.strip():
        yield SourceError(src.shown, "no content after the front matter")
        return
    title = fm.title or _first_heading(body) or src.path.stem.replace("-", " ").replace("_", " ")
    yield SourceDocument(
        id=fm.id or src.rel,
        title=title,
        text=body.strip(),
        lang=fm.lang or detect_language(body),
        doc_type="ticket" if fm.type == "ticket" else "article",
        audience=fm.audience,  # type: ignore[arg-type]
        tags=fm.tags,
        updated=fm.updated,
        status=fm.status,  # type: ignore[arg-type]
        superseded_by=fm.superseded_by,
        required_facts=fm.required_facts,
        handoff=fm.handoff,
        path=src.rel,
    )


# --- Plain text -----------------------------------------------------------------------

def load_txt(src: SourceFile, text: str, max_nesting: int) -> Iterable[SourceDocument | SourceError]:
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    title = first if 0 < len(first) <= 120 else src.path.stem.replace("-", " ").replace("_", " ")
    yield SourceDocument(id=src.rel, title=title, text=text.strip(), lang=detect_language(text), path=src.rel)


# --- HTML -----------------------------------------------------------------------------

_HTML_DROP_TAGS = ["script", "style", "nav", "header", "footer", "aside", "form", "noscript",
                   "button", "svg", "iframe", "template"]
_HTML_DROP_HINTS = re.compile(r"cookie|banner|breadcrumb|share|feedback|rating|app-promo|"
                              r"navbar|menu|sidebar|popup|subscribe", re.I)


def _deeper_than(soup: BeautifulSoup, limit: int) -> Tag | None:
    """The first element nested deeper than `limit`, found without recursion, or None."""
    stack: list[tuple[Tag, int]] = [(soup, 0)]
    while stack:
        tag, depth = stack.pop()
        if depth > limit:
            return tag
        stack.extend((child, depth + 1) for child in tag.children if isinstance(child, Tag))
    return None


def load_html(src: SourceFile, text: str, max_nesting: int) -> Iterable[SourceDocument | SourceError]:
    soup = BeautifulSoup(text, "html.parser")
    deep = _deeper_than(soup, max_nesting)
    if deep is not None:  # the conversion to Markdown recurses per level, and slows with the depth squared
        yield SourceError(f"{src.shown}:{deep.sourceline}" if deep.sourceline else src.shown,
                          f"HTML elements nested deeper than {max_nesting} levels (limit: COPILOT_INGEST__MAX_NESTING)")
        return
    meta_id = soup.find("meta", attrs={"name": "id"})
    html_tag = soup.find("html")
    lang = html_tag.get("lang") if html_tag else None
    title_tag = soup.find("title")
    h1 = soup.find("h1")
    title = (h1.get_text(" ", strip=True) if h1 else "") or (
        title_tag.get_text(" ", strip=True) if title_tag else src.path.stem)
    for tag in soup(_HTML_DROP_TAGS):
        tag.decompose()
    for tag in soup.find_all(True):
        if tag.decomposed or tag.attrs is None:
            continue
        hint = " ".join([*tag.get("class", []), tag.get("id", "") or "", tag.get("role", "") or ""])
        if hint and _HTML_DROP_HINTS.search(hint) and tag.name not in {"html", "body", "main", "article"}:
            tag.decompose()
    main = soup.find("article") or soup.find("main") or soup.find("body") or soup
    body = markdownify(str(main), heading_style="ATX", strip=["a", "img"])
    body = re.sub(r"\n{3,}", "\n\n", body).strip()
    if not body:
        yield SourceError(src.shown, "no readable text in the HTML page")
        return
    yield SourceDocument(
        id=str(meta_id["content"]) if meta_id and meta_id.get("content") else src.rel,
        title=title,
        text=body,
        lang=(str(lang)[:2].lower() if lang else detect_language(body)),
        path=src.rel,
    )


# --- Records: JSON, JSONL, CSV ---------------------------------------------------------

class TicketRecord(BaseModel):
    """A past ticket as DESIGN.md defines it."""

    id: str = Field(min_length=1)
    lang: str | None = None
    messages: list[dict[str, str]] = Field(min_length=1)
    resolution: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    outcome: str = "resolved"
    csat: int | None = Field(None, ge=1, le=5)
    created: str | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("messages")
    @classmethod
    def _messages(cls, v: list[dict[str, str]]) -> list[dict[str, str]]:
        for i, m in enumerate(v):
            if m.get("role") not in {"customer", "agent"}:
                raise ValueError(f"message {i}: role must be 'customer' or 'agent'")
            if not str(m.get("text", "")).strip():
                raise ValueError(f"message {i}: empty text")
        return v

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, v: str) -> str:
        if v not in {"resolved", "escalated"}:
            raise ValueError("must be 'resolved' or 'escalated'")
        return v


class ArticleRecord(BaseModel):
    """A JSON/JSONL/CSV knowledge record: id, title and one of content/text/body."""

    model_config = {"extra": "ignore"}

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    content: str | None = None
    text: str | None = None
    body: str | None = None
    lang: str | None = None
    tags: list[str] = Field(default_factory=list)
    updated: str | None = None
    status: str = "current"

    @field_validator("id", mode="before")
    @classmethod
    def _id_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) else v

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> Any:
        return _parse_tags(v)

    def body_text(self) -> str:
        for value in (self.content, self.text, self.body):
            if value and value.strip():
                return value.strip()
        raise ValueError("needs one of 'content', 'text' or 'body'")


_CARD_LABELS = {
    "en": ("Problem", "Agent asked", "Steps taken", "Resolution", "Outcome", "Past ticket"),
    "ru": ("Проблема", "Вопросы агента", "Что сделано", "Решение", "Итог", "Прошлое обращение"),
}
_SENTENCE = re.compile(r"(?<=[.!?…])\s+")


def _truncate_words(text: str, n: int) -> str:
    words = text.split()
    return text if len(words) <= n else " ".join(words[:n]) + " …"


def ticket_to_document(rec: TicketRecord, rel: str, line: int | None) -> SourceDocument:
    """A past ticket as a resolution card (problem, questions asked, steps, resolution)
    rather than a flat transcript: the card is what an agent reuses."""
    customer = " ".join(m["text"].strip() for m in rec.messages if m["role"] == "customer")
    agent_sentences = [s.strip() for m in rec.messages if m["role"] == "agent"
                       for s in _SENTENCE.split(m["text"]) if s.strip()]
    questions = [s for s in agent_sentences if s.endswith("?")]
    steps = [s for s in agent_sentences if not s.endswith("?")]
    lang = rec.lang or detect_language(customer)
    lbl = _CARD_LABELS.get(lang, _CARD_LABELS["en"])
    first_customer = next((m["text"] for m in rec.messages if m["role"] == "customer"), rec.resolution)
    title = f"{lbl[5]} {rec.id}: {_truncate_words(' '.join(first_customer.split()), 12)}"
    parts = [f"{lbl[0]}: {_truncate_words(customer, 70)}"]
    if questions:
        parts.append(f"{lbl[1]}: {_truncate_words(' '.join(questions), 50)}")
    if steps:
        parts.append(f"{lbl[2]}: {_truncate_words(' '.join(steps), 60)}")
    parts.append(f"{lbl[3]}: {rec.resolution.strip()}")
    outcome = rec.outcome + (f" (CSAT {rec.csat})" if rec.csat else "")
    parts.append(f"{lbl[4]}: {outcome}")
    return SourceDocument(
        id=rec.id,
        title=title,
        text="\n".join(parts),
        lang=lang,
        doc_type="ticket",
        tags=rec.tags,
        updated=rec.created,
        ticket=TicketInfo(outcome=rec.outcome, csat=rec.csat, resolution=rec.resolution,  # type: ignore[arg-type]
                          agent_questions=questions, created=rec.created),
        path=rel,
        line=line,
    )


def record_to_document(rec: dict, rel: str, where: str, line: int | None) -> SourceDocument | SourceError:
    if not isinstance(rec, dict):
        return SourceError(where, f"expected a JSON object, got {type(rec).__name__}")
    try:
        if chatwoot_export.is_chatwoot(rec):  # a Chatwoot conversation export: a past ticket
            rec = chatwoot_export.to_ticket(rec)
        if "messages" in rec:
            return ticket_to_document(TicketRecord.model_validate(rec), rel, line)
        art = ArticleRecord.model_validate(rec)
        body = art.body_text()
    except ValidationError as exc:
        return _field_error(where, exc)
    except ValueError as exc:
        return SourceError(where, str(exc))
    if art.status not in {"current", "outdated"}:
        return SourceError(where, "field 'status': must be 'current' or 'outdated'")
    return SourceDocument(
        id=art.id, title=art.title, text=body, lang=art.lang or detect_language(body),
        tags=art.tags, updated=art.updated, status=art.status,  # type: ignore[arg-type]
        path=rel, line=line,
    )


_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def _too_deep(text: str, limit: int) -> int | None:
    """Where JSON text first nests deeper than `limit` (an offset), or None. Read before
    parsing: the parser and the record models recurse once per level."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


def _parse_json(text: str, where: str, max_nesting: int, line: int | None = None) -> Any:
    """The JSON value, or a SourceError naming the line (and column) of what is wrong."""
    text = text.lstrip("\ufeff")  # a byte-order mark (a file or a line written by another tool)
    at = _too_deep(text, max_nesting)
    if at is not None:
        n = line or text.count("\n", 0, at) + 1
        col = at - (text.rfind("\n", 0, at) + 1) + 1
        raise SourceError(f"{where}:{n}", f"JSON nested deeper than {max_nesting} levels at column {col} "
                                          "(limit: COPILOT_INGEST__MAX_NESTING)")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{where}:{line or exc.lineno}", f"invalid JSON ({exc.msg} at column {exc.colno})") from None


def load_json(src: SourceFile, text: str, max_nesting: int) -> Iterable[SourceDocument | SourceError]:
    try:
        data = _parse_json(text, src.shown, max_nesting)
    except SourceError as exc:
        yield exc
        return
    if isinstance(data, dict) and not ("id" in data and ("title" in data or "messages" in data)
                                       or chatwoot_export.is_export(data)):
        key = next((k for k in ("documents", "articles", "items", "records", "tickets", "data")
                    if isinstance(data.get(k), list)), None)
        if key is None:
            yield SourceError(src.shown, "expected a record, a list of records, or a list under "
                                       "'documents'/'articles'/'items'/'records'/'tickets'")
            return
        data = data[key]
    records = data if isinstance(data, list) else [data]
    for i, rec in enumerate(records, start=1):
        if not chatwoot_export.unfinished(rec):  # an open Chatwoot conversation waits for its resolution
            yield record_to_document(rec, src.rel, f"{src.shown}: record {i}", None)


def load_jsonl(src: SourceFile, text: str, max_nesting: int) -> Iterable[SourceDocument | SourceError]:
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip("\ufeff \t\r"):
            continue
        try:
            rec = _parse_json(line, src.shown, max_nesting, line=n)
        except SourceError as exc:
            yield exc
            continue
        if not chatwoot_export.unfinished(rec):
            yield record_to_document(rec, src.rel, f"{src.shown}:{n}", n)


_CSV_PAIRS = [("question", "answer"), ("title", "content"), ("title", "text"), ("title", "body"),
              ("q", "a"), ("вопрос", "ответ")]


def _slug(text: str, n: int = 48) -> str:
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-")[:n]


def load_csv(src: SourceFile, text: str, max_nesting: int) -> Iterable[SourceDocument | SourceError]:
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in (reader.fieldnames or []) if h]
    pair = next(((a, b) for a, b in _CSV_PAIRS if a in header and b in header), None)
    if pair is None:
        yield SourceError(f"{src.shown}:1", f"CSV header has no usable columns (found: {', '.join(header) or 'none'}; "
                                          "need question+answer or title+content)")
        return
    q_col, a_col = pair
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the csv module's limit (128 KB): that row only
            yield SourceError(f"{src.shown}:{reader.line_num + 1}", f"unreadable CSV row ({exc})")
            continue
        line = reader.line_num
        norm = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        question, answer = norm.get(q_col, ""), norm.get(a_col, "")
        if not question or not answer:
            yield SourceError(f"{src.shown}:{line}", f"row needs both '{q_col}' and '{a_col}'")
            continue
        rec = {
            "id": norm.get("id") or f"{src.rel}#{_slug(question)}",
            "title": question,
            "content": answer,
            "lang": norm.get("lang") or None,
            "tags": norm.get("tags") or [],
            "updated": norm.get("updated") or None,
        }
        yield record_to_document(rec, src.rel, f"{src.shown}:{line}", line)


_LOADERS = {
    "md": load_markdown,
    "txt": load_txt,
    "html": load_html,
    "json": load_json,
    "jsonl": load_jsonl,
    "csv": load_csv,
}
