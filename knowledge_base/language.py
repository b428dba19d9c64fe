"""Language of a text. The product serves Russian and English; the script of the letters
decides reliably for those two, so no statistical detector is needed. Whether a text in
Latin letters is English at all (or one in Cyrillic Russian) is told by everyday words
(`written_in`): a German customer on an English and Russian desk is told apart so the
operator learns the desk has nothing in German."""

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


# the languages a text in each script may be in besides English or Russian, as wordfreq knows
# them (its "small" lists: words at least once in a million, about 0.1 s and 15 MB for all)
OTHER_LANGUAGES = {
    "en": ("de", "fr", "es", "it", "pt", "nl", "pl", "tr", "sv", "cs", "ro", "hu", "fi", "da", "nb", "id"),
    "ru": ("uk", "bg", "mk"),
}
_WORD = re.compile(r"[^\W\d_]{2,}")
_MIN_WORDS = 3  # "ok ta, bye" is too short to tell


def written_in(text: str, margin: float, default: str = "en") -> str:
    """`detect_language`'s answer, unless the text's words are far commoner in another language
    of the same script: their mean Zipf frequency (wordfreq) in it exceeds that in English (or
    Russian) by `margin`. "Hallo, mein Internet funktioniert nicht" is German, «Добрий день, у
    мене не працює інтернет» Ukrainian; brand names, loanwords and typos in an English message
    move the means far less (see the setting `language.other_language_margin`)."""
    base = detect_language(text, default)
    others = OTHER_LANGUAGES.get(base, ())
    letters = _CYRILLIC if base == "ru" else _LATIN
    words = [w.lower() for w in _WORD.findall(text) if letters.search(w)]
    if not others or len(words) < _MIN_WORDS:
        return base
    from wordfreq import zipf_frequency

    means = {lang: sum(zipf_frequency(w, lang, wordlist="small") for w in words) / len(words)
             for lang in (base, *others)}
    best = max(others, key=means.__getitem__)
    return best if means[best] - means[base] >= margin else base
