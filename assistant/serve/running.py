"""The `muang serve` running on an index folder, so that `muang ask` can ask it instead of loading everything.

A serving process writes `<index>/SERVER.json` (its loopback URL, its pid and a random token, readable only by
its owner) once it listens, and removes it when it stops. `muang ask` finds the file, checks that the process
is alive and asks `POST /api/v1/ask` with the token in `X-Muang-Local`: the answer is the same JSON object, in
a fraction of a second, and the token exempts the local command from the public rate limit. Anything wrong
(no file, a dead process, a refused connection, a timeout) and `muang ask` answers in-process as before.

Only the standard library is imported here: this is the fast path.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

FILE = "SERVER.json"
HEADER = "X-Muang-Local"


def announce(index_dir: Path, host: str, port: int) -> tuple[Path, str]:
    """Write the server file; returns its path and the token the API accepts."""
    token = secrets.token_urlsafe(24)
    reach = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    if ":" in reach and not reach.startswith("["):
        reach = f"[{reach}]"
    path = Path(index_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{FILE}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": f"http://{reach}:{port}", "pid": os.getpid(), "token": token}, f)
    os.replace(tmp, path)
    return path, token


def withdraw(path: Path, token: str) -> None:
    """Remove the server file if it is still this server's (another may have started since)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("token") == token:
            path.unlink()
    except (OSError, ValueError):
        pass


def find(index_dir: Path) -> dict[str, Any] | None:
    """The live server of an index folder: {"url", "pid", "token"}, or None."""
    try:
        found = json.loads((Path(index_dir) / FILE).read_text(encoding="utf-8"))
        os.kill(int(found["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return found if isinstance(found.get("url"), str) and isinstance(found.get("token"), str) else None


class Refused(Exception):
    """The server answered with a client error (bad input): the message is its one line."""


def ask(server: dict[str, Any], payload: dict[str, Any], timeout: float = 120.0) -> dict[str, Any] | None:
    """The server's answer, None when it cannot be used; Refused for a 4xx (the question is bad, not the server)."""
    request = urllib.request.Request(
        server["url"] + "/api/v1/ask", data=json.dumps(payload).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", HEADER: server["token"]})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code != 429:
            try:
                message = json.loads(exc.read()).get("error")
            except ValueError:
                message = None
            raise Refused(message or f"the server refused the question ({exc.code})") from None
        return None
    except (OSError, ValueError):
        return None
