"""YAML front matter: split it from a Markdown file and check every value's shape (the corpus format in
../shared/DESIGN.md and docs/corpus.md), so a hostile or mistyped header is refused with the field named."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

from assistant.errors import MuangError

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


def split_front_matter(raw: str, path: Path | str = "") -> tuple[dict[str, Any], str]:
    """Split YAML front matter from Markdown. A malformed block is a MuangError, not silently text."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    import yaml

    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise MuangError(f"{path}: front matter is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(front, dict):
        raise MuangError(f"{path}: front matter must be a mapping of keys to values")
    return check_front_matter(front, path), raw[match.end():]


# Front-matter fields and the shape each must have; other keys may hold text, numbers or lists of them.
_TEXT_FIELDS = ("id", "title", "lang", "kind", "city", "province", "province_th", "province_en", "name_th",
                "name_en", "meeting", "awarded", "url", "criterion", "suggestion")
_NUMBER_FIELDS = ("batch", "order", "item")
_LIST_FIELDS = ("aliases", "sources", "smarts", "evidence")
_SCALARS = (str, int, float, bool, datetime.date)
MAX_FRONT_MATTER_NODES = 5_000
MAX_VALUE_CHARS = 2_000


def check_front_matter(front: dict[str, Any], path: Path | str = "") -> dict[str, Any]:
    """Front matter whose values have the shapes the index and the catalog rely on.

    The size is checked first by a walk that stops early: YAML aliases can make a few lines expand to
    gigabytes ("billion laughs"). Wrong types are refused with the field named, not guessed at.
    """
    budget = [MAX_FRONT_MATTER_NODES]

    def walk(value: Any) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise MuangError(f"{path}: front matter is too large (more than {MAX_FRONT_MATTER_NODES} values; "
                             "YAML aliases?)")
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            raise MuangError(f"{path}: a front-matter value has {len(value):,} characters; the limit is "
                             f"{MAX_VALUE_CHARS:,}")
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
            walk(child)

    walk(front)

    def wrong(key: str, shape: str) -> MuangError:
        return MuangError(f"{path}: front matter `{key}` must be {shape}, not {type(front[key]).__name__}")

    for key, value in front.items():
        if value is None:
            continue
        if key in _TEXT_FIELDS and not isinstance(value, _SCALARS):
            raise wrong(key, "text")
        if key in _NUMBER_FIELDS and not (isinstance(value, int) and not isinstance(value, bool)):
            raise wrong(key, "a whole number")
        if key in _LIST_FIELDS:
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(item, _SCALARS) for item in items):
                raise wrong(key, "a list of text")
            front[key] = [str(item) for item in items]
        if key == "figures":
            front[key] = check_figures(value, path)
    return front


_AS_OF = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_FIGURE_TEXT = ("what", "source", "city", "unit", "note")


def check_figures(value: Any, path: Path | str = "") -> list[dict[str, Any]]:
    """`figures`: dated counts, totals, scores and targets, each {what, value, as_of, source} with optional
    city, unit and note. `as_of` (YYYY, YYYY-MM or YYYY-MM-DD) comes back as text so that it sorts and
    survives JSON; a wrong shape is refused with the field named (`figures[2].value`)."""
    if not isinstance(value, list):
        raise MuangError(f"{path}: front matter `figures` must be a list of mappings, not {type(value).__name__}")
    out = []
    for n, item in enumerate(value):
        where = f"{path}: front matter `figures[{n}]"
        if not isinstance(item, dict):
            raise MuangError(f"{where}` must be a mapping, not {type(item).__name__}")
        for key in ("what", "value", "as_of", "source"):
            if item.get(key) is None:
                raise MuangError(f"{where}.{key}` is missing")
        for key in _FIGURE_TEXT:
            if item.get(key) is not None and not isinstance(item[key], str):
                raise MuangError(f"{where}.{key}` must be text, not {type(item[key]).__name__}")
        number = item["value"]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise MuangError(f"{where}.value` must be a number, not {type(number).__name__}")
        as_of = item["as_of"]
        as_of = as_of.isoformat() if isinstance(as_of, datetime.date) else str(as_of)
        if isinstance(item["as_of"], (bool, float)) or not _AS_OF.fullmatch(as_of):
            raise MuangError(f"{where}.as_of` must be a date YYYY-MM-DD, YYYY-MM or YYYY, not {item['as_of']!r}")
        out.append({**item, "as_of": as_of})
    return out
