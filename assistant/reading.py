"""The reader's decision over the candidate units of a question's top chunks.

The feature-based selection model (assistant/selection.py) shortlists READ_UNITS units; the neural reader
(assistant/reader.py) reads each with the question and ranks them. Answerability is a logistic model over
what the reader says (its best relevance, the gap to the second, its span's probability) stacked with the
feature model's own answerability; it is fitted, with its threshold, on the calibration part of every
training set, questions the reader never saw (evals/calibrate_reader.py ->
assistant/models/reader_answerability.json). The short answer is the reader's span when it is probable
enough (SHORT_ANSWER, chosen there too) and the quoted unit is in the question's language.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from assistant import reader, selection

if TYPE_CHECKING:
    from assistant.analysis import Question

READ_UNITS = 8  # units the reader reads per question: evals/calibrate_reader.py measures top-N recall
FEATURES = ("reader_best", "reader_gap", "span_probability", "selection_log_odds", "features_log_odds")


@dataclass
class Reading:
    """The reader's view of a question's candidates."""

    scores: np.ndarray          # per candidate: the reader's probability (0 for units it did not read)
    features: np.ndarray        # one row of FEATURES
    probability: float          # calibrated answerability
    threshold: float
    span_probability: float
    short_answer: str           # of the best unit, "" when not probable enough


@lru_cache(maxsize=1)
def calibration() -> selection.Model | None:
    path = selection.MODELS / "reader_answerability.json"
    return selection.load_model("reader_answerability") if path.exists() else None


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def shortlist(p: np.ndarray, n: int = READ_UNITS) -> list[int]:
    """The candidates the reader reads: the feature model's best n among those about the question (p > 0)."""
    order = np.argsort(-p, kind="stable")
    return [int(i) for i in order[:n] if p[i] > 0]


def read(question: "Question", cands: list[selection.Candidate], p: np.ndarray, features_probability: float,
         model: reader.Reader, n: int = READ_UNITS) -> Reading | None:
    """The reader's ranking and answerability, or None when no candidate is about the question."""
    chosen = shortlist(p, n)
    if not chosen:
        return None
    text = question.corrected or question.raw
    readings = model.read(text, [(cands[i].hit.doc.get("title", ""), cands[i].unit.text) for i in chosen])
    relevance = np.array([r.relevance for r in readings])
    scores = np.zeros(len(cands))
    scores[chosen] = 1.0 / (1.0 + np.exp(-relevance))
    order = np.argsort(-relevance, kind="stable")
    best = readings[order[0]]
    gap = float(relevance[order[0]] - relevance[order[1]]) if len(order) > 1 else 10.0
    row = np.array([relevance[order[0]], gap, best.span_probability, _logit(float(p[chosen[order[0]]])),
                    _logit(features_probability)])
    calibrated = calibration()
    if calibrated is not None:
        probability = float(calibrated.predict(row[None, :])[0])
        threshold = calibrated.threshold
        short_min = float((calibrated.info or {}).get("short_answer", 0.5))
    else:
        probability, threshold, short_min = float(scores[chosen[order[0]]]), 0.5, 0.5
    unit = cands[chosen[order[0]]]
    short = best.short_answer(unit.unit.text) if best.span_probability >= short_min else ""
    if unit.hit.lang != question.lang or len(short) >= 0.8 * len(unit.unit.text.strip()):
        short = ""  # the short answer must be in the question's language, and shorter than the quote
    return Reading(scores, row, probability, threshold, best.span_probability, short)


def agrees(question: "Question", answer: str, model: reader.Reader) -> bool:
    """Whether the reader agrees that a catalog answer's sentence answers the question: its relevance at least
    the calibrated `catalog_relevance` (the catalog's exact lists, counts and figures stay the answer only for
    the questions that ask them)."""
    calibrated = calibration()
    minimum = (calibrated.info or {}).get("catalog_relevance") if calibrated is not None else None
    if minimum is None:
        return True
    [r] = model.read(question.corrected or question.raw, [("", answer.split("[1]")[0])])
    return r.relevance >= float(minimum)
