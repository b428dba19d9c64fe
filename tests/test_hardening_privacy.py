"""Hardening (issue 14): personal data masked by kind wherever it is kept, numbers written
in words checked like digits, a reply in another language dropped, customer text never
rendered as markup, sign-in slowed and locked after wrong passwords, credentials never shown."""

from __future__ import annotations

import json

import pytest
from markdown_it import MarkdownIt

from copilot.config import FeedbackSettings, VerificationSettings
from copilot.feedback.store import FeedbackStore
from copilot.masking import mask_pii
from copilot.schema import Citation, Draft, Grounding, Handoff, Intent, SentenceCheck, Sentiment, Suggestion
from copilot.verify import Verifier, language_problem

# --- masking by kind --------------------------------------------------------------------

@pytest.mark.parametrize("text,secret,kind", [
    ("Call me back on +44 20 7946 0958 please", "7946 0958", "PHONE"),
    ("my US number is +1 212 555 0142", "555 0142", "PHONE"),
    ("перезвоните на 9161234567", "9161234567", "PHONE"),
    ("my phone: (212) 555-0142", "555-0142", "PHONE"),
    ("мой номер 8 (916) 123-45-67", "123-45-67", "PHONE"),
    ("the card is 4111.1111.1111.1111", "4111.1111", "CARD"),
    ("списали с 4111-1111-1111-1111", "4111-1111", "CARD"),
    ("paid with 4111111111111111 yesterday", "4111111111111111", "CARD"),
    ("карта 2202 2000 1234 5678", "2202 2000", "CARD"),  # a mistyped number the customer calls a card
    ("write to ivan.petrov [at] mail.ru", "ivan.petrov", "EMAIL"),
    ("пишите ivan (собака) yandex (точка) ru", "ivan", "EMAIL"),
    ("my mail is olga at example dot com", "olga", "EMAIL"),
    ("Серия и номер 4509 654321", "654321", "PASSPORT"),
    ("passport no. 721234567", "721234567", "PASSPORT"),
    ("СНИЛС 112 233 445 95", "445 95", "SNILS"),
    ("my insurance number 11223344595", "11223344595", "SNILS"),
])
def test_each_kind_of_personal_data_is_masked(text, secret, kind):
    masked = mask_pii(text)
    assert secret not in masked.text and f"[{kind}]" in masked.text, masked.text


@pytest.mark.parametrize("text", [
    "order 1234567812345678 has not arrived",          # 16 digits, no card checksum, called an order
    "заказ № 9161234566 не пришёл",                      # ten digits called an order
    "it stopped on 12.03.2024 at 10:30",                # a date and a time
    "оплатил 1 500 руб. 2024-03-12",                    # an amount and an ISO date
    "I looked at speedtest.net and it said 50 Mbps",    # "at" before a site is not an address
    "I'm at work. Then it broke again",
    "номер 4509 654321 в заявке",                        # the passport format without the word
    "Payment 2202 2000 1234 5679 went through",          # 16 digits, wrong checksum, not called a card
])
def test_near_misses_are_not_masked(text):
    assert mask_pii(text).text == text


def _suggestion_with(raw: dict[str, str]) -> Suggestion:
    """A suggestion carrying the customer's data in every field a bug could leak it through."""
    card, phone, mail = raw["card"], raw["phone"], raw["email"]
    return Suggestion(
        language="ru", intent=Intent(label="refunds", confidence=0.8), sentiment=Sentiment(label="neutral", score=0),
        draft=Draft(text=f"Вернём на карту {card}. Горячая линия 8 800 700-12-35 [1].", mode="llm",
                    prompt="draft_reply@v1", model="m",
                    warnings=[f"LLM unavailable (HTTP 400: bad request 'card {card}'); retrieval-only draft shown"]),
        citations=[Citation(n=1, source_id="refunds-ru", chunk_id="c1", title="Возврат",
                            quote="Звоните на горячую линию 8 800 700-12-35.")],
        grounding=Grounding(sentences=[SentenceCheck(text=f"Перезвоним на {phone}.", supported=False,
                                                     reason="no citation")]),
        handoff=Handoff(needed=True, queue="billing", summary=f"Клиент: карта {card}, тел. {phone}, почта {mail}."),
        facts={"contact_phone": phone, "payment_method": f"картой {card}", "email": mail},
        flags=[f"pii_masked: {phone}"],
    )


