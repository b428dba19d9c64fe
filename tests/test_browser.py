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

import pytest

import fake_helpdesk
from copilot.auth import users_json

from helpers import REPO, settled, streamlit_panel

pytestmark = pytest.mark.slow
SHOTS = REPO / "docs" / "screenshots"


@pytest.fixture(scope="module")
def helpdesk_file(tmp_path_factory):
    return tmp_path_factory.mktemp("helpdesk") / "helpdesk.json"


@pytest.fixture(scope="module")
def panel(demo_index_dir, session_cache, tmp_path_factory, helpdesk_file):
    data = tmp_path_factory.mktemp("panel-data")
    env = {**os.environ,
           "COPILOT_DATA_DIR": str(data), "COPILOT_INDEX_DIR": str(demo_index_dir / "index"),
           "COPILOT_CACHE_DIR": str(session_cache), "COPILOT_LLM__ENABLED": "false",
           "COPILOT_EVALS__SUPERVISOR_CASES": str(data / "supervisor.jsonl"),
           fake_helpdesk.ENV: str(helpdesk_file),
           "COPILOT_AUTH__USERS": users_json([("olga", "operator", "op-secret"), ("sam", "supervisor", "sup-secret")])}
    fake_helpdesk.write(helpdesk_file, {})
    # the panel with the test helpdesk registered as "fakedesk" (tests/panel_server.py)
    with streamlit_panel(REPO / "tests" / "panel_server.py", env, data / "streamlit.log", via_streamlit=False) as url:
        yield url


def sign_in(page, url: str, user: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("User name").wait_for(timeout=60_000)
    page.get_by_label("User name").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def signed_in(page, url: str, user: str, password: str, shows: str) -> None:
    """Signed in, the page showing `shows`, and the run that drew it ended (a click made while
    a run still draws can be dropped on a loaded runner)."""
    sign_in(page, url, user, password)
    page.get_by_text(shows).wait_for(timeout=90_000)
    settled(page)


def test_operator_sends_a_suggestion_and_the_supervisor_finds_it(panel, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    operator = browser.new_page(viewport={"width": 760, "height": 1400})
    signed_in(operator, panel, "olga", "op-secret", "Demo conversation")
    add_turn(operator, "Когда списывается абонентская плата и можно ли платить через СБП без комиссии?")
    operator.get_by_role("button", name="Suggest").click()
    operator.get_by_text("Reply to send").wait_for(timeout=120_000)
    settled(operator)  # a click while the run still draws can be dropped
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
    settled(operator)
    assert "[1]" not in reply.input_value()
    reply.fill(reply.input_value() + " Хорошего дня!")
    # straight from the box: the reply box and its buttons are one form, the click carries the text
    operator.get_by_role("button", name="Mark sent", disabled=False).click()
    operator.get_by_text("Sent (suggestion #").wait_for(timeout=30_000)
    operator.close()

    supervisor = browser.new_page(viewport={"width": 1100, "height": 1500})
    signed_in(supervisor, panel, "sam", "sup-secret", "Demo conversation")
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
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Add turn").click()
    page.get_by_text(text[:40]).first.wait_for()
    settled(page)


def test_a_refresh_keeps_the_session_copy_works_and_reject_needs_a_reason(panel, browser):
    page = operator_page(browser)
    signed_in(page, panel, "olga", "op-secret", "Demo conversation")
    sign_out = page.get_by_role("button", name="Sign out")
    assert sign_out.is_visible()  # in sight, not in the collapsed sidebar
    add_turn(page, "How long does a refund take to reach my card?")
    page.get_by_role("button", name="Suggest").click()
    page.get_by_text("Reply to send").wait_for(timeout=240_000)  # the first suggestion loads the engine
    settled(page)

    page.reload()  # the address carries the session: still signed in, the panel restored
    page.get_by_text("Reply to send").wait_for(timeout=60_000)
    settled(page)
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
    page.get_by_role("button", name="Reject suggestion", disabled=False).wait_for(timeout=30_000)
    settled(page)
    page.get_by_role("button", name="Reject suggestion", disabled=False).click()
    page.get_by_text("Rejected (suggestion").wait_for(timeout=30_000)
    settled(page)

    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.reload()  # the old address no longer signs in
    page.get_by_role("button", name="Sign in").wait_for(timeout=30_000)
    page.context.close()


def test_a_helpdesk_conversation_opens_from_the_address_hands_off_and_send_appends_the_reply(panel, browser, helpdesk_file):
    fake_helpdesk.write(helpdesk_file, {"42": [
        {"role": "customer", "text": "I have written three times already and nothing works. Get me a human operator now!"}]})
    page = operator_page(browser)
    signed_in(page, f"{panel}/?helpdesk=fakedesk&conversation=42", "olga", "op-secret",
              "From fakedesk, conversation 42")
    page.get_by_text("Get me a human operator now!").wait_for()
    page.get_by_role("button", name="Suggest").click()
    card = page.locator(".st-key-handoff-card")
    card.wait_for(timeout=120_000)
    settled(page)
    text = card.inner_text()
    assert "Hand this conversation to a person" in text and "Urgency" in text
    assert "explicit_human_request" not in text and "frustration_or_loop" not in text  # words, not codes
    page.wait_for_timeout(300)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "operator-handoff.png"), full_page=True)
    page.get_by_role("button", name="Hand off").click()
    page.get_by_text("Handed off to").wait_for(timeout=30_000)
    settled(page)
    (handoff,) = fake_helpdesk.read(helpdesk_file)["handoffs"]
    assert handoff["id"] == "42" and handoff["summary"]

    data = fake_helpdesk.read(helpdesk_file)  # the customer writes again in the helpdesk
    data["conversations"]["42"].append({"role": "customer", "text": "Also, how long does a refund take to reach my card?"})
    helpdesk_file.write_text(__import__("json").dumps(data))
    page.get_by_role("button", name="Refresh").click()
    page.get_by_text("how long does a refund take to reach my card?").wait_for(timeout=30_000)
    settled(page)
    page.get_by_role("button", name="Suggest").click()
    page.get_by_text("Reply to send").wait_for(timeout=120_000)
    settled(page)  # Send clicked while the run after Suggest still drew the page was once never confirmed
    reply = page.get_by_label("Reply to send")
    reply.fill("Refunds reach your card within 10 business days after approval.")
    page.get_by_role("button", name="Send to fakedesk", disabled=False).click()
    page.get_by_text("Sent to fakedesk").wait_for(timeout=120_000)  # a busy runner redraws slowly
    posted = fake_helpdesk.read(helpdesk_file)["posted"]
    assert [p["text"] for p in posted] == ["Refunds reach your card within 10 business days after approval."]
    # once the rerun that Send starts has drawn the page: the reply shows once, as the agent's turn
    from playwright.sync_api import expect

    expect(page.get_by_text("Refunds reach your card within 10 business days after approval.")).to_have_count(
        1, timeout=60_000)
    page.context.close()
