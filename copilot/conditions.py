"""Knowledge-base sentences that would contradict the conversation they are copied into:
a condition the customer already ruled out, a step they say they already took, or an
invitation to contact us through the channel the customer is already using.

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


# a step the customer already took: "Restart the router" after "I restarted the router
# twice", "Проверьте кабель" after "кабели проверил"
_IMPERATIVE_RU = re.compile(r"^[\W\d]*(?P<verb>[а-яё]+(?:ите|йте|ьте))(?:сь)?\b(?P<rest>[^,;:.!?—]*)", _I)
_IMPERATIVE_EN = re.compile(r"^[\W\d]*(?P<verb>restart|reboot|check|open|unplug|plug|turn|switch|reset|update|reinstall|"
                            r"clear|close|move|connect|disconnect|remove|insert|run|test|try|top up|pay)\b(?P<rest>[^,;:.!?—]*)", _I)
# what the customer says they did: a first-person past tense (English), a past-tense verb (Russian)
_DONE_EN = re.compile(r"\b(?:i|we)(?:'ve| have| had)?(?: already| also| even)? (?P<verb>[a-z]+ed|ran|did|tried)\b(?P<rest>[^.!?,;]*)", _I)
_DONE_RU = re.compile(r"(?<![а-яё])(?P<verb>[а-яё]{4,}(?:ал|ял|ил|ел|ул)(?:а|и|ся|ась|ись)?)(?![а-яё])(?P<rest>[^.!?,;]*)", _I)
_AUX = {"try", "tri", "did"}  # "I tried restarting it" / "I did restart it": the step is in what follows


def _verb_key(word: str) -> str:
    return word.lower().replace("ё", "е")[:5]


def already_done(sentence: str, customer_text: str) -> bool:
    """The sentence tells the customer to do a step they say they already did: the same verb
    (by its first letters, so "перезагрузите" meets "перезагружал") and a shared object."""
    m = _IMPERATIVE_EN.match(sentence.strip()) or _IMPERATIVE_RU.match(sentence.strip())
    if not m:
        return False
    verb, objects = _verb_key(m.group("verb")), set(tokenize(m.group("rest")))
    if not objects:
        return False
    for done in (*_DONE_EN.finditer(customer_text), *_DONE_RU.finditer(customer_text)):
        said = _verb_key(done.group("verb"))
        rest = done.group("rest")
        if said[:3] in _AUX:  # "tried restarting the router": the verb is the next word
            nxt = re.match(r"\W*(?:to\s+)?(\w+)", rest)
            said, rest = (_verb_key(nxt.group(1)), rest[nxt.end():]) if nxt else (said, rest)
        window = f"{customer_text[max(0, done.start() - 60):done.start()]} {rest[:80]}"
        if said == verb and objects & set(tokenize(window)):
            return True
    return False
