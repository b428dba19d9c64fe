"""The supervisor pages in a real browser (Debian's Chromium, headless, driven by
Playwright), one Streamlit server for the module over a small knowledge base and a
feedback store holding one day of suggestions and a page of mined cards: a click on a queue
row opens that suggestion; the metrics charts draw with one day of data; mined cards are
searched and approved in bulk. Screenshots go to docs/screenshots (the README shows them)."""

from __future__ import annotations

import io
import os
import re

import pytest

from copilot.auth import users_json
from copilot.config import FeedbackSettings
from copilot.feedback.store import FeedbackStore
from copilot.schema import Citation, Draft, Handoff, Intent, Sentiment, Suggestion

from helpers import REPO, settled, streamlit_panel

pytestmark = pytest.mark.slow
SHOTS = REPO / "docs" / "screenshots"

CONVERSATIONS = [  # (operator, language, topic, customer, draft, what happened)
    ("olga", "en", "refunds", "How long does a refund to my card take?",
     "Refunds reach the card within 10 business days after approval [1].",
     ("sent", "Refunds reach the card within 10 business days after approval. Have a good evening!")),
    ("ivan", "ru", "escalation-protocol", "Позовите живого человека, бот не помогает!",
     "Передаю ваш вопрос специалисту второй линии [1].", ("rejected", "should_hand_off")),
    ("olga", "ru", "billing-dates", "Когда списывается абонентская плата?",
     "Абонентская плата списывается 1-го числа каждого месяца [1].", ("sent", "Абонентская плата списывается 1-го числа каждого месяца.")),
    ("ivan", "en", "internet-no-connection", "No internet since morning, the light is red.",
     "Unplug the router for 30 seconds and plug it back in [1].", None),
    ("olga", "en", "autopay", "How do I turn on autopay?",
     "Open Payments → Autopay in your account [1].", ("sent", "Open Payments, then Autopay, in your account.")),
]


def _suggestion(language: str, topic: str, draft: str, handoff: bool) -> Suggestion:
    return Suggestion(
        language=language, intent=Intent(label=topic, confidence=0.8), confidence=0.4 if handoff else 0.8,
        sentiment=Sentiment(label="negative" if handoff else "neutral", score=0),
        draft=Draft(text=draft, mode="retrieval", prompt="draft_reply@v1", model="none"),
        citations=[Citation(n=1, source_id=f"{topic}-{language}", chunk_id=f"{topic}-{language}::0", title=topic,
                            quote=draft.replace(" [1]", ""))],
        handoff=Handoff(needed=handoff, urgency="high" if handoff else "low",
                        reasons=["explicit_human_request"] if handoff else [], queue="second_line" if handoff else ""))


def seed(data) -> dict:
    store = FeedbackStore(FeedbackSettings(), data)
    ids = {}
    for operator, lang, topic, customer, draft, done in CONVERSATIONS:
        sid = store.record_suggestion(operator, {"messages": [{"role": "customer", "text": customer}]},
                                      _suggestion(lang, topic, draft, handoff=topic == "escalation-protocol"))
        ids[topic] = sid
        if done and done[0] == "sent":
            store.record_action(sid, operator, "sent", done[1])
        elif done:
            store.record_action(sid, operator, "rejected", reason=done[1])
    for i, (topic, text) in enumerate([("billing", "Оплата через СБП прошла, но не отразилась: помогла сверка по номеру "
                                                    "операции, платёж зачислен вручную."),
                                       ("billing", "Двойное списание за месяц: второй платёж возвращён на карту за 3 дня."),
                                       ("tv", "E-305 on a second box: support activated it by serial number."),
                                       ("billing", "Автоплатёж не сработал из-за истёкшей карты: клиент привязал новую.")]
                                      + [("wifi", f"Wi-Fi channel {n} was congested; switching to channel {n + 5} fixed it.")
                                         for n in range(1, 9)]):
        lang = "ru" if re.search("[а-я]", text) else "en"
        store.add_mined(f"T-{lang.upper()}-9{i:03d}", f"{topic.capitalize()}: {text[:60]}",
                        f"{'Решение' if lang == 'ru' else 'Resolution'}: {text}", lang, [topic])
    store.close()
    return ids


def small_index(data, cache, kb) -> None:
    """A two-article knowledge base of the module's own (approving mined cards writes into
    the index; the supervisor pages need no more than this)."""
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    from helpers import make_settings

    kb.mkdir()
    (kb / "refunds-en.md").write_text("---\nid: refunds-en\ntitle: Refunds\nlang: en\n---\n# Refunds\n\n"
                                      "Refunds reach the card within 10 business days after approval.\n", encoding="utf-8")
    (kb / "billing-dates-ru.md").write_text("---\nid: billing-dates-ru\ntitle: Когда списывается плата\nlang: ru\n---\n"
                                            "# Когда списывается плата\n\nАбонентская плата списывается 1-го числа "
                                            "каждого месяца.\n", encoding="utf-8")
    index = KnowledgeIndex(make_settings(data, cache))
    report = Ingestor(index).run([kb])
    index.close()
    assert report.failed == 0, report.errors


@pytest.fixture(scope="module")
def panel(session_cache, tmp_path_factory):
    data = tmp_path_factory.mktemp("supervisor-data")
    small_index(data, session_cache, tmp_path_factory.mktemp("supervisor-kb") / "kb")
    ids = seed(data)
    env = {**os.environ, "COPILOT_DATA_DIR": str(data), "COPILOT_CACHE_DIR": str(session_cache),
           "COPILOT_LLM__ENABLED": "false",
           "COPILOT_AUTH__USERS": users_json([("sam", "supervisor", "sup-secret")])}
    with streamlit_panel(REPO / "app.py", env, data / "streamlit.log") as url:
        yield {"url": url, "data": data, "ids": ids}


