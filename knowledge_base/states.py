"""The plain words for the state a thing is in, in both languages, grouped into kinds of
state whose values exclude each other: a light's colour, whether it blinks, which side of
zero a balance is on, whether a service works at all or only slowly.

Two texts that name the same thing with a value of the same kind agree when the values are
the same ("mobile data is unavailable" in a workflow, "my mobile data isn't working" from
the customer) and contradict each other when they differ ("if the light is red" after "the
light is green"). No word here belongs to one knowledge base: these are the words anyone
uses for these states.
"""

from __future__ import annotations

import re

_I = re.I | re.U

NEG = r"(?:not|n't|no|never|nothing|не|нет|ни|ничего)"

# what a customer has or has none of: "no mobile data", «нет связи»
_SERVICES = (r"(?:data|internet|connection|connectivity|service|signal|network|coverage|wi-?fi|"
             r"интернет\w*|связ\w*|сет\w*|сигнал\w*|соединени\w*)\b")

# A value is read only when not denied ("not red" says nothing); the denied forms that do
# name a state are values of their own ("не горит" is off, "not working" is down).
_STATES: dict[str, dict[str, str]] = {
    "light": {
        "red": r"red|красн\w*",
        "green": r"green|зел[её]н\w*",
        "orange": r"orange|amber|yellow|оранжев\w*|ж[её]лт\w*",
        "blue": r"blue|син(?:ий|им|ем|его|яя|ей)|голуб\w*",
        "off": r"(?:goes|go|went|is|are|turned|switched)\s+off|unlit|не\s+(?:горит|горят|светится)|погас\w*|гасн\w*|потух\w*",
    },
    "motion": {
        "blinking": r"blink\w*|flash\w*|мига\w*|морга\w*",
        "steady": r"steady|steadily|solid|ровн\w*|постоянн\w*|не\s+мига\w*",
    },
    "standing": {
        "good": r"positive|plus|fine|ok|okay|in order|в\s+плюс\w*|положительн\w*|в\s+порядке",
        "bad": r"negative|minus|zero|below zero|in debt|в\s+минус\w*|отрицательн\w*|нулев\w*|в\s+долг\w*",
    },
    # whether a service works: not at all, or only slowly
    "service": {
        # it does not work, the customer cannot use it, or has none of it ("no mobile data", «нет интернета»);
        # "not working well" and «не очень работает» are working badly, which says neither
        "down": r"(?:not\s+working|(?:does|do|is|are|has|have)(?:\s+not|n'?t)\s+(?:work|working|worked)|won'?t\s+work|"
                r"stopped\s+working|no\s+longer\s+works?)(?!\s+(?:well|properly|right|correctly|as\s+it\s+should))|"
                r"unavailable|not\s+available|(?:is|are|went|goes)\s+down|"
                r"(?:can'?t|cannot|can\s+not|couldn'?t|unable\s+to)\s+(?:use|access|get|connect\s+to|get\s+on)|"
                r"(?:isn'?t|aren'?t|not|won'?t|doesn'?t|does\s+not)\s+connect(?:ing)?|"
                rf"no(?=\s+(?:\w+\s+)?{_SERVICES})|"
                r"не\s+работа\w*|перестал\w*\s+работать|недоступ\w*|пропал\w*|не\s+подключа\w*|"
                r"не\s+(?:могу|можем|получается|удаётся|удается)\s+(?:пользоваться|подключиться|зайти|выйти)|"
                rf"нет(?=\s+(?:\w+\s+)?{_SERVICES})",
        "slow": r"slow|slowly|sluggish|laggy|медленн\w*|тормоз\w*|(?:еле|плохо)\s+работа\w*",
    },
}
_STATE_RES = {kind: {v: re.compile(rf"(?<!\w)(?:{p})(?!\w)", _I) for v, p in values.items()}
              for kind, values in _STATES.items()}
_DENIED = re.compile(rf"(?<!\w){NEG}\s+(?:\w+\s+)?$", _I)
# a value that carries its own negation ("doesn't work", "не горит", "stopped working")
_NEGATED_FORM = re.compile(r"(?:^|\s)(?:not|не)\s|n'?t\s|^stopped\s", _I)


def states_in(clause: str) -> tuple[dict[str, set[str]], str]:
    """kind -> the values the clause asserts, and the clause with them taken out (what is
    left names the thing: "the Internet light", "mobile data")."""
    found: dict[str, set[str]] = {}
    spans: list[tuple[int, int]] = []
    for kind, values in _STATE_RES.items():
        for value, pattern in values.items():
            for m in pattern.finditer(clause):
                if _NEGATED_FORM.search(m.group(0)) or not _DENIED.search(clause[:m.start()]):
                    found.setdefault(kind, set()).add(value)
                spans.append(m.span())
    # taken out where they are ("нет" is not taken out of "интернета"), overlaps as one
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    rest = clause
    for start, end in reversed(merged):
        rest = rest[:start] + " " + rest[end:]
    return found, rest
