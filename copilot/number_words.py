"""Numbers written in words, English and Russian, turned into digits so that "fifty
roubles", "пятьдесят рублей" and "50 ₽" are the same checkable amount.

Compound numbers are read whole ("two hundred and fifty", "twenty-five", "три тысячи
пятьсот", "двухсот пятидесяти"); Russian words in any case ("пяти", "пятью", "двум").
A bare "hundred"/"тысяча" counts as one hundred/thousand only with "a"/"one" or a
number before it, so "hundreds of customers" stays words. Ordinals are left alone:
"first, restart the router" states no number.
"""

from __future__ import annotations

import re
from functools import lru_cache

_EN_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_EN_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}

# (pattern of the word in any case, value); scales multiply what comes before them
_RU_WORDS: list[tuple[str, int]] = [
    (r"од(?:ин|на|но|ного|ной|ному|ним|ну|ною|ном)", 1),
    (r"дв(?:а|е|ух|ум|умя)", 2),
    (r"тр(?:и|[её]х|[её]м|емя)", 3),
    (r"четыр(?:е|[её]х|[её]м|ьмя)", 4),
    (r"пят(?:ь|и|ью)", 5), (r"шест(?:ь|и|ью)", 6), (r"сем(?:ь|и|ью)", 7), (r"вос(?:емь|ьми|емью|ьмью)", 8),
    (r"девят(?:ь|и|ью)", 9), (r"десят(?:ь|и|ью)", 10),
    (r"одиннадцат(?:ь|и|ью)", 11), (r"двенадцат(?:ь|и|ью)", 12), (r"тринадцат(?:ь|и|ью)", 13),
    (r"четырнадцат(?:ь|и|ью)", 14), (r"пятнадцат(?:ь|и|ью)", 15), (r"шестнадцат(?:ь|и|ью)", 16),
    (r"семнадцат(?:ь|и|ью)", 17), (r"восемнадцат(?:ь|и|ью)", 18), (r"девятнадцат(?:ь|и|ью)", 19),
    (r"двадцат(?:ь|и|ью)", 20), (r"тридцат(?:ь|и|ью)", 30), (r"сорок(?:а)?", 40),
    (r"(?:пятьдесят|пятидесяти|пятьюдесятью)", 50), (r"(?:шестьдесят|шестидесяти|шестьюдесятью)", 60),
    (r"(?:семьдесят|семидесяти|семьюдесятью)", 70), (r"(?:восемьдесят|восьмидесяти|восемьюдесятью)", 80),
    (r"девяност(?:о|а)", 90), (r"ст(?:о|а)", 100),
    (r"(?:двести|двухсот|двумстам|двумястами)", 200), (r"(?:триста|тр[её]хсот|тр[её]мстам)", 300),
    (r"(?:четыреста|четыр[её]хсот|четыр[её]мстам)", 400), (r"(?:пятьсот|пятисот|пятистам)", 500),
    (r"(?:шестьсот|шестисот|шестистам)", 600), (r"(?:семьсот|семисот|семистам)", 700),
    (r"(?:восемьсот|восьмисот|восьмистам)", 800), (r"(?:девятьсот|девятисот|девятистам)", 900),
]
_RU_SCALES: list[tuple[str, int]] = [(r"тысяч(?:а|и|у|ей|ам|ами|ах)?", 1000), (r"миллион(?:а|у|ом|е|ов|ы|ам|ами)?", 1_000_000)]
_RU_HALF = re.compile(r"полтор(?:а|ы|ух)", re.I)  # "полтора часа" = 1.5

_RU_RX = [(re.compile(p + r"$", re.I), v) for p, v in _RU_WORDS]
_RU_SCALE_RX = [(re.compile(p + r"$", re.I), v) for p, v in _RU_SCALES]

_WORD = re.compile(r"[A-Za-zА-Яа-яЁё]+")
_JOINER = re.compile(r"^(?:\s+|-)$")  # "twenty five", "twenty-five"


def _may_follow(prev: tuple[str, int], nxt: tuple[str, int]) -> bool:
    """Whether two number words are one number ("twenty five", "сто пятьдесят", "три
    тысячи") rather than two ("five twenty", "пять десять")."""
    (pk, pv), (nk, nv) = prev, nxt
    if nk == "scale":
        return pk == "unit" or nv > pv
    if pk == "scale":
        return nv < pv
    return (pv % 10 == 0 and 20 <= pv <= 90 and nv < 10) or (pv % 100 == 0 and nv < 100)


@lru_cache(maxsize=65536)  # entities are extracted from the same words many times
def _value(word: str) -> tuple[str, int] | None:
    """('unit', n) for a number word, ('scale', n) for hundred/thousand/million, else None."""
    w = word.lower()
    if w in _EN_UNITS:
        return "unit", _EN_UNITS[w]
    if w in _EN_SCALES:
        return "scale", _EN_SCALES[w]
    for rx, v in _RU_RX:
        if rx.match(w):
            return "unit", v
    for rx, v in _RU_SCALE_RX:
        if rx.match(w):
            return "scale", v
    return None


def _total(parts: list[tuple[str, int]]) -> int | None:
    """The number a run of number words spells, or None when it spells none ("hundred" alone)."""
    total, current, any_unit = 0, 0, False
    for kind, v in parts:
        if kind == "unit":
            current += v
            any_unit = True
        elif v == 100:  # English "two hundred": the hundreds multiply what came before
            current = (current or 1) * 100
        else:
            total += (current or 1) * v
            current = 0
    return total + current if any_unit else None


def words_to_digits(text: str) -> str:
    """The text with every number written in words replaced by its digits."""
    text = _RU_HALF.sub("1.5", text)
    out: list[str] = []
    pos = 0
    words = list(_WORD.finditer(text))
    i = 0
    while i < len(words):
        first = _value(words[i].group(0))
        if first is None:
            i += 1
            continue
        parts, j = [first], i
        # a scale word right after "a"/"one": "a hundred", "a thousand"
        lead_a = first[0] == "scale" and i > 0 and words[i - 1].group(0).lower() == "a" \
            and text[words[i - 1].end() : words[i].start()].isspace()
        while j + 1 < len(words):
            k = j + 1
            # "one hundred and five": an "and" only after a scale word
            if words[k].group(0).lower() == "and" and parts[-1][0] == "scale" and k + 1 < len(words) \
                    and _JOINER.match(text[words[j].end() : words[k].start()]):
                k += 1
            gap = text[words[k - 1].end() : words[k].start()]
            nxt = _value(words[k].group(0))
            if nxt is None or not _JOINER.match(gap) or not _may_follow(parts[-1], nxt):
                break
            parts.append(nxt)
            j = k
        if lead_a:
            parts.insert(0, ("unit", 1))
        number = _total(parts)
        if number is None:
            i = j + 1
            continue
        start = words[i - 1].start() if lead_a else words[i].start()
        out.append(text[pos:start])
        out.append(str(number))
        pos = words[j].end()
        i = j + 1
    out.append(text[pos:])
    return "".join(out)
