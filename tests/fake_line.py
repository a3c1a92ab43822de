"""A local stand-in for the LINE platform on 127.0.0.1: it signs and posts webhook events to a Muang server the
way LINE does, and records the replies the server sends to its Messaging API (POST /v2/bot/message/reply).
Used by tests/test_line.py and evals/bench_api.py; point MUANG_LINE_API_URL at `FakeLine.url`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def sign(secret: str, body: bytes) -> str:
    """X-Line-Signature: base64 of HMAC-SHA256 over the raw body with the channel secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def text_event(text: str, user: str = "U1", group: str | None = None, mention_bot: bool = False,
               event_id: str | None = None) -> dict[str, Any]:
    """A message event as LINE sends it; in a group, `mention_bot` puts "@Muang " before the text."""
    message: dict[str, Any] = {"type": "text", "id": uuid.uuid4().hex[:12], "text": text,
                               "quoteToken": uuid.uuid4().hex}
    if mention_bot:
        message["text"] = "@Muang " + text
        message["mention"] = {"mentionees": [{"index": 0, "length": 6, "type": "user", "isSelf": True}]}
    return _event(message, user, group, event_id)


def sticker_event(user: str = "U1") -> dict[str, Any]:
    return _event({"type": "sticker", "id": uuid.uuid4().hex[:12], "packageId": "446", "stickerId": "1988",
                   "stickerResourceType": "STATIC", "quoteToken": uuid.uuid4().hex}, user, None, None)


def _event(message: dict[str, Any], user: str, group: str | None, event_id: str | None) -> dict[str, Any]:
    source = {"type": "group", "groupId": group, "userId": user} if group else {"type": "user", "userId": user}
    return {"type": "message", "mode": "active", "timestamp": int(time.time() * 1000), "source": source,
            "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26],
            "deliveryContext": {"isRedelivery": False}, "replyToken": uuid.uuid4().hex, "message": message}


class FakeLine:
    """The fake platform: `url` for MUANG_LINE_API_URL, `replies` as received (reply token -> request body)."""

    def __init__(self) -> None:
        self.replies: dict[str, dict[str, Any]] = {}
        self.arrived: dict[str, float] = {}  # reply token -> time.monotonic() when its reply came
        self.authorizations: list[str] = []
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path != "/v2/bot/message/reply":
                    self.send_response(404)
                    self.end_headers()
                    return
                with fake._changed:
                    fake.replies[body.get("replyToken")] = body
                    fake.arrived[body.get("replyToken")] = time.monotonic()
                    fake.authorizations.append(self.headers.get("Authorization", ""))
                    fake._changed.notify_all()
                payload = json.dumps({"sentMessages": [{"id": "1", "quoteToken": "q"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def post(self, webhook: str, events: list[dict[str, Any]], secret: str | None,
             signature: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST the events to the webhook, signed with `secret` (None: no signature header); (status, JSON)."""
        body = json.dumps({"destination": "Ubot", "events": events}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Line-Signature"] = signature
        elif secret is not None:
            headers["X-Line-Signature"] = sign(secret, body)
        request = urllib.request.Request(webhook, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def wait_reply(self, token: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while token not in self.replies:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no reply for token {token} in {timeout} s")
                self._changed.wait(left)
            return self.replies[token]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
