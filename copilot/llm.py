"""The only module that talks to a chat model: one OpenAI-compatible client (langchain-openai)
with base URL, model, key, timeout and retries from configuration.

Answers the code reads back are JSON constrained by a JSON schema (llama.cpp turns the
schema into a grammar) and validated with pydantic. Timeouts, refused connections, 429,
5xx and invalid JSON are retried with exponential backoff inside one time budget; when the
budget or the attempts run out, `LLMUnavailableError` says why and the engine falls back
to a retrieval-only draft.

The budget is one deadline for the whole call, kept by the caller's thread: the request
runs in a worker thread and the caller stops waiting at the deadline or when the operator
cancels, whatever pace the server keeps (an HTTP read timeout restarts with every byte, so
a server that sends one byte a second would otherwise hold the call for as long as it
likes).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, ValidationError

from copilot.config import LLMSettings
from copilot.errors import LLMUnavailableError
from copilot.masking import scrub

T = TypeVar("T", bound=BaseModel)
T2 = TypeVar("T2")

RETRYABLE = (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError,
             openai.InternalServerError, httpx.TimeoutException, httpx.TransportError)


@dataclass
class LLMResult:
    value: BaseModel
    raw: str
    model: str
    usage: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    attempts: int = 1


def json_schema_format(schema: type[BaseModel]) -> dict:
    """`response_format` for a pydantic model: OpenAI's strict JSON schema, which
    llama.cpp's server also accepts and compiles to a grammar."""
    body = schema.model_json_schema()
    body["additionalProperties"] = False
    return {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": body, "strict": True}}


def redact_url(url: str) -> str:
    """An endpoint as it may be shown or logged: no user name, password or query string
    (where some gateways take their keys)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class Cancelled(Exception):
    """The operator cancelled the model call."""


class _DeadlinePassed(Exception):
    """The call's budget ran out while waiting for the answer."""


class InvalidAnswer(Exception):
    """The model answered, but not with JSON matching the schema."""


class AnswerCache:
    """Model answers by (endpoint, model, messages, schema), for repeatable, fast eval re-runs.
    Only successful, valid answers are stored."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, raw TEXT, usage TEXT)")
        self._lock = threading.Lock()

    @staticmethod
    def key(settings: LLMSettings, model: str, messages: list[BaseMessage], fmt: dict) -> str:
        payload = json.dumps({"url": settings.base_url, "model": model, "temperature": settings.temperature,
                              "max_tokens": settings.max_tokens, "format": fmt,
                              "messages": [(m.type, m.content) for m in messages]}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> tuple[str, dict] | None:
        with self._lock:
            row = self._db.execute("SELECT raw, usage FROM answers WHERE key=?", (key,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def put(self, key: str, raw: str, usage: dict) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (key, raw, json.dumps(usage)))


class ChatClient:
    def __init__(self, settings: LLMSettings, chat_model: BaseChatModel | None = None,
                 cache: AnswerCache | None = None):
        self.settings = settings
        self._injected = chat_model
        self.cache = cache
        self.model_name = settings.model if chat_model is None else getattr(chat_model, "model_name", type(chat_model).__name__)

    def _chat(self, timeout: float, http: httpx.Client | None) -> BaseChatModel:
        if self._injected is not None:
            return self._injected
        s = self.settings
        return ChatOpenAI(
            model=s.model, base_url=s.base_url, api_key=s.api_key, timeout=timeout, max_retries=0,
            temperature=s.temperature, max_tokens=s.max_tokens, stream_usage=True, http_client=http,
        )

    def structured(
        self,
        messages: list[BaseMessage],
        schema: type[T],
        budget_s: float | None = None,
        cancel: threading.Event | None = None,
        on_progress: Callable[[float, int], None] | None = None,
    ) -> LLMResult:
        """Ask for JSON matching `schema`. `on_progress(seconds, characters received)` is
        called in the caller's thread a few times a second while it waits; setting `cancel`
        ends the call at once."""
        s = self.settings
        budget = s.timeout_s if budget_s is None else budget_s
        deadline = time.monotonic() + budget
        start = time.monotonic()
        fmt = json_schema_format(schema)
        cache_key = AnswerCache.key(s, self.model_name, messages, fmt) if self.cache else None
        if cache_key:
            hit = self.cache.get(cache_key)  # type: ignore[union-attr]
            if hit is not None:
                value = self._parse(hit[0], schema)
                return LLMResult(value, hit[0], self.model_name, hit[1], 0.0, 0)
        last_error = "no attempt made"
        attempts = 0
        received = [0]  # characters of the answer so far, for progress
        spent = {"prompt_tokens": 0, "completion_tokens": 0}  # failed attempts cost tokens too
        for attempt in range(s.max_retries + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            attempts += 1
            try:
                # a connection pool per call: an abandoned call closes its own, not another
                # operator's (the engine is shared by the panel's sessions)
                http = httpx.Client() if self._injected is None else None
                runnable = self._chat(remaining, http).bind(response_format=fmt)
                try:
                    raw, usage = self._bounded(lambda: self._call(runnable, messages, received),
                                               deadline, cancel, on_progress, start, received)
                finally:
                    if http is not None:
                        http.close()  # at a deadline or cancel: the worker's next read fails and it ends
                _add(spent, usage)
                value = self._parse(raw, schema)
                if cache_key:
                    self.cache.put(cache_key, raw, usage)  # type: ignore[union-attr]
                return LLMResult(value, raw, self.model_name, spent, time.monotonic() - start, attempts)
            except Cancelled:
                raise LLMUnavailableError("cancelled by the operator", spent) from None
            except _DeadlinePassed:
                last_error = f"no complete answer within the {budget:g} s budget"
                break
            except InvalidAnswer as exc:
                last_error = f"invalid answer: {exc}"
            except openai.LengthFinishReasonError as exc:
                _add(spent, _completion_usage(exc))
                last_error = "invalid answer: the reply hit the token limit before the JSON was complete"
            except RETRYABLE as exc:
                last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}".rstrip(": ")
            except (json.JSONDecodeError, AssertionError, openai.APIResponseValidationError):
                # a body that is not the OpenAI stream (an HTML error page, plain text): the SDK
                # fails on its first event, or asserts when no event came at all
                last_error = "the model server's answer is not an OpenAI-compatible JSON stream"
            except openai.APIStatusError as exc:  # 4xx other than 429: retrying will not help
                raise LLMUnavailableError(f"the model endpoint refused the request (HTTP {exc.status_code})",
                                          spent) from None
            pause = s.backoff_s * (2 ** attempt)
            if time.monotonic() + pause >= deadline:
                break
            time.sleep(pause)
        raise LLMUnavailableError(
            f"no usable answer from {redact_url(s.base_url)} after {attempts} attempt(s): {scrub(last_error)}", spent)

    def _bounded(self, call: Callable[[], T2], deadline: float, cancel: threading.Event | None,
                 on_progress: Callable[[float, int], None] | None, start: float, received: list[int]) -> T2:
        """`call()` in a worker thread, waited for until it returns, the deadline passes or
        `cancel` is set (the caller then closes the call's connections, so the worker ends too)."""
        box: dict[str, object] = {}
        done = threading.Event()

        def work() -> None:
            try:
                box["value"] = call()
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, name="copilot-llm-call", daemon=True).start()
        # the deadline, a cancel, or the panel's own rerun (raised from on_progress) leave
        # this loop by an exception; the caller's `finally` closes the call's connections
        while not done.wait(0.1):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            if time.monotonic() >= deadline:
                raise _DeadlinePassed()
            if on_progress is not None:
                on_progress(time.monotonic() - start, received[0])
        if "error" in box:
            raise box["error"]  # type: ignore[misc]
        return box["value"]  # type: ignore[return-value]

    @staticmethod
    def _call(runnable, messages: list[BaseMessage], received: list[int]) -> tuple[str, dict[str, int]]:
        # always streamed: progress can count what has arrived, and the worker notices a
        # dropped connection at the next chunk
        text = ""
        final: AIMessageChunk | None = None
        for chunk in runnable.stream(messages):
            final = chunk if final is None else final + chunk
            if chunk.content:
                text += str(chunk.content)
                received[0] = len(text)
        return text, _usage(final) if final is not None else {}

    @staticmethod
    def _parse(raw: str, schema: type[T]) -> T:
        text = raw.strip()
        if text.startswith("```"):
            text = text.strip("`").removeprefix("json").strip()
        try:
            return schema.model_validate(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InvalidAnswer(f"not JSON ({exc.msg})") from None
        except ValidationError as exc:
            raise InvalidAnswer(f"JSON does not match {schema.__name__}: {exc.errors()[0]['msg']}") from None

    def close(self) -> None:
        """Nothing held between calls (each call has its own connections)."""


def _usage(msg: AIMessage | AIMessageChunk | None) -> dict[str, int]:
    meta = getattr(msg, "usage_metadata", None) or {}
    return {"prompt_tokens": int(meta.get("input_tokens", 0)), "completion_tokens": int(meta.get("output_tokens", 0))}


def _add(total: dict[str, int], usage: dict[str, int]) -> None:
    for key in total:
        total[key] += int(usage.get(key, 0))


def _completion_usage(exc: openai.LengthFinishReasonError) -> dict[str, int]:
    usage = getattr(getattr(exc, "completion", None), "usage", None)
    if usage is None:
        return {}
    return {"prompt_tokens": usage.prompt_tokens or 0, "completion_tokens": usage.completion_tokens or 0}
