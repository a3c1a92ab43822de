"""Load test of the web UI: concurrent gradio_client clients ask the gold questions through the chat endpoint.

    python evals/bench_ui.py                         # starts the app on a free port over MUANG_INDEX_DIR
    python evals/bench_ui.py --url http://127.0.0.1:7860/ --clients 20

Each client asks its share of the questions one after another (each waits for the full streamed answer);
all clients run at the same time. Prints p50/p95/max latency and the failure count; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
ENDPOINT = "/ask"  # the chat textbox's submit event (api_name="ask" in ui/app.py)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running app (default: start one here)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--set", dest="gold", type=Path, default=ROOT / "evals" / "gold.jsonl")
    parser.add_argument("--questions", type=int, default=0, help="ask only the first N questions (0: all)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    from gradio_client import Client

    rows = [json.loads(line) for line in args.gold.read_text(encoding="utf-8").splitlines() if line.strip()]
    if args.questions:
        rows = rows[: args.questions]
    app = None
    url = args.url
    if not url:
        from assistant.config import Settings
        from ui.app import launch

        port = free_port()
        app = launch(Settings.load(), port=port, block=False)
        url = f"http://127.0.0.1:{port}/"

    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    shares = [rows[i:: args.clients] for i in range(args.clients)]
    ready = threading.Barrier(args.clients)

    def client_run(share: list[dict]) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # counted, not raised: the report lists it
            with lock:
                failures.append(f"connect: {type(exc).__name__}: {exc}")
            ready.wait()
            return
        ready.wait()
        for row in share:
            started = time.perf_counter()
            try:
                chat, _sources, _box, *_ = client.predict(row["question"], "any", "any", "any", api_name=ENDPOINT)
                content = chat[-1]["content"]
                text = content if isinstance(content, str) else " ".join(
                    part.get("text", "") for part in content if isinstance(part, dict))
                if chat[-1]["role"] != "assistant" or not text or "⛔" in text:
                    raise RuntimeError(f"no answer: {text[:120]!r}")
            except Exception as exc:
                with lock:
                    failures.append(f"{row['id']}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=client_run, args=(share,)) for share in shares if share]
    if len(threads) < args.clients:
        ready = threading.Barrier(len(threads))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if app is not None:
        app.close()

    report = {
        "url": url, "clients": len(threads), "questions": len(rows), "answered": len(latencies),
        "failures": len(failures), "wall_s": round(wall, 2),
        "throughput_qps": round(len(latencies) / wall, 2) if wall else None,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p95_s": round(percentile(latencies, 0.95), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>15}  {value}")
        for failure in failures[:10]:
            print(f"  failed: {failure}")
    return 1 if failures or not latencies else 0


if __name__ == "__main__":
    sys.exit(main())
