"""A small helpdesk for the panel's tests: a real local object implementing the connector
protocol (copilot/connectors/base.py) over a JSON file, so a test and a Streamlit server in
another process see the same conversations. Registered by the tests in
copilot.connectors.registry.MODULES as "fakedesk" (never in product code).

File layout: {"conversations": {"<id>": [{"role": "customer"|"agent", "text": ...}, ...]},
              "posted": [{"id", "text", "kind"}], "handoffs": [{"id", "queue", "summary"}],
              "notes": [...], "refuse": "<call name that fails>"}
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from copilot.connectors.base import ConnectorError, HelpdeskRef
from copilot.schema import Conversation, Suggestion

ENV = "COPILOT_TEST_HELPDESK_FILE"


class FileHelpdesk:
    name = "fakedesk"

    def __init__(self, path: Path):
        self.path = path

    def _load(self) -> dict:
        if not self.path.exists():
            return {"conversations": {}, "posted": [], "handoffs": [], "notes": []}
        return json.loads(self.path.read_text(encoding="utf-8"))

    def _save(self, data: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.path)

    def _check(self, data: dict, call: str, ref: HelpdeskRef) -> None:
        if data.get("refuse") == call:
            raise ConnectorError(f"fakedesk: {call} for conversation {ref.conversation_id} refused (HTTP 503)")
        if ref.conversation_id not in data["conversations"]:
            raise ConnectorError(f"fakedesk: no conversation {ref.conversation_id}")

    def fetch_conversation(self, ref: HelpdeskRef) -> Conversation:
        data = self._load()
        self._check(data, "fetch_conversation", ref)
        return Conversation(messages=data["conversations"][ref.conversation_id])

    def post_suggestion(self, ref: HelpdeskRef, suggestion: Suggestion) -> str:
        data = self._load()
        self._check(data, "post_suggestion", ref)
        data["notes"].append({"id": ref.conversation_id, "text": suggestion.draft.text})
        self._save(data)
        return str(len(data["notes"]))

    def post_reply(self, ref: HelpdeskRef, text: str, kind: str = "reply") -> str:
        data = self._load()
        self._check(data, "post_reply", ref)
        data["posted"].append({"id": ref.conversation_id, "text": text, "kind": kind})
        if kind == "reply":
            data["conversations"][ref.conversation_id].append({"role": "agent", "text": text})
        self._save(data)
        return str(len(data["posted"]))

    def hand_off(self, ref: HelpdeskRef, queue: str, summary: str) -> None:
        data = self._load()
        self._check(data, "hand_off", ref)
        data["handoffs"].append({"id": ref.conversation_id, "queue": queue, "summary": summary})
        self._save(data)

    def map_role(self, helpdesk_role: str):
        return "supervisor" if helpdesk_role == "administrator" else "operator"


def connector(settings) -> FileHelpdesk:
    return FileHelpdesk(Path(os.environ[ENV]))


def write(path: Path, conversations: dict[str, list[dict]], **extra) -> None:
    path.write_text(json.dumps({"conversations": conversations, "posted": [], "handoffs": [], "notes": [], **extra},
                               ensure_ascii=False), encoding="utf-8")


def read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
