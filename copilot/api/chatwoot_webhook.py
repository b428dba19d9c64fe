"""Chatwoot's side of the API: the webhook receiver and the Dashboard App page.

`POST /v1/connectors/chatwoot/webhook` takes Chatwoot's `message_created` events. It
verifies the request, keeps only a customer's public message, claims the message id in the
feedback store's database (Chatwoot re-delivers on errors and timeouts; every instance
behind the load balancer sees the same claims), answers 202 at once, and then, in the
background, reads the conversation through Chatwoot's API, computes the suggestion, stores
it with the conversation's reference and posts it as a private note. Chatwoot gives a
webhook 5 seconds (`lib/webhooks/trigger.rb`); a suggestion with a model can take longer.
The background work runs in the app's pool of `api.engine_threads` threads, the one the
API's own suggestions use: a burst of deliveries queues there, never a thread each.

Verification: Chatwoot versions that sign webhooks send `X-Chatwoot-Signature:
sha256=<hex HMAC-SHA256(secret, "<X-Chatwoot-Timestamp>.<raw body>")>` and
`X-Chatwoot-Timestamp` (unix seconds); a signed request is checked that way and refused
when older than `signature_tolerance_s`. Versions that do not sign are verified by the same
shared secret given in the webhook URL (`?token=SECRET`) or an `X-Copilot-Webhook-Token`
header. Anything else is 401.

`GET /chatwoot/dashboard-app` is the page to register as a Chatwoot Dashboard App: Chatwoot
loads it in an iframe beside the conversation and posts it the app context
(`{"event": "appContext", "data": {"conversation", "contact", "currentAgent"}}`, as a JSON
string); the page asks for it (`chatwoot-dashboard-app:fetch-info`), then shows the operator
panel for that conversation (`panel_url?helpdesk=chatwoot&conversation=ID`).
"""

# no `from __future__ import annotations`: FastAPI reads the routes' annotations at definition
import asyncio
import hashlib
import hmac
import json
import logging
import time
from concurrent.futures import Executor
from typing import Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, BackgroundTasks, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert, inspect
from sqlalchemy.exc import IntegrityError

from copilot.config import ChatwootSettings, Settings
from copilot.connectors.base import ConnectorError, HelpdeskRef
from copilot.connectors.chatwoot import INCOMING, message_type
from copilot.feedback.models import utcnow

log = logging.getLogger("copilot.api.chatwoot")
OPERATOR = "chatwoot-webhook"  # who the stored suggestions are recorded for

# The claims live beside the feedback tables, in the same database (SQLite file or
# PostgreSQL), created on first use: a primary key makes "first delivery wins" atomic
# across instances. (A table of its own rather than a migration: it holds nothing but
# delivery bookkeeping and can be dropped at any time.)
_META = MetaData()
DELIVERIES = Table("chatwoot_deliveries", _META,
                   Column("message_key", String(100), primary_key=True),
                   Column("received_at", DateTime(timezone=True), nullable=False))


# What the receiver reads of Chatwoot's webhook payload (Chatwoot sends more; see its webhook docs)
EVENT_SCHEMA = {
    "type": "object", "title": "ChatwootWebhookEvent", "required": ["event"],
    "properties": {
        "event": {"type": "string", "description": "Only message_created is answered."},
        "id": {"type": ["integer", "string"], "description": "The message id (retries are deduplicated by it)."},
        "content": {"type": ["string", "null"]},
        "message_type": {"type": ["string", "integer"], "description": "incoming (0) is the customer's."},
        "private": {"type": "boolean", "description": "A private note (ignored)."},
        "sender": {"type": "object", "properties": {"type": {"type": "string"}}},
        "conversation": {"type": "object", "properties": {"id": {"type": ["integer", "string"]}}},
        "account": {"type": "object", "properties": {"id": {"type": ["integer", "string"]}}},
    },
}


class WebhookReceipt(BaseModel):
    status: Literal["accepted", "ignored", "duplicate"] = Field(
        description="accepted: a suggestion will be posted as a private note; ignored: not a customer's public "
        "message (the reason says why); duplicate: this message was already accepted (a retry).")
    reason: str = ""
    conversation_id: str | None = None
    message_id: str | None = None


