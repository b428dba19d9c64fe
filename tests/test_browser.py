"""The panel in a real browser (Debian's Chromium, headless, driven by Playwright): an
operator signs in, enters a conversation, gets a suggestion with citations, inserts it and
marks it sent; a supervisor signs in and finds it in the review queue. Screenshots of both
pages are saved to docs/screenshots (shown in the README)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from copilot.auth import users_json

from helpers import REPO, free_port, wait_for_http

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = REPO / "docs" / "screenshots"


@pytest.fixture(scope="module")
def panel(demo_index_dir, session_cache, tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    port = free_port()
    data = tmp_path_factory.mktemp("panel-data")
    env = {**os.environ,
           "COPILOT_DATA_DIR": str(data), "COPILOT_INDEX_DIR": str(demo_index_dir / "index"),
           "COPILOT_CACHE_DIR": str(session_cache), "COPILOT_LLM__ENABLED": "false",
           "COPILOT_EVALS__SUPERVISOR_CASES": str(data / "supervisor.jsonl"),
           "COPILOT_AUTH__USERS": users_json([("olga", "operator", "op-secret"), ("sam", "supervisor", "sup-secret")])}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def sign_in(page, url: str, user: str, password: str) -> None:
    page.goto(url)
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
    operator.get_by_text("Customer:").wait_for()
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
    reply.press("Tab")  # commits the edit
    # while Streamlit reruns, the stale (disabled) button is still on the page beside the new one
    operator.get_by_role("button", name="Mark sent", disabled=False).click()
    operator.get_by_text("Sent (suggestion #1)").wait_for(timeout=30_000)
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
