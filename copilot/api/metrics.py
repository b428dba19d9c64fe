"""Prometheus metrics of one API process: requests, latency per route and per stage of
suggest(), and model drafts that fell back to retrieval. Each app has its own registry,
so several apps (tests, workers) never clash."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from copilot.schema import Suggestion, SuggestionTrace

# suggest() stages take from milliseconds (retrieval) to tens of seconds (a small local model)
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120)
STAGES = ("understand", "retrieval", "handoff_anamnesis", "llm", "draft_verify", "total")


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("copilot_api_requests", "HTTP requests by route, method and status.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("copilot_api_request_seconds", "HTTP request latency by route (streams: until "
                                 "the last event).", ["route"], buckets=BUCKETS, registry=self.registry)
        self.stages = Histogram("copilot_suggest_stage_seconds", "suggest() latency by stage.", ["stage"],
                                buckets=BUCKETS, registry=self.registry)
        self.fallbacks = Counter("copilot_model_fallbacks", "Model drafts dropped for the retrieval draft, by why.",
                                 ["reason"], registry=self.registry)
        self.suggestions = Counter("copilot_suggestions", "Suggestions served, by the draft shown.", ["mode"],
                                   registry=self.registry)

    def observe_suggestion(self, s: Suggestion, trace: SuggestionTrace, deadline_passed: bool) -> None:
        self.suggestions.labels(s.draft.mode).inc()
        for stage in STAGES:
            if stage in s.timings_ms:
                self.stages.labels(stage).observe(s.timings_ms[stage] / 1000)
        if deadline_passed:
            self.fallbacks.labels("deadline").inc()
        elif trace.llm_accepted is False:
            self.fallbacks.labels(fallback_kind(s.draft.warnings)).inc()

    def text(self) -> bytes:
        return generate_latest(self.registry)


def fallback_kind(warnings: list[str]) -> str:
    """A bounded label for why the model's draft was not used (the warning says it in full)."""
    first = warnings[0] if warnings else ""
    for prefix, kind in (("LLM draft discarded", "rejected_by_verification"), ("LLM unavailable", "unavailable"),
                         ("LLM draft failed", "error")):
        if first.startswith(prefix):
            return kind
    return "other"


class MetricsMiddleware:
    """Counts every request by its route template (not the raw path: ids would explode
    the label set) and times it until its last byte, streams included."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(name, scope["method"], str(status["code"])).inc()
            self.metrics.latency.labels(name).observe(time.perf_counter() - start)
