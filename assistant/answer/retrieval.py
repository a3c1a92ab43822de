"""Hybrid retrieval: BM25 and dense embedders, each list z-scored, summed with weights chosen by language.

Which signals count depends on whether a chunk is in the question's language:
  same language:  z(primary embedder) + 0.75 z(BM25)
  other language: z(primary embedder) + 0.75 z(other embedders)
BM25 across languages only matches stray Latin words and digits inside Thai text (noise), and USE-m3 within
one language is weaker than BM25 and e5 and dilutes them. Each retriever contributes its own top-50 list,
z-scored over that list; a chunk missing from a list gets the list's lowest z. Rank fusion (RRF) was measured
and left behind: it cannot use how far apart the scores are, which is what carries cross-lingual retrieval.
Measurements: evals/bench_retrieval.py and evals/tune_fusion.py on the XQuAD development half.

Filters are applied from the chunk records this process holds (the same metadata Chroma stores), not by
Chroma's metadata filter, which costs ~180 ms per collection at 100k chunks: a dense list is the nearest
neighbours over-fetched without a filter and then filtered, or, for a rare filter, a search restricted to
the allowed ids (evals/bench_latency.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import math

import numpy as np

from assistant.index import store, unit_store
from assistant.config import Settings
from assistant.ingest.documents import SMARTS, KINDS, detect_lang
from assistant.index.embedding import get_embedders
from assistant.errors import MuangError
from assistant.index.lexical import LexicalIndex, content_tokens
from assistant.ingest.units import Unit
from assistant.ingest.chunking import normalize
from assistant.answer.questions import defines, titled

if TYPE_CHECKING:
    from assistant.answer.analysis import Question

CANDIDATES = 50
W_LEXICAL = 0.75  # BM25, same-language chunks only
W_CROSS = 0.75    # the other embedders, other-language chunks only
OVERFETCH_MAX = 2000  # filtered dense search: over-fetch up to this many neighbours, else search by ids


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
class Candidate:
    """One answer unit of a retrieved chunk, with the chunk's rank: what selection and the reader judge."""

    hit: Hit
    unit: Unit
    rank: int


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
        return self.allows_doc(doc) and (not self.lang or chunk["lang"] == self.lang)

    def allows_doc(self, doc: dict[str, Any]) -> bool:
        return (
            (not self.city or doc.get("city") == self.city)
            and (not self.smart or self.smart in (doc.get("smarts") or []))
            and (not self.kind or doc.get("kind") == self.kind)
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
        # A build committed before its slow embedders' vectors (background.build_in_background): search with
        # the embedders that are there.
        self.embedders = [e for e in self.embedders if e.name not in self.manifest.get("missing", [])]
        self.docs: dict[str, dict[str, Any]] = store.read_json(folder / "docs.json")
        self.chunks = store.read_chunks(folder / "chunks.jsonl")
        self.position = {c["chunk_id"]: i for i, c in enumerate(self.chunks)}
        self.doc_chunks: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self.doc_chunks.setdefault(c["doc_id"], []).append(i)
        self.chunk_lang = np.array([c["lang"] for c in self.chunks])
        self.chunk_ids = np.array([c["chunk_id"] for c in self.chunks], dtype=object)
        self._doc_order = list(self.doc_chunks)
        self._chunk_doc = np.empty(len(self.chunks), dtype=np.int32)
        for d, positions in enumerate(self.doc_chunks.values()):
            self._chunk_doc[positions] = d
        self._masks: dict[tuple, np.ndarray] = {}
        self._cities: set[str] | None = None
        self.lexical = LexicalIndex.load(folder / "bm25")
        self.vectors = store.open_vectors(settings, build)
        self.unit_store = (unit_store.UnitStore.open(folder / "units")
                           if any(e.name == unit_store.EMBEDDER for e in self.embedders) else None)
        self._doc_tokens: dict[str, frozenset[str]] = {}
        self._catalog: list | None = None
        # Derived data of this build computed on first use (answer units, their vectors): a build never
        # changes once committed, so nothing here goes stale.
        self.cache: dict[str, dict] = {}

    def is_current(self) -> bool:
        """Whether this is still the build queries should read (a later `muang index` may have committed)."""
        return store.current_build(self.settings) == self.build

    def doc_tokens(self, doc_id: str) -> frozenset[str]:
        """Content words of a whole document (title and every chunk), computed once per document."""
        cached = self._doc_tokens.get(doc_id)
        if cached is None:
            doc = self.docs[doc_id]
            text = " ".join([doc.get("title", "")] + [self.chunks[i]["text"] for i in self.doc_chunks[doc_id]])
            cached = self._doc_tokens[doc_id] = frozenset(content_tokens(text))
        return cached

    def cities(self) -> set[str]:
        if self._cities is None:
            self._cities = {d["city"] for d in self.docs.values() if d.get("city")}
        return self._cities

    def catalog(self) -> list:
        """The cities catalog of this build (assistant.answer.catalog.City rows), built once."""
        if self._catalog is None:
            from assistant.answer.catalog import build_catalog

            self._catalog = build_catalog(self.docs)
        return self._catalog

    def allowed(self, filters: Filters) -> np.ndarray | None:
        """Which chunks pass `filters` (a boolean array in chunk order), or None when nothing is filtered."""
        if not filters.where():
            return None
        key = (filters.city, filters.smart, filters.kind, filters.lang)
        mask = self._masks.get(key)
        if mask is None:
            doc_ok = np.array([filters.allows_doc(self.docs[d]) for d in self._doc_order] or [False], dtype=bool)
            mask = doc_ok[self._chunk_doc]
            if filters.lang:
                mask &= self.chunk_lang == filters.lang
            if len(self._masks) >= 64:
                self._masks.clear()
            self._masks[key] = mask
        return mask

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


def zscores(scores: dict[str, float]) -> dict[str, float]:
    """Standard scores within one retriever's candidate list.

    >>> zscores({"a": 3.0, "b": 1.0})
    {'a': 1.0, 'b': -1.0}
    """
    if not scores:
        return {}
    values = np.fromiter(scores.values(), dtype=np.float64)
    std = values.std() or 1.0
    return {key: float((value - values.mean()) / std) for key, value in scores.items()}


def fuse(lists: dict[str, dict[str, float]], chunk_lang: dict[str, str], q_lang: str, primary: str) -> dict[str, float]:
    """Language-aware weighted sum of z-scores (see the module docstring)."""
    z = {name: zscores(scores) for name, scores in lists.items()}
    floor = {name: min(values.values()) if values else 0.0 for name, values in z.items()}
    others = [name for name in z if name not in (primary, "bm25")]
    fused: dict[str, float] = {}
    for chunk_id in set().union(*[set(v) for v in z.values()]) if z else ():
        def get(name: str) -> float:
            return z[name].get(chunk_id, floor[name]) if name in z else 0.0

        score = get(primary)
        if chunk_lang[chunk_id] == q_lang:
            score += W_LEXICAL * get("bm25")
        elif others:
            score += W_CROSS * sum(get(name) for name in others) / len(others)
        fused[chunk_id] = score
    return fused


def top_positions(scores: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Positions of the `k` highest scores among those where `mask` holds, best first, ties by position:
    the same as a stable argsort, without sorting every chunk.

    >>> top_positions(np.array([1.0, 3.0, 5.0, 3.0, 2.0]), np.array([1, 1, 0, 1, 1], dtype=bool), 3).tolist()
    [1, 3, 4]
    """
    positions = np.flatnonzero(mask)
    if len(positions) > k > 0:
        values = scores[positions]
        threshold = np.partition(values, len(values) - k)[len(values) - k]
        positions = positions[values >= threshold]
    order = positions[np.lexsort((positions, -scores[positions]))]
    return order[:k]


def dense(index: Index, embedder, vector: np.ndarray, allowed: np.ndarray | None) -> dict[str, float]:
    """One embedder's candidate list (chunk_id -> cosine), restricted to the `allowed` chunks if given."""
    if allowed is None:
        return dict(index.vectors.query(embedder, vector, CANDIDATES))
    count = int(allowed.sum())
    if count == 0:
        return {}
    n = math.ceil(CANDIDATES * len(allowed) / count * 1.2)
    if n <= OVERFETCH_MAX:  # the allowed chunks are common: filter the nearest neighbours of all chunks
        found = index.vectors.query(embedder, vector, n)
        kept = [(cid, score) for cid, score in found if allowed[index.position[cid]]]
        if len(kept) >= min(CANDIDATES, count) or len(found) >= len(allowed):
            return dict(kept[:CANDIDATES])
    return dict(index.vectors.query(embedder, vector, CANDIDATES, ids=list(index.chunk_ids[allowed])))


def query_vector(index: Index, embedder, text: str) -> np.ndarray:
    """A question's vector, embedded once: retrieval and the answer's selection features both need it
    (embedding it twice cost ~15 ms of a 10k-chunk answer)."""
    cache = index.cache.setdefault("query_vectors", {})
    key = (embedder.name, text)
    vector = cache.get(key)
    if vector is None:
        vector = embedder.embed_query(text)
        if len(cache) > 1000:
            cache.clear()
        cache[key] = vector
    return vector


def search(
    index: Index,
    query: str,
    k: int = 5,
    filters: Filters | None = None,
    signals: tuple[str, ...] | None = None,
) -> list[Hit]:
    """The `k` best chunks for `query`, fused from BM25 (same language only) and the dense embedders.

    `signals` restricts the retrievers used (e.g. ("bm25",)) for evaluation; default: all.
    """
    filters = filters or Filters()
    index.check_filters(filters)
    q_lang = detect_lang(query)
    allowed = index.allowed(filters)
    lists: dict[str, dict[str, float]] = {}

    if signals is None or "bm25" in signals:
        bm25 = index.lexical.scores(query)
        mask = (index.chunk_lang == q_lang) & (bm25 > 0)
        if allowed is not None:
            mask &= allowed
        order = top_positions(bm25, mask, CANDIDATES)
        lists["bm25"] = {index.chunks[i]["chunk_id"]: float(bm25[i]) for i in order}
    for embedder in index.embedders:
        if signals is None or embedder.name in signals:
            lists[embedder.name] = dense(index, embedder, query_vector(index, embedder, query), allowed)

    primary = next((e.name for e in index.embedders if e.name in lists), "bm25")
    chunk_lang = {cid: index.chunks[index.position[cid]]["lang"] for values in lists.values() for cid in values}
    fused = fuse(lists, chunk_lang, q_lang, primary)
    best = sorted(fused.items(), key=lambda item: (-item[1], item[0]))[:k]
    return [hit_at(index, index.position[chunk_id], score,
                   {name: values[chunk_id] for name, values in lists.items() if chunk_id in values})
            for chunk_id, score in best]


def hit_at(index: Index, position: int, score: float, signals: dict[str, float] | None = None) -> Hit:
    """The indexed chunk at a position, as a hit with this score."""
    record = index.chunks[position]
    return Hit(chunk_id=record["chunk_id"], doc_id=record["doc_id"], text=record["text"], lang=record["lang"],
               score=score, doc=index.docs[record["doc_id"]], section=record.get("section", ""),
               signals=signals or {})


DEFINING_POOL = 500  # chunks naming the term (best BM25 first) looked through for one that defines it


def defined_first(index: Index, question: "Question", hits: list[Hit], filters: Filters | None,
                  read: int) -> list[Hit]:
    """The hits of a "what is X" question with a chunk that defines X among the chunks answers are read from.
    A term such as "TSCCI" is named in many chunks, and retrieval ranks those that say much about it above
    the one sentence that says what it is ("TSCCI ย่อมาจาก ..."): the best such chunk in the question's
    language (BM25 over the term) is put first, unless one already is among the first `read` hits (the
    chunks answers are read from), one of the document whose title names the term first."""
    if not question.defines:
        return hits
    scores = index.lexical.scores(normalize(question.defines))
    allowed = index.allowed(filters or Filters())
    mask = (scores > 0) & (index.chunk_lang == question.lang)
    if allowed is not None:
        mask &= allowed
    defining = [i for i in top_positions(scores, mask, DEFINING_POOL)
                if defines(index.chunks[i]["text"], question.defines)]
    # the document about the term ("Thailand Smart City Competitiveness Index (TSCCI): 2023 scores ...") defines
    # it where it says what it is; another glosses it in passing ("... ranked third in depa's ... (TSCCI)")
    about = [i for i in defining if titled(index.docs[index.chunks[i]["doc_id"]], question.defines)]
    if not defining or any(index.position[h.chunk_id] in (about or defining) for h in hits[:read]):
        return hits
    first = hit_at(index, (about or defining)[0], hits[0].score if hits else 1.0, {"definition": 1.0})
    return [first, *(h for h in hits if h.chunk_id != first.chunk_id)]
