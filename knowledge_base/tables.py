"""Markdown tables as the loaders leave them ("| a | b |" rows under a "|---|---|" rule):
shared by the chunker, which repeats a split table's header, and the drafting code, which
reads a row as a sentence."""

from __future__ import annotations

import re

ROW = re.compile(r"^\s*\|(.*)\|\s*$")
RULE = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$")


def cells(row: str) -> list[str]:
    """The cells of a table row, emphasis and code marks removed."""
    return [re.sub(r"\*\*|__|`", "", c).strip() for c in ROW.match(row).group(1).split("|")]
