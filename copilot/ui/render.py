"""Pure helpers that turn suggestions into what the panel shows (no streamlit here, so
they are unit-tested directly)."""

from __future__ import annotations

import difflib
import html
import re

from copilot.schema import Suggestion
from copilot.text import strip_citations
from copilot.ui.labels import t
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


def flag_notes(s: Suggestion, lang: str = "en") -> list[str]:
    """What the operator should know about how this suggestion was decided, in words, in the
    operator's language (the engine's own detail, such as a margin, is quoted as it is)."""
    from copilot.ui.handoff_card import reason_label

    notes = []
    for flag in s.flags:
        name, _, detail = flag.partition(":")
        if name == "off_topic":
            notes.append(t(lang, "note_off_topic", detail=detail.strip()))
        elif name == "handled_by_procedure":
            reason, _, said = detail.strip().partition(" ")
            quoted = re.search(r'"(.*)"', said)
            notes.append(t(lang, "note_procedure", reason=reason_label(reason, lang),
                           said=t(lang, "note_said", words=plain_md(quoted.group(1))) if quoted else ""))
        elif name == "asks_nothing":
            act = detail.split()[0] if detail.split() else ""
            if act in ("greeting", "closing"):
                notes.append(t(lang, f"note_asks_nothing_{act}"))
        elif name == "no_knowledge_in_language":
            written, _, draft_in = detail.strip().partition(" ")
            if draft_in:  # "de (the draft is in en)": the draft is in another language than the customer's
                notes.append(t(lang, "note_other_language", language=written, draft=s.language))
            else:
                notes.append(t(lang, "note_no_knowledge", language=written))
        elif name == "screened_by_patterns":
            notes.append(t(lang, "note_screened", count=detail.split()[0]))
    if not s.coverage.covered and not any(f.startswith("off_topic:") for f in s.flags):
        # the reason quotes the customer's words: shown as text, never markup
        reason = plain_md(s.coverage.reason) if s.coverage.reason else t(lang, "note_low_confidence")
        notes.append(t(lang, "note_not_covered", reason=reason))
    return notes


def short_title(title: str, limit: int = 40) -> str:
    """A citation's title for its button: whole when it fits, else cut at a word (never
    mid-word) with an ellipsis."""
    if len(title) <= limit:
        return title
    cut = title[:limit].rsplit(" ", 1)[0].rstrip(",;:—-")
    return f"{cut or title[:limit]}…"


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
