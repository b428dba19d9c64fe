"""Records the REST 2.0 answers in this folder from a real RT (Debian's request-tracker5
5.0.3, started by tests/rt_server.py with its SEED):

    .venv/bin/python tests/data/rt/record.py

Two tickets: `en-*` one opened by the customer herself in English (an agent's reply, an
internal comment, the customer's HTML answer); `ru-*` one an agent opened for a Russian
caller (Requestor set, Creator the agent) with a reply and a customer answer. For each:
GET /ticket/{id}, GET /ticket/{id}/history?fields=Type,Creator,Created and
GET /ticket/{id}/attachments?fields=TransactionId,ContentType,Content,Filename, as RT
answered them (only host and port replaced by rt.example)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from rt_server import SEED, rt_server  # noqa: E402


def main() -> None:
    with rt_server(SEED) as rt:
        assert rt is not None, "RT is not installed (make rt)"
        root, alice, agent = rt.client(), rt.client("alice@example.com", "customer-pw-1"), rt.client("agent1", "agent-pw-1")
        ivan = rt.client("ivan@example.ru", "customer-pw-2")
        text = "text/plain"
        en = alice.post("/ticket", json={"Queue": "Support", "Subject": "Internet keeps dropping",
                                         "Content": "Hi, my internet drops every evening since Monday.",
                                         "ContentType": text}).json()["id"]
        agent.post(f"/ticket/{en}/correspond", json={"Content": "Hello! Did you already restart the router?",
                                                      "ContentType": text}).raise_for_status()
        agent.post(f"/ticket/{en}/comment", json={"Content": "Line test shows no fault.",
                                                  "ContentType": text}).raise_for_status()
        alice.post(f"/ticket/{en}/correspond", json={"Content": "<p>Yes, <b>twice</b>. Still drops &amp; slow.</p>",
                                                     "ContentType": "text/html"}).raise_for_status()
        ru = agent.post("/ticket", json={"Queue": "Billing", "Subject": "Двойное списание",
                                         "Requestor": "ivan@example.ru",
                                         "Content": "Клиент звонил: с карты списали оплату дважды.",
                                         "ContentType": text}).json()["id"]
        agent.post(f"/ticket/{ru}/correspond", json={"Content": "Здравствуйте! Пришлите, пожалуйста, дату платежа.",
                                                      "ContentType": text}).raise_for_status()
        ivan.post(f"/ticket/{ru}/correspond", json={"Content": "Платёж был 3 марта.",
                                                    "ContentType": text}).raise_for_status()
        for name, tid in (("en", en), ("ru", ru)):
            answers = {
                "ticket": root.get(f"/ticket/{tid}").json(),
                "history": root.get(f"/ticket/{tid}/history", params={"fields": "Type,Creator,Created",
                                                                     "per_page": 100}).json(),
                "attachments": root.get(f"/ticket/{tid}/attachments", params={
                    "fields": "TransactionId,ContentType,Content,Filename", "per_page": 100}).json(),
            }
            for part, data in answers.items():
                body = re.sub(r"http://127\.0\.0\.1:\d+", "http://rt.example", json.dumps(data, ensure_ascii=False, indent=1))
                (HERE / f"{name}-{part}.json").write_text(body + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
