"""A bound on every request body the public can send, checked before anything parses it.

Over the limit -> 413 with a one-line JSON error, from the Content-Length header alone when the client sends
one (the body is never read), or as soon as a chunked body passes the limit. The limit is
`Settings.max_request_kb` for the REST API, the LINE webhook and the UI's own API calls; a proposal sent to
/api/v1/check and the staff's file uploads take up to `max_file_mb`, the limit of the files they carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from assistant.config import Settings

UPLOAD_PATHS = ("/gradio_api/upload", "/upload")
FILE_PATHS = ("/api/v1/check",)


def limit_for(settings: Settings) -> Callable[[str], int]:
    """Bytes a request body to `path` may have."""
    small = int(settings.max_request_kb * 1024)
    files = int(settings.max_file_mb * 1024 * 1024) + 64 * 1024  # the file plus its multipart envelope

    def limit(path: str) -> int:
        return files if path.startswith(UPLOAD_PATHS) or path in FILE_PATHS else small

    return limit


class BodyLimit:
    """ASGI middleware: requests whose body is over `limit(path)` bytes get 413."""

    def __init__(self, app, limit: Callable[[str], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                return await _refuse(send, 400, "the Content-Length header is not a number")
            if too_big:
                return await _refuse(send, 413, _message(int(declared), limit))
            return await self.app(scope, receive, send)
        # No length given (chunked): read the body up to the limit, then hand it on.
        body, more = [], True
        size = 0
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            size += len(message.get("body", b""))
            if size > limit:
                return await _refuse(send, 413, _message(size, limit, at_least=True))
            body.append(message)
            more = message.get("more_body", False)
        await self.app(scope, _replay(body, receive), send)


def _message(size: int, limit: int, at_least: bool = False) -> str:
    return (f"the request body has {'more than ' if at_least else ''}{size} bytes; the limit is {limit} "
            f"({limit // 1024} KB)")


def _replay(messages: list[dict], then=None):
    queue = list(messages)

    async def receive():
        if queue:
            return queue.pop(0)
        return await then() if then is not None else {"type": "http.disconnect"}

    return receive


async def _refuse(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