@pytest.mark.parametrize("raw", [
    {"card": "4111 1111 1111 1111", "phone": "+7 916 123-45-67", "email": "ivan.petrov@mail.ru",
     "passport": "4509 654321", "text": "Серия и номер 4509 654321"},
    {"card": "4111.1111.1111.1111", "phone": "+44 20 7946 0958", "email": "name [at] mail.ru",
     "passport": "721234567", "text": "my passport 721234567"},
])
def test_a_stored_suggestion_contains_none_of_the_raw_values(tmp_path, raw):
    store = FeedbackStore(FeedbackSettings(mask_pii=True), tmp_path)
    conversation = {"messages": [{"role": "customer", "text": f"{raw['text']}, карта {raw['card']}, {raw['email']}"},
                                 {"role": "customer", "text": f"звоните {raw['phone']}"}],
                    "profile": {"name": "Ivan", "contract_number": "7712345678"}}
    sid = store.record_suggestion("olga", conversation, _suggestion_with(raw))
    store.record_action(sid, "olga", "sent", f"Перезвоним на {raw['phone']}.", note=raw["email"])
    row = store.get(sid)
    stored = json.dumps([row.conversation, row.suggestion, row.draft, row.actions[0].final_text, row.actions[0].note],
                        ensure_ascii=False)
    for name in ("card", "phone", "email", "passport"):
        assert raw[name] not in stored, name
    # what the knowledge base publishes stays: the hotline in the cited article and in the draft
    assert "8 800 700-12-35" in row.draft and row.suggestion["citations"][0]["quote"].endswith("700-12-35.")
    assert "7712345678" in stored  # the desk's contract number identifies a contract, not a person
    assert all(tag in stored for tag in ("[CARD]", "[PHONE]", "[EMAIL]", "[PASSPORT]"))


# --- numbers written in words -----------------------------------------------------------

@pytest.fixture(scope="module")
def verifier():
    return Verifier(VerificationSettings())  # entity checks do not need the embedder


@pytest.mark.parametrize("sentence,unrelated,same", [
    ("A processing fee of fifty roubles applies.", "Refunds are reviewed within 5 business days.",
     "A processing fee of 50 roubles applies."),
    ("Взимается комиссия пятьдесят рублей.", "Заявка рассматривается в течение 5 рабочих дней.",
     "Взимается комиссия 50 рублей."),
    ("The router costs two hundred and fifty roubles a month.", "The router costs 99 roubles a month.",
     "The router costs 250 roubles a month."),
    ("Аренда роутера стоит двести пятьдесят рублей в месяц.", "Аренда роутера стоит 99 рублей в месяц.",
     "Аренда роутера стоит 250 рублей в месяц."),
    ("You get twenty-five percent off.", "You get 10 percent off.", "You get 25 percent off."),
    ("Скидка составит двадцать пять процентов.", "Скидка составит 10 процентов.", "Скидка составит 25 процентов."),
])
def test_a_number_in_words_is_checked_like_digits(verifier, sentence, unrelated, same):
    text, grounding = verifier.verify(f"{sentence} [1]", {1: unrelated})
    assert grounding.removed == 1 and text == "", grounding.sentences[0].reason  # invented: never shown
    assert grounding.sentences[0].reason.startswith("not in the source")
    text, grounding = verifier.verify(f"{sentence} [1]", {1: same})
    assert grounding.supported == 1 and sentence in text


def test_words_that_only_look_like_numbers_claim_nothing(verifier):
    assert verifier.entities("Hundreds of customers use it; first, restart the router.") == set()
    assert verifier.entities("в течение трёх тысяч пятисот секунд") == {"number:3500"}


# --- the reply's language ---------------------------------------------------------------

@pytest.mark.parametrize("reply,lang", [
    ("Vielen Dank für Ihre Nachricht. Die Rückerstattung dauert 10 Werktage [1]. Bitte starten Sie den Router neu.", "en"),
    ("Merci pour votre message. Le remboursement prend 10 jours ouvrables [1].", "en"),
    ("Дякуємо за ваше повідомлення. Повернення коштів триває 10 робочих днів [1].", "ru"),
    ("Refunds reach the card within 10 business days [1].", "ru"),
    ("Возврат поступит на карту в течение 10 рабочих дней [1].", "en"),
])
def test_a_reply_in_another_language_is_dropped_as_wrong_language(reply, lang):
    from copilot.engine import model_draft_problem

    grounding = Grounding(supported=1, sentences=[SentenceCheck(text=reply, supported=True, citation=1)])
    assert model_draft_problem(reply, grounding, lang).startswith("wrong language")


@pytest.mark.parametrize("reply,lang", [
    ("Hello! After approval the money reaches your card within 10 business days [1]. Die-hard fans: restart it.", "en"),
    ("Здравствуйте! После одобрения деньги поступят на карту в течение 10 рабочих дней [1].", "ru"),
    ("Home 300 — 750 ₽ в месяц [1].", "ru"),
])
def test_a_reply_in_the_conversations_language_passes(reply, lang):
    assert language_problem(reply, lang) is None
