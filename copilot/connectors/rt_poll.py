"""`copilot rt poll`: a suggestion for every new customer message in the watched RT queues,
without webhooks.

Each pass asks RT for the active tickets of the queues updated lately, skips the ones whose
`LastUpdated` has not moved since the last pass, and for the rest reads the history: when the
last message is the customer's and has no suggestion yet, the engine computes one and it is
posted as an internal comment. A message never gets two suggestions: the state file
(`<data_dir>/rt/poll_state.json`) records the last customer transaction answered per ticket,
and every suggestion comment ends with a marker line naming that transaction, which is
checked too (a lost state file or a second poller does not post again).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from copilot.config import Settings
from copilot.connectors.base import ConnectorError
from copilot.connectors.rt import RTConnector, answered_transactions, conversation_of
from copilot.errors import BadInputError, CopilotError
from copilot.schema import Conversation, Suggestion

# RT compares TicketSQL dates in the user's time zone; asking for a day more than needed
# covers any zone, and unchanged tickets are skipped by their LastUpdated without a call
_LOOKBACK = timedelta(days=1)


@dataclass
class PollReport:
    tickets: int = 0
    suggested: list[dict] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"{self.tickets} tickets checked, {len(self.suggested)} suggestions posted, "
                f"{len(self.errors)} errors")


def quote(value: str) -> str:
    """A TicketSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def queue_clause(queues: list[str]) -> str:
    return "(" + " OR ".join(f"Queue = {quote(q)}" for q in queues) + ")"


class StateFile:
    """Small JSON state kept in the data folder, written atomically."""

    def __init__(self, path: Path, url: str):
        self.path = path
        self.url = url
        self.data: dict = {}
        if path.is_file():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise BadInputError(f"{path}: unreadable state file ({exc}); delete it to start over") from None
            if isinstance(data, dict) and data.get("url") == url:
                self.data = data
        self.data["url"] = url

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


class RTPoller:
    def __init__(self, rt: RTConnector, suggest: Callable[[Conversation], Suggestion], state_path: Path,
                 queues: list[str]):
        if not queues:
            raise BadInputError("no RT queues to watch: pass --queue or set COPILOT_CONNECTORS__RT__QUEUES "
                                "(a JSON list)")
        self.rt = rt
        self.suggest = suggest
        self.queues = queues
        self.state = StateFile(state_path, rt.base)

    def once(self) -> PollReport:
        report = PollReport()
        tickets = self.state.data.setdefault("tickets", {})
        started = datetime.now(timezone.utc)
        last = self.state.data.get("last_poll")
        query = f"{queue_clause(self.queues)} AND Status = '__Active__'"
        if last:
            since = datetime.fromisoformat(last) - _LOOKBACK
            query += f" AND LastUpdated >= '{since.strftime('%Y-%m-%d %H:%M:%S')}'"
        for item in self.rt.search(query):
            tid = str(item["id"])
            seen = tickets.setdefault(tid, {})
            if seen.get("updated") == item.get("LastUpdated"):
                continue
            report.tickets += 1
            try:
                posted = self._ticket(tid, item, seen)
            except (ConnectorError, CopilotError, ValueError) as exc:
                report.errors.append(f"ticket {tid}: {' '.join(str(exc).split())}")
                continue
            if posted:
                report.suggested.append(posted)
            self.state.save()
        self.state.data["last_poll"] = started.isoformat()
        self.state.save()
        return report

    def _ticket(self, tid: str, item: dict, seen: dict) -> dict | None:
        ref = self.rt.ref(tid)
        turns = self.rt.turns(ref, ticket=item)
        messages = [t for t in turns if t.role != "comment"]
        seen["updated"] = item.get("LastUpdated")
        if not messages or messages[-1].role != "customer":
            return None  # nothing from the customer yet, or an agent has answered already
        last = messages[-1]
        if last.txn_id <= int(seen.get("answered", 0)) or last.txn_id in answered_transactions(turns):
            seen["answered"] = max(last.txn_id, int(seen.get("answered", 0)))
            return None
        suggestion = self.suggest(conversation_of(turns))
        comment = self.rt.post_suggestion(ref, suggestion, answers=last.txn_id)
        seen["answered"] = last.txn_id
        return {"ticket": tid, "transaction": last.txn_id, "comment": comment,
                "citations": len(suggestion.citations), "handoff": suggestion.handoff.needed}


def state_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "rt" / "poll_state.json"


def make_poller(settings: Settings, queues: list[str] | None) -> RTPoller:
    """The poller for the configured RT and index (retrieval-only when the model is off)."""
    from copilot.engine import new_copilot

    try:
        rt = RTConnector(settings.connectors.rt)
    except ConnectorError as exc:
        raise BadInputError(str(exc)) from None
    copilot = new_copilot(settings)
    if copilot.index.docstore.count_documents() == 0:
        raise BadInputError(f"the index in {copilot.index.index_dir} is empty; run `copilot ingest` first")
    return RTPoller(rt, copilot.suggest, state_path(settings), list(queues or settings.connectors.rt.queues))


def run(poller: RTPoller, once: bool, interval_s: float, echo: Callable[[PollReport], None]) -> None:
    """One pass, or passes every `interval_s` seconds until interrupted. A pass RT refuses
    entirely (unreachable, bad credentials) stops a single run; a loop retries next time."""
    while True:
        try:
            echo(poller.once())
        except ConnectorError as exc:
            if once:
                raise BadInputError(str(exc)) from None
            echo(PollReport(errors=[str(exc)]))
        if once:
            return
        time.sleep(interval_s)
