"""Answer quality on every question set, in one before/after table.

    .venv/bin/python evals/bench_answers.py --label after            # this checkout
    PYTHONPATH=/path/to/old/checkout .venv/bin/python evals/bench_answers.py --label before
    MUANG_READER=0 .venv/bin/python evals/bench_answers.py --label features   # the feature models alone
    .venv/bin/python evals/bench_answers.py --table                   # print the table of saved runs

Sets: evals/gold.jsonl, evals/conversations.jsonl and evals/unanswerable.jsonl over corpus/; XQuAD dev
(../shared/benchmarks/xquad, th and en); iapp-train (../shared/benchmarks/iapp-train). For each, "held-out"
rows are the part no training or tuning saw (evals/splits.py: one document in five); the model in
assistant/models/ was trained on the rest (the reader also leaves out a calibration part, on which its
answerability is fitted: evals/calibrate_reader.py). A run with the neural reader (the default) and one with
MUANG_READER=0 (the feature models that came before it) give the two columns side by side. Indexes use the default embedders and are built once under
index/bench-answers/ (MUANG_BENCH_ANSWERS_DIR). Columns: answer accuracy (answerable questions whose answer
contains the gold span), abstention on unanswerable (`who: out`), false abstention (answerable questions
answered unconfidently), Recall@1 and MRR@10. Results: evals/results/bench_answers_<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(os.environ.get("PYTHONPATH") or ROOT).split(os.pathsep)[0])
sys.path.insert(1, str(ROOT / "evals"))

import numpy as np  # noqa: E402

from assistant.answer.answering import answer  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation import evaluate, load_gold, ranked_docs  # noqa: E402
from assistant.index.indexing import build_index  # noqa: E402
from assistant.answer.retrieval import Index  # noqa: E402
from splits import held_out  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"
RESULTS = ROOT / "evals" / "results"
SETS = {
    # name: (documents, questions)
    "gold": (ROOT / "corpus", ROOT / "evals" / "gold.jsonl"),
    "conversations": (ROOT / "corpus", ROOT / "evals" / "conversations.jsonl"),
    "unanswerable": (ROOT / "corpus", ROOT / "evals" / "unanswerable.jsonl"),
    "fresh": (ROOT / "corpus", ROOT / "evals" / "fresh.jsonl"),
    "xquad-th": (SHARED / "xquad" / "passages" / "th", SHARED / "xquad" / "questions.th.jsonl"),
    "xquad-en": (SHARED / "xquad" / "passages" / "en", SHARED / "xquad" / "questions.en.jsonl"),
    "iapp": (SHARED / "iapp-train" / "passages" / "th", SHARED / "iapp-train" / "questions.th.jsonl"),
}
COLUMNS = ("n", "answer_accuracy", "abstain_rate_out", "false_abstention", "recall@1", "mrr@10")


def index_for(documents: Path, root: Path) -> Index:
    folder = root / ("corpus" if documents == ROOT / "corpus" else documents.parent.parent.name + "-" + documents.name)
    settings = Settings.load(index_dir=folder)
    if not (folder / "CURRENT").exists():
        print(f"building {folder} from {documents} ...", file=sys.stderr)
        build_index(settings, [documents])
    return Index(settings)


def run(name: str, index: Index, rows: list[dict]) -> dict:
    times: list[float] = []

    def ask(question: str, history: list[dict]) -> dict:
        started = time.perf_counter()
        result = answer(index, question, history=history or None)
        times.append(time.perf_counter() - started)
        return {"docs": ranked_docs(s.doc_id for s in result.sources) if result.mode == "catalog" else
                ranked_docs(h.doc_id for h in result.hits) or ranked_docs(s.doc_id for s in result.sources),
                "answer": result.answer, "confident": result.confident}

    started = time.perf_counter()
    report, _ = evaluate(rows, ask)
    confident_in = report.get("confident_rate_in")
    report["false_abstention"] = None if confident_in is None else round(1 - confident_in, 4)
    report["seconds"] = round(time.perf_counter() - started, 1)
    # Per question, warm, on this set's index (at most a few thousand chunks): evals/bench_latency.py measures at scale.
    report["p50_ms"], report["p95_ms"] = (round(float(np.percentile(times, q)) * 1000) for q in (50, 95))
    return {k: report.get(k) for k in (*COLUMNS, "seconds", "p50_ms", "p95_ms", "conversation_accuracy")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--sets", nargs="*", default=list(SETS))
    parser.add_argument("--table", action="store_true", help="only print the table of saved runs")
    parser.add_argument("--part", choices=["all", "held-out"], help="only this part of each set")
    parser.add_argument("--sample", type=int, help="at most this many questions per part (a fixed random sample)")
    args = parser.parse_args()
    if not args.table:
        root = Path(os.environ.get("MUANG_BENCH_ANSWERS_DIR", ROOT / "index" / "bench-answers"))
        out: dict[str, dict] = {}
        for name in args.sets:
            documents, questions = SETS[name]
            if not questions.exists() or not documents.exists():
                print(f"{name}: {questions} or {documents} missing, skipped", file=sys.stderr)
                continue
            index = index_for(documents, root)
            rows = load_gold(questions)
            parts = {"all": rows, "held-out": [r for r in rows if held_out(r)]}
            if name == "iapp" or args.part == "held-out":
                parts = {"held-out": parts["held-out"]}  # iapp: the rest is training data
            elif args.part == "all":
                parts = {"all": rows}
            for part, part_rows in parts.items():
                if args.sample and len(part_rows) > args.sample:
                    part_rows = random.Random(0).sample(part_rows, args.sample)
                if part_rows:
                    out[f"{name} ({part})"] = run(name, index, part_rows)
                    print(f"{name} ({part}): {out[f'{name} ({part})']}", file=sys.stderr)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"bench_answers_{args.label}.json"
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        path.write_text(json.dumps({**saved, **out}, indent=1) + "\n", encoding="utf-8")
    print_table()
    return 0


def print_table() -> None:
    runs = {p.stem.removeprefix("bench_answers_"): json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(RESULTS.glob("bench_answers_*.json"))}
    labels = [l for l in ("before", "after") if l in runs] + [l for l in runs if l not in ("before", "after")]
    sets = list(dict.fromkeys(s for label in labels for s in runs[label]))
    header = "| set | " + " | ".join(f"{c} ({l})" for c in COLUMNS[1:] for l in labels) + " |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for name in sets:
        cells = []
        for column in COLUMNS[1:]:
            for label in labels:
                value = runs[label].get(name, {}).get(column)
                cells.append("—" if value is None else f"{value:.3f}")
        n = next((runs[l][name]["n"] for l in labels if name in runs[l]), "")
        print(f"| {name} (n={n}) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
