"""Pure helpers that turn suggestions into what the panel shows (no streamlit here, so
they are unit-tested directly)."""

from __future__ import annotations

import difflib
import html
import re

from copilot.schema import Suggestion
from copilot.text import strip_citations
from copilot.ui.transcript import parse_export, parse_transcript, transcript_preview  # noqa: F401  (the panel's paste)

URGENCY_ICON = {"high": "🔴", "medium": "🟠", "low": "🟡"}

# every ASCII punctuation mark may be backslash-escaped in Markdown, and then means itself
_MD_PUNCT = re.compile(r"([!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])")
# the marks Markdown (and Streamlit's math and colour extensions) would act on in the text
# around HTML tags: brackets (links, images, ":red[...]"), emphasis, code, math, headings
_MD_ACTIVE = {c: f"&#{ord(c)};" for c in "[]*_`$~\\#"}


def plain_md(text: str) -> str:
    """Text that Markdown shows exactly as written: a customer's "![x](https://...)" is
    characters, never an image the operator's browser fetches, a link, emphasis or HTML.
    Line breaks stay line breaks."""
    escaped = _MD_PUNCT.sub(r"\\\1", text)
    return "  \n".join(line.strip() for line in escaped.splitlines())


def _html_text(text: str) -> str:
    """Text for an HTML fragment that Streamlit's Markdown still parses around the tags:
    escaped as HTML, and the Markdown marks as character references (shown, not acted on)."""
    return "".join(_MD_ACTIVE.get(c) or html.escape(c, quote=True) for c in text)


def draft_html(s: Suggestion) -> str:
    """The draft with [n] as superscript citation marks and unsupported sentences
    highlighted, the reason in a tooltip."""
    parts = []
    for check in s.grounding.sentences:
        if check.removed:
            continue
        # the sentence as characters, the citation marks made superscripts
        pieces = re.split(r"\s*\[(\d{1,2})\]", check.text)
        text = "".join(_html_text(p) if i % 2 == 0 else f'<sup class="cite" title="source {p}">[{p}]</sup>'
                       for i, p in enumerate(pieces))
        if check.factual and not check.supported:
            reason = html.escape(check.reason or "not supported by its source")  # an attribute: no Markdown
            text = (f'<span class="unsupported" title="{reason}" style="background:#fde2e1;'
                    f'border-bottom:2px dotted #c0392b">{text}</span>')
        parts.append(text)
    return " ".join(parts) if parts else _html_text(s.draft.text)


def flag_notes(s: Suggestion) -> list[str]:
    """What the operator should know about how this suggestion was decided, in words."""
    notes = []
    for flag in s.flags:
        name, _, detail = flag.partition(":")
        if name == "off_topic":
            notes.append("Off-topic: the request is outside what this knowledge base is about, so the draft declines "
                         f"politely and promises no specialist ({detail.strip()}).")
        elif name == "handled_by_procedure":
            reason, _, said = detail.strip().partition(" ")
            notes.append(f"{reason.replace('_', ' ').capitalize()} {said}: this desk handles it itself when the "
                         "knowledge base covers the request, so the draft follows the matched article's procedure "
                         "and no handoff is proposed (desk setting handled_when_covered).")
        elif name == "no_knowledge_in_language":
            notes.append(f"The knowledge base has no articles in '{detail.strip()}': no questions or answers could be "
                         "taken from it in the customer's language.")
    if not s.coverage.covered and not any(f.startswith("off_topic:") for f in s.flags):
        # the reason quotes the customer's words: shown as text, never markup
        notes.append(f"Not covered by the knowledge base: {plain_md(s.coverage.reason or 'low confidence')}.")
    return notes


def plain_reply(s: Suggestion) -> str:
    """What goes into the reply box: the draft without citation marks or removed sentences."""
    kept = [c.text for c in s.grounding.sentences if not c.removed] or [s.draft.text]
    return strip_citations(" ".join(kept))


def word_diff_html(before: str, after: str) -> str:
    """Word-level diff: deletions struck through in red, insertions in green."""
    a, b = before.split(), after.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b).get_opcodes():
        if op == "equal":
            out.append(_html_text(" ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(f'<del style="background:#fde2e1">{_html_text(" ".join(a[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            out.append(f'<ins style="background:#d5f5e3;text-decoration:none">{_html_text(" ".join(b[j1:j2]))}</ins>')
    return " ".join(out)
