"""XQuAD retrieval and answering benchmark: BM25 alone, each dense embedder alone, and Muang's hybrid.

Tasks (../shared/benchmarks/xquad/README.md): th→th, en→en, th→en, en→th. Prints Recall@1 / Recall@5 /
MRR@10 per retriever and task, the default configuration's margin over the README's best baseline, and the
extractive answer accuracy on th→th and en→en. Writes evals/results/bench_retrieval.json.

    .venv/bin/python evals/bench_retrieval.py [--xquad ../shared/benchmarks/xquad] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answer.answering import answer  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation import contains_answer, ranked_docs  # noqa: E402
from assistant.index.indexing import build_index  # noqa: E402
from assistant.answer.retrieval import Index, search  # noqa: E402

TASKS = [("th", "th"), ("en", "en"), ("th", "en"), ("en", "th")]
# The best baseline per task in ../shared/benchmarks/xquad/README.md: (Recall@1, MRR@10).
BAR = {"th→th": (0.933, 0.960), "en→en": (0.936, 0.963), "th→en": (0.788, 0.866), "en→th": (0.786, 0.865)}
ANSWER_BASELINE = {"th": 0.560, "en": 0.668}


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks) or 1
    return {
        "recall@1": round(sum(1 for r in ranks if r == 1) / n, 4),
        "recall@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
        "mrr@10": round(sum(1 / r for r in ranks if r and r <= 10) / n, 4),
    }


def rank_of(gold: list[str], docs: list[str]) -> int | None:
    return next((i + 1 for i, d in enumerate(docs[:10]) if d in gold), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "xquad")
    parser.add_argument("--index-root", type=Path, default=ROOT / "index" / "xquad")
    parser.add_argument("--limit", type=int, default=0, help="only the first N questions per language")
    args = parser.parse_args()
    if not (args.xquad / "questions.th.jsonl").exists():
        print(f"no XQuAD files in {args.xquad}", file=sys.stderr)
        return 2

    base = Settings.load()
    indexes = {}
    for lang in ("th", "en"):
        settings = Settings.load(index_dir=args.index_root / lang, embedder=base.embedder)
        build_index(settings, [args.xquad / "passages" / lang], progress=True)
        indexes[lang] = Index(settings)
    for index in indexes.values():  # one query embedding per question and embedder, shared by every run
        for embedder in index.embedders:
            embedder.embed_query = lru_cache(maxsize=None)(embedder.embed_query)

    questions = {}
    for lang in ("th", "en"):
        rows = [json.loads(x) for x in (args.xquad / f"questions.{lang}.jsonl").read_text().splitlines() if x]
        questions[lang] = rows[: args.limit] if args.limit else rows

    retrievers = {"bm25": ("bm25",)} | {e.name: (e.name,) for e in indexes["th"].embedders}
    retrievers["hybrid (default)"] = None
    results: dict[str, dict[str, dict[str, float]]] = {}
    started = time.monotonic()
    for q_lang, p_lang in TASKS:
        task = f"{q_lang}→{p_lang}"
        for name, signals in retrievers.items():
            if name == "bm25" and q_lang != p_lang:
                continue  # BM25 across languages is noise; the hybrid does not use it there either
            ranks = [
                rank_of(row["gold_docs"], ranked_docs(h.doc_id for h in search(
                    indexes[p_lang], row["question"], k=30, signals=signals)))
                for row in questions[q_lang]
            ]
            results.setdefault(name, {})[task] = metrics(ranks)
            print(f"{task:6} {name:17} " + " ".join(f"{v:.3f}" for v in results[name][task].values()),
                  file=sys.stderr, flush=True)

    accuracy = {}
    for lang in ("th", "en"):
        rows = questions[lang]
        ok = sum(contains_answer(answer(indexes[lang], r["question"]).answer, r["answer_contains"]) for r in rows)
        accuracy[lang] = round(ok / len(rows), 4)

    print(f"\nXQuAD dev half, {len(questions['th'])} questions per language; cells: Recall@1 / Recall@5 / MRR@10")
    print(f"{'retriever':18}" + "".join(f"{q}→{p:<18}" for q, p in TASKS))
    for name, by_task in results.items():
        cells = "".join(
            f"{'/'.join(f'{v:.3f}' for v in by_task[f'{q}→{p}'].values()):<20}" if f"{q}→{p}" in by_task
            else f"{'-':<20}" for q, p in TASKS)
        print(f"{name:18}{cells}")
    print("\ndefault vs best baseline (Recall@1, MRR@10):")
    passed = True
    for task, (r1, mrr) in BAR.items():
        got = results["hybrid (default)"][task]
        ok = got["recall@1"] >= r1 and got["mrr@10"] >= mrr
        passed &= ok
        print(f"  {task}: {got['recall@1']:.3f} vs {r1:.3f}, {got['mrr@10']:.3f} vs {mrr:.3f}  "
              f"{'ok' if ok else 'BELOW'}")
    print("extractive answer accuracy (default path; abstentions count as wrong):")
    for lang, value in accuracy.items():
        print(f"  {lang}→{lang}: {value:.3f} (baseline {ANSWER_BASELINE[lang]:.3f})")
    print(f"({time.monotonic() - started:.0f} s, embedder {base.embedder})")

    out = ROOT / "evals" / "results" / "bench_retrieval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"embedder": base.embedder, "questions_per_lang": len(questions["th"]),
                               "retrieval": results, "answer_accuracy": accuracy, "bar": BAR,
                               "default_beats_bar": passed}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    raise SystemExit(main())
