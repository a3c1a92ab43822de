"""The reader's decision over the candidate units of a question's top chunks.

The feature-based selection model (assistant/answer/selection.py) shortlists the units (as many as the
calibration chose); the neural reader (assistant/answer/reader.py) reads each, with the sentence after it,
beside the question, and they are ranked by its relevance stacked with the feature model's probability where
that ranks better (reader_ranking.json).
Answerability is a logistic model over the best unit's ranking score, its gap to the second, the reader's
relevance and span probability, and the feature model's own answerability; it is fitted, with its threshold,
on the calibration part of every training set, questions the reader never saw (evals/calibrate_reader.py ->
assistant/models/reader_answerability.json). The short answer is the reader's span when it is probable
enough (the level is chosen there too) and the quoted unit is in the question's language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from assistant.answer import reader, selection
from assistant.answer.analysis import YEAR
from assistant.answer.retrieval import hit_at
from assistant.ingest.chunking import normalize

if TYPE_CHECKING:
    from assistant.answer.analysis import Question
    from assistant.answer.retrieval import Index

AFTER_TOKENS = 32  # of the sentence after a unit, read with it (see `window`)
READ_UNITS = 8  # units read per question when the calibration file does not choose (calibrate_reader.py does)
UNIT_FEATURES = ("relevance", "selection_log_odds", "span_probability")
FEATURES = ("rank_best", "rank_gap", "relevance", "span_probability", "selection_log_odds", "features_log_odds")


@dataclass
class Reading:
    """The reader's view of a question's candidates."""

    scores: np.ndarray          # per candidate: its ranking probability (0 for units the reader did not read)
    features: np.ndarray        # one row of FEATURES
    probability: float          # calibrated answerability
    threshold: float
    span_probability: float
    short_answer: str           # of the best unit, "" when not probable enough
    # candidate -> the sentence after it, where the reader found that candidate's answer (both are quoted)
    answered_after: dict[int, selection.Candidate] = field(default_factory=dict)


@lru_cache(maxsize=1)
def calibration() -> selection.Model | None:
    path = selection.MODELS / "reader_answerability.json"
    return selection.load_model("reader_answerability") if path.exists() else None


@lru_cache(maxsize=1)
def ranking() -> selection.Model | None:
    """The units' ranking: the reader's relevance stacked with the feature model's probability (fitted where it
    measurably helps, else absent: then the reader's relevance alone ranks)."""
    path = selection.MODELS / "reader_ranking.json"
    return selection.load_model("reader_ranking") if path.exists() else None


def logit(p: float | np.ndarray) -> float | np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def rank_scores(relevance: np.ndarray, selection_p: np.ndarray, span_p: np.ndarray,
                ranker: selection.Model | None) -> np.ndarray:
    """Log-odds that each read unit is the answer."""
    if ranker is None:
        return relevance
    return ranker.log_odds(np.column_stack([relevance, logit(selection_p), span_p]))


def question_row(z: np.ndarray, relevance: np.ndarray, span_p: np.ndarray, selection_p: np.ndarray,
                 features_probability: float) -> tuple[np.ndarray, int]:
    """One row of FEATURES and the index of the best read unit."""
    order = np.argsort(-z, kind="stable")
    best = int(order[0])
    gap = float(z[best] - z[order[1]]) if len(order) > 1 else 10.0
    return np.array([z[best], gap, relevance[best], span_p[best], float(logit(selection_p[best])),
                     float(logit(features_probability))]), best


def shortlist(p: np.ndarray, n: int = READ_UNITS) -> list[int]:
    """The candidates the reader reads: the feature model's best n among those about the question (p > 0)."""
    order = np.argsort(-p, kind="stable")
    return [int(i) for i in order[:n] if p[i] > 0]


