"""Lexical analysis for the BM25 index: words, stop words and Snowball stems, with the
stemmer chosen per word by its script, so mixed Russian/English text ("роутер AX3000 не
видит Wi-Fi") is stemmed correctly in both languages."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_RUSSIAN

_WORD = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+(?:[-'][0-9A-Za-zА-Яа-яЁё]+)*")
_CYR = re.compile(r"[А-Яа-я]")
# Negations carry meaning in support questions ("не работает", "not charged").
_KEEP = {"не", "нет", "ни", "без", "not", "no", "without"}
_STOP = (set(STOPWORDS_EN) | set(STOPWORDS_RUSSIAN)) - _KEEP


@lru_cache(maxsize=1)
def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    return Stemmer.Stemmer("russian"), Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    """Lower-cased, ё→е, stop words out, each word stemmed in its own language.
    Hyphenated words are kept whole and also split ("wi-fi" -> "wi-fi", "wi", "fi")."""
    ru, en = _stemmers()
    out: list[str] = []
    for raw in _WORD.findall(text.lower().replace("ё", "е")):
        parts = [raw, *raw.split("-")] if "-" in raw else [raw]
        for word in parts:
            if word in _STOP or not word:
                continue
            out.append(ru.stemWord(word) if _CYR.search(word) else en.stemWord(word))
    return out


@lru_cache(maxsize=1)
def function_terms() -> frozenset[str]:
    """Terms of the longer stop lists ("do", "my", "can"), which `tokenize` keeps in English
    (its own list there is short): words that say nothing of a text's subject."""
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(t for w in STOPWORDS_EN_PLUS + STOPWORDS_RUSSIAN for t in tokenize(w))
