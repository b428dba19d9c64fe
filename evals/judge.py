"""An optional LLM judge of grounding, for a second opinion next to the verifier.

It must be a different model or endpoint than the one under test: a model grading its
own output shares its blind spots. Configure it with COPILOT_EVALS__JUDGE__ENABLED=true,
COPILOT_EVALS__JUDGE__BASE_URL and COPILOT_EVALS__JUDGE__MODEL.
"""

from __future__ import annotations

from pydantic import BaseModel

from copilot.config import LLMSettings, Settings
from copilot.errors import ConfigError, LLMUnavailableError
from copilot.llm import ChatClient
from copilot.prompts import load_prompt
from copilot.schema import Suggestion
from copilot.text import strip_citations


class Judgement(BaseModel):
    supported: bool
    reason: str = ""


class Judge:
    def __init__(self, chat: ChatClient, prompt: str = "judge_grounding@v1"):
        self.chat = chat
        self.prompt = load_prompt(prompt)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Judge | None":
        j = settings.evals.judge
        if not j.enabled:
            return None
        if not j.base_url or not j.model:
            raise ConfigError("the eval judge needs COPILOT_EVALS__JUDGE__BASE_URL and COPILOT_EVALS__JUDGE__MODEL")
        if j.model == settings.llm.model and j.base_url.rstrip("/") == settings.llm.base_url.rstrip("/"):
            raise ConfigError("the eval judge is the model under test; point COPILOT_EVALS__JUDGE__* at another model")
        llm = LLMSettings(base_url=j.base_url, model=j.model, api_key=j.api_key, timeout_s=j.timeout_s,
                          temperature=0.0, max_tokens=200)
        return cls(ChatClient(llm), j.prompt)

    def judge_sentence(self, passage: str, sentence: str) -> bool | None:
        try:
            result = self.chat.structured(self.prompt.render(passage=passage, sentence=sentence), Judgement)
        except LLMUnavailableError:
            return None
        return bool(result.value.supported)  # type: ignore[attr-defined]

    def judge(self, suggestion: Suggestion, copilot=None) -> list[bool]:
        """A verdict per factual, cited sentence of the draft (sentences the judge could not
        answer for are skipped)."""
        quotes = {c.n: c for c in suggestion.citations}
        verdicts = []
        for s in suggestion.grounding.sentences:
            if not s.factual or s.citation is None or s.citation not in quotes:
                continue
            c = quotes[s.citation]
            passage = c.quote
            if copilot is not None:
                chunk = copilot.index.docstore.chunks([c.chunk_id]).get(c.chunk_id)
                passage = chunk.text if chunk else passage
            verdict = self.judge_sentence(passage, strip_citations(s.text))
            if verdict is not None:
                verdicts.append(verdict)
        return verdicts
