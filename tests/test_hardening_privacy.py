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
    # the North American way, with no word around it (a phone the copilot read as a fact, stored alone)
    ("415.555.2671", "555.2671", "PHONE"),
    ("1-415-555-2671", "555-2671", "PHONE"),
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
    # IBAN by its structure and mod-97 checksum, spaced in fours or written together, any case
    ("please send the money back to DE61 7016 0164 0012 3456 78 thanks", "0012 3456", "IBAN"),
    ("IBAN: de61701601640012345678.", "701601640012345678", "IBAN"),
    ("мой счёт GB69 BARC 2000 5512 3456 78, спасибо", "5512 3456", "IBAN"),
    ("реквизиты для возврата: KZ84722C000012345678", "722C000012345678", "IBAN"),
    ("ES60 0049 1500 0512 3456 7892 this is mine", "0512 3456", "IBAN"),  # a four-letter word after it
    # a passport's series and number: apart, together, named before or after
    ("Паспорт: 45 09 654321, выдан ОВД", "654321", "PASSPORT"),
    ("серия 4509, номер 654321", "654321", "PASSPORT"),
    ("Серия: 45 09; номер: 654321", "654321", "PASSPORT"),
    ("passport series 4509 number 654321", "654321", "PASSPORT"),
    ("my passport 4509654321", "4509654321", "PASSPORT"),
    ("4509 654321 (паспорт)", "654321", "PASSPORT"),
    ("документ, удостоверяющий личность: 4509 654321", "654321", "PASSPORT"),
])
def test_each_kind_of_personal_data_is_masked(text, secret, kind):
    masked = mask_pii(text)
    assert secret not in masked.text and f"[{kind}]" in masked.text, masked.text


@pytest.mark.parametrize("text", [
    "order 1234567812345678 has not arrived",          # 16 digits, no card checksum, called an order
    "заказ № 9161234566 не пришёл",                      # ten digits called an order
    "it stopped on 12.03.2024 at 10:30",                # a date and a time
    "оплатил 1 500 руб. 2024-03-12",                    # an amount and an ISO date
    "I checked the speed at speedtest.net twice and got 35 Mbps",  # "at" before a site is not an address
    "I'm at work. Then it broke again",
    "номер 4509 654321 в заявке",                        # the passport format without the word
    "Payment 2202 2000 1234 5679 went through",          # 16 digits, wrong checksum, not called a card
    "DE61 7016 0164 0012 3456 79 is what I typed",      # an IBAN's shape, mod-97 fails
    "ticket AB12 3456 7890 1234 5678",                   # letters and digits in fours, not an IBAN
    "модель роутера RT12 ABCD EFGH IJKL",
    "order 4509 654321 is late",                         # the passport format called an order
    "I paid the passport fee, order 4509 654321",        # ... nearer than the word passport
    "оплатил пошлину за паспорт, заказ 4509 654321",
    "счёт 4509 654321",
])
def test_near_misses_are_not_masked(text):
    assert mask_pii(text).text == text


@pytest.mark.parametrize("text,masked", [
    ("call me on +7 916 123-45-67 (18:00-22:00)", "call me on [PHONE] (18:00-22:00)"),
    ("мой номер +7 916 123-45-67 (9-18)", "мой номер [PHONE] (9-18)"),
    ("+44 (0)20 7946 0958 (24/7)", "[PHONE] (24/7)"),
])
def test_a_phone_number_ends_where_its_digits_do_not_at_the_bracket_after_it(text, masked):
    """Brackets belong to a number only round the code after the country's: the hours or a
    note in brackets after it stay readable."""
    assert mask_pii(text).text == masked


@pytest.mark.parametrize("text", ["паспорт 4509" + " " * 200_000 + "654321", "IBAN DE61" + " 7016" * 100_000,
                                  "passport no. 4509," + "\u00a0" * 200_000 + "x"])
def test_long_runs_are_read_in_work_that_grows_with_their_length(text):
    """Size-bounded, not timed: the passport shape once backtracked over a run of blanks in
    time growing with its square (hours for this one); the suite's timeout fails a regression."""
    assert mask_pii(text).text == text


