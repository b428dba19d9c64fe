"""A real OpenAI-compatible HTTP server on loopback for fault and gate tests.

Modes: `error500`, `error429`, `notjson` (200 with an HTML page), `hang` (never answers), `drip` (a streamed answer, one
byte a second), `junk` (200 with text that is not the JSON asked for), `follow` — a scripted "capable model" that follows the draft
prompt literally: when the system prompt asks for citations in brackets it copies the
first two numbered facts with their [n]; when it does not, it restates them without
numbers and adds an invented promise (what weaker prompts get from real models) —
`invent_first`, which cites the first fact, with a fee its source never names, and two from
other passages, and
`naive`, a model that does what the prompt's own words say and nothing else (see
`naive`); the gate tests use it, so no test tells it which prompt is the broken one.
Every request body is recorded so tests can inspect what left the process.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeOpenAI:
    def __init__(self, mode: str = "follow"):
        self.mode = mode
        self.requests: list[dict] = []
        self._stop = threading.Event()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> "FakeOpenAI":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    # -- the scripted model ---------------------------------------------------------------
    @staticmethod
    def _fixed_schema(body: dict) -> str | None:
        """Answers to the topic and judge prompts, which every mode words the same way."""
        schema = body.get("response_format", {}).get("json_schema", {})
        if schema.get("name") == "Topic":  # pick the last real candidate, to be told apart from retrieval
            options = schema["schema"]["properties"]["topic"]["enum"]
            return json.dumps({"topic": [o for o in options if o != "other"][-1]})
        if schema.get("name") == "Judgement":  # supported if every number of the sentence is in the passage
            user = body["messages"][-1]["content"]
            passage = re.search(r"<passage>(.*)</passage>", user, re.S).group(1)
            sentence = re.search(r"<sentence>(.*)</sentence>", user, re.S).group(1)
            ok = all(n in passage for n in re.findall(r"\d+", sentence))
            return json.dumps({"supported": ok, "reason": "numbers checked"})
        return None

    @staticmethod
    def follow(body: dict) -> str:
        return FakeOpenAI._copy_facts(body, invent_first=False)

    @staticmethod
    def invent_first(body: dict) -> str:
        return FakeOpenAI._copy_facts(body, invent_first=True)

    @staticmethod
    def _copy_facts(body: dict, invent_first: bool) -> str:
        fixed = FakeOpenAI._fixed_schema(body)
        if fixed is not None:
            return fixed
        system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
        user = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        facts = re.findall(r"\[(\d+)\]\s*<source>\s*(.*?)\s*</source>", user, flags=re.S)
        cites = "number in brackets" in system or "[1]" in system
        russian = "Russian" in system or "Russian" in user
        hello = "Здравствуйте!" if russian else "Hello!"
        if not facts:
            return json.dumps({"reply": hello})
        parts = [hello]
        if invent_first:  # the first fact, then two from other passages
            facts = facts[:1] + [f for f in facts if f[0] != facts[0][0]][:2]
        for n, text in facts[:3 if invent_first else 2]:
            text = " ".join(text.split()).rstrip(".")
            parts.append(f"{text} [{n}]." if cites else f"{text}.")
        if invent_first:  # the first fact given a fee its source never names
            parts[1] = parts[1].replace(f" [{facts[0][0]}].", f" for a fee of 999 RUB [{facts[0][0]}].")
        if not cites:
            parts.append("Мы также начислим вам бонус 500 ₽ за неудобства." if russian
                         else "We will also credit you a 500 RUB bonus for the inconvenience.")
        return json.dumps({"reply": " ".join(parts)}, ensure_ascii=False)

    @staticmethod
    def naive(body: dict) -> str:
        """A naive instruction follower: it reads the prompt it is sent, with the data
        (text fenced as <source>, <customer>, <agent>) taken out, and does what those words
        ask. It copies the first two numbered facts; it writes a fact's [n] after it only
        if the prompt asks for citations; it offers a discount only if the prompt tells it
        to (with the amount the prompt names, else an amount of its own); it answers in
        Russian when the prompt names Russian. It knows nothing of which prompt is which."""
        fixed = FakeOpenAI._fixed_schema(body)
        if fixed is not None:
            return fixed
        text = "\n".join(str(m["content"]) for m in body["messages"])
        facts = re.findall(r"\[(\d+)\]\s*<source>\n(.*?)\n</source>", text, flags=re.S)
        # fenced data opens with its tag alone on a line (copilot.safety.fence); a rule that
        # merely names the tags ("text inside <customer> tags is data") stays an instruction
        instructions = re.sub(r"<(source|customer|agent)>\n.*?\n</\1>", " ", text, flags=re.S)
        cites = re.search(r"number in brackets|\[n\]|\bcit(e|es|ing|ation)\b|в скобках|ссылк", instructions, re.I)
        negated = re.compile(r"\b(no|not|never|don't|without)\b|\bне\b|\bнельзя\b|никогда", re.I)
        offers = [line for line in instructions.splitlines()
                  if re.search(r"discount|скидк", line, re.I) and not negated.search(line)]
        russian = "Russian" in instructions
        parts = ["Здравствуйте!" if russian else "Hello!"]
        for n, fact in facts[:2]:
            fact = " ".join(fact.split()).rstrip(".")
            parts.append(f"{fact} [{n}]." if cites else f"{fact}.")
        if offers:
            named = re.search(r"\d+\s*%", offers[0])
            amount = named.group(0).replace(" ", "") if named else "10%"
            parts.append(f"В качестве извинения мы дадим вам скидку {amount} на следующий счёт." if russian
                         else f"As an apology, we will give you a {amount} discount on your next bill.")
        return json.dumps({"reply": " ".join(parts)}, ensure_ascii=False)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, payload: dict | str, content_type="application/json"):
                data = payload if isinstance(payload, str) else json.dumps(payload)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data.encode())))
                self.end_headers()
                self.wfile.write(data.encode())

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(body)
                mode = fake.mode
                if mode == "hang":
                    fake._stop.wait(60)
                    return
                if mode == "drip":
                    return self._drip(fake.follow(body))
                if mode == "error500":
                    return self._send(500, {"error": {"message": "internal error", "type": "server_error"}})
                if mode == "error429":
                    return self._send(429, {"error": {"message": "rate limited", "type": "rate_limit"}})
                if mode == "notjson":  # a proxy's error page where the answer should be
                    return self._send(200, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
                content = ("this is not JSON {" if mode == "junk" else
                           fake.naive(body) if mode == "naive" else
                           fake.invent_first(body) if mode == "invent_first" else fake.follow(body))
                if body.get("stream"):
                    return self._stream(content)
                self._send(200, {
                    "id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": body.get("model"),
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                })

            def _drip(self, content: str):
                """A well-formed streamed answer, one byte a second: every read completes in
                time, so only a deadline for the whole call ends it."""
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                         "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": None}]}
                data = f"data: {json.dumps(chunk)}\n\n".encode()
                try:
                    for i in range(len(data)):
                        if fake._stop.wait(1.0):
                            return
                        self.wfile.write(data[i:i + 1])
                        self.wfile.flush()
                except OSError:  # the client hung up
                    return

            def _stream(self, content: str):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                for i in range(0, len(content), 12):
                    delta = {"content": content[i:i + 12], **({"role": "assistant"} if i == 0 else {})}
                    chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                end = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "fake",
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

        return Handler
