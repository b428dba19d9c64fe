"""Knowledge-base sentences that would contradict the conversation they are copied into:
a condition the customer already ruled out, or an invitation to contact us through the
channel the customer is already using.

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


# "write to us in the chat", "напишите нам в чат", "e-mail us", "call us", "позвоните"
_CONTACT = r"(?:write|message|text|contact|reach|ask|tell|chat with|напиш\w*|пиш\w*|обрат\w*|свяж\w*|сообщ\w*)"
_CHANNEL_WORDS = {
    "chat": rf"{_CONTACT}[^.!?]{{0,30}}(?<!\w)(?:chat|чат\w*)|(?<!\w)(?:в чат\w*|in (?:the )?chat)[^.!?]{{0,20}}{_CONTACT}",
    "email": rf"{_CONTACT}[^.!?]{{0,30}}(?<!\w)(?:e-?mail|почт\w*|письм\w*)|\be-?mail us\b",
    "phone": r"\b(?:call|phone|ring) us\b|(?<!\w)позвон\w*|(?<!\w)звонит\w*",
}
_CHANNELS = {name: re.compile(pattern, _I) for name, pattern in _CHANNEL_WORDS.items()}


_OTHER_CONTACT = re.compile(r"\+?\d[\d\s()-]{6,}\d|\b[\w.-]+@[\w.-]+\.\w+\b", _I)  # a phone number or an address


def sends_to_channel(sentence: str, channel: str | None) -> bool:
    """The sentence tells the customer to contact us through `channel`, the one they are
    on, and offers nothing else ("write to us in the chat or call +7 800 ..." still gives a
    number worth having)."""
    pattern = _CHANNELS.get(channel or "")
    if not pattern or not pattern.search(sentence):
        return False
    others = any(p.search(sentence) for name, p in _CHANNELS.items() if name != channel)
    return not others and not _OTHER_CONTACT.search(sentence)
