"""The bundled model's port is a setting: two copilots on one machine (or a port already
taken) each start the model on their own port, and an endpoint someone else serves on
loopback is never mistaken for ours."""

from __future__ import annotations

from copilot.config import LLMSettings, Settings
from copilot.local_llm import is_local_default


def test_the_default_endpoint_follows_the_local_port(monkeypatch):
    monkeypatch.setenv("COPILOT_LLM__LOCAL_PORT", "9123")
    settings = Settings()
    assert settings.llm.base_url == "http://127.0.0.1:9123/v1"
    assert is_local_default(settings.llm)


def test_an_endpoint_on_another_loopback_port_is_not_ours_to_start(monkeypatch):
    monkeypatch.setenv("COPILOT_LLM__LOCAL_PORT", "9123")
    monkeypatch.setenv("COPILOT_LLM__BASE_URL", "http://127.0.0.1:11434/v1")  # say, another model server
    settings = Settings()
    assert settings.llm.base_url == "http://127.0.0.1:11434/v1"
    assert not is_local_default(settings.llm)


def test_without_configuration_the_model_is_on_port_8088():
    llm = LLMSettings()
    assert llm.local_port == 8088 and llm.base_url == "http://127.0.0.1:8088/v1"
    assert is_local_default(llm)
