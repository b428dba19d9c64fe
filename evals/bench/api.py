"""`copilot bench api`: retrieval-only suggestions per second and latency p50/p95 through
`copilot serve`, with 1 and 2 uvicorn workers, under 1-16 concurrent local clients.

The server is the real one (a subprocess on loopback) over the configured index, with the
model off and a throwaway SQLite feedback store, so the run measures the API and the
engine's retrieval path, not a model. Each level is bounded both in requests and in time;
the clients send the demo desk's dev conversations (both languages) in turn.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import httpx
import numpy as np
from pydantic import BaseModel, Field

from copilot.api.tokens import new_token
from copilot.config import Settings
from evals.dataset import DATASETS, load_dataset


class ApiPoint(BaseModel):
    workers: int
    clients: int
    requests: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    load: float = Field(description="The machine's 1-minute load average when the level started.")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(settings: Settings, workers: int, token_entry: str, tmp: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "COPILOT_INDEX_DIR": str(settings.index_dir), "COPILOT_LLM__ENABLED": "false",
           "COPILOT_API__TOKENS": f"[{token_entry}]", "COPILOT_FEEDBACK__URL": f"sqlite:///{tmp / 'feedback.sqlite'}",
           "COPILOT_API__DEADLINE_S": "600"}
    log = (tmp / f"serve-{workers}.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "copilot"), "serve", "--port", str(port),
                             "--workers", str(workers)], env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 900
    seen: set[str] = set()  # each worker warms up before it answers: wait until every one has
    while time.monotonic() < deadline and len(seen) < workers:
        if proc.poll() is not None:
            raise RuntimeError(f"copilot serve exited with code {proc.returncode}; see {tmp / f'serve-{workers}.log'}")
        try:
            r = httpx.get(f"{url}/healthz", timeout=30)  # a new connection each time: any worker may take it
            if r.status_code == 200:
                seen.add(r.json()["instance"])
                continue
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    if len(seen) < workers:
        _stop(proc)
        raise RuntimeError(f"copilot serve with {workers} workers was not ready within 900 s")
    return proc, url


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:  # workers still starting ignore the request to stop
        os.killpg(proc.pid, signal.SIGKILL)  # the server and its worker processes
        proc.wait(timeout=30)


def _level(url: str, token: str, conversations: list[dict], clients: int, max_requests: int,
           max_seconds: float) -> tuple[list[float], int, float]:
    """`clients` threads send requests until `max_requests` are sent or `max_seconds` pass."""
    latencies: list[float] = []
    errors = 0
    sent = 0
    lock = threading.Lock()
    start = time.perf_counter()
    stop_at = start + max_seconds

    def client() -> None:
        nonlocal sent, errors
        with httpx.Client(timeout=600, headers={"Authorization": f"Bearer {token}"}) as http:
            while True:
                with lock:
                    if sent >= max_requests or time.perf_counter() > stop_at:
                        return
                    conv = conversations[sent % len(conversations)]
                    sent += 1
                t0 = time.perf_counter()
                try:
                    ok = http.post(f"{url}/v1/suggestions", json=conv).status_code == 201
                except httpx.HTTPError:
                    ok = False
                with lock:
                    if ok:
                        latencies.append((time.perf_counter() - t0) * 1000)
                    else:
                        errors += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, time.perf_counter() - start


def run(settings: Settings, workers: list[int], clients: list[int], max_requests: int, max_seconds: float,
        announce: Callable[[str], None] = lambda _: None) -> list[ApiPoint]:
    cases = load_dataset([DATASETS], "dev")
    conversations = [c.conversation.model_dump(mode="json") for c in cases]
    token, entry = new_token("bench", "operator")
    points = []
    for w in workers:
        with tempfile.TemporaryDirectory(prefix="copilot-bench-api-") as tmp:
            announce(f"starting copilot serve with {w} worker(s) ...")
            proc, url = _start(settings, w, entry.model_dump_json(), Path(tmp))
            try:
                _level(url, token, conversations, 2 * w, 2 * w, max_seconds)  # warm every worker's connections
                for c in clients:
                    announce(f"{w} worker(s), {c} client(s) ...")
                    load = os.getloadavg()[0]  # other work on the machine competes for the same cores
                    latencies, errors, seconds = _level(url, token, conversations, c, max_requests, max_seconds)
                    points.append(ApiPoint(
                        workers=w, clients=c, requests=len(latencies), errors=errors, seconds=round(seconds, 1),
                        per_second=round(len(latencies) / seconds, 2) if seconds else 0.0,
                        p50_ms=round(float(np.percentile(latencies, 50)), 1) if latencies else 0.0,
                        p95_ms=round(float(np.percentile(latencies, 95)), 1) if latencies else 0.0,
                        load=round(load, 1)))
            finally:
                _stop(proc)
    return points


def markdown(points: list[ApiPoint], max_requests: int, max_seconds: float) -> str:
    lines = ["## HTTP API throughput (`copilot serve`)", "",
             "Retrieval-only suggestions (model off) through the real server on loopback, over the configured "
             "index, with the demo desk's dev conversations (both languages) sent in turn by concurrent local "
             f"clients; each level stops at {max_requests} requests or {max_seconds:g} s. Both workers and "
             "clients share the same 2 cores, so a second worker adds throughput only where one worker leaves "
             "a core idle. The load column is the machine's 1-minute load average as each level started: "
             "above 2, other processes were taking the cores too, and the figures are lower bounds.", "",
             "| workers | clients | requests | errors | suggestions/s | p50 ms | p95 ms | load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {p.workers} | {p.clients} | {p.requests} | {p.errors} | {p.per_second} | {p.p50_ms} | {p.p95_ms} "
              f"| {p.load} |" for p in points]
    return "\n".join(lines)


__all__ = ["ApiPoint", "run", "markdown"]