def supervisor_on(browser, url: str, link: str, wait_for: str):
    page = browser.new_page(viewport={"width": 1280, "height": 1500})
    page.goto(url)
    page.get_by_label("User name").wait_for(timeout=120_000)  # a busy runner starts the first page slowly
    page.get_by_label("User name").fill("sam")
    page.get_by_role("textbox", name="Password").fill("sup-secret")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=link).wait_for(timeout=120_000)
    settled(page)  # a click while a run still draws can be dropped on a loaded runner
    page.get_by_role("link", name=link).click()  # in-app navigation keeps the session
    page.get_by_text(wait_for).first.wait_for(timeout=60_000)
    settled(page)
    return page


def click_row(page, table, row: int) -> None:
    """Click the row marker (the selection box left of the first column) of data row `row`."""
    box = table.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 35 * row + 17)


def test_a_click_on_a_queue_row_opens_that_suggestion(panel, browser):
    page = supervisor_on(browser, panel["url"], "Review queue", "Open suggestion: click a row")
    first = panel["ids"]["escalation-protocol"]  # a rejected handoff: first in the queue
    page.get_by_text(f"Suggestion #{first}").wait_for(timeout=30_000)
    table = page.get_by_test_id("stDataFrame").first
    # the queue is worst first; the sent refund is among the rest, in id order from the newest
    order = [panel["ids"][t] for t in ("escalation-protocol", "autopay", "internet-no-connection", "billing-dates",
                                       "refunds")]
    click_row(page, table, order.index(panel["ids"]["refunds"]))
    page.get_by_text(f"Suggestion #{panel['ids']['refunds']}").wait_for(timeout=30_000)
    page.get_by_text("Have a good evening!").first.wait_for(timeout=30_000)  # what was sent, beside the draft
    assert page.get_by_text(f"Suggestion #{first}").count() == 0
    assert f"suggestion={panel['ids']['refunds']}" in page.url  # a link to it
    assert page.get_by_role("combobox", name="Open suggestion").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "supervisor-review.png"), full_page=True)
    page.close()


def test_metrics_charts_draw_with_one_day_of_data(panel, browser):
    from PIL import Image

    page = supervisor_on(browser, panel["url"], "Metrics", "Suggestions per day")
    charts = page.get_by_test_id("stVegaLiteChart")
    charts.nth(4).wait_for(timeout=60_000)
    assert charts.count() >= 5
    page.wait_for_timeout(1000)  # vega draws after the element appears
    shot = Image.open(io.BytesIO(charts.first.screenshot())).convert("RGB")
    coloured = sum(1 for r, g, b in shot.getdata() if max(r, g, b) - min(r, g, b) > 80)
    assert coloured > 3000, coloured  # the day's stacked bar, not only the legend's swatches
    assert page.get_by_text("Acceptance").count() >= 1
    assert page.get_by_test_id("stMetricValue").nth(1).inner_text() == "60%"  # 3 sent of 5 shown
    page.screenshot(path=str(SHOTS / "supervisor-metrics.png"), full_page=True)
    page.close()


def test_mined_cards_are_searched_and_approved_in_bulk(panel, browser):
    page = supervisor_on(browser, panel["url"], "Mined resolutions", "card(s)")
    page.get_by_text("12 card(s) · page 1 of 2").wait_for(timeout=30_000)
    search = page.get_by_role("textbox", name="Search")  # the tables have a "Search" button too
    search.fill("списание")
    search.press("Enter")
    page.get_by_text("1 card(s) · page 1 of 1").wait_for(timeout=30_000)
    settled(page)
    search.fill("")
    search.press("Enter")
    page.get_by_text("12 card(s) · page 1 of 2").wait_for(timeout=30_000)
    page.get_by_text("page 1 / 2").wait_for()
    settled(page)
    page.get_by_role("button", name="›").click()
    page.get_by_text("12 card(s) · page 2 of 2").wait_for(timeout=30_000)
    settled(page)
    page.get_by_role("button", name="‹").click()
    page.get_by_text("12 card(s) · page 1 of 2").wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    settled(page)  # the previous page's table has faded out
    table = page.get_by_test_id("stDataFrame").first
    table.hover()
    click_row(page, table, 0)
    page.get_by_role("button", name="Approve selected (1)").wait_for(timeout=30_000)
    settled(page)
    click_row(page, page.get_by_test_id("stDataFrame").first, 1)
    page.get_by_role("button", name="Approve selected (2)").wait_for(timeout=30_000)
    settled(page)
    page.screenshot(path=str(SHOTS / "supervisor-mined.png"), full_page=True)
    page.get_by_role("button", name="Approve selected (2)").click()
    page.get_by_text("Approved and indexed 2 card(s)").wait_for(timeout=180_000)
    page.get_by_text("10 card(s) · page 1 of 1").wait_for(timeout=30_000)
    store = FeedbackStore(FeedbackSettings(), panel["data"])
    approved = store.mined("approved")
    assert len(approved) == 2 and all(r.article_id for r in approved)
    assert all((panel["data"] / "kb_mined" / f"{r.article_id}.md").exists() for r in approved)
    page.close()
