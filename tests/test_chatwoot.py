"""Chatwoot, against a fake Chatwoot on loopback that answers as Chatwoot's documented API
does (tests/data/chatwoot/README.md says where each shape comes from): the connector reads
a conversation's customer and agent turns (private notes, activity and template messages
left out), posts private notes, replies and hand-offs, and fails in one line without the
token; the webhook receiver, through the real API app and engine, turns a customer's
message into a private note with the suggestion, refuses unverified requests, ignores the
agent's own messages and private notes and answers a retried delivery once, across two
instances sharing the store; the Dashboard App page opens the panel for the conversation
Chatwoot's app context names (a real browser); an export imports as resolution cards,
incrementally."""

from __future__ import annotations

import copy
import json
import re
import shutil
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from typer.testing import CliRunner

from copilot.api import create_app
from copilot.api.chatwoot_webhook import signature
from copilot.config import ChatwootSettings, FeedbackSettings
from copilot.connectors.base import ConnectorError, HelpdeskRef
from copilot.connectors.chatwoot import ChatwootConnector
from copilot.connectors.registry import connector_for
from copilot.engine import Copilot
from copilot.feedback.store import FeedbackStore

from helpers import DATA, chromium, demo_articles_index, free_port, llm_settings

FIXTURES = DATA / "chatwoot"
TOKEN = "cw-agent-token-7f3a9c"
SECRET = "webhook-shared-secret-51be"
ARTICLES = ["refunds-en.md", "refunds-ru.md", "internet-no-connection-en.md", "internet-no-connection-ru.md",
            "escalation-protocol-en.md", "escalation-protocol-ru.md"]


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# -- a fake Chatwoot ------------------------------------------------------------------------
class FakeChatwoot:
    """Chatwoot's application API for one account, in memory, on a real HTTP server: the
    messages of each conversation (20 a page, `before=` pages back), posting messages,
    assignments, labels and the list of conversations; every request is logged."""

    PAGE = 20

    def __init__(self, account_id: int = 1):
        self.account_id = account_id
        self.conversations: dict[int, dict] = {}
        self.log: list[tuple[str, str]] = []
        self.assignments: list[tuple[int, dict]] = []
        self.fail_next_post = False
        self.pages: dict[str, str] = {}  # extra HTML pages (the browser test's Chatwoot dashboard)
        self.loads: list[str] = []
        self._next_id = 5000
        self._lock = threading.Lock()

    def add(self, cid: int, messages: list[dict], meta: dict | None = None, conversation: dict | None = None):
        self.conversations[cid] = {"messages": copy.deepcopy(messages), "meta": meta or {}, "labels": [],
                                   "conversation": conversation or {"id": cid, "status": "open"}}

    def notes(self, cid: int) -> list[dict]:
        return [m for m in self.conversations[cid]["messages"] if m.get("private")]

    def posted(self, cid: int) -> list[dict]:
        return [m for m in self.conversations[cid]["messages"] if m["id"] >= 5000]

    @property
    def gets(self) -> list[str]:
        return [path for method, path in self.log if method == "GET"]

    @contextmanager
    def running(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def answer(self, status: int, payload, content_type: str = "application/json"):
                body = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self.route("GET")

            def do_POST(self):
                self.route("POST")

            def route(self, method: str):
                url = urlsplit(self.path)
                if method == "GET" and url.path in fake.pages:
                    return self.answer(200, fake.pages[url.path], "text/html; charset=utf-8")
                if method == "GET" and url.path == "/panel":  # the operator panel stand-in
                    fake.loads.append(url.query)
                    return self.answer(200, "<!doctype html><p id=loaded></p><script>document.getElementById"
                                       "('loaded').textContent = location.search;</script>", "text/html")
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                with fake._lock:
                    fake.log.append((method, url.path))
                    if self.headers.get("api_access_token") != TOKEN:
                        return self.answer(401, {"errors": ["You need to sign in or sign up before continuing."]})
                    return self.answer(*fake.handle(method, url.path, parse_qs(url.query), body))

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()

    def handle(self, method: str, path: str, query: dict, body: dict):
        m = re.fullmatch(r"/api/v1/accounts/(\d+)/conversations(?:/(\d+)(/\w+)?)?", path)
        if not m or int(m.group(1)) != self.account_id:
            return 404, {"error": "Resource could not be found"}
        if m.group(2) is None:
            if method != "GET":
                return 404, {}
            status = query.get("status", ["open"])[0]
            page = int(query.get("page", ["1"])[0])
            found = [c["conversation"] for _, c in sorted(self.conversations.items())
                     if c["conversation"].get("status") == status]
            return 200, {"data": {"meta": {"all_count": len(found)}, "payload": found[(page - 1) * 25:page * 25]}}
        cid, tail = int(m.group(2)), m.group(3)
        if cid not in self.conversations:
            return 404, {"error": "Resource could not be found"}
        conv = self.conversations[cid]
        if tail == "/messages" and method == "GET":
            ordered = sorted(conv["messages"], key=lambda x: (x["created_at"], x["id"]))
            if "before" in query:
                ordered = [x for x in ordered if x["id"] < int(query["before"][0])]
            return 200, {"meta": conv["meta"], "payload": ordered[-self.PAGE:]}
        if tail == "/messages" and method == "POST":
            if self.fail_next_post:
                self.fail_next_post = False
                return 500, {"error": "Internal Server Error"}
            self._next_id += 1
            message = {"id": self._next_id, "content": body["content"], "inbox_id": 1, "conversation_id": cid,
                       "message_type": 1 if body.get("message_type", "outgoing") == "outgoing" else 0,
                       "content_type": "text", "status": "sent", "content_attributes": {},
                       "created_at": int(time.time()), "private": bool(body.get("private")), "source_id": None,
                       "sender": {"id": 7, "name": "Copilot", "type": "user"}}
            conv["messages"].append(message)
            return 200, message
        if tail == "/assignments" and method == "POST":
            self.assignments.append((cid, body))
            return 200, {"id": body.get("team_id"), "name": "team"}
        if tail == "/labels":
            if method == "POST":
                conv["labels"] = list(body["labels"])
            return 200, {"payload": conv["labels"]}
        return 404, {}


def cw_settings(url: str, **kw) -> ChatwootSettings:
    return ChatwootSettings(url=url, account_id=1, api_token=SecretStr(TOKEN), webhook_secret=SecretStr(SECRET), **kw)


@pytest.fixture
def fake():
    chatwoot = FakeChatwoot()
    doc = fixture("conversation_messages.json")
    chatwoot.add(10, doc["payload"], doc["meta"])
    with chatwoot.running() as url:
        chatwoot.url = url
        yield chatwoot


# -- the connector --------------------------------------------------------------------------
def test_a_conversation_is_the_customer_and_agent_turns_without_notes_or_activity(fake):
    conv = ChatwootConnector(cw_settings(fake.url)).fetch_conversation(HelpdeskRef(helpdesk="chatwoot",
                                                                                   conversation_id="10"))
    assert [(m.role, m.text) for m in conv.messages] == [
        ("customer", "Hello, I returned an order last week."),
        ("agent", "Hi! Thanks for writing. The return was received and the refund approved today."),
        ("customer", "How long does a refund take to reach my card after it is approved?")]
    assert conv.profile.name == "little-haze-776"


def test_a_long_conversation_is_read_back_page_by_page_in_order(fake):
    turns = [(0 if i % 2 == 0 else 1, f"сообщение {i}" if i % 3 else f"message {i}") for i in range(47)]
    fake.add(11, [{"id": 300 + i, "content": text, "message_type": kind, "private": False, "created_at": 1000 + i,
                   "conversation_id": 11} for i, (kind, text) in enumerate(turns)])
    conv = ChatwootConnector(cw_settings(fake.url)).fetch_conversation(HelpdeskRef(helpdesk="chatwoot",
                                                                                   conversation_id="11"))
    assert [m.text for m in conv.messages] == [t for _, t in turns]
    assert [m.role for m in conv.messages][:2] == ["customer", "agent"]
    assert len([p for p in fake.gets if p.endswith("/conversations/11/messages")]) >= 3  # 47 messages, 20 a page


def test_suggestion_reply_note_and_hand_off_reach_the_conversation(fake, engine):
    settings = engine.settings.model_copy(update={"connectors": engine.settings.connectors.model_copy(update={
        "chatwoot": cw_settings(fake.url, queue_teams={"billing": 4}, handoff_label="copilot-handoff")})})
    chatwoot = connector_for("chatwoot", settings)
    ref = HelpdeskRef(helpdesk="chatwoot", conversation_id="10")
    suggestion = engine.suggest({"messages": [{"role": "customer", "text":
                                                          "How long does a refund take to reach my card?"}]})
    note_id = chatwoot.post_suggestion(ref, suggestion)
    reply_id = chatwoot.post_reply(ref, "Refunds reach the card within 10 business days.")
    internal_id = chatwoot.post_reply(ref, "Checked the refund in billing.", kind="note")
    chatwoot.hand_off(ref, "billing", "Customer waits for a refund to the card.")
    chatwoot.hand_off(ref, "legal", "Threatens to sue.")
    posted = fake.posted(10)
    assert [str(m["id"]) for m in posted[:3]] == [note_id, reply_id, internal_id]
    assert [m["private"] for m in posted] == [True, False, True, True, True]
    note = posted[0]["content"]
    assert suggestion.draft.text.strip() in note and "not sent" in note
    assert all(f"[{c.n}] {c.title} ({c.source_id})" in note for c in suggestion.citations) and suggestion.citations
    assert fake.assignments == [(10, {"team_id": 4})]  # only the mapped queue moves the conversation
    assert fake.conversations[10]["labels"] == ["copilot-handoff"]
    assert "billing" in posted[3]["content"] and "waits for a refund" in posted[3]["content"]
    assert "legal" in posted[4]["content"] and "no Chatwoot team" in posted[4]["content"]


def test_a_russian_suggestion_note_is_labelled_in_russian(fake, engine):
    chatwoot = ChatwootConnector(cw_settings(fake.url))
    suggestion = engine.suggest({"messages": [{"role": "customer", "text":
                                               "Добрый день! Пока был на работе, дома отключился интернет, "
                                               "дети не могут сделать уроки."}]})
    chatwoot.post_suggestion(HelpdeskRef(helpdesk="chatwoot", conversation_id="10"), suggestion)
    note = fake.posted(10)[0]["content"]
    assert "Черновик ответа" in note and "Draft reply" not in note
    if suggestion.questions:
        assert "Уточнить у клиента" in note and suggestion.questions[0].text in note


def test_failures_are_one_line_and_never_show_the_token(fake):
    wrong = ChatwootConnector(cw_settings(fake.url).model_copy(update={"api_token": SecretStr("not-the-token")}))
    with pytest.raises(ConnectorError) as refused:
        wrong.fetch_conversation(HelpdeskRef(helpdesk="chatwoot", conversation_id="10"))
    missing = ChatwootConnector(cw_settings(fake.url))
    with pytest.raises(ConnectorError) as absent:
        missing.fetch_conversation(HelpdeskRef(helpdesk="chatwoot", conversation_id="999"))
    down = ChatwootConnector(cw_settings(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ConnectorError) as unreachable:
        down.post_reply(HelpdeskRef(helpdesk="chatwoot", conversation_id="10"), "hello")
    with pytest.raises(ConnectorError) as unset:
        ChatwootConnector(ChatwootSettings(url=fake.url))
    for exc in (refused, absent, unreachable, unset):
        text = str(exc.value)
        assert "\n" not in text and TOKEN not in text and "not-the-token" not in text and text.startswith("chatwoot")
    assert "HTTP 401" in str(refused.value) and "conversation 10" in str(refused.value)
    assert "HTTP 404" in str(absent.value) and "999" in str(absent.value)
    assert "connectors.chatwoot.account_id" in str(unset.value) and "api_token" in str(unset.value)


def test_chatwoot_roles_map_onto_ours():
    chatwoot = ChatwootConnector(cw_settings("http://127.0.0.1:9", roles={"administrator": "admin",
                                                                           "agent": "operator"}))
    assert [chatwoot.map_role(r) for r in ("administrator", "Agent", "someone")] == ["admin", "operator", "operator"]
    assert ChatwootConnector(cw_settings("http://127.0.0.1:9")).map_role("administrator") == "supervisor"


# -- the webhook, through the real API app ----------------------------------------------------
@pytest.fixture(scope="module")
def small_index(tmp_path_factory, session_cache):
    return demo_articles_index(tmp_path_factory.mktemp("chatwoot-kb"), session_cache, ARTICLES)


@pytest.fixture(scope="module")
def engine(small_index):
    return Copilot(llm_settings(small_index.settings, enabled=False), index=small_index)


def app_for(small_index, chatwoot: ChatwootSettings, store: FeedbackStore):
    settings = llm_settings(small_index.settings, enabled=False).model_copy(
        update={"connectors": small_index.settings.connectors.model_copy(update={"chatwoot": chatwoot})})
    return create_app(settings, copilot=Copilot(settings, index=small_index), store=store)


@pytest.fixture
def webhook(small_index, fake, tmp_path):
    store = FeedbackStore(FeedbackSettings(), tmp_path / "feedback")
    with TestClient(app_for(small_index, cw_settings(fake.url), store)) as client:
        client.store = store
        yield client
    store.close()


def signed(payload: dict | bytes, secret: str = SECRET, stamp: int | None = None) -> dict:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    ts = str(int(time.time()) if stamp is None else stamp)
    return {"content": body, "headers": {"Content-Type": "application/json", "X-Chatwoot-Timestamp": ts,
                                         "X-Chatwoot-Signature": signature(secret, ts, body),
                                         "X-Chatwoot-Delivery": "0d6c2a3e-7e53-4d1b-9d7b-1f1f0b6f8c11"}}


def test_a_customer_message_gets_the_suggestion_as_a_private_note(webhook, fake):
    r = webhook.post("/v1/connectors/chatwoot/webhook", **signed(fixture("webhook_message_created.json")))
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "accepted", "reason": "", "conversation_id": "10", "message_id": "118"}
    notes = fake.posted(10)
    assert len(notes) == 1 and notes[0]["private"] is True
    note = notes[0]["content"]
    assert "Draft reply" in note and "[1]" in note and "refunds-en" in note
    stored = webhook.store.get(1)
    assert stored is not None and stored.operator == "chatwoot-webhook"
    assert stored.conversation["reference"] == {"system": "chatwoot", "conversation_id": "10"}
    assert stored.suggestion["draft"]["text"].split()[0] in note
    # the conversation read was the API's, private note and activity left out
    assert [m["text"] for m in stored.conversation["messages"]][-1].startswith("How long does a refund")
    assert not any("billing on 23 July" in m["text"] for m in stored.conversation["messages"])


def test_a_russian_customer_message_gets_a_russian_note(webhook, fake):
    fake.add(31, [{"id": 900, "content": "Добрый день! Пока был на работе, дома отключился интернет, "
                                         "дети не могут сделать уроки.", "message_type": 0,
                   "private": False, "created_at": 1700000000, "sender": {"id": 3, "type": "contact"}}])
    event = fixture("webhook_message_created.json")
    event.update(id=900, content="Добрый день! Пока был на работе, дома отключился интернет, "
                                 "дети не могут сделать уроки.")
    event["conversation"]["id"] = 31
    assert webhook.post("/v1/connectors/chatwoot/webhook", **signed(event)).status_code == 202
    note = fake.posted(31)[0]["content"]
    assert "Черновик ответа" in note and "internet-no-connection-ru" in note


def test_unverified_requests_are_refused_and_nothing_is_posted(webhook, fake):
    event = fixture("webhook_message_created.json")
    body = json.dumps(event).encode()
    forged = signed(body, secret="another-secret")
    tampered = signed(body)
    tampered["content"] = body.replace(b"refund", b"reefund")
    stale = signed(body, stamp=int(time.time()) - 3600)
    attempts = [webhook.post("/v1/connectors/chatwoot/webhook", **forged),
                webhook.post("/v1/connectors/chatwoot/webhook", **tampered),
                webhook.post("/v1/connectors/chatwoot/webhook", **stale),
                webhook.post("/v1/connectors/chatwoot/webhook", content=body),
                webhook.post("/v1/connectors/chatwoot/webhook", params={"token": "guess"}, content=body)]
    assert [a.status_code for a in attempts] == [401] * 5
    assert "does not match" in attempts[0].json()["detail"] and "too old" in attempts[2].json()["detail"]
    assert fake.posted(10) == [] and fake.gets == []
    # Chatwoot versions that do not sign: the shared secret in the webhook URL
    ok = webhook.post("/v1/connectors/chatwoot/webhook", params={"token": SECRET}, content=body)
    assert ok.status_code == 202 and len(fake.posted(10)) == 1


@pytest.mark.parametrize("name,reason", [("webhook_message_created_outgoing.json", "message_type"),
                                         ("webhook_message_created_private.json", "private note")])
def test_the_agents_own_messages_and_private_notes_are_ignored(webhook, fake, name, reason):
    r = webhook.post("/v1/connectors/chatwoot/webhook", **signed(fixture(name)))
    assert r.status_code == 200 and r.json()["status"] == "ignored" and reason in r.json()["reason"]
    other = fixture("webhook_message_created.json")
    other["event"] = "conversation_status_changed"
    assert webhook.post("/v1/connectors/chatwoot/webhook", **signed(other)).json()["status"] == "ignored"
    foreign = fixture("webhook_message_created.json")
    foreign["account"]["id"] = 2
    assert "account 2" in webhook.post("/v1/connectors/chatwoot/webhook", **signed(foreign)).json()["reason"]
    broken = webhook.post("/v1/connectors/chatwoot/webhook", **signed(b"{not json"))
    assert broken.status_code == 422 and "not JSON" in broken.json()["detail"]
    assert fake.posted(10) == [] and fake.gets == []  # not even read


def test_a_retried_delivery_is_answered_once_even_by_another_instance(webhook, fake, small_index, tmp_path):
    event = fixture("webhook_message_created.json")
    first = webhook.post("/v1/connectors/chatwoot/webhook", **signed(event))
    again = webhook.post("/v1/connectors/chatwoot/webhook", **signed(event))
    assert (first.status_code, again.status_code) == (202, 200) and again.json()["status"] == "duplicate"
    # a second instance on the same database (as behind a load balancer) knows it too
    store = FeedbackStore(FeedbackSettings(), tmp_path / "feedback")
    with TestClient(app_for(small_index, cw_settings(fake.url), store)) as other:
        third = other.post("/v1/connectors/chatwoot/webhook", **signed(event))
    store.close()
    assert third.status_code == 200 and third.json()["status"] == "duplicate"
    assert len(fake.posted(10)) == 1
    # the customer's next message is a new one
    event.update(id=119, content="And to a bank account?")
    assert webhook.post("/v1/connectors/chatwoot/webhook", **signed(event)).status_code == 202
    assert len(fake.posted(10)) == 2


def test_a_failed_note_is_not_counted_as_answered(webhook, fake):
    fake.fail_next_post = True
    event = fixture("webhook_message_created.json")
    assert webhook.post("/v1/connectors/chatwoot/webhook", **signed(event)).status_code == 202
    assert fake.posted(10) == []
    redelivered = webhook.post("/v1/connectors/chatwoot/webhook", **signed(event))
    assert redelivered.status_code == 202 and len(fake.posted(10)) == 1


def test_without_a_secret_the_webhook_says_what_to_configure(small_index, fake, tmp_path):
    store = FeedbackStore(FeedbackSettings(), tmp_path / "fb")
    with TestClient(app_for(small_index, ChatwootSettings(url=fake.url), store)) as client:
        r = client.post("/v1/connectors/chatwoot/webhook", **signed(fixture("webhook_message_created.json")))
        page = client.get("/chatwoot/dashboard-app")
    store.close()
    assert r.status_code == 503 and "connectors.chatwoot.webhook_secret" in r.json()["detail"]
    assert page.status_code == 503 and "connectors.chatwoot.panel_url" in page.text


class CountingCopilot:
    """The engine, counting how many webhook suggestions run at once; each waits at `gate`
    (the test opens it once the pool is full), so a burst piles up if nothing bounds it."""

    def __init__(self, engine):
        self.engine, self.index, self.settings = engine, engine.index, engine.settings
        self.armed = False  # the app's warm-up suggestion is not counted
        self.gate = threading.Event()
        self.lock = threading.Lock()
        self.running = self.peak = self.done = 0

    def suggest(self, conversation, **kw):
        if not self.armed:
            return self.engine.suggest(conversation, **kw)
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            assert self.gate.wait(timeout=300), "the test never opened the gate"
            return self.engine.suggest(conversation, **kw)
        finally:
            with self.lock:
                self.running -= 1
                self.done += 1


def wait_until(condition, what: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:.0f} s for {what}")
        time.sleep(0.05)


def test_a_burst_of_deliveries_runs_at_most_engine_threads_suggestions_at_once(small_index, fake, tmp_path):
    import httpx

    limit, burst = 2, 8
    settings = llm_settings(small_index.settings, enabled=False)
    settings = settings.model_copy(update={
        "api": settings.api.model_copy(update={"engine_threads": limit}),
        "connectors": settings.connectors.model_copy(update={"chatwoot": cw_settings(fake.url)})})
    counting = CountingCopilot(Copilot(settings, index=small_index))
    store = FeedbackStore(FeedbackSettings(), tmp_path / "feedback")
    event = fixture("webhook_message_created.json")
    with served(create_app(settings, copilot=counting, store=store)) as api:
        counting.armed = True
        with httpx.Client(base_url=api, timeout=60) as client:
            for i in range(burst):  # each answered 202 at once; the suggestions are left to the background
                event.update(id=2000 + i, content=f"How long does a refund take to reach my card? ({i})")
                r = client.post("/v1/connectors/chatwoot/webhook", **signed(event))
                assert r.status_code == 202, r.text
        wait_until(lambda: counting.running >= limit, f"{limit} suggestions running")
        # the rest have been delivered and are waiting their turn, not running beside them
        assert counting.running == limit and counting.done == 0
        counting.gate.set()
        wait_until(lambda: len(fake.posted(10)) == burst, f"{burst} private notes")
    store.close()
    assert counting.done == burst and counting.peak == limit
    assert all(m["private"] for m in fake.posted(10))


# -- the Dashboard App page, in a real browser ------------------------------------------------
@contextmanager
def served(app):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 300
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the API did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


PARENT = """<!doctype html><title>Chatwoot</title>
<iframe id="app" src="__BRIDGE__" style="width:800px;height:600px"></iframe>
<script>
  // as Chatwoot's Frame.vue: the context as a JSON string, on load and on each fetch-info request
  var context = __CONTEXT__;
  var frame = document.getElementById("app");
  function send() { frame.contentWindow.postMessage(JSON.stringify(context), "*"); }
  frame.addEventListener("load", send);
  window.addEventListener("message", function (e) {
    if (e.data === "chatwoot-dashboard-app:fetch-info") { window.asked = (window.asked || 0) + 1; send(); }
  });
</script>"""


@pytest.mark.slow
def test_the_dashboard_app_opens_the_conversation_chatwoot_names(fake, small_index, tmp_path):
    from playwright.sync_api import expect

    store = FeedbackStore(FeedbackSettings(), tmp_path / "fb")
    app = app_for(small_index, cw_settings(fake.url, panel_url=f"{fake.url}/panel"), store)
    with served(app) as api:
        headers = TestClient(app).get("/chatwoot/dashboard-app").headers  # no lifespan: the page needs none
        assert f"frame-ancestors 'self' {fake.url}" in headers["content-security-policy"]
        context = fixture("app_context.json")
        fake.pages["/dashboard.html"] = PARENT.replace("__BRIDGE__", f"{api}/chatwoot/dashboard-app").replace(
            "__CONTEXT__", json.dumps(context))
        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"{fake.url}/dashboard.html")
            panel = page.frame_locator("#app").frame_locator("#panel").locator("#loaded")
            expect(panel).to_have_text("?helpdesk=chatwoot&conversation=10", timeout=60_000)
            assert page.evaluate("window.asked") >= 1  # the page asked Chatwoot for the context
            # the agent opens another conversation: Chatwoot's next context moves the panel
            context["data"]["conversation"]["id"] = 11
            page.evaluate("c => { context = c; send(); }", context)
            expect(panel).to_have_text("?helpdesk=chatwoot&conversation=11", timeout=60_000)
            browser.close()
    store.close()
    assert fake.loads == ["helpdesk=chatwoot&conversation=10", "helpdesk=chatwoot&conversation=11"]


