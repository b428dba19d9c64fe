"""The panel in a real browser (Debian's Chromium, headless, driven by Playwright): an
operator signs in, enters a conversation, gets a suggestion with citations, inserts it and
marks it sent; a supervisor signs in and finds it in the review queue. Screenshots of both
pages are saved to docs/screenshots (shown in the README). The operator panel's day-long use
(issue 16: a refresh keeps the session and the conversation, copy, reject needs a reason, the
handoff card, sign-out in sight) and the helpdesk round trip (issue 15: a conversation opened
from the address, Send posts the reply and appends it) run against the same server, with the
test helpdesk of tests/fake_helpdesk.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import fake_helpdesk
from copilot.auth import users_json

from helpers import CHROMIUM, REPO, chromium, free_port, wait_for_http

pytestmark = pytest.mark.slow
SHOTS = REPO / "docs" / "screenshots"
PANEL_DATA: dict = {}  # the panel server's data folder ("dir"), set by the fixture


@pytest.fixture(scope="module")
def helpdesk_file(tmp_path_factory):
    return tmp_path_factory.mktemp("helpdesk") / "helpdesk.json"


@pytest.fixture(scope="module")
def panel(demo_index_dir, session_cache, tmp_path_factory, helpdesk_file):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    port = free_port()
    data = tmp_path_factory.mktemp("panel-data")
    PANEL_DATA["dir"] = data
    env = {**os.environ,
           "COPILOT_DATA_DIR": str(data), "COPILOT_INDEX_DIR": str(demo_index_dir / "index"),
           "COPILOT_CACHE_DIR": str(session_cache), "COPILOT_LLM__ENABLED": "false",
           "COPILOT_EVALS__SUPERVISOR_CASES": str(data / "supervisor.jsonl"),
           "COPILOT_CONNECTORS__SEND_AS": "note",  # Send posts internal notes (tests/test_browser_rt.py: replies)
           fake_helpdesk.ENV: str(helpdesk_file),
           "COPILOT_AUTH__USERS": users_json([("olga", "operator", "op-secret"), ("sam", "supervisor", "sup-secret")])}
    fake_helpdesk.write(helpdesk_file, {})
    # the panel with the test helpdesk registered as "fakedesk" (tests/panel_server.py)
    proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "panel_server.py"), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=(data / "streamlit.log").open("w"))  # read when a test fails
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", proc, "the panel")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield url
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def sign_in(page, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("User name").wait_for(timeout=60_000)
    page.get_by_label("User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_operator_sends_a_suggestion_and_the_supervisor_finds_it(panel, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    operator = browser.new_page(viewport={"width": 760, "height": 1400})
    sign_in(operator, panel, "olga", "op-secret")
    operator.get_by_text("Demo conversation").wait_for(timeout=90_000)
    operator.get_by_label("Message").fill("Когда списывается абонентская плата и можно ли платить через СБП без комиссии?")
    operator.get_by_role("button", name="Add turn").click()
    operator.get_by_text("Customer:").first.wait_for()
    operator.get_by_role("button", name="Suggest").click()
    operator.get_by_text("Reply to send").wait_for(timeout=120_000)
    draft = operator.get_by_test_id("draft")
    assert "[1]" in draft.inner_text()
    citation = operator.get_by_role("button", name="[1]")
    citation.first.click()  # opens the cited passage
    operator.wait_for_timeout(500)
    operator.screenshot(path=str(SHOTS / "operator-panel.png"), full_page=True)
    operator.keyboard.press("Escape")
    operator.get_by_role("button", name="Insert to edit").click()
    reply = operator.get_by_label("Reply to send")
    operator.wait_for_function("() => [...document.querySelectorAll('textarea')].some(t => t.value.length > 20)")
    assert "[1]" not in reply.input_value()
    reply.fill(reply.input_value() + " Хорошего дня!")
    operator.get_by_role("button", name="Mark sent").click()  # straight from the box: the form carries the text
    operator.get_by_text("Sent (suggestion #").wait_for(timeout=30_000)
    operator.close()

    supervisor = browser.new_page(viewport={"width": 1100, "height": 1500})
    sign_in(supervisor, panel, "sam", "sup-secret")
    supervisor.get_by_text("Demo conversation").wait_for(timeout=60_000)
    supervisor.get_by_role("link", name="Review queue").click()  # in-app navigation keeps the session
    supervisor.get_by_text("Open suggestion").wait_for(timeout=60_000)
    supervisor.get_by_text("Хорошего дня!").first.wait_for(timeout=30_000)  # what the operator sent
    assert supervisor.get_by_text("Draft").count() >= 1 and supervisor.get_by_text("Changes").count() == 1
    supervisor.wait_for_timeout(500)
    supervisor.screenshot(path=str(SHOTS / "supervisor-review.png"), full_page=True)
    supervisor.close()


def operator_page(browser, **viewport):
    context = browser.new_context(viewport={"width": 760, "height": 1400, **viewport})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    return context.new_page()


def add_turn(page, text: str) -> None:
    from playwright.sync_api import expect

    expect(page.get_by_label("Message")).to_have_count(1, timeout=60_000)  # a rerun draws a new box beside the old
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Add turn").click()
    page.get_by_text(text[:40]).first.wait_for()


def test_a_refresh_keeps_the_session_copy_works_and_reject_needs_a_reason(panel, browser):
    page = operator_page(browser)
    sign_in(page, panel, "olga", "op-secret")
    page.get_by_text("Demo conversation").wait_for(timeout=90_000)
    sign_out = page.get_by_role("button", name="Sign out")
    assert sign_out.is_visible()  # in sight, not in the collapsed sidebar
    add_turn(page, "How long does a refund take to reach my card?")
    page.get_by_role("button", name="Suggest").click()
    page.get_by_text("Reply to send").wait_for(timeout=240_000)  # the first suggestion loads the engine

    page.reload()  # the address carries the session: still signed in, the panel restored
    page.get_by_text("Reply to send").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Sign in").count() == 0
    assert page.get_by_text("How long does a refund take to reach my card?").count() >= 1

    page.locator("#copilot-copy").click()  # one click: the draft (the reply box is empty), no citation marks
    page.get_by_text("Copied").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "10 business days" in copied and "[1]" not in copied

    page.get_by_role("button", name="Reject…").click()
    reject = page.get_by_role("button", name="Reject suggestion")
    reject.wait_for()
    assert reject.is_disabled()  # no reason chosen: nothing to record
    page.get_by_text("Wrong tone").click()
    page.get_by_role("button", name="Reject suggestion", disabled=False).click()
    page.get_by_text("Rejected (suggestion").wait_for(timeout=30_000)

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.reload()  # the old address no longer signs in
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.context.close()


def test_a_helpdesk_conversation_opens_from_the_address_hands_off_and_a_note_stays_out_of_it(panel, browser, helpdesk_file):
    """The panel's Send posts internal notes here (connectors.send_as = "note"): the note is
    recorded, and the panel says it is not part of the conversation (the customer never sees
    it, and the helpdesk leaves it out of the conversation the panel reads)."""
    fake_helpdesk.write(helpdesk_file, {"42": [
        {"role": "customer", "text": "I have written three times already and nothing works. Get me a human operator now!"}]})
    page = operator_page(browser)
    sign_in(page, f"{panel}/?helpdesk=fakedesk&conversation=42", "olga", "op-secret")
    page.get_by_text("From fakedesk, conversation 42").wait_for(timeout=90_000)
    page.get_by_text("Get me a human operator now!").wait_for()
    page.get_by_role("button", name="Suggest").click()
    card = page.locator(".st-key-handoff-card")
    card.wait_for(timeout=120_000)
    text = card.inner_text()
    assert "Hand this conversation to a person" in text and "Urgency" in text
    assert "explicit_human_request" not in text and "frustration_or_loop" not in text  # words, not codes
    page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "operator-handoff.png"), full_page=True)
    page.get_by_role("button", name="Hand off").click()
    page.get_by_text("Handed off to").wait_for(timeout=30_000)
    (handoff,) = fake_helpdesk.read(helpdesk_file)["handoffs"]
    assert handoff["id"] == "42" and handoff["summary"]

    data = fake_helpdesk.read(helpdesk_file)  # the customer writes again in the helpdesk
    data["conversations"]["42"].append({"role": "customer", "text": "Also, how long does a refund take to reach my card?"})
    helpdesk_file.write_text(__import__("json").dumps(data))
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text("how long does a refund take to reach my card?").wait_for(timeout=30_000)
    page.get_by_role("button", name="Suggest").click()
    page.get_by_text("Reply to send").wait_for(timeout=120_000)
    note = "Refunds reach your card within 10 business days after approval."
    page.get_by_label("Reply to send").fill(note)
    page.get_by_role("button", name="Note to fakedesk").click()  # straight from the box, which has the focus
    done = page.get_by_text("Posted to fakedesk as an internal note")
    done.wait_for(timeout=120_000)  # a busy runner redraws slowly
    assert "The customer does not see it, so it is not part of the conversation." in done.inner_text()
    posted = fake_helpdesk.read(helpdesk_file)["posted"]
    assert [(p["text"], p["kind"]) for p in posted] == [(note, "note")]
    from playwright.sync_api import expect

    expect(page.get_by_text(note)).to_have_count(0)  # no agent turn: nothing was said to the customer
    data = fake_helpdesk.read(helpdesk_file)  # the customer writes again; Refresh reads the helpdesk
    data["conversations"]["42"].append({"role": "customer", "text": "Thank you, and by bank transfer?"})
    helpdesk_file.write_text(__import__("json").dumps(data))
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text("Thank you, and by bank transfer?").wait_for(timeout=60_000)
    expect(page.get_by_text(note)).to_have_count(0)
    assert page.locator("[class*='st-key-turn-']").count() == 3  # the customer's three turns, no note among them
    page.context.close()


def test_a_reply_typed_and_sent_at_once_is_recorded_the_shortcuts_work_and_typing_survives_a_refresh(panel, browser):
    """Streamlit drops a click made while a text area has focus, or runs it with the box's old
    text (streamlit#8725, #10007): the reply box and its buttons are one form, so a click, or
    Alt+S, carries what was typed. Alt+Enter suggests and Alt+I inserts; text typed and left
    (the focus elsewhere) is committed and kept across a refresh."""
    from playwright.sync_api import expect

    page = operator_page(browser)
    sign_in(page, panel, "olga", "op-secret")
    page.get_by_text("Demo conversation").wait_for(timeout=90_000)
    page.get_by_role("button", name="Clear").click()  # olga's saved panel may hold an earlier test's conversation
    page.get_by_text("From fakedesk").wait_for(state="detached", timeout=60_000)
    add_turn(page, "How long does a refund take to reach my card?")
    page.get_by_role("heading", name="Conversation").click()
    page.keyboard.press("Alt+Enter")  # suggests
    page.get_by_text("Reply to send").wait_for(timeout=240_000)  # the first suggestion may load the engine
    reply = page.get_by_label("Reply to send")
    reply.click()
    page.keyboard.press("Alt+I")  # inserts the draft, from the reply box itself
    page.wait_for_function("() => [...document.querySelectorAll('.st-key-reply textarea')].some(t => t.value.length > 20)",
                           timeout=60_000)
    reply.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Typed right before the click.")
    page.get_by_role("button", name="Mark sent").click()  # at once: the box still has the focus
    page.get_by_text("Sent (suggestion #").wait_for(timeout=120_000)
    expect(page.get_by_text("Typed right before the click.")).to_have_count(1, timeout=60_000)  # the agent's turn

    add_turn(page, "And can I pay by bank transfer?")
    page.get_by_role("button", name="Suggest").click()
    page.get_by_text("Reply to send").wait_for(timeout=120_000)
    page.get_by_label("Reply to send").click()
    page.keyboard.type("Sent from the keyboard while typing.")
    page.keyboard.press("Alt+S")  # the focus still in the box
    page.get_by_text("Sent (suggestion #").wait_for(timeout=120_000)
    expect(page.get_by_text("Sent from the keyboard while typing.")).to_have_count(1, timeout=60_000)

    add_turn(page, "Thanks. Anything else I should know?")
    page.get_by_role("button", name="Suggest").click()
    page.get_by_text("Reply to send").wait_for(timeout=120_000)
    page.get_by_label("Reply to send").click()
    page.keyboard.type("Kept across a refresh.")
    page.get_by_role("heading", name="Conversation").click()  # the focus leaves the reply form: committed
    from copilot.config import Settings
    from copilot.ui.session import load_panel

    saved = Settings(data_dir=PANEL_DATA["dir"])
    for _ in range(120):  # until the run the commit starts has saved the panel (a busy runner is slow)
        if load_panel(saved, "olga").get("reply") == "Kept across a refresh.":
            break
        page.wait_for_timeout(500)
    page.reload()
    page.get_by_text("Reply to send").wait_for(timeout=60_000)
    expect(page.get_by_label("Reply to send")).to_have_value("Kept across a refresh.", timeout=30_000)
    page.context.close()


def test_pasted_transcripts_are_previewed_then_replace_the_conversation_and_turns_are_edited_and_deleted(panel, browser):
    """Common transcript shapes (timestamps and names, role words in Russian, a helpdesk's JSON
    export) are previewed as turns before they replace the conversation; a turn is then edited
    (Save straight from the box) and one deleted."""
    import json

    from playwright.sync_api import expect

    page = operator_page(browser)
    sign_in(page, panel, "olga", "op-secret")
    page.get_by_text("Demo conversation").wait_for(timeout=90_000)
    page.get_by_text("Paste a transcript").click()
    turns = page.locator("[class*='st-key-turn-']")
    shapes = [
        ("[10:02] Anna: My internet has been down since last night\n[10:03] Oleg (support): Is the router light red?\n"
         "[10:05] Anna: Yes, it is red", ["My internet has been down since last night", "Is the router light red?",
                                          "Yes, it is red"]),
        ("Клиент: Не работает интернет\nОператор: Уточните номер договора", ["Не работает интернет",
                                                                               "Уточните номер договора"]),
        (json.dumps({"messages": [{"message_type": 0, "content": "Where is my refund?"},
                                  {"message_type": 1, "content": "It takes 10 business days.", "private": False},
                                  {"message_type": 1, "content": "internal: check the bank", "private": True}]}),
         ["Where is my refund?", "It takes 10 business days."]),
    ]
    for text, expected in shapes:
        box = page.get_by_label("Transcript")
        expect(box).to_have_count(1, timeout=60_000)  # the last run's box gone (a rerun draws a new one beside it)
        if not box.is_visible():  # the section folds once a transcript has replaced the conversation
            page.get_by_text("Paste a transcript").click()
        box.fill(text)
        box.press("Control+Enter")  # the preview follows the committed text
        preview = page.locator(".st-key-transcript-preview")
        preview.get_by_text(f"Preview: {len(expected)} turns").wait_for(timeout=60_000)
        for e in expected:  # this text's turns (retried while the preview redraws)
            expect(preview).to_contain_text(e, timeout=60_000)
        page.get_by_role("button", name=f"Replace the conversation with these {len(expected)} turns").click()
        turns.nth(len(expected) - 1).get_by_text(expected[-1]).wait_for(timeout=60_000)
        shown = [turns.nth(i).get_by_test_id("stMarkdownContainer").first.inner_text() for i in range(turns.count())]
        assert [line.split(":", 1)[1].strip() for line in shown] == expected
    assert "Agent:" in turns.nth(1).inner_text() and "internal: check the bank" not in page.content()

    def settled(locator):  # a rerun draws the new element beside the old one for a moment
        expect(locator).to_have_count(1, timeout=60_000)
        return locator

    settled(page.locator(".st-key-edit-turn-0 button:visible")).click()
    settled(page.get_by_label("Customer (1)")).fill("Where is my refund for order 12?")
    page.get_by_role("button", name="Save").click()  # straight from the box, which has the focus
    turns.first.get_by_text("Where is my refund for order 12?").wait_for(timeout=60_000)
    settled(page.locator(".st-key-delete-turn-1 button:visible")).click()
    expect(turns).to_have_count(1, timeout=60_000)
    assert "for order 12" in turns.first.get_by_test_id("stMarkdownContainer").first.inner_text()
    page.context.close()
