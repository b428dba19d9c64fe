"""Language of a text. The product serves Russian and English; the script of the letters
decides reliably for those two, so no statistical detector is needed."""

from __future__ import annotations

import re

_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str, default: str = "en") -> str:
    """'ru' when Cyrillic letters dominate, 'en' when Latin ones do, else `default`.

    Latin letters inside Russian text (Wi-Fi, SMS, SBP, URLs) are common, so Russian wins
    unless Latin letters are more than twice as many.
    """
    cyr = len(_CYRILLIC.findall(text))
    lat = len(_LATIN.findall(text))
    if cyr == 0 and lat == 0:
        return default
    return "ru" if cyr * 2 >= lat else "en"
