"""Resident memory of `muang serve` (the Gradio app) at 10k and 100k chunks, after loading and answering.

Starts `muang serve --port P` over a synthetic index (evals/bench_lib.py), waits until it answers HTTP, asks
a few Thai and English questions through the chat endpoint (gradio_client, like evals/bench_ui.py), then
reads the resident memory (VmRSS, and the peak VmHWM) of the process and its children from /proc.

    .venv/bin/python evals/bench_serve.py                 # 1k and 10k; 100k too with MUANG_BENCH_100K=1
    .venv/bin/python evals/bench_serve.py --sizes 10000 --server   # also with the vectors on `chroma run`
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lib  # noqa: E402
from bench_lib import BIN, ROOT, log, table, write_result  # noqa: E402

TARGET_MB = 1536  # at 10k chunks
QUESTIONS = ["แม่เมาะอยู่จังหวัดไหน", "Which province is Mae Moh Smart City in?", "วังจันทร์วัลเลย์เป็นของใคร",
             "How many Smarts does Phuket cover?", "เมืองอัจฉริยะภูเก็ตมีกี่ด้าน"]


def measure(settings, env: dict, label: str) -> dict:
    bench_lib.wait_quiet()
    port = bench_lib.free_port()
    env = dict(env, MUANG_INDEX_DIR=str(settings.index_dir), MUANG_EMBEDDER=settings.embedder)
    started = time.perf_counter()
    process = subprocess.Popen([str(BIN / "muang"), "serve", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=1).read()
                break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"muang serve exited: {process.stderr.read()[-2000:]}") from None
                if time.perf_counter() - started > 180:
                    raise RuntimeError("muang serve did not answer within 180 s") from None
                time.sleep(0.2)
        ready_s = time.perf_counter() - started
        rss_loaded = bench_lib.tree_rss_mb(process.pid)
        answered, error = 0, ""
        try:
            from gradio_client import Client

            client = Client(url, verbose=False)
            for question in QUESTIONS:
                client.predict(question, "any", "any", "any", api_name="/ask")
                answered += 1
        except Exception as exc:  # the endpoint belongs to ui/ (another module's contract): report, go on
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        rss = bench_lib.tree_rss_mb(process.pid)
        peak = round(bench_lib.proc_status(process.pid).get("VmHWM", 0) / 1024, 1)
    finally:
        bench_lib.stop(process)
    return {"label": label, "chunks": None, "ready_s": round(ready_s, 1), "rss_after_load_mb": rss_loaded,
            "rss_after_answers_mb": rss, "peak_rss_mb": peak, "answered": answered, "error": error,
            "load_avg": bench_lib.load(), "date": time.strftime("%Y-%m-%d %H:%M")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_sizes = "1000,10000,100000" if os.environ.get("MUANG_BENCH_100K") == "1" else "1000,10000"
    parser.add_argument("--sizes", default=default_sizes)
    parser.add_argument("--configs", default="e5+usem3")
    parser.add_argument("--server", action="store_true", help="also measure with the vectors on `chroma run`")
    parser.add_argument("--fresh", action="store_true", help="drop earlier runs kept in the result file")
    args = parser.parse_args(argv)
    env = dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", GRADIO_ANALYTICS_ENABLED="False")
    env.pop("MUANG_CHROMA_URL", None)
    results = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        for spec in [c for c in args.configs.split(",") if c]:
            settings = bench_lib.synthetic_settings(size, spec)
            log(f"muang serve over {size} chunks ({spec})")
            got = measure(settings, env, "embedded")
            got.update(chunks=size, config=spec)
            results.append(got)
            log(f"  {got}")
        if args.server:
            with bench_lib.ChromaServer() as server:
                settings = bench_lib.synthetic_settings(size, "e5+usem3", chroma_url=server.url)
                got = measure(settings, dict(env, MUANG_CHROMA_URL=server.url), "chroma run")
                got.update(chunks=size, config="e5+usem3", chroma_server_rss_mb=bench_lib.tree_rss_mb(server.pid))
                results.append(got)
                log(f"  {got}")
    out_path = ROOT / "evals" / "results" / "bench_serve.json"
    if out_path.exists() and not args.fresh:  # keep the runs of other sizes and modes
        new = {(r["chunks"], r["config"], r["label"]) for r in results}
        old = json.loads(out_path.read_text(encoding="utf-8")).get("runs", [])
        results = [r for r in old if (r["chunks"], r["config"], r["label"]) not in new] + results
        results.sort(key=lambda r: (r["chunks"], r["label"] != "embedded"))
    rows = [[r["chunks"], r["config"], r["label"], r["ready_s"], r["rss_after_load_mb"], r["rss_after_answers_mb"],
             r["peak_rss_mb"], f"{r['answered']}/{len(QUESTIONS)}", r.get("chroma_server_rss_mb")] for r in results]
    print("\n`muang serve` resident memory (MiB; process and children); sizes above ~700 chunks are synthetic")
    print(table(rows, ["chunks", "embedder", "vectors", "ready s", "RSS loaded", "RSS after answers", "peak",
                       "answered", "chroma run RSS"]))
    verdict = None
    ten = next((r for r in results if r["chunks"] == 10000 and r["label"] == "embedded"), None)
    if ten:
        verdict = (f"10k chunks: {ten['rss_after_answers_mb']:.0f} MiB (target < {TARGET_MB} MiB): "
                   f"{'met' if ten['rss_after_answers_mb'] < TARGET_MB else 'MISSED'}")
        print(verdict)
    for r in results:
        if r["error"]:
            print(f"  note: {r['chunks']} chunks: asking through the UI failed ({r['error']}); memory is after load")
    path = write_result("bench_serve", {"runs": results, "target": verdict})
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
