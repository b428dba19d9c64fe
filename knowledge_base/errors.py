"""Typed errors of the knowledge base. Each message is one line that says what is wrong
and how to fix it; applications print it and exit with the error's `exit_code`."""

from __future__ import annotations


class ActionableError(Exception):
    """Base class: something the user can act on (exit code 2: bad input or setup)."""

    exit_code = 2


class BadInputError(ActionableError):
    """Input the user gave is unusable (file, record, field)."""


class SourceError(BadInputError):
    """One knowledge source could not be read. `where` is `path` or `path:line`."""

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{where}: {reason}")


class IndexMismatchError(ActionableError):
    """The index on disk was built differently from what the configuration asks for."""


class ConfigError(ActionableError):
    """The configuration cannot work (unknown backend, missing model file, ...)."""
