"""Typed errors of the application: the knowledge base's (one base class for both, so the
CLI turns any of them into a one-line message and its exit code) and the model's."""

from __future__ import annotations

from knowledge_base.errors import ActionableError as CopilotError
from knowledge_base.errors import BadInputError, ConfigError, IndexMismatchError, SourceError

__all__ = ["CopilotError", "BadInputError", "ConfigError", "IndexMismatchError", "SourceError",
           "LLMUnavailableError"]


class LLMUnavailableError(CopilotError):
    """The chat endpoint failed after retries; the engine falls back to retrieval-only.
    `usage` counts the tokens the failed attempts still spent."""

    def __init__(self, message: str, usage: dict[str, int] | None = None):
        super().__init__(message)
        self.usage = usage or {"prompt_tokens": 0, "completion_tokens": 0}
