"""Which answer units an extractive answer quotes: the best one, a second one rated close to it, the
sentence before a quoted sentence that opens with a pronoun or refers back (quoted alone it would not say who
or what), and the unit after one whose answer the reader found there."""

from __future__ import annotations

import re

import numpy as np

from assistant.answer import selection
from assistant.answer.retrieval import Hit
from assistant.ingest.chunking import normalize

MAX_SENTENCES = 2  # a second unit is added only when the selection model rates it close to the best one
SECOND_RATIO = 0.5  # of the best unit's selection probability (evals/train/features.npz: +2 points of answers holding the span)


def pick_units(cands: list[selection.Candidate], p: np.ndarray, second_ratio: float = SECOND_RATIO,
               answered_after: dict[int, selection.Candidate] | None = None) -> list[tuple[Hit, str]]:
    """The best unit, and a second one when the model rates it close to the best (never after a list).
    `answered_after` maps a candidate to the one after it when the reader found the answer there: both are
    quoted."""
    if not cands:
        return []
    after = answered_after or {}
    order = np.argsort(-p, kind="stable")
    best = [int(order[0])]
    for i in order[1:]:
        if len(best) >= MAX_SENTENCES or cands[best[0]].unit.kind == "list" or p[i] < second_ratio * p[order[0]]:
            break
        quoted = {normalize(cands[k].unit.text) for k in best} | {normalize(after[k].unit.text) for k in best
                                                                   if k in after}
        # overlapping chunks may cut the same sentence differently: one quote inside another is said once
        said = normalize(cands[i].unit.text)
        if not any(said in q or q in said for q in quoted):
            best.append(int(i))
    chosen = [cands[k] for k in best]
    return [(cands[k].hit, _with_antecedent(cands[k], cands, chosen)
             + (f" {after[k].unit.text.strip()}" if k in after else "")) for k in best]


# A sentence opening with one of these leans on the sentence before it ("He is also the oldest ...", or a Thai
# clause cut off at "และ/แต่/โดย ..." where Thai text has no full stop): quoted alone it does not say who or what.
_ANAPHOR = re.compile(r"(?i)^(?:he|she|it|they|this|these|those|his|her|its|their|such|but|and)\b|"
                     r"^(?:เขา|เธอ|ท่าน|มัน|พวกเขา|ซึ่ง|และ|แต่|โดย|จึง|ทำให้)")
# A sentence naming what it is about only as "these devices", "such plans", "อุปกรณ์เหล่านี้", "โครงการดังกล่าว"
# says what they are in the sentence before ("Carbon monoxide poisoning ... are treated using these devices").
_REFERS_BACK = re.compile(r"(?i)\b(?:these|those|such)\s+(?!as\b)[a-z]+|เหล่านี้|เหล่านั้น|ดังกล่าว")


def _with_antecedent(chosen: selection.Candidate, cands: list[selection.Candidate],
                     best: list[selection.Candidate]) -> str:
    """A chosen sentence, preceded by the sentence before it in its chunk when it opens with a pronoun or
    names its subject only as "these ..." or "... ดังกล่าว"."""
    text = chosen.unit.text.strip()
    if chosen.unit.kind != "sentence" or not (_ANAPHOR.match(text) or _REFERS_BACK.search(text)):
        return text
    before = next((c for c in cands if c.hit.chunk_id == chosen.hit.chunk_id
                   and c.unit.position == chosen.unit.position - 1), None)
    if before is None or before in best or before.unit.kind != "sentence":
        return text
    return f"{before.unit.text.strip()} {text}"
