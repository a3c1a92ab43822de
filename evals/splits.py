"""Which part of each data set is held out of all training and tuning: one document in five, by a stable
hash of its id (a question goes with its first gold document; a question without one, with its own id)."""

from __future__ import annotations

import zlib

HELD_OUT = 5


def row_key(row: dict) -> str:
    return (row.get("gold_docs") or [row.get("id", "")])[0]


def held_out(row: dict) -> bool:
    """Whether a gold row belongs to the held-out part. Stable across runs and machines."""
    return zlib.crc32(row_key(row).encode("utf-8")) % HELD_OUT == 0


def calibration(row: dict) -> bool:
    """Whether a gold row belongs to the calibration part: one document in five of the rest, kept out of the
    reader's training so that answerability over the reader is fitted on questions it never saw."""
    return not held_out(row) and zlib.crc32(("calibration:" + row_key(row)).encode("utf-8")) % HELD_OUT == 0


def part_of(row: dict) -> str:
    """"held-out", "calibration" or "train"."""
    return "held-out" if held_out(row) else "calibration" if calibration(row) else "train"
