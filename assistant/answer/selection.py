"""Learned answer selection and answerability.

Two small logistic models over features, trained by `make train` (evals/train_answers.py) on iapp-wiki-qa
(native Thai), XQuAD (Thai and English) and our own gold and unanswerable sets, and shipped as JSON
(assistant/models/*.json):

- selection: P(this answer unit contains the answer | question, unit), for every unit of the top chunks;
- answerability: P(the best unit answers the question), from the best unit's features and what the
  question asks that the documents do not have; `confident` is this probability above the highest threshold
  that keeps 95% of our answerable gold training questions confident (the model file records the rates).

Reading the model needs only numpy: scikit-learn is used by the training script alone.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.answer.analysis import ASKING, YEAR
from assistant.ingest.chunking import normalize
from assistant.answer.overlap import (THAI, bigram_share, fill_unit_data, in_compounds, soft_overlap, unit_data,
                                      word_vectors)
from assistant.answer.asking import says_asked
from assistant.answer.questions import (asks_list, defines, is_polar, offers, says_no, term_at_word_start,
                                        titled)
from assistant.answer.retrieval import Candidate, query_vector
from assistant.index import unit_store
from assistant.ingest.units import Unit

if TYPE_CHECKING:
    from assistant.answer.analysis import Question
    from assistant.answer.retrieval import Hit, Index

MODELS = Path(__file__).parent.parent / "models"
READ = 4  # top chunks whose units compete to be the answer
UNIT_FEATURES = (
    "overlap_predicate", "overlap_all", "overlap_rel", "cosine", "cosine_rel", "rank", "position",
    "has_kind", "offers", "entity", "no_entity", "list_unit", "list_asked", "defines", "novel", "length",
    "same_lang", "row", "overlap_relation", "bigrams", "overlap_before", "entity_before", "polar_no",
    "year_match", "soft_predicate", "soft_before",
)
QUESTION_FEATURES = (
    "p_best", "p_gap", "p_second", "predicate_in_unit", "predicate_in_doc", "predicate_known",
    "no_predicate", "cosine", "offers", "has_kind", "entity_in_doc", "same_lang", "chunk_cosine",
    "e5_top", "score_gap", "relation_in_unit", "bigrams_in_unit", "year_in_unit", "soft_with_before",
)
# Right after the term a definition says what it is ("ดีป้าคือ", "TSCCI is", "depa (the Digital Economy ...").
_DEFINING = re.compile(r"\s*\)?\s*(?:คือ|หมายถึง|ย่อมาจาก|เป็น|\(|(?:is|are|was|were|refers to|stands for|means)(?![a-z]))")


@dataclass(frozen=True)
class Model:
    """A logistic model over standardized features, plus optional boosted trees whose outputs add to its
    log-odds (gradient boosting started from the linear model); and the threshold for a decision.

    trees: each tree as parallel lists (feature, threshold, left, right, value); a node with left == -1 is
    a leaf. Rows go left when feature <= threshold.
    """

    names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float = 0.5
    info: dict[str, Any] | None = None
    trees: tuple[tuple[np.ndarray, ...], ...] = ()

    def log_odds(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        rows = np.arange(len(features))
        for feature, threshold, left, right, value in self.trees:
            node = np.zeros(len(features), dtype=np.int64)
            while True:
                inner = left[node] >= 0
                if not inner.any():
                    break
                at = node[inner]
                go_left = features[rows[inner], feature[at]] <= threshold[at]
                node[inner] = np.where(go_left, left[at], right[at])
            z = z + value[node]
        return z

    def predict(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.log_odds(features)))

    def to_json(self) -> dict[str, Any]:
        return {"features": list(self.names), "mean": _round(self.mean), "scale": _round(self.scale),
                "coef": _round(self.coef), "intercept": round(float(self.intercept), 6),
                "threshold": round(float(self.threshold), 6), "info": self.info or {},
                "trees": [[t.tolist() if i in (0, 2, 3) else _round(t) for i, t in enumerate(tree)]
                          for tree in self.trees]}


def _round(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


@lru_cache(maxsize=4)
def load_model(name: str) -> Model:
    """A shipped model by name ("selection" or "answerability")."""
    data = json.loads((MODELS / f"{name}.json").read_text(encoding="utf-8"))
    trees = tuple((np.array(f, dtype=np.int64), np.array(t), np.array(l, dtype=np.int64),
                   np.array(r, dtype=np.int64), np.array(v)) for f, t, l, r, v in data.get("trees", []))
    return Model(tuple(data["features"]), np.array(data["mean"]), np.array(data["scale"]),
                 np.array(data["coef"]), float(data["intercept"]), float(data.get("threshold", 0.5)),
                 data.get("info"), trees)


# A sentence about the document itself ("This document explains the types of smart city ..."): it names what a
# question asks about and answers none of it.
_ABOUT_ITSELF = re.compile(r"^\s*(?:(?:this|the present) (?:document|page|report|article)|เอกสารนี้|หน้านี้|รายงานนี้|บทความนี้)"
                           r"\s*(?:explains|describes|gathers|collects|lists|covers|summari[sz]es|อธิบาย|รวบรวม|"
                           r"กล่าวถึง|สรุป|นำเสนอ)", re.IGNORECASE)


def candidates(index: "Index", hits: list["Hit"]) -> list[Candidate]:
    """The answer units of the top chunks, each with its chunk's rank."""
    out = []
    for rank, hit in enumerate(hits[:READ]):
        for unit in chunk_units(index, hit.chunk_id):
            if not _ABOUT_ITSELF.match(unit.text):
                out.append(Candidate(hit, unit, rank))
    return out