# -- past conversations into the knowledge base -----------------------------------------------
def test_an_export_imports_as_resolution_cards_incrementally(tmp_path, session_cache):
    from copilot.cli import app as cli
    from knowledge_base.docstore import DocStore

    export = tmp_path / "export"
    shutil.copytree(FIXTURES / "export", export)
    index = tmp_path / "index"
    runner = CliRunner()
    first = runner.invoke(cli, ["chatwoot", "import", str(export), "--index", str(index)])
    assert first.exit_code == 0, first.output
    assert "added 2" in first.output
    docs = DocStore(index / "docstore.sqlite")
    try:
        found = docs.documents()
        assert sorted(found) == ["chatwoot-1-21", "chatwoot-1-22"]  # the open conversation waits
        en, ru = found["chatwoot-1-21"], found["chatwoot-1-22"]
        assert en.doc_type == "ticket" and en.lang == "en" and ru.lang == "ru"
        assert en.info.ticket.csat == 5 and en.info.ticket.resolution.startswith("We removed the duplicate")
        assert sorted(en.tags) == ["billing", "router"]
        assert ru.info.ticket.resolution.startswith("Мы открыли расследование")
        card = " ".join(c.text for c in docs.chunks_of("chatwoot-1-21"))
        assert "charged twice" in card and "Which invoice number" in card
        assert "confirmed by billing" not in card and "marked resolved" not in card  # private note, activity
    finally:
        docs.close()
    unchanged = runner.invoke(cli, ["chatwoot", "import", str(export), "--index", str(index)])
    assert unchanged.exit_code == 0 and "added 0" in unchanged.output and "unchanged 2" in unchanged.output
    # conversation 23 is resolved later: the next import adds just that card
    rec = json.loads((export / "chatwoot-1-23.json").read_text(encoding="utf-8"))
    rec["conversation"]["status"] = "resolved"
    rec["messages"].append({"id": 2302, "content": "Yes, we ship to Norway within 5 business days.",
                            "message_type": 1, "private": False, "created_at": 1700200050, "conversation_id": 23})
    (export / "chatwoot-1-23.json").write_text(json.dumps(rec), encoding="utf-8")
    third = runner.invoke(cli, ["chatwoot", "import", str(export), "--index", str(index)])
    assert third.exit_code == 0 and "added 1" in third.output and "unchanged 2" in third.output


