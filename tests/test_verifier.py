"""The grounding verifier: each kind of invented fact is caught, faithful sentences pass,
and on the labelled pairs its precision and recall stay above the measured levels."""

from __future__ import annotations

import pytest

from copilot.config import VerificationSettings
from copilot.text import EntityRecognizer, entities, is_factual, split_sentences
from copilot.verify import Verifier
from evals.bench.verifier import evaluate, load_pairs
from helpers import demo_desk

PASSAGE = ("Refunds and refund deadlines\n"
           "- Review: within 5 business days after we receive your application.\n"
           "- Payout: within 10 business days after approval the money reaches your card or bank account.\n"
           "Refunds go only to the original payment method; we never pay refunds in cash.\n"
           "| Volna Router AX3000 | 99 RUB/month |\n| Volna Box | 150 RUB/month |")


@pytest.fixture(scope="module")
def verifier(demo_index):
    return Verifier(VerificationSettings(), demo_index.embedding.embeddings.embed_documents,
                    EntityRecognizer(demo_desk().plan_names))


def test_entities_are_normalised():
    assert entities("4 990 руб., 4,990 RUB and 4990") == {"number:4990"}
    assert entities("в течение десяти дней") == {"number:10"}
    assert "phone:8007001235" in entities("call +7 800 700-12-35")
    demo = EntityRecognizer(demo_desk().plan_names)
    assert {"plan:volna 300", "code:e203", "link:my.volna.example"} <= demo("Volna 300, E-203, my.volna.example")


@pytest.mark.parametrize("source,same,other", [
    ("Code E01 means the brush is stuck.", "If you see E01, clean the brush.", "If you see F01, clean the brush."),
    ("Ошибка Е-305: подписка не активна.", "При ошибке E305 проверьте подписку.", "При ошибке E-350 проверьте подписку."),
    ("W3 on the display: the water tank is empty.", "W3 means the tank is empty.", "W8 means the tank is empty."),
])
def test_a_code_of_any_shape_is_one_fact_however_it_is_written(source, same, other):
    """A draft that swaps one code for another states a wrong fact even when the digits match
    ("F01" for "E01"); the same code with or without a dash, or with a Cyrillic look-alike, is
    the same fact."""
    assert entities(same) <= entities(source)
    assert not entities(other) <= entities(source)


@pytest.mark.parametrize("source,same,other", [
    ("Call the hotline on +44 20 7946 0958.", "The hotline is +44 (0)20 7946 0958.",
     "Call the hotline on +44 20 7946 0985."),
    ("Звоните на горячую линию 8 800 555-35-35.", "Номер горячей линии: +7 (800) 555 35 35.", "Звоните по номеру 8 800 555-53-35."),
    ("Call us at (212) 555-0142 on weekdays.", "Our number is 1-212-555-0142.", "Call us at (212) 555-0124."),
    # hours in brackets after a number are not more of its digits
    ("Call the fraud line **+7 800 700-12-35**. It works 24/7.", "Call the fraud line +7 800 700-12-35 (24/7).",
     "Call the fraud line +7 800 700-12-53 (24/7)."),
])
def test_a_phone_number_of_any_country_is_one_fact_however_it_is_written(source, same, other):
    """A draft that changes a digit of a phone number states a wrong number, even when each group
    of digits alone could pass as some number of the source; the same number with the country code
    or the trunk prefix, in brackets or with dashes, is the same fact."""
    assert any(e.startswith("phone:") for e in entities(same))
    assert entities(same) <= entities(source)
    assert not entities(other) <= entities(source)


def test_sentences_split_with_citations_kept_in_place():
    assert split_sentences("It takes 5 days. [1] Then 10 days [2]. Офис на ул. Ленина [3].") == [
        "It takes 5 days. [1]", "Then 10 days [2].", "Офис на ул. Ленина [3]."]
    assert not is_factual("Could you tell me your contract number?")
    assert not is_factual("Здравствуйте!")
    assert is_factual("The fee is 500 RUB.")


@pytest.mark.parametrize("sentence", [
    "After approval, the money reaches your card within 10 business days.",
    "We review your application within 5 business days.",
    "Refunds go back only to the original payment method.",
])
def test_faithful_sentences_are_supported(verifier, sentence):
    assert verifier.supported(verifier.support(sentence, PASSAGE))


@pytest.mark.parametrize("sentence,why", [
    ("After approval, the money reaches your card within 14 business days.", "14"),
    ("Refunds can be paid in cash at any office.", "negation"),
    ("Renting the Volna Box costs 99 RUB a month.", "not with the rest"),
    ("Call +7 800 700-12-36 to speed up the refund.", "8007001236"),
    ("We will also add a 500 RUB bonus for the inconvenience.", "500"),
])
def test_invented_or_changed_facts_are_unsupported(verifier, sentence, why):
    s = verifier.support(sentence, PASSAGE)
    assert not verifier.supported(s)
    assert why in s.reason() or (why == "negation" and (s.negation_mismatch or s.score < 0.84))


def test_invalid_citations_are_removed_and_invented_numbers_never_shown(verifier):
    draft = "Hello! The money arrives within 10 business days [1]. It takes 30 business days in total [1]. See also [7]."
    text, g = verifier.verify(draft, {1: PASSAGE})
    assert "[7]" not in text and "30 business days" not in text
    assert "within 10 business days [1]" in text
    # "See also [7]": its citation invalid, it cites nothing that exists, so it is not shown either
    assert "See also" not in text
    assert g.removed == 2 and any("invalid citation [7]" in s.reason for s in g.sentences)


def test_a_factual_sentence_that_cites_nothing_and_no_passage_supports_is_never_shown(verifier):
    """Weak wording against a cited source is marked for the operator; a claim with no source at
    all is not shown (a model's uncited sentence, numbers or not), in both languages."""
    for lang, draft, invented in (
            ("en", "The money arrives within 10 business days [1]. Our managers always double-check every "
                   "application personally.", "double-check"),
            ("ru", "Замер по Wi-Fi показывает скорость Wi-Fi, а не линии [1]. Вы не получается перезагрузкими "
                   "поддержки, как вы не получается перезагрузкими поддержки.", "перезагрузкими")):
        passage = PASSAGE if lang == "en" else "Замер по Wi-Fi показывает скорость Wi-Fi, а не линии."
        text, g = verifier.verify(draft, {1: passage})
        assert invented not in text, (lang, text)
        assert "[1]" in text, (lang, text)
        assert [c.reason for c in g.sentences if c.removed] == ["no citation"], (lang, g)


def test_strict_mode_drops_every_unsupported_sentence(demo_index):
    strict = Verifier(VerificationSettings(strict=True), demo_index.embedding.embeddings.embed_documents,
                      EntityRecognizer(demo_desk().plan_names))
    text, g = strict.verify("Refunds are handled with great care by our friendly team [1].", {1: PASSAGE})
    assert text == "" and g.removed == 1


def test_on_labelled_pairs_precision_and_recall_hold(verifier):
    """Measured on the test split (docs/grounding.md): P 0.79, R 0.88, F1 0.83 (P is the
    share of flagged sentences that were really unsupported)."""
    scores = evaluate(verifier, load_pairs(split="test"))
    assert scores.n >= 100
    assert scores.precision >= 0.75 and scores.recall >= 0.83 and scores.f1 >= 0.79
    assert scores.by_lang["en"] >= 0.72 and scores.by_lang["ru"] >= 0.80
