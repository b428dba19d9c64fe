"""Paragraph lines joined back where the source wrapped them at a fixed width.

Manuals and help-centre exports are often written with hard-wrapped lines ("If you have
also forgotten your\\npassword, open the account page ..."). Read line by line, such a
paragraph yields half-sentences: a draft would quote "password, open the account page,
click Forgot password" and derivation would miss a check split over two lines. Markdown
itself treats a single line break inside a paragraph as a space; this does the same, but
only where a line clearly goes on:
- never across a block start (heading, bullet, numbered step, table row, quote, fence),
  inside a code fence, or after a Markdown hard break (two trailing spaces or a
  backslash, which is how a text marks a line that must stay a line);
- the next line starts in lower case (the sentence goes on), or the line ends in a comma,
  or it is a list item and the next line is indented under it, or it is a paragraph line
  as long as a wrapped line that ends without a full stop, colon or semicolon (a short
  line with no full stop is a title or a label: "Payment not credited (EN)"; a list item
  with none is common and ends there).
"""

from __future__ import annotations

import re

WRAP_WIDTH = 60  # a line at least this long, ending mid-sentence, was wrapped (typical widths: 72-100)
_BLOCK = re.compile(r"^\s*(?:#{1,6}\s|[-*•+]\s|\d+[.)]\s|\||>|```|~~~)")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
# (line ends are read with str methods: a regular expression anchored at "$" and searched over a
# line retries at every blank of a long run of blanks, in time quadratic in its length)
_HARD_BREAK = ("  ", "\t", "\\")
_CLOSERS = "\"'»”)*_]"


def _goes_on(line: str, after: str) -> bool:
    """Whether `after` continues the paragraph line `line` (see the module's rules)."""
    if not line.strip() or not after.strip() or line.endswith(_HARD_BREAK) or _BLOCK.match(after):
        return False
    if re.match(r"\s*(?:#|\||```|~~~)", line):  # a heading, a table row or a fence stands alone
        return False
    if re.match(r"\s*[a-zа-яё]", after):
        return True
    body = line.rstrip()
    if body.endswith(",") or _BLOCK.match(line) and re.match(r"\s{2,}\S", after):
        return True  # a list item goes on in its indented next line
    # list items often end with no full stop ("- Ask the user to check X" and then "**If Y:**")
    return not _BLOCK.match(line) and len(body) >= WRAP_WIDTH and body.rstrip(_CLOSERS)[-1:] not in ".!?…:;"


def unwrap(text: str) -> str:
    """`text` with each wrapped paragraph (or list item) on one line; other lines as they were."""
    if "\n" not in text:
        return text
    out: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if out and not fenced and _goes_on(out[-1], line):
            out[-1] = f"{out[-1].rstrip()} {line.strip()}"
            continue
        if _FENCE.match(line):
            fenced = not fenced
        out.append(line)
    return "\n".join(out)
