"""The app factory: routes, token auth, limits and metrics around one engine and one
feedback store per process. Nothing lives in the instance between requests: suggestions
and feedback are written to the store before the answer, so any instance behind a load
balancer serves any request, and a killed one loses nothing it acknowledged."""

# no `from __future__ import annotations`: FastAPI reads the routes' local Annotated aliases at definition
import logging
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator, Callable, Literal

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, format_sse_event
from prometheus_client import CONTENT_TYPE_LATEST
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from copilot import __version__
from copilot.api.metrics import ApiMetrics, MetricsMiddleware
from copilot.api.models import (DraftEvent, ErrorEvent, FeedbackReceipt, FeedbackRecord, FeedbackRequest, Health,
                                HandoffEvent, HelpdeskReference, ModelDroppedEvent, QuestionsEvent, SuggestionRecord,
                                SuggestionRequest)
from copilot.api.running import SuggestRun
from copilot.api.tokens import Role, TokenRegistry, allows
from copilot.config import ApiToken, Settings, get_settings
from copilot.errors import BadInputError, CopilotError
from copilot.schema import Suggestion
from knowledge_base.documents import SearchFilters, SearchResult

log = logging.getLogger("copilot.api")

DESCRIPTION = """Suggestions for live helpdesk conversations: a draft reply citing the knowledge base,
anamnesis questions and a handoff flag (the Suggestion JSON of DESIGN.md), the operator's
feedback on them, and search.

Every `/v1` route needs `Authorization: Bearer <token>`; tokens come from configuration
(`api.tokens`) with a role: operator < supervisor < admin. `/healthz` needs none.

`POST /v1/suggestions?stream=true` answers with server-sent events, in this order:
`retrieval_draft`, `questions`, `handoff` (DraftEvent, QuestionsEvent, HandoffEvent), then
`model_draft` (the model's draft, verified against the same sources) or `model_dropped`
(ModelDroppedEvent: why the retrieval draft stands), then `suggestion` (the stored
SuggestionRecord, with the id feedback refers to); `error` (ErrorEvent) ends a failed stream.
"""


class ErrorBody(BaseModel):
    detail: str


SSE_EVENTS: dict[str, type[BaseModel]] = {
    "retrieval_draft": DraftEvent, "questions": QuestionsEvent, "handoff": HandoffEvent, "model_draft": DraftEvent,
    "model_dropped": ModelDroppedEvent, "suggestion": SuggestionRecord, "error": ErrorEvent}


def error_responses(*codes: int) -> dict:
    return {code: {"model": ErrorBody} for code in codes}


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Services:
    """The engine and the store of this process: given (tests) or opened at start-up."""

    def __init__(self, settings: Settings, copilot=None, store=None):
        self.settings = settings
        self.copilot, self.store = copilot, store
        self._owned: list = []

    def open(self) -> None:
        from copilot.engine import new_copilot
        from copilot.feedback.store import FeedbackStore

        if self.copilot is None:
            self.copilot = new_copilot(self.settings)
            self._owned.append(self.copilot)
        if self.store is None:
            self.store = FeedbackStore(self.settings.feedback, self.settings.data_dir, keep_ids=self.copilot.keep_ids)
            self._owned.append(self.store)
        self.warm_up()

    def warm_up(self) -> None:
        """One suggestion before the first request, the model call cancelled up front: the
        embedder loads and the engine builds what it builds on first use (minutes on a busy
        machine), so no request waits for that and the load balancer sees the instance only
        when it is ready (uvicorn listens once start-up is done)."""
        import threading

        if self.copilot.index.docstore.count_documents() == 0:
            return
        cancelled = threading.Event()
        cancelled.set()
        # a request, not a greeting: a greeting alone is answered without a search (copilot/small_talk)
        self.copilot.suggest({"messages": [{"role": "customer", "text": "My service stopped working this morning, "
                                            "what should I check?"}]}, cancel=cancelled)

    def close(self) -> None:
        for thing in reversed(self._owned):
            thing.close()
        self._owned.clear()


def http_error(exc: BaseException) -> HTTPException:
    """The engine's typed errors as HTTP answers; anything else is a 500 (logged)."""
    if isinstance(exc, HTTPException):
        return exc
    if isinstance(exc, BadInputError):
        return HTTPException(422, str(exc))
    if isinstance(exc, CopilotError):  # the index or configuration: the operator of the server must act
        return HTTPException(503, str(exc))
    log.error("request failed", exc_info=exc)
    return HTTPException(500, f"internal error ({type(exc).__name__}); see the server log")