def chunk_units(index: "Index", chunk_id: str) -> list[Unit]:
    """A chunk's units, cached; read with their words and vectors from the build's unit store when it has one
    (assistant/index/unit_store.py), else cut now."""
    cache = index.cache.setdefault("units", {})
    found = cache.get(chunk_id)
    if found is None:
        position = index.position[chunk_id]
        if index.unit_store is not None:
            stored = index.unit_store.get(position)
            data = index.cache.setdefault("unit_data", {})
            for unit, (content, every), vector in zip(stored.units, stored.words, stored.vectors):
                data[(chunk_id, unit.position)] = (content, every, np.asarray(vector, dtype=np.float32))
            found = stored.units
        else:
            found = unit_store.cut(index.chunks, position)
        cache[chunk_id] = found
    return found


def unit_features(index: "Index", question: "Question", cands: list[Candidate]) -> np.ndarray:
    """One row of UNIT_FEATURES per candidate."""
    x = np.zeros((len(cands), len(UNIT_FEATURES)), dtype=np.float64)
    if not cands:
        return x
    embedder = next((e for e in index.embedders if e.name == "usem3"), index.embedders[0])
    fill_unit_data(index, cands, embedder)
    q_vector = query_vector(index, embedder, question.search_text)
    weights_all = {t: index.lexical.idf(t) for t in set(question.content)}
    weights_pred = {t: index.lexical.idf(t) for t in set(question.predicate)}
    total_all = sum(weights_all.values()) or 1.0
    total_pred = sum(weights_pred.values()) or 1.0
    names = [normalize(n) for n in question.entity_names]
    kind = question.kind
    listing = asks_list(question.text)
    defines = normalize(question.defines) if question.defines else None
    q_tokens = set(question.content)
    relation = set(question.relation)
    said = [t for t in question.tokens if t not in ASKING]
    # Pairs inside a name say nothing the entity feature does not: the pairs that count relate it to the rest.
    in_name = {t for t in said if names and any(t in n for n in names)}
    pairs = [p for p in dict.fromkeys(zip(said, said[1:])) if not (p[0] in in_name and p[1] in in_name)]
    at = {(c.hit.chunk_id, c.unit.position): i for i, c in enumerate(cands)}
    polar = is_polar(question.text)
    thai_asked = {t for t in q_tokens | relation if len(t) >= 2 and THAI.search(t)}
    vocabulary = set(weights_pred) | thai_asked
    for c in cands:
        vocabulary |= unit_data(index, c)[0]
    vectors = word_vectors(index, sorted(vocabulary), embedder)
    # "สามย่านปี 2567 ได้กี่คะแนน": a unit naming only other years answers another year's question
    asked_years = question.asked_years
    for i, c in enumerate(cands):
        tokens, every_token, vector = unit_data(index, c)
        inside = in_compounds(thai_asked, every_token) if thai_asked else frozenset()
        tokens = tokens | inside
        text = normalize(c.unit.text)
        cosine = float(vector @ q_vector) if vector is not None else 0.0
        same = c.hit.lang == question.lang
        if same:
            pred = sum(w for t, w in weights_pred.items() if t in tokens) / total_pred if weights_pred else 0.0
            every = sum(w for t, w in weights_all.items() if t in tokens) / total_all if weights_all else 0.0
        else:  # across languages word overlap cannot be measured; meaning stands in for it
            pred = every = cosine
        x[i, 0], x[i, 1], x[i, 3] = pred, every, cosine
        x[i, 5] = 1.0 / (1 + c.rank)
        x[i, 6] = 1.0 / (1 + c.unit.position)
        x[i, 7] = 1.0 if kind else 0.0
        x[i, 8] = 1.0 if kind and offers(c.unit.text, kind) else 0.0
        if names:
            x[i, 9] = 1.0 if any(n in text for n in names) else 0.0
        else:
            x[i, 10] = 1.0
        x[i, 11] = 1.0 if c.unit.kind == "list" else 0.0
        x[i, 12] = x[i, 11] * (1.0 if listing else 0.0)
        if defines and defines in text:
            x[i, 13] = definition(text, defines)
        x[i, 14] = min(1.0, len(tokens - q_tokens) / 10.0)
        x[i, 15] = math.log1p(len(c.unit.text)) / 6.0
        x[i, 16] = 1.0 if same else 0.0
        x[i, 17] = 1.0 if c.unit.kind == "row" else 0.0
        if relation and same:
            x[i, 18] = len(relation.intersection(every_token) | (relation & inside)) / len(relation)
        if same:
            x[i, 19] = bigram_share(pairs, every_token)
        # Thai has no full stop: a unit is often a clause whose subject ends the unit before it. What the
        # question asks, found in this unit and the one before, points at the clause that answers.
        before = at.get((c.hit.chunk_id, c.unit.position - 1))
        if before is not None and same:
            window = tokens | unit_data(index, cands[before])[0]
            x[i, 20] = sum(w for t, w in weights_pred.items() if t in window) / total_pred if weights_pred else 0.0
            x[i, 21] = 1.0 if names and any(n in normalize(cands[before].unit.text) for n in names) else 0.0
        else:
            x[i, 20], x[i, 21] = x[i, 0], x[i, 9]
        # a yes/no question ("Is X a depa smart city because ...?") may be answered by a sentence saying no
        x[i, 22] = 1.0 if polar and says_no(c.unit.text) else 0.0
        if asked_years:
            said_years = set(YEAR.findall(text))
            x[i, 23] = 1.0 if said_years & asked_years else -1.0 if said_years else 0.0
        x[i, 24] = soft_overlap(weights_pred, tokens, vectors)
        x[i, 25] = (soft_overlap(weights_pred, tokens | unit_data(index, cands[before])[0], vectors)
                    if before is not None else x[i, 24])
    x[:, 2] = x[:, 0] - x[:, 0].max()
    x[:, 4] = x[:, 3] - x[:, 3].max()
    return x


