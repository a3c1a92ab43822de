"""What the LINE bot remembers, in SQLite beside the index (`<index_dir>/line.sqlite3`): webhook event ids
already answered (LINE redelivers an event it thinks was lost) and each LINE user's recent turns (the
conversation follow-ups read). SQLite, not process memory, so that several server processes share them.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

from assistant.config import Settings

FILENAME = "line.sqlite3"
MAX_TURNS = 6            # earlier turns a follow-up reads
EVENT_DAYS = 7           # how long an answered event id is remembered

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, time REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns (conversation TEXT NOT NULL, time REAL NOT NULL, question TEXT NOT NULL,
                                  answer TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS turns_conversation ON turns (conversation, time);
"""


def path(settings: Settings) -> Path:
    return Path(settings.index_dir) / FILENAME


def _connect(settings: Settings) -> sqlite3.Connection:
    from assistant.index.store import sqlite

    return sqlite(path(settings), _SCHEMA)


def first_delivery(settings: Settings, event_id: str) -> bool:
    """True the first time an event id is seen (across processes), False for every redelivery."""
    now = time.time()
    with closing(_connect(settings)) as connection, connection:
        connection.execute("DELETE FROM events WHERE time < ?", (now - EVENT_DAYS * 86400,))
        return connection.execute("INSERT OR IGNORE INTO events (id, time) VALUES (?, ?)",
                                  (event_id, now)).rowcount == 1


def history(settings: Settings, conversation: str) -> list[dict[str, str]]:
    """The conversation's turns within the last `line_history_minutes`, oldest first, as messages."""
    since = time.time() - settings.line_history_minutes * 60
    with closing(_connect(settings)) as connection:
        rows = connection.execute("SELECT question, answer FROM turns WHERE conversation = ? AND time >= ? "
                                  "ORDER BY time DESC LIMIT ?", (conversation, since, MAX_TURNS)).fetchall()
    messages: list[dict[str, str]] = []
    for question, answer in reversed(rows):
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages


def remember(settings: Settings, conversation: str, question: str, answer: str) -> None:
    now = time.time()
    with closing(_connect(settings)) as connection, connection:
        connection.execute("DELETE FROM turns WHERE time < ?", (now - settings.line_history_minutes * 60,))
        connection.execute("INSERT INTO turns (conversation, time, question, answer) VALUES (?, ?, ?, ?)",
                           (conversation, now, question, answer))
