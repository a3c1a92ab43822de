"""Print the README's performance tables (Markdown) from the benchmark results in evals/results/*.json.

    .venv/bin/python evals/bench_report.py > /tmp/perf.md      # after `make bench` (BENCH_100K=1 for 100k rows)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def load(name: str) -> dict | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def md(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join("—" if c is None else str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt(value, digits: int = 0) -> str | None:
    if value is None:
        return None
    return f"{value:,.{digits}f}"


def indexing(data: dict, title: str) -> str:
    rows = [[r["lang"], r["embedder"] + (" + parallel chunking (proposed)" if r.get("parallel_chunking") else ""),
             fmt(r["pages"]), fmt(r["chunks"]), fmt(r["seconds"], 1), fmt(r["pages_per_s"], 1),
             fmt(r["chunks_per_s"], 1), ", ".join(f"{k} {v:.1f}" for k, v in r["stages_s"].items())]
            for r in data["runs"]]
    return f"{title}\n\n" + md(["text", "embedder", "pages", "chunks", "s", "pages/s", "chunks/s", "stages (s)"],
                               rows)


def latency(data: dict, title: str) -> str:
    rows = []
    for r in data["runs"]:
        c = r["cold_stages_s"]
        rows.append([fmt(r["chunks"]), r["config"], r["store"], fmt(r["ask"]["p50_ms"]), fmt(r["ask"]["p95_ms"]),
                     fmt(r["search"]["p50_ms"]), fmt(r["search"]["p95_ms"]), fmt(r["filtered_search"]["p50_ms"]),
                     fmt(r["muang_ask"]["p50_ms"] and r["muang_ask"]["p50_ms"] / 1000, 1),
                     f"{c['models']:.1f} / {c['open_index']:.1f} / {c['first_answer']:.1f}", fmt(r["rss_mb"])])
    return f"{title}\n\n" + md(["chunks", "embedder", "vectors", "ask p50 ms", "ask p95 ms", "search p50 ms",
                                "search p95 ms", "filtered search p50 ms", "`muang ask` s", "cold start: models / "
                                "open / 1st answer s", "RSS MiB"], rows)


def serve(data: dict) -> str:
    rows = [[fmt(r["chunks"]), r["label"], fmt(r["rss_after_load_mb"]), fmt(r["rss_after_answers_mb"]),
             fmt(r.get("chroma_server_rss_mb")), fmt(r["ready_s"], 1)] for r in data["runs"]]
    return md(["chunks", "vectors", "RSS after start MiB", "RSS after 5 answers MiB", "`chroma run` RSS MiB",
               "ready s"], rows)


def naive(data: dict) -> str:
    tasks = ["th→th", "en→en", "th→en", "en→th", "gold"]
    rows = []
    for name, lat in data["latency"].items():
        by = data["retrieval"].get(name, {})
        rows.append([name] + [f"{by[t]['recall@1']:.3f} / {by[t]['recall@5']:.3f}" if t in by else None
                              for t in tasks] + [fmt(lat["p50_ms"], 1), fmt(lat["p95_ms"], 1)])
    return md(["system"] + [f"{t} R@1 / R@5" for t in tasks] + ["p50 ms", "p95 ms"], rows)


def main() -> int:
    parts = []
    if (data := load("bench_naive")) is not None:
        parts.append("**Muang vs the naive LangChain stack** (`evals/bench_naive.py`)\n\n" + naive(data))
    if (data := load("bench_indexing")) is not None:
        parts.append(indexing(data, "**Indexing from scratch** (`evals/bench_indexing.py`; 1 page = 2,000 "
                                    "characters of real text)"))
    if (data := load("bench_indexing_proposed")) is not None:
        parts.append(indexing(data, "With the proposed `embedding.py` change (`MUANG_BENCH_PROPOSED=1`)"))
    if (data := load("bench_indexing_parallel")) is not None:
        parts.append(indexing(data, "Prototype of the proposed `indexing.py` change, files chunked by a process "
                                    "pool (`bench_indexing.py --parallel-chunking --out bench_indexing_parallel`)"))
    if (data := load("bench_latency")) is not None:
        parts.append(latency(data, "**Query latency** (`evals/bench_latency.py`; warm, in-process unless noted)"))
    if (data := load("bench_latency_proposed")) is not None:
        parts.append(latency(data, "With the proposed `embedding.py` change (`MUANG_BENCH_PROPOSED=1 ... "
                                   "--busy 1`)"))
    if (data := load("bench_serve")) is not None:
        parts.append("**`muang serve` memory** (`evals/bench_serve.py`)\n\n" + serve(data))
    print("\n\n".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