def definition(text: str, term: str) -> float:
    """1 when a normalized unit defines a term: a defining word right after it, or the term in brackets after
    its long name ("ดัชนี... (Thailand Smart City Competitiveness Index: TSCCI)"); 0.5 when it only names it.

    >>> definition("tscci ปี 2566 คือ 30 เมือง", "tscci"), definition("ดัชนี (thailand index: tscci) ของดีป้า", "tscci")
    (0.5, 1.0)

    The term must start a word: "สามย่านสมาร์ทซิตี้ (...) เป็น" defines a place, not "สมาร์ทซิตี้".

    >>> definition("สามย่านสมาร์ทซิตี้ (samyan smart city) เป็นพื้นที่หนึ่ง", "สมาร์ทซิตี้")
    0.5
    """
    at_start = term_at_word_start(term)
    if re.search(rf"\([^()]*{at_start}\s*\)", text):
        return 1.0
    return 1.0 if any(_DEFINING.match(text, m.end()) for m in re.finditer(at_start, text)) else 0.5


def about(index: "Index", question: "Question", cands: list[Candidate]) -> np.ndarray:
    """Per candidate, whether it may answer the question at all.

    A question naming cities is answered from a unit naming one of them, or from a unit of one of their
    documents that names no other city: another city's TSCCI score does not answer "ฉะเชิงเทราได้คะแนนเท่าไหร่",
    however well it matches otherwise, and neither does the date of another city that one city's page quotes
    beside its own. A question naming another country ("ญี่ปุ่นใช้เกณฑ์อะไร") is answered only from a document
    that names it (a document in the other language is not judged: the names differ). A question asking about
    a year is answered from a unit naming that year (in either era) or no year: a unit naming only other years
    is about them ("ฉะเชิงเทราปี 67 ได้กี่คะแนน" is not answered by its 2023 score, which the reader, reading
    the unit with the sentence after it, rates as close). A "what is X" question is answered from a unit in
    its language that says what X is (`defines`) when one is among them: the sentences that only name X (a
    TSCCI ranking for "TSCCI คืออะไร") match the question's words as well, and neither model tells them
    apart; of those, the units of the document whose title names X. A question asking where at a level
    ("ภาคไหน", "which district") is answered from a unit naming a place at that level, one asking about the
    next of something from a unit about what is to come. All true for a question asking none of these."""
    ok = np.ones(len(cands), dtype=bool)
    if question.defines and cands:
        defining = np.array([c.hit.lang == question.lang and defines(c.unit.text, question.defines)
                             for c in cands], dtype=bool)
        # of those, the ones of the document about the term (its title names it), where there is one: another
        # glosses it in passing ("... ranked third in depa's ... Index (TSCCI) 2023")
        about_term = defining & np.array([titled(c.hit.doc, question.defines) for c in cands], dtype=bool)
        if defining.any():
            ok &= about_term if about_term.any() else defining
    if question.asked_years:
        ok &= np.array([not other_years(question, cand.unit.text) for cand in cands], dtype=bool)
    # "ขอนแก่นอยู่ภาคไหน", "ครั้งถัดไปเมื่อไหร่": a sentence naming no region, or only a past meeting, does not
    # answer it, however well it matches
    ok &= np.array([says_asked(question.corrected, cand.unit.text) for cand in cands], dtype=bool)
    if question.cities:
        slugs = {c.slug for c in question.cities}
        ok &= np.array([bool(named & slugs) or (cand.hit.doc.get("city") in slugs and not named)
                        for cand in cands for named in [cities_in(index, cand.unit.text)]], dtype=bool)
    if question.countries:
        ok &= np.array([cand.hit.lang != question.lang
                        or any(c in _doc_text(index, cand.hit.doc_id) for c in question.countries)
                        for cand in cands], dtype=bool)
    return ok


