"""A conversation as it enters: checked (a list of messages or of earlier questions), bounded (the newest
messages a follow-up can reach), or read from a JSON file (`muang ask --history`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from assistant.errors import MuangError

MAX_TURNS = 20          # user turns of history read (the rest is older than any follow-up reaches)
# Where a conversation enters (REST, UI, LINE, --history): the last MAX_HISTORY_MESSAGES messages within
# MAX_HISTORY_CHARS characters, each cut to MAX_TURN_CHARS; older messages are ignored (and counted).
MAX_HISTORY_MESSAGES = 2 * MAX_TURNS
MAX_HISTORY_CHARS = 16_000
MAX_TURN_CHARS = 2_000
Message = dict[str, str]


def check_history(history: Any) -> list[Message]:
    """A conversation as messages: a list of {"role": "user"|"assistant", "content": str}, or of strings
    (the earlier questions). Raises MuangError for anything else."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise MuangError("the history must be a JSON list of messages or of earlier questions")
    out: list[Message] = []
    for i, item in enumerate(history, start=1):
        if isinstance(item, str):
            item = {"role": "user", "content": item}
        if not (isinstance(item, dict) and item.get("role") in ("user", "assistant")
                and isinstance(item.get("content"), str)):
            raise MuangError(f"history item {i} is not a message "
                             '{"role": "user"|"assistant", "content": ...}')
        out.append({"role": item["role"], "content": item["content"]})
    return out


def bound_history(history: list[Message]) -> list[Message]:
    """The part of a checked conversation that follow-ups read: the newest MAX_HISTORY_MESSAGES messages, each
    cut to MAX_TURN_CHARS, as many as fit in MAX_HISTORY_CHARS (newest first).

    >>> long = [{"role": "user", "content": "x" * 3000}] * 100
    >>> kept = bound_history(long)
    >>> len(kept), max(len(m["content"]) for m in kept), sum(len(m["content"]) for m in kept) <= MAX_HISTORY_CHARS
    (8, 2000, True)
    """
    kept: list[Message] = []
    total = 0
    for message in reversed(history[-MAX_HISTORY_MESSAGES:]):
        text = message["content"][:MAX_TURN_CHARS]
        if total + len(text) > MAX_HISTORY_CHARS:
            break
        total += len(text)
        kept.append({"role": message["role"], "content": text})
    return kept[::-1]


def load_history(path: Path) -> list[Message]:
    """The conversation in a JSON file (see `check_history`)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MuangError(f"{path}: no such history file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MuangError(f"{path}: not a JSON history ({exc})") from None
    try:
        return check_history(data)
    except MuangError as exc:
        raise MuangError(f"{path}: {exc}") from None
