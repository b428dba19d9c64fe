"""Typed errors. Each message is one line that says what is wrong and how to fix it;
the CLI prints it on stderr and exits with the error's `exit_code`."""

from __future__ import annotations


class CopilotError(Exception):
    """Base class: something the user can act on."""

    exit_code = 2


class BadInputError(CopilotError):
    """Input the user gave is unusable (file, record, field); exit code 2."""


class SourceError(BadInputError):
    """One knowledge source could not be read. `where` is `path` or `path:line`."""

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class IndexMismatchError(CopilotError):
    """The index on disk was built differently from what the configuration asks for."""


class IndexNotFoundError(CopilotError):
    """No index at the configured place."""


class ConfigError(CopilotError):
    """The configuration cannot work (unknown backend, missing model file, ...)."""


class LLMUnavailableError(CopilotError):
    """The chat endpoint failed after retries; the engine falls back to retrieval-only.
    `usage` counts the tokens the failed attempts still spent."""

    def __init__(self, message: str, usage: dict[str, int] | None = None):
        super().__init__(message)
        self.usage = usage or {"prompt_tokens": 0, "completion_tokens": 0}
