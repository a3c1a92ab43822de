"""The 👍/👎 feedback given on answers, kept in SQLite beside the index (`<index_dir>/feedback.sqlite3`).

Plain functions over one small table; every call opens its own connection, so the web UI's worker threads
and the `muang feedback` command can use them at the same time.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import MuangError

FILENAME = "feedback.sqlite3"
VOTES = ("up", "down")
COLUMNS = ("id", "time", "vote", "question", "answer", "sources")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL
)
"""


def path(settings: Settings) -> Path:
    return Path(settings.index_dir) / FILENAME


def _connect(settings: Settings, create: bool) -> sqlite3.Connection | None:
    file = path(settings)
    if not create and not file.exists():
        return None
    file.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(file, timeout=30)
    connection.execute(_SCHEMA)
    return connection


def _normalise_vote(vote: Any) -> str:
    """'up'/'down', also from True/False, 1/-1, 'like'/'dislike', '👍'/'👎'.

    >>> _normalise_vote(True), _normalise_vote("Dislike"), _normalise_vote(-1)
    ('up', 'down', 'down')
    """
    if isinstance(vote, bool):
        return "up" if vote else "down"
    if isinstance(vote, (int, float)) and vote in (1, -1):
        return "up" if vote > 0 else "down"
    text = str(vote).strip().lower()
    if text in ("up", "like", "👍", "+1", "1"):
        return "up"
    if text in ("down", "dislike", "👎", "-1"):
        return "down"
    raise MuangError(f"unknown vote {vote!r}; use up or down")


def _source_json(source: Any) -> Any:
    return source.to_json() if hasattr(source, "to_json") else source


def record(settings: Settings, question: str, answer: str, sources: list[Any], vote: Any) -> None:
    """Store one vote on one answer. `sources` are Source objects or their JSON dicts."""
    row = (
        time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        _normalise_vote(vote),
        str(question),
        str(answer),
        json.dumps([_source_json(s) for s in sources or []], ensure_ascii=False),
    )
    connection = _connect(settings, create=True)
    assert connection is not None
    with closing(connection), connection:
        connection.execute("INSERT INTO feedback (time, vote, question, answer, sources) VALUES (?, ?, ?, ?, ?)", row)


def entries(settings: Settings) -> list[dict[str, Any]]:
    """Every stored vote, oldest first, with `sources` decoded from JSON."""
    connection = _connect(settings, create=False)
    if connection is None:
        return []
    with closing(connection):
        rows = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id").fetchall()
    result = []
    for row in rows:
        item = dict(zip(COLUMNS, row))
        item["sources"] = json.loads(item["sources"])
        result.append(item)
    return result


def export_csv(settings: Settings, target: str | Path) -> int:
    """Write every vote to a UTF-8 CSV file (sources as a JSON string); returns the number of rows."""
    rows = entries(settings)
    target = Path(target)
    if target.parent and not target.parent.exists():
        raise MuangError(f"{target.parent}: no such folder")
    # utf-8-sig: spreadsheet programs then read the Thai text correctly.
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([row["id"], row["time"], row["vote"], row["question"], row["answer"],
                             json.dumps(row["sources"], ensure_ascii=False)])
    return len(rows)
