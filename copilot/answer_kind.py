"""What kind of value a customer's question asks for, and whether a sentence states one.

"When do I get the money back?" is answered by a sentence with a time in it ("within 3-10
business days"), "how much is delivery?" by one with a price, however close in meaning the
procedure around it is ("Open the order and press Cancel"). Classic question answering reads
the expected answer type off the question word; the kinds here are the ones support questions
ask most and a sentence shows by its form (a number with a unit of time, an amount of money),
in both languages, so nothing depends on a desk's wording.
"""

from __future__ import annotations

import re
from typing import Literal

Kind = Literal["time", "money"]

_I = re.IGNORECASE
# the question itself, not a word that also names the subject ("the fee is due on the 1st", "when I'm away")
_QUESTIONS: dict[Kind, re.Pattern[str]] = {
    "time": re.compile(
        r"\b(?:when (?:will|do|does|did|can|could|is|are|would|should|shall)|how (?:long|soon|quickly|fast)"
        r"|how many (?:days|hours|weeks|months|minutes)|what time|by when|until when|in time|deadline)\b"
        # «когда» opens the question or stands in one ("А деньги когда вернут?"), not "даже когда сижу рядом."
        r"|(?:^|[.!?]\s+)когда(?!\w)|(?<!\w)когда(?!\w)[^.!?\n]*\?"
        r"|(?<!\w)(?:как (?:долго|скоро|быстро)|сколько (?:дней|часов|недель|месяцев|минут|времени|ждать)"
        r"|через сколько|в течение какого|до какого (?:числа|времени)|в какие сроки|какой срок|успе(?:ю|ем|ет))(?!\w)",
        _I),
    "money": re.compile(
        r"\b(?:how much|how expensive|what (?:does|do|will|would) (?:it|this|that|\w+) cost"
        r"|(?:does|do|will|would|is) (?:it|this|that|there) (?:cost|free|(?:an? |any )?(?:fee|charge|extra))"
        r"|any (?:fees?|charges?)|what(?:'s| is| are) the (?:price|cost|fees?|charge))\b"
        r"|(?<!\w)(?:сколько (?:стоит|стоят|будет стоить|это стоит|платить|заплатить|берёте|берете|с меня)"
        r"|во сколько обойд\w*|как(?:ая|ова) (?:цена|стоимость)|платн\w* ли|бесплатн\w* ли|есть ли комисси\w*)(?!\w)",
        _I),
}
_STATES: dict[Kind, re.Pattern[str]] = {
    "time": re.compile(
        r"\d+(?:\s*[-–]\s*\d+)?\s*(?:(?:business|working|calendar)\s+)?(?:minutes?|hours?|days?|weeks?|months?|years?)\b"
        r"|\b(?:within|after|before|by|until) (?:the )?(?:next|same|following|end of)\b|\b\d{1,2}:\d{2}\b"
        r"|\d+(?:\s*[-–]\s*\d+)?\s*(?:(?:рабочих|календарных|банковских)\s+)?(?:минут\w*|час\w*|дн[яеийо]\w*|день|недел\w*"
        r"|сут\w*|месяц\w*|год\w*|лет)(?!\w)|(?<!\w)(?:в течение|на следующий|в тот же) (?:суток|дня|день|рабочий)",
        _I),
    "money": re.compile(
        r"[$€£₽]\s?\d|\d[\d\s\u00a0,.]*\s*(?:rub\w*|roubles?|rur|usd|eur|dollars?|euros?|руб\w*|₽|р\.|%)"
        r"|\b(?:free of charge|for free|no charge|free)\b|(?<!\w)(?:бесплатн\w*)",
        _I),
}


def asked_kinds(question: str) -> set[Kind]:
    """The kinds of value the question asks for ("when ..." -> time, "сколько стоит" -> money)."""
    return {kind for kind, rx in _QUESTIONS.items() if rx.search(question)}


def states_kind(sentence: str, kind: Kind) -> bool:
    """The sentence gives a value of that kind ("within 5 business days", "390 RUB", "бесплатно")."""
    return bool(_STATES[kind].search(sentence))
