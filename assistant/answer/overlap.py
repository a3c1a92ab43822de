"""What a question and an answer unit share, for the selection features: word pairs in order, words said
inside Thai compounds, and words near in meaning (USE-m3 vectors); the units' tokens and vectors and the
words' vectors are cached per index, which never changes after it is built."""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from assistant.index.embedding import unit_rows
from assistant.index.lexical import tokenize
from assistant.index.unit_store import words_of

if TYPE_CHECKING:
    from assistant.answer.retrieval import Candidate, Index


def unit_data(index: "Index", candidate: Candidate) -> tuple[frozenset[str], tuple[str, ...], np.ndarray | None]:
    """(content tokens, every token in order, USE-m3 vector) of a unit, cached per index: units never change
    after indexing."""
    cache = index.cache.setdefault("unit_data", {})
    key = (candidate.hit.chunk_id, candidate.unit.position)
    return cache.get(key) or (frozenset(), (), None)


def bigram_share(pairs: list[tuple[str, str]], tokens: tuple[str, ...], gap: int = 3) -> float:
    """The share of the question's word pairs that the unit has in the same order, at most `gap` words
    apart: the phrasing the answer shares with the question ("X เป็นของใคร" / "X เป็นโครงการของ ปตท."),
    function words included.

    >>> bigram_share([("a", "b"), ("b", "c")], ("a", "x", "b", "y", "y", "y", "c"))
    0.5
    """
    if not pairs:
        return 0.0
    where: dict[str, list[int]] = {}
    for i, t in enumerate(tokens):
        where.setdefault(t, []).append(i)
    found = sum(1 for a, b in pairs
                if any(0 < j - i <= gap for i in where.get(a, ()) for j in where.get(b, ())))
    return found / len(pairs)


def fill_unit_data(index: "Index", cands: list[Candidate], embedder) -> None:
    cache = index.cache.setdefault("unit_data", {})
    missing = [c for c in cands if (c.hit.chunk_id, c.unit.position) not in cache]
    if not missing:
        return
    # embed_batch, not embed_documents: a question's few texts get one core (USEEmbedder explains why)
    vectors = unit_rows(embedder.embed_batch([c.unit.text for c in missing], is_query=False))
    for c, vector in zip(missing, vectors):
        cache[(c.hit.chunk_id, c.unit.position)] = (*words_of(tokenize(c.unit.text)), vector)
    if len(cache) > 200_000:  # a bound for a long-running server over a huge index
        cache.clear()


THAI = re.compile(r"[\u0E00-\u0E7F]")


def in_compounds(asked: set[str], unit_tokens) -> frozenset[str]:
    """The asked Thai words a unit says inside a compound the tokenizer kept whole: "อยู่" in "ตั้งอยู่",
    "คะแนน" in "ได้คะแนน", where the rest of the compound is itself a word.

    >>> sorted(in_compounds({"อยู่", "เลย"}, ("วังจันทร์", "วัลเลย์", "ตั้งอยู่")))
    ['อยู่']
    """
    said = set(unit_tokens)
    found = set()
    for t in asked - said:
        for u in said:
            if len(u) > len(t) and ((u.startswith(t) and u[len(t):] in _thai_words())
                                    or (u.endswith(t) and u[:-len(t)] in _thai_words())):
                found.add(t)
                break
    return frozenset(found)


@lru_cache(maxsize=1)
def _thai_words() -> frozenset[str]:
    from pythainlp.corpus import thai_words

    return frozenset(thai_words())


def word_vectors(index: "Index", words, embedder) -> dict[str, np.ndarray]:
    """USE-m3 vectors of single words (a dict holding at least `words`): read from the build's unit store when it
    has them, else embedded; cached per index (its vocabulary changes only with a new build)."""
    cache = index.cache.setdefault("word_vectors", {})
    missing = [w for w in dict.fromkeys(words) if w not in cache]
    stored = index.unit_store.word_rows if index.unit_store is not None else None
    if missing and stored:
        found = [w for w in missing if w in stored]
        if found:
            rows = np.asarray(index.unit_store.word_vectors[[stored[w] for w in found]], dtype=np.float32)
            cache.update(zip(found, rows))
            missing = [w for w in missing if w not in stored]
    if missing:
        for w, v in zip(missing, embedder.embed_batch(missing, is_query=False)):
            cache[w] = np.asarray(v, dtype=np.float32)
    if len(cache) > 100_000:  # ~200 MB: a bound for a long-running server over a huge vocabulary
        kept = {w: cache[w] for w in dict.fromkeys(words)}
        cache.clear()
        cache.update(kept)
    return cache


def soft_overlap(weights: dict[str, float], tokens, vectors: dict[str, np.ndarray]) -> float:
    """The IDF-weighted share of the question's words that the unit says, each counted by its nearest word
    in the unit by meaning ("final" ~ "last", "จังหวัด" ~ "province"): overlap that survives paraphrase,
    inflection and the other language."""
    total = math.fsum(weights.values())
    if not total or not tokens:
        return 0.0
    # Sorted, and summed exactly: a set's order changes with the process's hash seed, and float32 products
    # of a matrix stacked in another order differ in the last bits, which moved answers across a tree's split.
    unit = np.stack([vectors[t] for t in sorted(tokens)])
    return math.fsum(w * (1.0 if t in tokens else max(0.0, float((unit @ vectors[t]).max())))
                     for t, w in weights.items()) / total
