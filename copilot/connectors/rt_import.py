"""`copilot rt import`: resolved RT tickets into the knowledge base as resolution cards.

Each resolved ticket with a customer message and an agent reply becomes a past ticket as
DESIGN.md defines it (`id` rt-<n>, the customer and agent turns, the last agent reply as the
resolution, the queue as a tag), personal data masked (the desk's contract numbers kept),
and is written into one JSONL file in the data folder (`<data_dir>/rt/tickets.jsonl`), which
is then ingested like any other source: the loader turns each record into a resolution card
and the ingest skips cards that did not change.

Incremental: RT is asked only for tickets updated since the last import of the same queue
(or `--since`), and a ticket whose `LastUpdated` equals the stored one is not read again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from copilot.config import Settings
from copilot.connectors.base import ConnectorError
from copilot.connectors.rt import RTConnector
from copilot.connectors.rt_poll import StateFile, quote
from copilot.errors import BadInputError
from copilot.masking import mask_pii

_LOOKBACK = timedelta(days=1)  # TicketSQL dates are in the RT user's zone: ask for a day more


@dataclass
class ImportResult:
    fetched: int = 0
    skipped: int = 0
    records: int = 0
    report: object | None = None  # knowledge_base.ingest.IngestReport

    def summary(self) -> str:
        line = f"{self.fetched} resolved tickets read from RT, {self.skipped} without a reply skipped"
        if self.report is not None:
            line += "; cards: " + self.report.summary()  # type: ignore[attr-defined]
        return line


def tickets_file(settings: Settings) -> Path:
    return Path(settings.data_dir) / "rt" / "tickets.jsonl"


def ticket_record(rt: RTConnector, item: dict, mask) -> dict | None:
    """The DESIGN.md past ticket for one resolved RT ticket, or None without a customer
    message and an agent reply."""
    tid = str(item["id"])
    turns = [t for t in rt.turns(rt.ref(tid), ticket=item) if t.role != "comment"]
    if not any(t.role == "customer" for t in turns) or not any(t.role == "agent" for t in turns):
        return None
    resolution = next(t.text for t in reversed(turns) if t.role == "agent")
    queue = rt.queue_name(item.get("Queue") or {})
    return {
        "id": f"rt-{tid}",
        "messages": [{"role": t.role, "text": mask(t.text)} for t in turns],
        "resolution": mask(resolution),
        "tags": [queue.strip().lower()] if queue.strip() else [],
        "outcome": "resolved",
        "created": str(item.get("Created") or "")[:10] or None,
        "rt_updated": item.get("LastUpdated"),
        "rt_subject": mask(str(item.get("Subject") or "")),
    }


def import_tickets(settings: Settings, queue: str | None = None, since: date | None = None,
                   rt: RTConnector | None = None, index=None) -> ImportResult:
    """Read RT's resolved tickets (of `queue`, updated since `since` or the last import) and
    ingest them as resolution cards into the configured index (or `index`)."""
    from copilot.desk import resolve_desk
    from knowledge_base.index import KnowledgeIndex
    from knowledge_base.ingest import Ingestor

    own = rt is None
    try:
        rt = rt or RTConnector(settings.connectors.rt)
    except ConnectorError as exc:
        raise BadInputError(str(exc)) from None
    index = index or KnowledgeIndex(settings)
    keep = resolve_desk(settings.desk, settings.desk_file, index.docstore.desk_config()).contract_pattern()

    def mask(text: str) -> str:
        return mask_pii(text, keep).text if settings.feedback.mask_pii else text

    path = tickets_file(settings)
    records: dict[str, dict] = {}
    if path.is_file():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    rec = json.loads(line)
                except ValueError:
                    raise BadInputError(f"{path}:{n}: not JSON; delete the file to import again") from None
                records[str(rec.get("id"))] = rec
    state = StateFile(path.with_name("import_state.json"), rt.base)
    key = queue or "*"
    last = state.data.setdefault("imports", {}).get(key)
    started = datetime.now(timezone.utc)
    query = "Status = 'resolved'" + (f" AND Queue = {quote(queue)}" if queue else "")
    if since is not None:
        query += f" AND LastUpdated >= '{since.isoformat()} 00:00:00'"
    elif last:
        query += f" AND LastUpdated >= '{(datetime.fromisoformat(last) - _LOOKBACK).strftime('%Y-%m-%d %H:%M:%S')}'"
    result = ImportResult()
    try:
        for item in rt.search(query):
            rid = f"rt-{item['id']}"
            if rid in records and records[rid].get("rt_updated") == item.get("LastUpdated"):
                continue
            result.fetched += 1
            rec = ticket_record(rt, item, mask)
            if rec is None:
                result.skipped += 1
                continue
            records[rid] = rec
    except ConnectorError as exc:
        raise BadInputError(str(exc)) from None
    finally:
        if own:
            rt.close()
    result.records = len(records)
    if records:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(records[k], ensure_ascii=False) + "\n"
                               for k in sorted(records, key=lambda r: int(r.split("-", 1)[1]))), encoding="utf-8")
        os.replace(tmp, path)
        result.report = Ingestor(index).run([path])
    state.data["imports"][key] = started.isoformat()
    state.save()
    return result