@pytest.mark.parametrize("text,number", [
    ("refund to my account DE61701601640012345678 please", None),    # an IBAN's digits are not a number of their own
    ("верните на лицевой счёт KZ84722C000012345678", None),
    ("my account number is 55-120-3381", "55-120-3381"),
    ("номер договора 4400123987", "4400123987"),
])
def test_an_account_number_is_a_number_of_its_own_not_the_digits_of_an_iban(text, number):
    from copilot.facts import FACTS, fact_value

    assert fact_value(text, FACTS["contract_number"]) == number


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
        facts={"contact_phone": phone, "payment_method": f"картой {card}", "email": mail,
               **({"refund_account": raw["iban"]} if "iban" in raw else {})},
        flags=[f"pii_masked: {phone}"],
    )


@pytest.mark.parametrize("raw", [
    {"card": "4111 1111 1111 1111", "phone": "+7 916 123-45-67", "email": "ivan.petrov@mail.ru",
     "passport": "4509 654321", "text": "Серия и номер 4509 654321", "iban": "KZ84722C000012345678"},
    {"card": "4111.1111.1111.1111", "phone": "+44 20 7946 0958", "email": "name [at] mail.ru",
     "passport": "721234567", "text": "my passport 721234567", "iban": "GB69 BARC 2000 5512 3456 78"},
])
def test_a_stored_suggestion_contains_none_of_the_raw_values(tmp_path, raw):
    store = FeedbackStore(FeedbackSettings(mask_pii=True), tmp_path)
    conversation = {"messages": [{"role": "customer", "text": f"{raw['text']}, карта {raw['card']}, {raw['email']}, "
                                                              f"IBAN {raw['iban']}"},
                                 {"role": "customer", "text": f"звоните {raw['phone']}"}],
                    "profile": {"name": "Ivan", "contract_number": "7712345678"}}
    sid = store.record_suggestion("olga", conversation, _suggestion_with(raw))
    store.record_action(sid, "olga", "sent", f"Перезвоним на {raw['phone']}.", note=raw["email"])
    row = store.get(sid)
    stored = json.dumps([row.conversation, row.suggestion, row.draft, row.actions[0].final_text, row.actions[0].note],
                        ensure_ascii=False)
    for name in ("card", "phone", "email", "passport", "iban"):
        assert raw[name] not in stored, name
    # what the knowledge base publishes stays: the hotline in the cited article and in the draft
    assert "8 800 700-12-35" in row.draft and row.suggestion["citations"][0]["quote"].endswith("700-12-35.")
    assert "7712345678" in stored  # the desk's contract number identifies a contract, not a person
    assert all(tag in stored for tag in ("[CARD]", "[PHONE]", "[EMAIL]", "[PASSPORT]", "[IBAN]"))


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


# --- sign-in ------------------------------------------------------------------------------

