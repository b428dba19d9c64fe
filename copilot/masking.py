"""Personal data masked before it leaves the process, is stored or reaches a log.

Masking keeps the kind of data ("[CARD]", "[PHONE]") so the model and the reader still
know what was there. A desk's contract numbers (its configured format) are kept: the case
needs them and they identify a contract, not a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_I = re.I | re.U


def _inn_ok(digits: str) -> bool:
    """Checksum of a Russian taxpayer number (10 digits for companies, 12 for people)."""
    def check(ds: str, weights: list[int]) -> int:
        return sum(int(d) * w for d, w in zip(ds, weights)) % 11 % 10

    if len(digits) == 10:
        return check(digits, [2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(digits[9])
    if len(digits) == 12:
        return (check(digits, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(digits[10])
                and check(digits, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(digits[11]))
    return False


def _snils_ok(digits: str) -> bool:
    if len(digits) != 11:
        return False
    total = sum(int(d) * (9 - i) for i, d in enumerate(digits[:9]))
    control = total % 101
    control = 0 if control == 100 else control
    return control == int(digits[9:])


_CARD = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"(?<![\w+])(?:\+7|8|7)[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}(?!\d)")
_PASSPORT = re.compile(r"(?:паспорт\w*|passport)[^\d\n]{0,25}(\d{2}\s?\d{2}\s?(?:№\s?)?\d{6})\b", _I)
_SNILS_FORMATTED = re.compile(r"(?<!\d)\d{3}-\d{3}-\d{3}[- ]\d{2}(?!\d)")
_SNILS = re.compile(r"(?<!\d)\d{11}(?!\d)")
_INN_LABELLED = re.compile(r"(?:ИНН|INN|taxpayer (?:id|number))\D{0,12}(\d{10}|\d{12})(?!\d)", _I)
_INN = re.compile(r"(?<!\d)(\d{12}|\d{10})(?!\d)")


@dataclass
class MaskResult:
    text: str
    found: dict[str, int] = field(default_factory=dict)


def mask_pii(text: str, keep: re.Pattern | None = None) -> MaskResult:
    """Replace card numbers, e-mails, phone numbers, passport numbers, SNILS and INN with
    placeholders. Any 13-19 digit run counts as a card: a mistyped card number is still
    a card number. Bare 10-12 digit runs count as INN/SNILS only when their checksum holds
    or a label says so, so order and contract numbers survive; `keep` (the desk's
    contract-number format) is never taken for a phone or an INN."""
    found: dict[str, int] = {}

    def kept(digits: str) -> bool:
        return keep is not None and bool(keep.fullmatch(digits))

    def sub(pattern: re.Pattern, label: str, check=None, group: int = 0):
        nonlocal text

        def repl(m: re.Match) -> str:
            value = m.group(group)
            digits = re.sub(r"\D", "", value)
            if check and not check(digits):
                return m.group(0)
            found[label] = found.get(label, 0) + 1
            return m.group(0).replace(value, f"[{label}]")

        text = pattern.sub(repl, text)

    sub(_EMAIL, "EMAIL")
    sub(_PASSPORT, "PASSPORT", group=1)
    sub(_SNILS_FORMATTED, "SNILS")
    sub(_INN_LABELLED, "INN", group=1)
    sub(_PHONE, "PHONE", lambda d: not kept(d))
    sub(_CARD, "CARD", lambda d: 13 <= len(d) <= 19)
    sub(_SNILS, "SNILS", _snils_ok)
    sub(_INN, "INN", lambda d: _inn_ok(d) and not kept(d))
    return MaskResult(text, found)