class DeliveryClaims:
    """Which Chatwoot messages have been taken, in the feedback store's database."""

    def __init__(self, engine):
        self.engine = engine
        try:
            _META.create_all(engine, tables=[DELIVERIES], checkfirst=True)
        except Exception:  # another instance created it at the same moment
            if not inspect(engine).has_table(DELIVERIES.name):
                raise

    def claim(self, key: str) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(DELIVERIES).values(message_key=key, received_at=utcnow()))
            return True
        except IntegrityError:
            return False

    def release(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(DELIVERIES).where(DELIVERIES.c.message_key == key))


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What Chatwoot sends in X-Chatwoot-Signature for this body and timestamp."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def refusal(settings: ChatwootSettings, headers, query_token: str | None, body: bytes,
            now: float | None = None) -> str | None:
    """Why the request is not from our Chatwoot, or None when it is."""
    assert settings.webhook_secret is not None
    secret = settings.webhook_secret.get_secret_value()
    sent = headers.get("x-chatwoot-signature")
    if sent:
        stamp = (headers.get("x-chatwoot-timestamp") or "").strip()
        if not stamp.isdigit():
            return "signed request without a valid X-Chatwoot-Timestamp"
        if abs((now if now is not None else time.time()) - int(stamp)) > settings.signature_tolerance_s:
            return "X-Chatwoot-Timestamp is too old (a replayed request?)"
        expected = signature(secret, stamp, body)
        given = sent.strip() if sent.strip().startswith("sha256=") else "sha256=" + sent.strip()
        return None if hmac.compare_digest(given.encode(), expected.encode()) else "X-Chatwoot-Signature does not match"
    token = headers.get("x-copilot-webhook-token") or query_token
    if token and hmac.compare_digest(token.encode(), secret.encode()):
        return None
    return "neither X-Chatwoot-Signature nor the shared token"