class Clock:
    """Time the test moves by hand: no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _auth(tmp_path, clock, check=None, **limits):
    from copilot.auth import Auth, check_password, hash_password
    from copilot.config import AuthSettings, Settings, UserAccount

    users = [UserAccount(username="olga", role="operator", password_hash=hash_password("op-secret", rounds=4))]
    settings = Settings(data_dir=tmp_path, auth=AuthSettings(users=users, **limits))
    return Auth(settings, clock=clock, check=check or check_password)


def test_wrong_passwords_slow_down_then_lock_even_the_right_one_until_the_lock_expires(tmp_path):
    clock = Clock()
    auth = _auth(tmp_path, clock, max_failures=5, lockout_s=600, delay_s=1, max_delay_s=30)
    assert auth.sign_in("olga", "guess", client="10.0.0.9").message() == "Wrong user name or password."
    waits = []
    for _ in range(3):
        assert auth.sign_in("olga", "guess", client="10.0.0.9").account is None
        early = auth.sign_in("olga", "op-secret", client="10.0.0.9")  # too soon: refused, not checked
        assert early.account is None and not early.locked and "try again" in early.message()
        waits.append(early.wait_s)
        clock.now += early.wait_s
    assert waits == [1, 2, 4]  # a single typo is free, then the wait doubles
    assert auth.sign_in("olga", "guess", client="10.0.0.9").account is None  # the fifth in a row
    for step in (0, 60, 539):
        clock.now += step
        locked = auth.sign_in("olga", "op-secret", client="10.0.0.9")
        assert locked.account is None and locked.locked and "locked" in locked.message()
    clock.now += 601
    assert auth.sign_in("olga", "op-secret", client="10.0.0.9").account.username == "olga"


def test_the_lock_holds_per_user_name_from_any_client_and_per_client_for_any_name(tmp_path):
    clock = Clock()
    auth = _auth(tmp_path, clock, max_failures=3, lockout_s=600, delay_s=0)
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # spread over clients: the name still locks
        assert auth.sign_in("olga", "guess", client=client).account is None
    assert auth.sign_in("olga", "op-secret", client="10.0.0.4").locked
    clock.now += 601
    for name in ("anna", "boris", "olga"):  # spread over names: the client still locks
        auth.sign_in(name, "guess", client="10.0.0.5")
    assert auth.sign_in("nobody", "x", client="10.0.0.5").locked
    assert auth.sign_in("olga", "op-secret", client="10.0.0.6").account is None  # olga is locked again too
    clock.now += 601
    assert auth.sign_in("olga", "op-secret", client="10.0.0.6").account is not None


def test_an_unknown_user_name_goes_through_the_same_password_check(tmp_path):
    from copilot.auth import check_password

    calls: list[tuple[str, str]] = []

    def recording(password: str, password_hash: str) -> bool:
        calls.append((password, password_hash))
        return check_password(password, password_hash)

    auth = _auth(tmp_path, Clock(), check=recording)
    assert auth.sign_in("olga", "wrong").account is None
    assert auth.sign_in("mallory", "wrong").account is None
    (_, known), (_, unknown) = calls
    assert unknown == auth.dummy_hash and unknown != known
    assert unknown.split("$")[2] == known.split("$")[2]  # the same bcrypt cost, so the same time
    assert not check_password("", auth.dummy_hash)


# --- customer text is shown as text ------------------------------------------------------

EVIL = ("Hi ![pixel](https://tracker.example/p.png) see [my site](http://phish.example) **now** "
        "<img src=https://tracker.example/i.png> `x` $y$ :red[z]\n# big\n- list")
RENDER = MarkdownIt("commonmark", {"html": True}).enable("table")


def fetches_or_links(markdown: str) -> bool:
    """Whether Markdown acts on the customer's markup: fetches an image, shows a link, bold,
    a heading or a list that the text only spelled out."""
    out = RENDER.render(markdown)
    return any(tag in out for tag in ("<img", "<a ", "<strong>now", "<h1>big", "<li>list", "<code>x"))


def test_text_helpers_keep_customer_markup_as_characters():
    from copilot.ui.render import draft_html, plain_md, word_diff_html

    assert not fetches_or_links(plain_md(EVIL))
    shown = RENDER.render(plain_md(EVIL))
    assert "![pixel](https://tracker.example/p.png)" in shown and "&lt;img src=" in shown  # the characters remain
    s = _suggestion_with({"card": "-", "phone": "-", "email": "-"})
    s.grounding = Grounding(sentences=[SentenceCheck(text=f"{EVIL} [1]", supported=True, citation=1)])
    assert '<sup class="cite"' in draft_html(s) and not fetches_or_links(f"<div>{draft_html(s)}</div>".replace("\n", " "))
    assert "<img" not in RENDER.render(word_diff_html("Hello there.", f"Hello {EVIL}".replace("\n", " ")))


def _ui_state(tmp_path):
    from copilot.auth import Auth, hash_password
    from copilot.config import AuthSettings, Settings, UserAccount

    settings = Settings(data_dir=tmp_path, auth=AuthSettings(users=[
        UserAccount(username="sam", role="supervisor", password_hash=hash_password("x", rounds=4))]))
    return {"settings": settings, "store": FeedbackStore(settings.feedback, tmp_path), "auth": Auth(settings)}


def _rendered(at) -> list[str]:
    """What the page gives Markdown to render: texts, captions, notices, button labels."""
    values = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success") for e in getattr(at, kind)]
    return values + [b.label for b in at.button]


def test_review_page_and_operator_panel_show_customer_and_source_text_as_text(tmp_path):
    from streamlit.testing.v1 import AppTest

    from helpers import REPO

    state = _ui_state(tmp_path)
    s = _suggestion_with({"card": "-", "phone": "-", "email": "-"})
    s.citations[0].quote = EVIL
    s.draft.text = f"{EVIL} [1]"
    s.draft.warnings = [EVIL]
    s.grounding = Grounding(unsupported=1, sentences=[SentenceCheck(text=EVIL, supported=False, reason="weak")])
    sid = state["store"].record_suggestion("olga", {"messages": [{"role": "customer", "text": EVIL}]}, s)
    state["store"].record_action(sid, "olga", "sent", EVIL)

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in {**state, "user": state["auth"].users["sam"]}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("copilot/ui/pages/review.py").run()
    assert not at.exception
    texts = _rendered(at)
    assert sum("tracker" in t for t in texts) >= 4  # conversation, draft, sent text, citation, warning
    assert not [t for t in texts if "tracker" in t and fetches_or_links(t)]

    panel = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in {**state, "user": state["auth"].users["sam"], "turns": [{"role": "customer", "text": EVIL}],
                       "suggestion": s}.items():
        panel.session_state[key] = value
    panel.run()
    assert not panel.exception
    texts = _rendered(panel)
    assert sum("tracker" in t for t in texts) >= 3  # the turn, the warning, the draft
    assert not [t for t in texts if "tracker" in t and fetches_or_links(t)]


# --- credentials and echoed input never shown ---------------------------------------------

def test_a_model_error_that_echoes_the_input_shows_neither_the_card_nor_the_endpoints_credentials():
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from langchain_core.messages import HumanMessage
    from pydantic import BaseModel

    from copilot.config import LLMSettings
    from copilot.errors import LLMUnavailableError
    from copilot.llm import ChatClient

    class Echo(BaseHTTPRequestHandler):
        """A gateway whose error body repeats the request, as some do."""

        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            data = json.dumps({"error": {"message": f"cannot process {body[-300:]} via "
                                                    "https://svc:hunter2@upstream.example/v1?key=k3y"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Answer(BaseModel):
        text: str

    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://user:pa55word@127.0.0.1:{server.server_address[1]}/v1?api_key=qwerty"
        client = ChatClient(LLMSettings(base_url=url, timeout_s=300, max_retries=0))  # a budget no busy machine runs out of
        with pytest.raises(LLMUnavailableError) as failure:
            client.structured([HumanMessage("card 4111 1111 1111 1111, mail ivan@mail.ru")], Answer)
    finally:
        server.shutdown()
        server.server_close()
    message = str(failure.value)
    assert "cannot process" in message  # the error is still explained
    for secret in ("4111 1111", "ivan@mail.ru", "pa55word", "qwerty", "hunter2", "k3y"):
        assert secret not in message, secret


def test_logged_failures_are_scrubbed_tracebacks_included(caplog):
    import logging

    import copilot.masking  # noqa: F401  (scrubs the product's log records, as the engine imports it)

    try:
        raise RuntimeError("model at https://u:s3cret@host.example/v1 rejected card 4111111111111111")
    except RuntimeError as exc:
        logging.getLogger("copilot").exception("LLM draft failed for %s", "olga@example.com")
        logging.getLogger("copilot.api").error("request failed", exc_info=exc)  # a child logger too
    assert "LLM draft failed for [EMAIL]" in caplog.text and "request failed" in caplog.text
    assert caplog.text.count("RuntimeError: model at https://host.example/v1 rejected card [CARD]") == 2
    for secret in ("s3cret", "4111111111111111", "olga@example.com"):
        assert secret not in caplog.text


def test_what_a_non_local_model_reads_has_every_kind_masked():
    from copilot.config import LLMSettings
    from copilot.draft import DraftPlan, Sources, llm_draft
    from copilot.prompts import load_prompt
    from copilot.schema import Conversation

    class Recording:
        """A model endpoint that only records what it was sent."""

        settings = LLMSettings(base_url="https://models.example/v1")
        sent: list = []

        def structured(self, messages, schema, **kwargs):
            self.sent.extend(m.content for m in messages)
            raise RuntimeError("recorded")

    said = ["Call me on +44 20 7946 0958 or 9161234567, card 4111.1111.1111.1111, IBAN GB69 BARC 2000 5512 3456 78",
            "почта ivan [at] mail.ru, Серия и номер 4509 654321, СНИЛС 112 233 445 95"]
    conversation = Conversation.model_validate({"messages": [{"role": "customer", "text": t} for t in said]})
    plan = DraftPlan(language="en", customer_name=None, answer_hits=[], covered=False, negative=False, questions=[],
                     handoff_promise=None, policy_hit=None, query="", query_vector=None)
    chat = Recording()
    with pytest.raises(RuntimeError, match="recorded"):
        llm_draft(plan, Sources(), conversation, chat, load_prompt("draft_reply@v1"), 4096, mask=True)
    payload = "\n".join(map(str, chat.sent))
    assert all(tag in payload for tag in ("[PHONE]", "[CARD]", "[EMAIL]", "[PASSPORT]", "[SNILS]", "[IBAN]"))
    for raw in ("7946 0958", "9161234567", "4111.1111", "ivan [at]", "654321", "445 95", "5512 3456"):
        assert raw not in payload, raw