def read(index: "Index", question: "Question", cands: list[selection.Candidate], p: np.ndarray,
         features_probability: float, model: reader.Reader, n: int | None = None) -> Reading | None:
    """The reader's ranking and answerability, or None when no candidate is about the question."""
    calibrated = calibration()
    info = (calibrated.info or {}) if calibrated is not None else {}
    chosen = shortlist(p, n or int(info.get("read_units", READ_UNITS)))
    if not chosen:
        return None
    after = following(index, question, cands, chosen)
    texts = [window(question, cands, i, after) for i in chosen]
    readings = model.read(question.corrected or question.raw,
                          [(cands[i].hit.doc.get("title", ""), t) for i, t in zip(chosen, texts)],
                          batch_size=1)  # windows differ in length: one at a time reads no padding
    relevance = np.array([r.relevance for r in readings])
    span_p = np.array([r.span_probability for r in readings])
    z = rank_scores(relevance, p[chosen], span_p, ranking())
    row, best = question_row(z, relevance, span_p, p[chosen], features_probability)
    scores = np.zeros(len(cands))
    scores[chosen] = 1.0 / (1.0 + np.exp(-z))
    if calibrated is not None:
        probability, threshold = float(calibrated.predict(row[None, :])[0]), calibrated.threshold
    else:
        probability, threshold = float(scores[chosen[best]]), 0.5
    unit = cands[chosen[best]]
    answered_after = {i: after[i] for k, i in enumerate(chosen)
                      if i in after and in_next(readings[k], cands[i].unit.text)}
    short = readings[best].short_answer(texts[best]) if span_p[best] >= float(info.get("short_answer", 0.5)) else ""
    if unit.hit.lang != question.lang or len(short) >= 0.8 * len(texts[best].strip()) or question.defines:
        # in the question's language, shorter than the quote, and not for "what is X": a definition is the
        # whole sentence, and a few words of it ("technology") mislead
        short = ""
    return Reading(scores, row, probability, threshold, float(span_p[best]), short, answered_after)


def following(index: "Index", question: "Question", cands: list[selection.Candidate],
              chosen: list[int]) -> dict[int, selection.Candidate]:
    """For each chosen sentence, the sentence after it in its document, when that is a sentence that names no
    city unless one the question asks. A unit that ends its chunk is followed by the first new sentence of the
    next chunk: chunks end wherever the token budget does, not where a clause does."""
    asked = {c.slug for c in question.cities}
    after = {}
    for i in chosen:
        nxt = next_sentence(index, cands[i]) if cands[i].unit.kind == "sentence" else None
        if nxt is None or nxt.unit.kind != "sentence":
            continue
        named = selection.cities_in(index, nxt.unit.text) if asked else frozenset()
        if not (named and not named & asked):
            after[i] = nxt
    return after


def until_other_year(question: "Question", text: str) -> str:
    """The start of a text up to the first year it names when it names years and none the question asks: the
    sentence has turned to another year ("...ชนะ" | "รางวัลแห่งปีของซันเดย์ไทมส์ ... ก่อตั้งขึ้นในปี 1969")."""
    if not selection.other_years(question, text):
        return text
    return text[:YEAR.search(text).start()]


def next_sentence(index: "Index", cand: selection.Candidate) -> selection.Candidate | None:
    """The unit after a candidate in its document: in its chunk, else after the sentence the next chunk
    repeats from this one (none when the next chunk does not go on from it: another section or document)."""
    units = selection.chunk_units(index, cand.hit.chunk_id)
    later = [u for u in units if u.position > cand.unit.position]
    if later:
        return selection.Candidate(cand.hit, later[0], cand.rank)
    at = index.position[cand.hit.chunk_id] + 1
    if at >= len(index.chunks) or index.chunks[at]["doc_id"] != cand.hit.doc_id:
        return None
    units = selection.chunk_units(index, index.chunks[at]["chunk_id"])
    said = normalize(cand.unit.text)
    k = next((k for k, u in enumerate(units) if normalize(u.text) == said), None)
    if k is None or k + 1 >= len(units):
        return None
    return selection.Candidate(hit_at(index, at, cand.hit.score), units[k + 1], cand.rank)


def in_next(reading: reader.Reading, unit: str) -> bool:
    """Whether the reader's span over a `window` lies past its unit, in the sentence after it."""
    return bool(reading.span) and reading.span[0] > len(unit)


def window(question: "Question", cands: list[selection.Candidate], i: int,
           after: dict[int, selection.Candidate]) -> str:
    """What the reader reads for a unit: the unit and the start of the sentence after it. Thai has no full
    stop and sentence segmentation cuts at spaces, so the clause a question paraphrases often ends where its
    answer begins ("สภาเมืองประชุมแล้วจึงได้" | "อนุมัติงบ 20 ล้านบาทในเดือนมีนาคม"); the reader's span says
    which part holds the answer, and the quote then takes both. Only AFTER_TOKENS of the next sentence are
    read, and none past a year the question does not ask: an answer starting there is found in them, and each
    token read costs answer time."""
    text = cands[i].unit.text
    following_text = until_other_year(question, after[i].unit.text).strip() if i in after else ""
    if not following_text:
        return text
    _, spans = reader.vocabulary().tokenizer.encode_with_offsets(following_text)
    if len(spans) > AFTER_TOKENS:
        following_text = following_text[:spans[AFTER_TOKENS - 1][1]]
    return f"{text} {following_text}"


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
