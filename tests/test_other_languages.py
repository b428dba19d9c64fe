"""A customer who writes a language the desk has no text in, in the same letters as one it
has (German or French on an English desk, Ukrainian on a Russian one), is told apart: the
operator learns the draft is in English (Russian), instead of an English draft going out to
a German-speaking customer unremarked. English and Russian are never taken for another."""

from __future__ import annotations

import pytest

from copilot.ui.render import flag_notes
from knowledge_base.language import written_in
from tests.helpers import conversation, llm_settings

MARGIN = 1.5


@pytest.mark.parametrize("text,lang", [
    ("Hallo, mein Internet funktioniert seit gestern nicht.", "de"),
    ("Ich möchte meinen Vertrag kündigen", "de"),
    ("Bonjour, ma connexion ne marche plus depuis hier.", "fr"),
    ("Hola, no tengo internet desde ayer", "es"),
    ("Dzień dobry, internet nie działa od wczoraj", "pl"),
    ("Добрий день, хочу змінити тариф на дешевший з наступного місяця", "uk"),
    ("Скажіть, будь ласка, як оплатити рахунок?", "uk"),
    # English and Russian with brands, loanwords, transliteration and typos stay themselves
    ("My router shows a red light and the internet is down", "en"),
    ("Is the Volna TV app available on Samsung smart TVs?", "en"),
    ("Bonjour! My wifi password doesn't work", "en"),
    ("pls help router kaput", "en"),
    ("privet, u menya ne rabotaet internet", "en"),
    ("ok ta, bye", "en"),
    ("Здравствуйте, подскажите, где посмотреть историю платежей", "ru"),
    ("Доброго дня, Марина", "ru"),
    ("Роутер мигает красным, перезагрузка не помогла", "ru"),
])
def test_the_language_a_customer_writes_in(text, lang):
    assert written_in(text, MARGIN) == lang


def test_a_text_too_short_to_tell_keeps_its_letters_language():
    assert written_in("Danke schön", MARGIN) == "en"
    assert written_in("Дякую", MARGIN) == "ru"


@pytest.mark.parametrize("text,written,draft", [
    ("Hallo, mein Internet funktioniert seit gestern nicht. Der Router blinkt rot.", "de", "en"),
    ("Доброго вечора, телевізійна приставка показує помилку і не вмикається вже другий день.", "uk", "ru"),
])
def test_the_operator_learns_the_draft_is_not_in_the_customers_language(retrieval_copilot, text, written, draft):
    s = retrieval_copilot.suggest(conversation(text))
    assert s.language == draft
    assert f"no_knowledge_in_language: {written} (the draft is in {draft})" in s.flags
    note = flag_notes(s)
    assert any(f"write in '{written}'" in n and f"are in '{draft}'" in n for n in note)
    assert any(f"языке '{written}'" in n for n in flag_notes(s, "ru"))


@pytest.mark.parametrize("text", ["My router blinks red since yesterday, internet is down.",
                                  "Роутер мигает красным со вчера, интернета нет."])
def test_english_and_russian_customers_get_no_language_note(retrieval_copilot, text):
    assert not any(f.startswith("no_knowledge_in_language") for f in retrieval_copilot.suggest(conversation(text)).flags)


def test_with_the_setting_off_the_letters_alone_decide(demo_index):
    from copilot.engine import Copilot

    settings = llm_settings(demo_index.settings, enabled=False)
    settings = settings.model_copy(update={"language": settings.language.model_copy(update={"other_languages": False})})
    s = Copilot(settings, index=demo_index).suggest(
        conversation("Hallo, mein Internet funktioniert seit gestern nicht. Der Router blinkt rot."))
    assert s.language == "en" and not any(f.startswith("no_knowledge_in_language") for f in s.flags)
