"""Answers and tables as plain text for the terminal (`muang ask`, `muang cities`, `muang documents`)."""

from __future__ import annotations

from typing import Any


def format_answer(data: dict[str, Any]) -> str:
    th = data["language"] == "th"
    lines = [data["answer"], ""]
    if data.get("notice"):
        lines.insert(0, f"({data['notice']})")
    if not data["confident"]:
        lines.insert(0, "(ไม่มั่นใจ)" if th else "(not confident)")
    if data.get("standalone") and data["standalone"] != data["question"]:
        lines.insert(0, f"({'เข้าใจว่า' if th else 'understood as'}: {data['standalone']})")
    for source in data["sources"]:
        where = f" {source['url']}" if source["url"] else ""
        lines.append(f"[{source['n']}] {source['title']} ({source['lang']}){where}")
    return "\n".join(lines)


def width(text: str) -> int:
    """Columns a string takes in a terminal: Thai vowel and tone marks take none."""
    import unicodedata

    return sum(0 if unicodedata.category(ch) in ("Mn", "Me") else 1 for ch in text)


def text_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