def _obj(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def why_ignored(event: dict, settings: ChatwootSettings) -> str | None:
    """None for a customer's public message in our account; else why it is not answered."""
    if event.get("event") != "message_created":
        return f"event {event.get('event')!r} is not message_created"
    account = _obj(event.get("account")).get("id")
    if settings.account_id is not None and account is not None and str(account) != str(settings.account_id):
        return f"account {account} is not the configured account {settings.account_id}"
    if event.get("private"):
        return "a private note"
    if message_type(event.get("message_type")) != INCOMING:
        return f"message_type {event.get('message_type')!r}: not from the customer (the agent's own, a bot's, " \
               "an activity or a template)"
    sender = event.get("sender") or {}
    if isinstance(sender, dict) and sender.get("type") not in (None, "contact"):
        return f"sender type {sender.get('type')!r} is not a contact"
    if not isinstance(event.get("content"), str) or not event["content"].strip():
        return "no text (an attachment only)"
    conversation = event.get("conversation") or {}
    if not isinstance(conversation, dict) or conversation.get("id") is None:
        return "no conversation id"
    return None


def answer_message(services, key: str, conversation_id: str, claims: DeliveryClaims) -> None:
    """The background half: read the conversation, suggest, store, post the private note.
    A failure is logged in one line and the claim released, so a re-delivery can try again."""
    from copilot.connectors.registry import connector_for

    ref = HelpdeskRef(helpdesk="chatwoot", conversation_id=conversation_id)
    try:
        chatwoot = connector_for("chatwoot", services.settings)
        try:
            conversation = chatwoot.fetch_conversation(ref)
            suggestion = services.copilot.suggest(conversation)
            services.store.record_suggestion(
                OPERATOR, conversation.model_dump(mode="json", include={"messages", "profile", "channel"}),
                suggestion, {"system": "chatwoot", "conversation_id": conversation_id})
            chatwoot.post_suggestion(ref, suggestion)
        finally:
            close = getattr(chatwoot, "close", None)
            if close:
                close()
    except ConnectorError as exc:
        log.warning("chatwoot webhook %s: %s", key, exc)
        claims.release(key)
    except Exception as exc:  # the engine or the store: logged with its trace, the claim given back
        log.error("chatwoot webhook %s: suggestion failed (%s)", key, type(exc).__name__, exc_info=exc)
        claims.release(key)


def chatwoot_router(services, engine_pool: Executor) -> APIRouter:
    """The routes; `services` is the app's (engine, store and settings, opened at start-up).
    The background half runs in `engine_pool`, the app's pool of `api.engine_threads`
    threads that also computes the API's suggestions: a burst of deliveries waits its turn
    there instead of starting a thread each."""
    router = APIRouter()
    state: dict[str, Any] = {}

    def claims() -> DeliveryClaims:
        if "claims" not in state:
            state["claims"] = DeliveryClaims(services.store.engine)
        return state["claims"]

    from copilot.api.app import ErrorBody  # the app's error body (imported here: app.py imports this module)

    errors = {code: {"model": ErrorBody} for code in (401, 413, 422, 503)}

    @router.post("/v1/connectors/chatwoot/webhook", status_code=202, response_model=WebhookReceipt,
                 tags=["connectors"], summary="Chatwoot's webhook (message_created): a private note with the suggestion",
                 description="Register this URL as a Chatwoot webhook for `message_created`. Verified by Chatwoot's "
                 "signature (X-Chatwoot-Signature, X-Chatwoot-Timestamp) or, for Chatwoot versions that do not sign, "
                 "the shared secret as `?token=` or `X-Copilot-Webhook-Token`; no API token. A customer's public "
                 "message is answered 202 and its suggestion posted as a private note; anything else 200 "
                 "(ignored, or duplicate for a retried message).",
                 responses={200: {"model": WebhookReceipt, "description": "Ignored or a duplicate delivery."},
                            **errors},
                 openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": EVENT_SCHEMA}}}})
    async def chatwoot_webhook(request: Request, background: BackgroundTasks, token: str | None = None):
        settings: ChatwootSettings = services.settings.connectors.chatwoot
        if settings.webhook_secret is None:
            raise HTTPException(503, "the Chatwoot webhook is not configured: set connectors.chatwoot.webhook_secret")
        body = await request.body()
        reason = refusal(settings, request.headers, token, body)
        if reason:
            raise HTTPException(401, f"not a verified Chatwoot request: {reason}")
        try:
            event = json.loads(body)
        except ValueError as exc:
            raise HTTPException(422, f"the body is not JSON ({exc})") from None
        if not isinstance(event, dict):
            raise HTTPException(422, "the body is not a JSON object")
        ignored = why_ignored(event, settings)
        conv = _obj(event.get("conversation"))
        conversation_id = str(conv["id"]) if conv.get("id") is not None else None
        message_id = str(event.get("id")) if event.get("id") is not None else None
        if ignored:
            return JSONResponse(WebhookReceipt(status="ignored", reason=ignored, conversation_id=conversation_id,
                                               message_id=message_id).model_dump(), status_code=200)
        if message_id is None:
            raise HTTPException(422, "field 'id': the message id is missing")
        account = _obj(event.get("account")).get("id", settings.account_id)
        key = f"chatwoot:{account}:{message_id}"
        if not await _in_thread(claims().claim, key):
            return JSONResponse(WebhookReceipt(status="duplicate", reason="this message was already accepted",
                                               conversation_id=conversation_id, message_id=message_id).model_dump(),
                                status_code=200)
        background.add_task(_in_pool, engine_pool, answer_message, services, key, str(conversation_id), claims())
        return WebhookReceipt(status="accepted", conversation_id=conversation_id, message_id=message_id)

    @router.get("/chatwoot/dashboard-app", include_in_schema=False, response_class=HTMLResponse)
    async def dashboard_app() -> HTMLResponse:
        return dashboard_page(services.settings)

    return router


async def _in_pool(pool: Executor, fn, *args) -> None:
    """Run in the bounded pool; awaited by the response's background task, holding no thread."""
    await asyncio.get_running_loop().run_in_executor(pool, fn, *args)


async def _in_thread(fn, *args):
    from fastapi.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


def origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def dashboard_page(settings: Settings) -> HTMLResponse:
    """The Dashboard App page: asks Chatwoot for the app context, then opens the panel for
    the conversation in a full-size frame (and again whenever the context names another)."""
    chatwoot = settings.connectors.chatwoot
    if not chatwoot.panel_url:
        return HTMLResponse("<!doctype html><meta charset=utf-8><title>Support copilot</title>"
                            "<p>The operator panel's address is not configured: set "
                            "connectors.chatwoot.panel_url.</p>", status_code=503)
    config = {"panel": chatwoot.panel_url, "chatwootOrigin": origin_of(chatwoot.url)}
    page = _PAGE.replace("__CONFIG__", json.dumps(config).replace("<", "\\u003c"))
    headers = {"Cache-Control": "no-store"}
    if config["chatwootOrigin"]:
        headers["Content-Security-Policy"] = f"frame-ancestors 'self' {config['chatwootOrigin']}"
    return HTMLResponse(page, headers=headers)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Support copilot</title>
<style>html,body{margin:0;height:100%;font-family:sans-serif}#panel{border:0;width:100%;height:100%;display:none}
#wait{padding:1em;color:#555}</style></head>
<body><p id="wait">Waiting for the conversation from Chatwoot…</p>
<iframe id="panel" title="Support copilot panel"></iframe>
<script>
(function () {
  var CONFIG = __CONFIG__;
  var current = null;
  function panelUrl(id) {
    var url = new URL(CONFIG.panel, window.location.href);
    url.searchParams.set("helpdesk", "chatwoot");
    url.searchParams.set("conversation", String(id));
    return url.toString();
  }
  function open(id) {
    if (current === String(id)) return;
    current = String(id);
    var frame = document.getElementById("panel");
    frame.src = panelUrl(id);
    frame.style.display = "block";
    document.getElementById("wait").style.display = "none";
    document.body.setAttribute("data-conversation", current);
  }
  window.addEventListener("message", function (e) {
    if (e.source !== window.parent) return;  // only the Chatwoot page that embeds us
    if (CONFIG.chatwootOrigin && e.origin !== CONFIG.chatwootOrigin) return;
    var msg = e.data;
    if (typeof msg === "string") { try { msg = JSON.parse(msg); } catch (err) { return; } }
    if (!msg || msg.event !== "appContext" || !msg.data || !msg.data.conversation) return;
    var id = msg.data.conversation.id;
    if (!/^[0-9]+$/.test(String(id))) return;
    open(id);
  });
  function ask() { if (window.parent !== window) window.parent.postMessage("chatwoot-dashboard-app:fetch-info", "*"); }
  window.addEventListener("focus", ask);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) ask(); });
  ask();
})();
</script></body></html>
"""
