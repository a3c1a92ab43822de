"""A scripted OpenAI-compatible chat server on 127.0.0.1 (stdlib http.server in a thread) that plays the
*remote model* in tests: it records every request and answers from a script, streaming (SSE) or not.

A script is a function request -> Reply; the tests write replies that depend on the prompt (e.g. cite the
source that holds a word), as a real model would.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    delay: float = 0.0      # seconds before answering (a timeout test waits longer than the client)
    pieces: int = 8         # streamed in this many chunks


class FakeLLM:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: Callable[[dict[str, Any]], Reply] = lambda request: Reply("")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> "FakeLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                fake.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                try:
                    reply = fake.script(body)
                except Exception as exc:  # a broken script is a server error, not a dropped connection
                    reply = Reply(status=500, text=repr(exc))
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}})
                    return
                if body.get("stream"):
                    self._stream(body, reply)
                else:
                    self._send(200, _completion(body, reply.text))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, body: dict[str, Any], reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                text = reply.text
                size = max(1, -(-len(text) // max(reply.pieces, 1)))
                chunks = [text[i:i + size] for i in range(0, len(text), size)]
                try:
                    events = [_chunk(body, {"role": "assistant", "content": ""})]
                    events += [_chunk(body, {"content": c}) for c in chunks]
                    events.append(_chunk(body, {}, finish="stop"))
                    for event in events:
                        self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    # -- reading what the client sent ------------------------------------------------------------------
    def prompt(self, request: dict[str, Any]) -> str:
        return "\n".join(m["content"] for m in request["messages"] if isinstance(m.get("content"), str))

    def streamed(self) -> list[dict[str, Any]]:
        return [r["body"] for r in self.requests if r["body"].get("stream")]


def _completion(body: dict[str, Any], text: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _chunk(body: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def sources_in(prompt: str) -> dict[int, str]:
    """The numbered sources of an answer prompt: n -> the text between its fences."""
    found = {}
    for match in re.finditer(r"^\[(\d+)\][^\n]*\n(`{3,})text\n(.*?)\n\2$", prompt, re.S | re.M):
        found[int(match.group(1))] = match.group(3)
    return found


def cite(prompt: str, word: str) -> int:
    """The number of the first source holding `word` (what a good model would cite)."""
    return next(n for n, text in sorted(sources_in(prompt).items()) if word in text)
