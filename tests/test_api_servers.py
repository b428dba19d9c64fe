"""Two `copilot serve` instances on loopback sharing one PostgreSQL and one Chroma server,
as behind a load balancer: a suggestion made on one is served and given feedback on the
other, and when one is killed mid-way through a stream of feedback, every feedback it
acknowledged is stored and the rest reaches the other instance."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from copilot.api.tokens import new_token
from copilot.config import FeedbackSettings
from copilot.engine import Copilot
from copilot.feedback.models import ActionRow
from copilot.feedback.store import FeedbackStore
from knowledge_base.index import KnowledgeIndex
from knowledge_base.ingest import Ingestor
from knowledge_base.settings import VectorStoreSettings

from helpers import (DEMO_KB, chroma_server, conversation, free_port, llm_settings, make_settings, postgres_server,
                     wait_for_http)

pytestmark = pytest.mark.slow

ARTICLES = ["refunds-en.md", "refunds-ru.md", "internet-no-connection-en.md", "internet-no-connection-ru.md"]
TOKEN, ENTRY = new_token("helpdesk", "operator")
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
http = httpx.Client(timeout=300)  # loose: a busy machine answers slowly, and nothing here is timed
QUESTIONS = [conversation("How long does a refund take to reach my card?"),
             conversation("Через сколько дней вернутся деньги на карту?"),
             conversation("The internet is not working at home since this morning."),
             conversation("Дома не работает интернет, роутер мигает красным.")]


@pytest.fixture(scope="module")
def shared(tmp_path_factory, session_cache):
    """PostgreSQL, a Chroma server, and an index whose vectors live in that server."""
    with postgres_server() as url:
        if url is None:
            pytest.skip("PostgreSQL server binaries are not installed")
        with chroma_server(tmp_path_factory.mktemp("chroma")) as port:
            root = tmp_path_factory.mktemp("api-servers")
            kb = root / "kb"
            kb.mkdir()
            for name in ARTICLES:
                shutil.copy(DEMO_KB / "articles" / name, kb / name)
            index = KnowledgeIndex(make_settings(root / "data", session_cache,
                                                 vector_store=VectorStoreSettings(mode="http", port=port)))
            report = Ingestor(index).run([kb])
            assert report.failed == 0, report.errors
            # what the engine builds on first use is kept in the index folder: built once here, not by each instance
            Copilot(llm_settings(index.settings, enabled=False), index=index).suggest(QUESTIONS[0])
            index.close()
            yield {"feedback": url, "chroma_port": port, "data": root / "data", "cache": session_cache}


@pytest.fixture(scope="module")
def instances(shared):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env.update(COPILOT_DATA_DIR=str(shared["data"]), COPILOT_CACHE_DIR=str(shared["cache"]),
               COPILOT_CONFIG=str(shared["data"] / "none.toml"), COPILOT_VECTOR_STORE__MODE="http",
               COPILOT_VECTOR_STORE__PORT=str(shared["chroma_port"]), COPILOT_FEEDBACK__URL=shared["feedback"],
               COPILOT_LLM__ENABLED="false", COPILOT_API__TOKENS=json.dumps([ENTRY.model_dump()]),
               COPILOT_API__DEADLINE_S="600")  # a deadline no busy machine reaches
    exe = str(Path(sys.executable).parent / "copilot")
    procs, urls = [], []
    try:
        for n in range(2):
            port = free_port()
            log = (shared["data"] / f"serve-{n}.log").open("wb")
            procs.append(subprocess.Popen([exe, "serve", "--port", str(port)], env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
            urls.append(f"http://127.0.0.1:{port}")
        for n, (proc, url) in enumerate(zip(procs, urls)):
            try:
                wait_for_http(f"{url}/healthz", proc, "copilot serve")
            except RuntimeError as exc:
                tail = (shared["data"] / f"serve-{n}.log").read_text(errors="replace")[-3000:]
                pytest.fail(f"{exc}\n{tail}")
        yield list(zip(procs, urls))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)


def suggest(url: str, conv: dict) -> dict:
    r = http.post(f"{url}/v1/suggestions", json=conv, headers=HEADERS)
    assert r.status_code == 201, r.text
    return r.json()


def test_any_instance_serves_what_another_stored(instances):
    (_, a), (_, b) = instances
    assert http.get(f"{a}/healthz").json()["instance"] != http.get(f"{b}/healthz").json()["instance"]
    created = suggest(a, {**QUESTIONS[1], "reference": {"system": "rt", "conversation_id": "77"}})
    assert created["suggestion"]["language"] == "ru" and created["suggestion"]["citations"]
    seen = http.get(f"{b}/v1/suggestions/{created['id']}", headers=HEADERS).json()
    assert seen["suggestion"] == created["suggestion"] and seen["reference"]["conversation_id"] == "77"
    sent = http.post(f"{b}/v1/suggestions/{created['id']}/feedback", headers=HEADERS,
                      json={"action": "sent", "text": "Деньги вернутся на карту в течение 10 рабочих дней."})
    assert sent.status_code == 201
    back = http.get(f"{a}/v1/suggestions/{created['id']}", headers=HEADERS).json()
    assert [f["action"] for f in back["feedback"]] == ["sent"]
    hits = http.get(f"{b}/v1/search", params={"q": "refund to my card", "lang": "en"}, headers=HEADERS).json()["hits"]
    assert hits and hits[0]["source_id"] == "refunds-en"  # vectors from the shared Chroma server


def test_a_killed_instance_loses_no_feedback(instances, shared):
    """Feedback goes to both instances in turn, a client failing over as a load balancer
    would; one instance is killed (SIGKILL) once a third has been acknowledged. Every
    acknowledged feedback is in PostgreSQL, and every suggestion got its feedback."""
    (victim, a), (_, b) = instances
    ids = [suggest([a, b][i % 2], QUESTIONS[i % len(QUESTIONS)])["id"] for i in range(8)]
    posts = [(sid, step) for sid in ids for step in ({"action": "inserted"},
                                                     {"action": "sent", "text": f"Final reply {sid}"})]
    acknowledged: list[int] = []
    lock = threading.Lock()
    kill_now = threading.Event()

    def post(n: int, sid: int, step: dict) -> None:
        for url in ([a, b] if n % 2 == 0 else [b, a]):  # a load balancer retries another instance
            try:
                r = http.post(f"{url}/v1/suggestions/{sid}/feedback", json=step, headers=HEADERS)
            except httpx.TransportError:
                continue
            assert r.status_code == 201, r.text
            with lock:
                acknowledged.append(r.json()["id"])
                if len(acknowledged) >= len(posts) // 3:
                    kill_now.set()
            return
        raise AssertionError(f"no instance took the feedback for {sid}")

    def killer() -> None:
        kill_now.wait(timeout=300)
        victim.send_signal(signal.SIGKILL)

    threading.Thread(target=killer, daemon=True).start()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda job: post(job[0], *job[1]), enumerate(posts)))
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    store = FeedbackStore(FeedbackSettings(url=shared["feedback"]), shared["data"])
    try:
        stored = {row.id for sid in ids for row in store.get(sid).actions}
        assert set(acknowledged) <= stored
        for sid in ids:
            actions = [(x.action, x.final_text) for x in store.get(sid).actions]
            assert ("inserted", "") in actions and ("sent", f"Final reply {sid}") in actions, (sid, actions)
        assert store.count(ActionRow) >= len(posts)
    finally:
        store.close()
    # the survivor still serves suggestions the dead one made
    assert http.get(f"{b}/v1/suggestions/{ids[0]}", headers=HEADERS).status_code == 200
