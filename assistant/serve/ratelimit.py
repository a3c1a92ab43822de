"""Per-client limits on public questions, in SQLite beside the index (`<index_dir>/ratelimit.sqlite3`).

One sliding window of 60 seconds per client key ("ip:127.0.0.1", "line:U123..."). The counts live in SQLite,
not in process memory, so the web UI, the REST API, the LINE webhook and every worker process of
`muang serve --workers N` share them. `Settings.rate_limit` questions per minute; 0 turns the limit off.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from assistant.config import Settings
from assistant.errors import MuangError

FILENAME = "ratelimit.sqlite3"
WINDOW = 60.0  # seconds

_SCHEMA = "CREATE TABLE IF NOT EXISTS hits (client TEXT NOT NULL, time REAL NOT NULL)"
_INDEX = "CREATE INDEX IF NOT EXISTS hits_client ON hits (client, time)"
_ready: set[str] = set()
_ready_lock = threading.Lock()

_MESSAGE = {
    "th": "ขออภัย มีคำถามจากคุณมากเกินไปในเวลาสั้น ๆ (ไม่เกิน {limit} คำถามต่อนาที) "
          "กรุณารอประมาณ {seconds} วินาทีแล้วถามใหม่อีกครั้ง ขอบคุณค่ะ",
    "en": "Sorry, that is more questions than I can take from you in a short time (up to {limit} a minute). "
          "Please wait about {seconds} seconds and ask again. Thank you.",
}


class Limited(MuangError):
    """A question refused by the limit; `retry_after` seconds until the client may ask again."""

    def __init__(self, settings: Settings, retry_after: float) -> None:
        self.settings, self.retry_after = settings, retry_after
        super().__init__(message("en", settings, retry_after))

    def message(self, lang: str) -> str:
        return message(lang, self.settings, self.retry_after)


def check(settings: Settings, client: str | None) -> None:
    """Count one question for `client` (None: not limited, e.g. the command line); Limited when over."""
    if client:
        wait = take(settings, client)
        if wait:
            raise Limited(settings, wait)


def path(settings: Settings) -> Path:
    return Path(settings.index_dir) / FILENAME


def _connect(settings: Settings) -> sqlite3.Connection:
    file = path(settings)
    file.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(file, timeout=30, isolation_level=None)
    key = str(file.resolve())
    if key not in _ready:
        with _ready_lock:
            connection.execute("PRAGMA journal_mode=WAL")  # readers and the one writer do not block each other
            connection.execute(_SCHEMA)
            connection.execute(_INDEX)
            _ready.add(key)
    return connection


def take(settings: Settings, client: str, now: float | None = None) -> float:
    """Count one question for `client`: 0.0 when it is allowed, else the seconds until it would be."""
    limit = settings.rate_limit
    if limit <= 0:
        return 0.0
    now = time.time() if now is None else now
    with closing(_connect(settings)) as connection:
        connection.execute("BEGIN IMMEDIATE")  # count and insert as one step across processes
        try:
            # Everyone's old hits go, so clients who stopped asking leave nothing behind.
            connection.execute("DELETE FROM hits WHERE time <= ?", (now - WINDOW,))
            times = [t for (t,) in connection.execute(
                "SELECT time FROM hits WHERE client = ? ORDER BY time", (client,))]
            if len(times) >= limit:
                connection.execute("COMMIT")
                return max(0.1, times[len(times) - limit] + WINDOW - now)
            connection.execute("INSERT INTO hits (client, time) VALUES (?, ?)", (client, now))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return 0.0


def message(lang: str, settings: Settings, retry_after: float) -> str:
    """The polite refusal in Thai or English.

    >>> message("en", Settings(rate_limit=20), 12.2)[:40]
    'Sorry, that is more questions than I can'
    """
    text = _MESSAGE.get(lang, _MESSAGE["th"])
    return text.format(limit=settings.rate_limit, seconds=max(1, round(retry_after)))
