"""Knowledge-base sentences whose condition the customer already ruled out.

An article says "If only one device has no internet, restart that device"; the customer
said "none of my devices can connect". Copying that sentence into the draft contradicts
them. The check here is about scope, the one kind of contradiction that needs no domain
knowledge: a condition about one X when the customer spoke of all (or none) of their Xs,
or the other way round, for the same X (compared by stem, in both languages).
"""

from __future__ import annotations

import re

from knowledge_base.tokenizer import tokenize

_I = re.I | re.U
# the condition a sentence opens with, up to the first clause break
_LEAD = re.compile(r"^[\W\d]*(?:if|when|если|когда)\b(?P<cond>[^,;:—]+)", _I)
_NOUN = r"(?P<rest>(?:[\w-]+\s+){0,1}[\w-]+)"
# "none of my devices", "not one device", "ни на одном устройстве", "все устройства"
_ALL = (re.compile(rf"\b(?:all|none|every|neither|not (?:a single|one)|no)\s+(?:of\s+)?(?:my|the|our|your)?\s*{_NOUN}", _I),
        re.compile(rf"(?<!\w)(?:вс(?:е|ех|ём|ем|еми)|ни\s+(?:на\s+|в\s+|с\s+)?одн\w*|никак\w*|кажд\w*)\s+"
                   rf"(?:мо\w*\s+|наш\w*\s+)?{_NOUN}", _I))
_ONE = (re.compile(rf"\b(?:only one|just one|a single|one)\s+(?:of\s+(?:my|the|our|your)\s+)?{_NOUN}", _I),
        re.compile(rf"(?<!\w)(?:только\s+(?:на\s+|в\s+|с\s+)?)?(?:одн(?:о|ом|а|ой|им|у)|единственн\w*)\s+{_NOUN}", _I))


def _stems(patterns: tuple[re.Pattern, ...], text: str, exclude: tuple[re.Pattern, ...] = ()) -> set[str]:
    for pattern in exclude:  # "ни на одном устройстве" is all of them, not one
        text = pattern.sub(" ", text)
    return {s for p in patterns for m in p.finditer(text) for s in tokenize(m.group("rest")) if len(s) > 2}


def ruled_out(sentence: str, customer_text: str) -> bool:
    """The sentence opens with a condition on one X and the customer spoke of all their Xs
    (or a condition on all and the customer spoke of one)."""
    m = _LEAD.match(sentence.strip())
    if not m:
        return False
    cond = m.group("cond")
    cond_one, cond_all = _stems(_ONE, cond, _ALL), _stems(_ALL, cond)
    said_one, said_all = _stems(_ONE, customer_text, _ALL), _stems(_ALL, customer_text)
    return bool(cond_one & said_all) or bool(cond_all & said_one)