def create_app(settings: Settings | None = None, *, copilot=None, store=None) -> FastAPI:
    settings = settings or get_settings()
    services = Services(settings, copilot, store)
    metrics = ApiMetrics()
    tokens = TokenRegistry(settings.api.tokens)
    engine_pool = ThreadPoolExecutor(settings.api.engine_threads, thread_name_prefix="copilot-suggest")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(services.open)
        try:
            yield
        finally:
            engine_pool.shutdown(wait=False, cancel_futures=True)
            services.close()

    app = FastAPI(title="Support copilot API", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  max_body_size=settings.api.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    bearer = HTTPBearer(auto_error=False, description="An API token from configuration (api.tokens).")

    def caller(needed: Role) -> Callable[..., ApiToken]:
        def authorised(creds: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]) -> ApiToken:
            challenge = {"WWW-Authenticate": "Bearer"}
            if creds is None:
                raise HTTPException(401, "missing API token: send 'Authorization: Bearer <token>'", headers=challenge)
            entry = tokens.identify(creds.credentials)
            if entry is None:
                raise HTTPException(401, "unknown API token", headers=challenge)
            if not allows(entry.role, needed):
                raise HTTPException(403, f"role '{entry.role}' may not do this; it needs {needed} or above")
            return entry
        return authorised

    Operator = Annotated[ApiToken, Depends(caller("operator"))]
    Supervisor = Annotated[ApiToken, Depends(caller("supervisor"))]

    def record_of(suggestion_id: int) -> SuggestionRecord | None:
        row = services.store.get(suggestion_id)
        if row is None:
            return None
        reference = row.conversation.get("reference")
        return SuggestionRecord(
            id=row.id, created_at=row.created_at, operator=row.operator,
            reference=HelpdeskReference.model_validate(reference) if reference else None,
            suggestion=Suggestion.model_validate(row.suggestion),
            feedback=[FeedbackRecord(id=a.id, created_at=a.created_at, operator=a.operator, action=a.action,
                                     text=a.final_text, reason=a.reason, note=a.note, edit_distance=a.edit_distance)
                      for a in row.actions])

    def store_suggestion(body: SuggestionRequest, who: ApiToken, final: Suggestion) -> SuggestionRecord:
        conversation = body.model_dump(mode="json", include={"messages", "profile", "channel"})
        reference = body.reference.model_dump(mode="json") if body.reference else None
        sid = services.store.record_suggestion(body.operator or who.name, conversation, final, reference)
        record = record_of(sid)
        assert record is not None
        return record

    def start_run(body: SuggestionRequest) -> SuggestRun:
        engine = services.copilot
        if engine.index.docstore.count_documents() == 0:
            raise HTTPException(503, f"the index in {engine.index.index_dir} is empty; run `copilot ingest PATH` first")
        deadline = min(body.deadline_s or settings.api.deadline_s, settings.api.deadline_s)
        return SuggestRun(engine, body, deadline)

    @app.post("/v1/suggestions", status_code=201, response_model=SuggestionRecord, tags=["suggestions"],
              summary="A suggestion for a conversation (JSON, or server-sent events with stream=true)",
              responses={200: {"description": "stream=true: server-sent events (see the API description).",
                               "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                         **error_responses(401, 403, 413, 503, 504)})
    async def create_suggestion(
        body: SuggestionRequest, who: Operator,
        stream: Annotated[bool, Query(description="Answer with server-sent events as each part is ready.")] = False,
    ):
        run = await run_in_threadpool(start_run, body)
        if stream:
            return EventSourceResponse(suggestion_events(run, body, who))
        final = None
        async for step in run.steps(engine_pool):
            if step.kind == "error":
                raise http_error(step.error)
            final = step.suggestion if step.kind == "final" else run.at_deadline() if step.kind == "deadline" else final
            if step.kind == "deadline" and final is None:
                raise HTTPException(504, f"no draft ready within the {run.deadline_s:g} s deadline")
        metrics.observe_suggestion(final, run.trace, run.deadline_passed)
        return await run_in_threadpool(store_suggestion, body, who, final)

    async def suggestion_events(run: SuggestRun, body: SuggestionRequest, who: ApiToken) -> AsyncIterator[bytes]:
        count = 0

        def event(name: str, payload: BaseModel) -> bytes:
            nonlocal count
            count += 1
            return format_sse_event(event=name, data_str=payload.model_dump_json(), id=str(count))

        def retrieval_events(s: Suggestion) -> list[bytes]:
            return [event("retrieval_draft", DraftEvent(draft=s.draft, citations=s.citations, grounding=s.grounding)),
                    event("questions", QuestionsEvent(questions=s.questions)),
                    event("handoff", HandoffEvent(handoff=s.handoff))]

        final = None
        try:
            async for step in run.steps(engine_pool):
                if step.kind == "retrieval":
                    for chunk in retrieval_events(step.suggestion):
                        yield chunk
                elif step.kind == "error":
                    err = http_error(step.error)
                    yield event("error", ErrorEvent(status=err.status_code, detail=err.detail))
                    return
                elif step.kind == "deadline":
                    final = run.at_deadline()
                    if final is None:
                        yield event("error", ErrorEvent(status=504, detail=f"no draft ready within the "
                                                        f"{run.deadline_s:g} s deadline"))
                        return
                else:
                    final = step.suggestion
                    if run.retrieval is None:  # no model stage: the answer is the retrieval draft itself
                        for chunk in retrieval_events(final):
                            yield chunk
            dropped = run.dropped_reason(final, services.copilot.chat is not None)
            yield (event("model_dropped", ModelDroppedEvent(reason=dropped)) if dropped else
                   event("model_draft", DraftEvent(draft=final.draft, citations=final.citations,
                                                   grounding=final.grounding)))
            metrics.observe_suggestion(final, run.trace, run.deadline_passed)
            record = await run_in_threadpool(store_suggestion, body, who, final)
            yield event("suggestion", record)
        except Exception as exc:  # the stream has begun: the failure becomes its last event
            err = http_error(exc)
            yield event("error", ErrorEvent(status=err.status_code, detail=err.detail))

    SuggestionId = Annotated[int, Path(ge=1, description="The id POST /v1/suggestions returned.")]

    @app.get("/v1/suggestions/{suggestion_id}", response_model=SuggestionRecord, tags=["suggestions"],
             summary="A stored suggestion with the feedback on it", responses=error_responses(401, 403, 404))
    async def get_suggestion(suggestion_id: SuggestionId, who: Operator) -> SuggestionRecord:
        record = await run_in_threadpool(record_of, suggestion_id)
        if record is None:
            raise HTTPException(404, f"no suggestion {suggestion_id}")
        return record

    @app.post("/v1/suggestions/{suggestion_id}/feedback", status_code=201, response_model=FeedbackReceipt,
              tags=["suggestions"], summary="What the operator did with a suggestion",
              responses=error_responses(401, 403, 404, 413))
    async def add_feedback(suggestion_id: SuggestionId, body: FeedbackRequest, who: Operator) -> FeedbackReceipt:
        def write() -> FeedbackReceipt:
            try:
                action_id = services.store.record_action(suggestion_id, body.operator or who.name, body.action,
                                                         body.text, body.reason or "", body.note)
            except KeyError:
                raise HTTPException(404, f"no suggestion {suggestion_id}") from None
            row = services.store.get(suggestion_id)
            action = next(a for a in row.actions if a.id == action_id)
            return FeedbackReceipt(id=action_id, suggestion_id=suggestion_id, action=body.action,
                                   edit_distance=action.edit_distance)
        return await run_in_threadpool(write)

    @app.get("/v1/search", response_model=SearchResult, tags=["knowledge base"],
             summary="Ranked knowledge-base passages for a query", responses=error_responses(401, 403, 503))
    async def search(
        who: Operator,
        q: Annotated[str, Query(min_length=1, max_length=2000, description="The query.")],
        k: Annotated[int, Query(ge=1, le=50, description="Number of passages.")] = 5,
        lang: Annotated[Literal["ru", "en"] | None, Query(description="Only this language.")] = None,
        type: Annotated[Literal["article", "ticket"] | None, Query(description="Only articles or past tickets.")] = None,
        tag: Annotated[list[str], Query(description="Only passages with any of these tags.")] = [],  # noqa: B006
    ) -> SearchResult:
        filters = SearchFilters(lang=lang, doc_type=type, tags=tag)

        def run() -> SearchResult:
            try:
                return services.copilot.retriever.search(q, k=k, filters=filters)
            except CopilotError as exc:
                raise http_error(exc) from None
        return await run_in_threadpool(run)

    @app.get("/healthz", response_model=Health, tags=["operations"], summary="Ready to serve (no token needed)",
             responses=error_responses(503))
    async def healthz() -> Health:
        def check() -> Health:
            try:
                return Health(status="ok", instance=instance_name(),
                              documents=services.copilot.index.docstore.count_documents(),
                              feedback_revision=services.store.revision())
            except Exception as exc:  # the store or the index is unreachable: take this instance out
                raise HTTPException(503, f"not ready: {type(exc).__name__}: {exc}") from None
        return await run_in_threadpool(check)

    @app.get("/metrics", tags=["operations"], summary="Prometheus metrics of this instance",
             response_class=Response, responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
                                                 **error_responses(401, 403)})
    async def prometheus(who: Supervisor) -> Response:
        return Response(metrics.text(), media_type=CONTENT_TYPE_LATEST)

    from copilot.api.chatwoot_webhook import chatwoot_router
    app.include_router(chatwoot_router(services, engine_pool))  # its suggestions share the bounded pool

    def openapi() -> dict:
        """FastAPI's schema plus the server-sent events: their payload schemas in components
        and, on the streaming response, `x-sse-events` naming each event's schema in order."""
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            _, defs = models_json_schema([(m, "serialization") for m in SSE_EVENTS.values()],
                                         ref_template="#/components/schemas/{model}")
            for name, definition in defs.get("$defs", {}).items():
                schema["components"]["schemas"].setdefault(name, definition)
            stream = schema["paths"]["/v1/suggestions"]["post"]["responses"]["200"]["content"]["text/event-stream"]
            stream["x-sse-events"] = {name: {"$ref": f"#/components/schemas/{m.__name__}"}
                                      for name, m in SSE_EVENTS.items()}
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
