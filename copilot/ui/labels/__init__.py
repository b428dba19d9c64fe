"""The interface's words in English and Russian, one module per area, each with an `EN` and
an `RU` dict holding the same keys:

- `panel`: the operator panel and the account bar (keys used as they are: "suggest");
- `common`: words several pages share (filter choices, language names, actions);
- `account`: sign-in, the pages' titles in the navigation, pages refused to a role;
- `review`, `metrics`, `mined`, `proposals`, `instructions`: the supervisor pages.

An area's keys are looked up with the area's name in front ("review.filters"), so areas
never clash. The operator chooses the language (kept per operator, and chosen on the sign-in
form before that); `t(lang, key, **fields)` fills `{name}` fields. No Streamlit here."""

from __future__ import annotations

from collections.abc import Callable

from copilot.ui.labels import account, common, instructions, metrics, mined, panel, proposals, review

LANGUAGES = {"en": "English", "ru": "Русский"}
DEFAULT_LANGUAGE = "en"  # before an operator chooses (no browser language is guessed)

AREAS = {"": panel, "common": common, "account": account, "review": review, "metrics": metrics, "mined": mined,
         "proposals": proposals, "instructions": instructions}


def _merge(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for area, module in AREAS.items():
        for key, text in getattr(module, lang.upper()).items():
            out[f"{area}.{key}" if area else key] = text
    return out


EN = _merge("en")
RU = _merge("ru")
LABELS = {"en": EN, "ru": RU}


def t(lang: str, key: str, /, **fields) -> str:
    text = LABELS.get(lang, EN).get(key) or EN.get(key) or key.replace("_", " ")
    return text.format(**fields) if fields else text


def labeler(lang: str) -> Callable[..., str]:
    """`t` with the language bound: `L = labeler(lang); L("review.filters")`."""
    return lambda key, /, **fields: t(lang, key, **fields)


def language(value: object) -> str:
    """A known language code, else the default."""
    return value if isinstance(value, str) and value in LABELS else DEFAULT_LANGUAGE


def missing() -> dict[str, list[str]]:
    """Per area and language, the keys the other language has and this one lacks ({} when none)."""
    out = {}
    for area, module in AREAS.items():
        en, ru = set(module.EN), set(module.RU)
        for lang, gap in (("en", ru - en), ("ru", en - ru)):
            if gap:
                out[f"{area or 'panel'}/{lang}"] = sorted(gap)
    return out