def test_a_conversation_without_an_answer_is_named_in_one_line(tmp_path):
    from copilot.cli import app as cli

    rec = fixture("export/chatwoot-1-22.json")
    rec["messages"] = [m for m in rec["messages"] if m["message_type"] != 1]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(rec, ensure_ascii=False), encoding="utf-8")
    r = CliRunner().invoke(cli, ["chatwoot", "import", str(bad), "--index", str(tmp_path / "index")])
    assert r.exit_code == 2
    assert "bad.json" in r.output and "conversation 22" in r.output and "no resolution" in r.output


def test_export_writes_resolved_conversations_and_skips_unchanged_ones(fake, tmp_path):
    from copilot.chatwoot_cli import export_conversations

    for name in ("chatwoot-1-21.json", "chatwoot-1-22.json", "chatwoot-1-23.json"):
        rec = fixture(f"export/{name}")
        fake.add(rec["conversation"]["id"], rec["messages"], conversation=rec["conversation"])
    chatwoot = ChatwootConnector(cw_settings(fake.url))
    out = tmp_path / "export"
    assert export_conversations(chatwoot, out) == (2, 0)
    assert sorted(p.name for p in out.iterdir()) == ["chatwoot-1-21.json", "chatwoot-1-22.json"]
    written = json.loads((out / "chatwoot-1-21.json").read_text(encoding="utf-8"))
    assert written == {"conversation": fixture("export/chatwoot-1-21.json")["conversation"],
                       "messages": fixture("export/chatwoot-1-21.json")["messages"]}
    assert export_conversations(chatwoot, out) == (0, 2)
    fake.conversations[22]["conversation"]["last_activity_at"] += 10
    assert export_conversations(chatwoot, out) == (1, 1)
