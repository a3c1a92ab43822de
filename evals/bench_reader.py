"""The shipped reader's speed on real answer units: one question's 4 units (what answering reads) and 16 pairs,
with onnxruntime (the default: float32 `MatMul` on CPUs without VNNI, int8 `MatMulNBits` on CPUs with it) and
with torch in float32 (what training evaluates with). Units are the corpus's own, cut as a build cuts them.

    .venv/bin/python evals/bench_reader.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_lib import ROOT, load, log, write_result  # noqa: E402

sys.path.insert(0, str(ROOT))
QUESTIONS = ["แม่เมาะอยู่จังหวัดไหน", "What does Phuket plan for its tourism data?", "ภูเก็ตได้รับรางวัลเมื่อไร",
             "Which criteria does a proposal have to meet?"]


def corpus_units() -> list[tuple[str, str]]:
    from assistant.config import Settings
    from assistant.index.indexing import _chunk_records
    from assistant.index.unit_store import cut
    from assistant.ingest.documents import parse, read_file

    settings = Settings.load(env={})
    out = []
    for path in sorted((ROOT / "corpus").rglob("*.md")):
        doc = parse(read_file(path, 50), path, ROOT / "corpus", 50, 2000)
        chunks = _chunk_records(doc.text, doc.metadata, settings)
        out += [(doc.metadata.get("title", ""), u.text) for i in range(len(chunks)) for u in cut(chunks, i)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args(argv)
    from assistant.answer.reader import Reader
    from assistant.index.e5_onnx import int8_activations

    units = corpus_units()
    rng = random.Random(0)
    results = {"units": len(units), "int8_activations": int8_activations(), "load_before": load()}
    for backend in ("onnx", "torch"):
        reader = Reader(backend=backend)
        for size in (4, 16):
            times = []
            for r in range(args.rounds + 1):
                batch = rng.sample(units, size)
                started = time.perf_counter()
                reader.read(QUESTIONS[r % len(QUESTIONS)], batch)
                if r:  # the first call warms up
                    times.append(time.perf_counter() - started)
            p50 = statistics.median(times) * 1000
            results[f"{backend}_{size}_p50_ms"] = round(p50, 1)
            log(f"{backend}: {size} units p50 {p50:.0f} ms ({size / p50 * 1000:.0f} pairs/s)")
    write_result("bench_reader", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
