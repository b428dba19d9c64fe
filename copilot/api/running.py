"""One suggest() call in a worker thread, held to the request's deadline.

The engine hands over the whole retrieval-only suggestion first (`on_draft`) and the
verified model draft last. At the deadline the model is cancelled and the retrieval
suggestion, already verified, is the answer; if not even that is ready, the request fails
(504). Events reach the event loop through a queue, so a stream can forward each as it
comes.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import AsyncIterator, Literal

from copilot.engine import Copilot
from copilot.schema import Conversation, Suggestion, SuggestionTrace

Kind = Literal["retrieval", "final", "error", "deadline"]


@dataclass
class Step:
    kind: Kind
    suggestion: Suggestion | None = None
    error: BaseException | None = None


@dataclass
class SuggestRun:
    copilot: Copilot
    conversation: Conversation
    deadline_s: float
    trace: SuggestionTrace = field(default_factory=SuggestionTrace)
    cancel: threading.Event = field(default_factory=threading.Event)
    retrieval: Suggestion | None = None
    deadline_passed: bool = False

    async def steps(self, executor: Executor) -> AsyncIterator[Step]:
        """retrieval (only when a model words the reply), then final; or error; or, at the
        deadline, `deadline` (the caller falls back to `self.retrieval` if there is one)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Step] = asyncio.Queue()

        def put(step: Step) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, step)

        def work() -> None:
            if self.cancel.is_set():  # waited for a thread past its deadline: nothing to do
                return
            try:
                final = self.copilot.suggest(self.conversation, self.trace, cancel=self.cancel,
                                             on_draft=lambda s: put(Step("retrieval", s)))
                put(Step("final", final))
            except BaseException as exc:  # handed to the request, which answers with it
                put(Step("error", error=exc))

        ends = loop.time() + self.deadline_s
        loop.run_in_executor(executor, work)
        try:
            while True:
                try:
                    step = await asyncio.wait_for(queue.get(), max(0.0, ends - loop.time()))
                except TimeoutError:
                    self.deadline_passed = True
                    yield Step("deadline")
                    return
                if step.kind == "retrieval":
                    self.retrieval = step.suggestion
                yield step
                if step.kind in ("final", "error"):
                    return
        finally:
            self.cancel.set()  # the deadline, a client gone, or done: the model stops either way

    def at_deadline(self) -> Suggestion | None:
        """The retrieval suggestion, saying why the model's draft is missing."""
        if self.retrieval is None:
            return None
        warning = f"LLM draft dropped at the request's {self.deadline_s:g} s deadline; retrieval-only draft shown"
        return self.retrieval.model_copy(update={"draft": self.retrieval.draft.model_copy(update={"warnings": [warning]})})

    def dropped_reason(self, final: Suggestion, model_enabled: bool) -> str | None:
        """Why the model's draft is not the answer, or None when it is."""
        if final.draft.mode == "llm":
            return None
        if self.deadline_passed:
            return final.draft.warnings[0]
        if final.draft.warnings:
            return final.draft.warnings[0]
        if not model_enabled:
            return "no model configured: retrieval-only drafts"
        return "nothing in the knowledge base for the model to word: the engine's own reply is shown"
