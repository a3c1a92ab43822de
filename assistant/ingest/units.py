"""Answer units: what an extractive answer may quote. A sentence; a sentence that introduces a list
("... ดังนี้", "as follows:", a trailing colon) together with its items; a table row with its header.

Units depend only on the document text: indexing cuts them once for every chunk and stores them with their words
and vectors (assistant/index/unit_store.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.ingest.chunking import sentences

MAX_LIST_ITEMS = 12
# A sentence that announces a list: its answer is the items after it.
_INTRO = re.compile(
    r"(ดังนี้|ดังต่อไปนี้|ได้แก่|มีดังนี้|คือ|ประกอบด้วย|as follows|the following|following|include|includes|are|:)"
    r"\s*[.:：]?\s*$", re.I)
_ITEM = re.compile(r"^\s*([-*+•]|\d{1,3}[.)]|\(\d{1,3}\)|[ก-ฮ][.)])\s+")
_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?[\s:|-]+\|?\s*$")


@dataclass(frozen=True)
class Unit:
    text: str
    position: int      # order within its chunk
    kind: str          # "sentence" | "list" | "row"


def is_intro(sentence: str) -> bool:
    """Whether a sentence announces a list that follows it.

    >>> is_intro("The five criteria are as follows:"), is_intro("ผ่านเกณฑ์ 5 ข้อ ดังนี้"), is_intro("It is in Rayong.")
    (True, True, False)
    """
    return bool(_INTRO.search(sentence.strip()))


def units(text: str, lang: str, following: str = "") -> list[Unit]:
    """The answer units of a chunk's text. `following` is the start of the next chunk of the same document,
    read only for the items of a list whose intro ends this chunk."""
    blocks = _blocks(text, lang)
    out: list[Unit] = []
    i = 0
    while i < len(blocks):
        kind, line = blocks[i]
        if kind == "row":
            out.append(Unit(line, len(out), "row"))
        elif kind == "sentence" and is_intro(line):
            items = []
            j = i + 1
            while j < len(blocks) and blocks[j][0] == "item" and len(items) < MAX_LIST_ITEMS:
                items.append(blocks[j][1])
                j += 1
            if j == len(blocks) and following:  # the list goes on in the next chunk
                for next_kind, item in _blocks(following, lang):
                    if next_kind != "item" or len(items) >= MAX_LIST_ITEMS:
                        break
                    items.append(item)
            if items:
                out.append(Unit(" ".join([line, *items]), len(out), "list"))
                i = j
                continue
            out.append(Unit(line, len(out), "sentence"))
        else:
            out.append(Unit(line, len(out), "sentence"))
        i += 1
    return [u for u in out if any(ch.isalpha() for ch in u.text) and not u.text.lstrip().startswith("#")]


def _blocks(text: str, lang: str) -> list[tuple[str, str]]:
    """("sentence" | "item" | "row", text) in reading order; a table row carries its header row."""
    out: list[tuple[str, str]] = []
    prose: list[str] = []
    header: str | None = None

    def flush() -> None:
        if prose:
            for sentence in sentences("\n".join(prose), lang):
                out.append(("item" if _ITEM.match(sentence) else "sentence", sentence.strip()))
            prose.clear()

    for line in text.splitlines():
        if _TABLE_ROW.match(line):
            flush()
            if _TABLE_RULE.match(line):
                continue
            cells = " | ".join(c.strip() for c in line.strip().strip("|").split("|"))
            if header is None:
                header = cells
            else:
                out.append(("row", f"{header}: {cells}"))
            continue
        header = None if line.strip() else header
        if _ITEM.match(line):
            flush()
            out.append(("item", line.strip()))
        else:
            prose.append(line)
    flush()
    return out
