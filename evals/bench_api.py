"""Concurrent clients against a real `muang serve` on loopback: the REST API (POST /api/v1/ask), then the LINE
webhook with the local fake LINE platform (tests/fake_line.py) recording the replies.

    python evals/bench_api.py                      # 20 clients, 120 s per phase, 1 worker, ./index
    python evals/bench_api.py --workers 2 --duration 30 --clients 20
    python evals/bench_api.py --only api --hostile 4   # REST alone, then REST beside 4 hostile clients

Starts its own server (`muang serve --workers N`, rate limit off so that 20 clients on one address are not
refused) on the index in MUANG_INDEX_DIR (default ./index; `muang index` first). Questions are the gold set's,
round-robin. Prints answers/s, p50/p95 latency and failures per phase (a failure: a non-200 answer, an answer
without text, or, on LINE, no reply within 60 s), and the 1-minute load average before the run (the machine may
be shared). With --hostile N, the REST phase runs a second time beside N hostile clients that send, in
turn, a 2 MB body (expected: 413) and a long conversation just under the body limit (expected: 200, answered
from its newest messages): the normal clients' p95 should stay within 20% of the first run, with 0 failures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "evals"))

from bench_lib import free_port, stop  # noqa: E402
from fake_line import FakeLine, text_event  # noqa: E402

SECRET = "bench-secret"


def questions(path: Path) -> list[str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("question")]


def start_server(port: int, workers: int, line_url: str, index_dir: str) -> subprocess.Popen:
    env = dict(os.environ, MUANG_RATE_LIMIT="0", MUANG_LINE_CHANNEL_SECRET=SECRET, MUANG_LINE_CHANNEL_TOKEN="bench",
               MUANG_LINE_API_URL=line_url, MUANG_INDEX_DIR=index_dir, HF_HUB_OFFLINE="1",
               GRADIO_ANALYTICS_ENABLED="False")
    muang = Path(sys.executable).parent / "muang"
    process = subprocess.Popen([str(muang), "serve", "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"muang serve exited: {process.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise SystemExit("muang serve did not start in 300 s")
        time.sleep(0.5)


def run_phase(name: str, clients: int, duration: float, one) -> dict:
    """`clients` threads calling one(client_number, question_number) until `duration` seconds have passed."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = itertools.count()
    stop = time.monotonic() + duration

    def client(n: int) -> None:
        while time.monotonic() < stop:
            i = next(counter)
            started = time.monotonic()
            try:
                problem = one(n, i)
            except Exception as exc:  # counted, not raised: the run goes on
                problem = f"{type(exc).__name__}: {exc}"
            elapsed = time.monotonic() - started
            with lock:
                (failures.append(problem) if problem else latencies.append(elapsed))

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    ordered = sorted(latencies)
    return {"phase": name, "clients": clients, "seconds": round(seconds, 1), "answers": len(latencies),
            "answers_per_s": round(len(latencies) / seconds, 2),
            "p50_s": round(statistics.median(ordered), 3) if ordered else None,
            "p95_s": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3) if ordered else None,
            "failures": len(failures), "first_failures": failures[:3]}


class Hostile:
    """Threads sending oversized bodies and long histories until stopped; counts the statuses they get."""

    def __init__(self, base: str, clients: int, question: str) -> None:
        self.base, self.clients, self.question = base, clients, question
        self.statuses: dict[str, int] = {}
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(n,), daemon=True) for n in range(clients)]

    def bodies(self):
        huge = json.dumps({"question": self.question, "padding": "x" * 2_000_000}).encode()
        turns = [{"role": "user" if k % 2 == 0 else "assistant", "content": "ภูเก็ต" * 300} for k in range(120)]
        long_history = json.dumps({"question": self.question, "history": turns}).encode()
        while len(long_history) > 250 * 1024:  # just under the default 256 KB limit
            turns = turns[:-2]
            long_history = json.dumps({"question": self.question, "history": turns}).encode()
        return itertools.cycle([("oversized", huge, 413), ("long history", long_history, 200)])

    def run(self, n: int) -> None:
        for kind, body, expected in self.bodies():
            if self.stopped.is_set():
                return
            request = urllib.request.Request(f"{self.base}/api/v1/ask", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=120) as response:
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError as exc:
                status = type(exc).__name__
            key = f"{kind} -> {status}" + ("" if status == expected else " (unexpected)")
            with self.lock:
                self.statuses[key] = self.statuses.get(key, 0) + 1

    def __enter__(self) -> "Hostile":
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        for thread in self.threads:
            thread.join(timeout=130)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120, help="seconds per phase (default 120)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="muang serve --workers N")
    parser.add_argument("--set", type=Path, default=ROOT / "evals" / "gold.jsonl", help="questions (JSONL)")
    parser.add_argument("--only", choices=("api", "line"), help="run one phase")
    parser.add_argument("--hostile", type=int, default=0, help="also run REST beside N hostile clients")
    args = parser.parse_args()
    index_dir = os.environ.get("MUANG_INDEX_DIR", str(ROOT / "index"))
    asked = questions(args.set)
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    line = FakeLine()
    port = free_port()
    server = start_server(port, args.workers, line.url, index_dir)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        def api_call(n: int, i: int) -> str | None:
            body = json.dumps({"question": asked[i % len(asked)]}).encode()
            request = urllib.request.Request(f"{base}/api/v1/ask", data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.loads(response.read())
            return None if answer.get("answer") else "empty answer"

        def line_call(n: int, i: int) -> str | None:
            event = text_event(asked[i % len(asked)], user=f"Ubench{n}")
            status, _ = line.post(f"{base}/line/webhook", [event], SECRET)
            if status != 200:
                return f"webhook status {status}"
            reply = line.wait_reply(event["replyToken"], timeout=60)
            return None if reply["messages"] and reply["messages"][0]["text"] else "empty reply"

        for i in range(args.clients):  # warm-up, untimed: the first answers fill the Index's lazy caches
            api_call(0, i)
        if args.only in (None, "api"):
            results.append(run_phase("REST /api/v1/ask", args.clients, args.duration, api_call))
            if args.hostile:
                with Hostile(base, args.hostile, asked[0]) as hostile:
                    results.append(run_phase(f"REST + {args.hostile} hostile", args.clients, args.duration,
                                             api_call))
                results[-1]["hostile"] = dict(sorted(hostile.statuses.items()))
        if args.only in (None, "line"):
            results.append(run_phase("LINE /line/webhook", args.clients, args.duration, line_call))
    finally:
        stop(server)
        line.close()
    print(f"muang serve --workers {args.workers}; {args.clients} clients, {args.duration:g} s per phase; "
          f"load average before: {load} on {os.cpu_count()} cores")
    print(f"{'phase':22}{'answers':>9}{'answers/s':>11}{'p50 s':>8}{'p95 s':>8}{'failures':>10}")
    for r in results:
        print(f"{r['phase']:22}{r['answers']:>9}{r['answers_per_s']:>11}{r['p50_s']!s:>8}{r['p95_s']!s:>8}"
              f"{r['failures']:>10}")
        for failure in r["first_failures"]:
            print(f"   failure: {failure}")
        for kind, count in r.get("hostile", {}).items():
            print(f"   hostile: {kind}: {count}")
    print(json.dumps({"workers": args.workers, "clients": args.clients, "duration": args.duration,
                      "load_before": load, "results": results}, ensure_ascii=False))
    return 0 if all(r["failures"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