def other_years(question: "Question", text: str) -> bool:
    """Whether a text names years and none the question asks (False when it asks none)."""
    said = set(YEAR.findall(text)) if question.asked_years else set()
    return bool(said) and not said & question.asked_years


def cities_in(index: "Index", text: str) -> frozenset[str]:
    """The slugs of the catalog's cities a unit names, cached by text (a unit is judged for every question)."""
    from assistant.answer.catalog import cities_named

    cache = index.cache.setdefault("cities_in", {})
    if text not in cache:
        if len(cache) > 100_000:
            cache.clear()
        cache[text] = frozenset(c.slug for c in cities_named(index.catalog(), text))
    return cache[text]


def chunk_cosine(index: "Index", question: "Question", hit: "Hit") -> float:
    """USE-m3 cosine of the question and the top chunk. Retrieval's own score is used when USE-m3 listed the
    chunk; when only e5 or BM25 found it (the default embedders) it is computed, so that the feature means
    what it meant in training (usem3 indexes list every top chunk)."""
    if "usem3" in hit.signals:
        return hit.signals["usem3"]
    embedder = next((e for e in index.embedders if e.name == "usem3"), None)
    if embedder is None:
        return 0.0
    from assistant.index.indexing import embed_text

    cache = index.cache.setdefault("chunk_vectors", {})
    vector = cache.get(hit.chunk_id)
    if vector is None:
        record = index.chunks[index.position[hit.chunk_id]]
        vector = cache[hit.chunk_id] = embedder.embed_documents([embed_text(record)])[0]
    return float(vector @ query_vector(index, embedder, question.search_text))


