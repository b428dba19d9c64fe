"""Typed errors of the knowledge base. Each message is one line that says what is wrong
and how to fix it; applications print it and exit with the error's `exit_code`."""

from __future__ import annotations

import os
import unicodedata

# characters that move the cursor, change colours, reorder or hide text on a terminal:
# controls (C0, DEL, C1), format characters (bidirectional overrides, zero-width ones),
# line and paragraph separators, and the lone surrogates that stand for a file name's
# undecodable bytes
_UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # a byte Python could not decode in a file name: that byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """`text` safe for one line of a terminal: every control or format character written as
    its escape, as repr() writes it (ESC as \\x1b, a newline as \\n, a right-to-left
    override as \\u202e), everything else (any script, backslashes) unchanged. Applying it
    twice changes nothing."""
    if all(ch.isprintable() or ch == " " for ch in text):
        return text
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNSAFE else ch for ch in text)


def shown_path(path: str | os.PathLike) -> str:
    """A file or folder name as one-line messages print it: forward slashes, and the
    characters a hostile file name can carry to the terminal escaped (see `printable`)."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
        if os.sep != "/":
            path = path.replace(os.sep, "/")
    return printable(str(path))


class ActionableError(Exception):
    """Base class: something the user can act on (exit code 2: bad input or setup)."""

    exit_code = 2


class BadInputError(ActionableError):
    """Input the user gave is unusable (file, record, field)."""


class SourceError(BadInputError):
    """One knowledge source could not be read. `where` is `path` or `path:line`. The message
    is one printable line whatever the file's name or content (see `printable`)."""

    def __init__(self, where: str, reason: str):
        self.where = where
        self.reason = reason
        super().__init__(f"{shown_path(where)}: {printable(reason)}")


class IndexMismatchError(ActionableError):
    """The index on disk was built differently from what the configuration asks for."""


class ConfigError(ActionableError):
    """The configuration cannot work (unknown backend, missing model file, ...)."""
