"""Tune the extractive answer: sentence-score weights and when to add a second sentence.

Retrieves once per question, computes every candidate sentence's features once, then scores the grid in
numpy. Uses the XQuAD indexes built by evals/bench_retrieval.py (index/xquad/th, index/xquad/en) and the
corpus index (MUANG_INDEX_DIR, default ./index) with evals/gold.jsonl.

    .venv/bin/python evals/tune_answer.py [--limit N]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.answering import READ, pick_sentences, sentence_features  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.documents import detect_lang  # noqa: E402
from assistant.evaluation import contains_answer  # noqa: E402
from assistant.lexical import content_tokens  # noqa: E402
from assistant.retrieval import Index, search  # noqa: E402

XQUAD = ROOT.parent / "shared" / "benchmarks" / "xquad"


def prepare(index: Index, rows: list[dict]) -> list[tuple[dict, list, object]]:
    out = []
    for row in rows:
        question = row["question"]
        hits = search(index, question, k=READ)
        out.append((row, *sentence_features(index, question, detect_lang(question), content_tokens(question), hits)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()
    sets = {}
    for lang in ("th", "en"):
        rows = [json.loads(x) for x in (XQUAD / f"questions.{lang}.jsonl").read_text().splitlines() if x]
        rows = rows[: args.limit] if args.limit else rows
        sets[f"xquad-{lang}"] = prepare(Index(Settings.load(index_dir=ROOT / "index" / "xquad" / lang)), rows)
    gold = [json.loads(x) for x in (ROOT / "evals" / "gold.jsonl").read_text().splitlines() if x]
    sets["gold"] = prepare(Index(Settings.load()), [r for r in gold if r.get("answer_contains")])

    results = []
    for weights in itertools.product([1.0], [0.5, 1.0, 1.5], [0.25, 0.5, 1.0], [0.0, 0.2, 0.4, 0.6]):
        for ratio in (0.7, 0.8, 0.9, 1.01):
            cells = {}
            for name, items in sets.items():
                ok = 0
                for row, candidates, features in items:
                    picked = pick_sentences(candidates, features, weights, ratio)
                    ok += contains_answer(" ".join(s for _, s in picked), row["answer_contains"])
                cells[name] = ok / len(items)
            results.append((sum(cells.values()) / len(cells), weights, ratio, cells))
    results.sort(key=lambda r: -r[0])
    for mean, weights, ratio, cells in results[:15]:
        print(f"{mean:.3f}  weights={weights} second_ratio={ratio}  " +
              "  ".join(f"{k} {v:.3f}" for k, v in cells.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