def _doc_text(index: "Index", doc_id: str) -> str:
    """A whole document's normalized text (title and chunks), cached."""
    cache = index.cache.setdefault("doc_text", {})
    if doc_id not in cache:
        doc = index.docs[doc_id]
        cache[doc_id] = normalize(" ".join([doc.get("title", ""), *(index.chunks[i]["text"]
                                                                   for i in index.doc_chunks[doc_id])]))
    return cache[doc_id]


def question_features(index: "Index", question: "Question", cands: list[Candidate], x: np.ndarray,
                      p: np.ndarray) -> np.ndarray:
    """One row of QUESTION_FEATURES: how well the best unit answers, and what the documents lack."""
    row = np.zeros(len(QUESTION_FEATURES), dtype=np.float64)
    predicate = list(dict.fromkeys(question.predicate))
    row[6] = 0.0 if predicate else 1.0
    if predicate:
        weights = {t: index.lexical.idf(t) for t in predicate}
        total = sum(weights.values()) or 1.0
        row[5] = sum(w for t, w in weights.items() if index.lexical.known([t])) / total
    if not cands:
        return row
    order = np.argsort(-p, kind="stable")
    best = order[0]
    c = cands[best]
    row[0] = p[best]
    row[2] = p[order[1]] if len(order) > 1 else 0.0
    row[1] = row[0] - row[2]
    row[3] = x[best, 0]
    if predicate and c.hit.lang == question.lang:
        doc = index.doc_tokens(c.hit.doc_id)
        weights = {t: index.lexical.idf(t) for t in predicate}
        row[4] = sum(w for t, w in weights.items() if t in doc) / (sum(weights.values()) or 1.0)
    else:
        row[4] = x[best, 0]
    row[7] = x[best, 3]
    row[8] = x[best, 8]
    row[9] = x[best, 7]
    names = [normalize(n) for n in question.entity_names]
    if names:
        text = _doc_text(index, c.hit.doc_id)
        row[10] = 1.0 if any(n in text for n in names) else 0.0
    else:
        row[10] = 1.0
    row[11] = x[best, 16]
    row[12] = chunk_cosine(index, question, cands[0].hit)
    # Retrieval's own confidence: e5's cosine to the top chunk (0 when e5 is not configured) and how far the
    # top chunk's fused score stands above the next one.
    top = cands[0].hit
    row[13] = top.signals.get("e5", 0.0)
    second = next((cd.hit for cd in cands if cd.rank == 1), None)
    row[14] = top.score - second.score if second is not None else 1.0
    row[15] = x[best, 18]
    row[16] = x[best, 19]
    row[17] = x[best, 23]
    row[18] = x[best, 25]
    return row
