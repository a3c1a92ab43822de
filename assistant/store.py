"""Where an index lives: Chroma collections for the vectors, and a snapshot folder per build.

Layout under `MUANG_INDEX_DIR`:
  CURRENT                  names the build that queries read; replaced atomically when a build commits
  builds/<build>/          manifest.json, docs.json, chunks.jsonl, bm25/ and (embedded mode) chroma/
  .lock                    held by the one `muang index` allowed to run at a time

A build is written beside the current one and only becomes visible when CURRENT is swapped, so vectors,
BM25 and manifest change together or not at all. With `MUANG_CHROMA_URL` the vectors live in collections
named after the build on a Chroma server; everything else stays in the index folder.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.errors import MuangError

MANIFEST_VERSION = 1
_ADD_BATCH = 4000  # Chroma caps one add at ~5,461 records


def collection_name(build: str, embedder: str) -> str:
    """A Chroma-legal collection name for one embedder of one build.

    >>> collection_name("b1", "st:/models/x")
    'b1-st-models-x-0bded0'
    """
    slug = re.sub(r"[^A-Za-z0-9]+", "-", embedder).strip("-")[:40]
    digest = hashlib.sha256(embedder.encode()).hexdigest()[:6]
    return f"{build}-{slug}-{digest}" if slug != embedder else f"{build}-{slug}"


@dataclass
class VectorStore:
    """The vectors of one build, one Chroma collection per embedder."""

    client: Any
    build: str

    def _collection(self, embedder):
        from assistant.embedding import as_chroma

        return self.client.get_or_create_collection(
            collection_name(self.build, embedder.name),
            embedding_function=as_chroma(embedder),
            configuration={"hnsw": {"space": "cosine", "ef_search": 200, "ef_construction": 200}},
            metadata={"embedder": embedder.name, "dim": embedder.dim},
        )

    def add(self, embedder, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        collection = self._collection(embedder)
        for start in range(0, len(ids), _ADD_BATCH):
            end = start + _ADD_BATCH
            collection.add(ids=ids[start:end], embeddings=vectors[start:end], metadatas=metadatas[start:end])

    def query(self, embedder, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) pairs, best first."""
        collection = self._collection(embedder)
        k = min(k, collection.count())
        if k <= 0:
            return []
        result = collection.query(query_embeddings=[vector], n_results=k, where=where or None, include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0])]

    def vectors(self, embedder, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._collection(embedder).get(ids=ids, include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"])}

    def drop(self) -> None:
        """Delete this build's collections (server mode; embedded builds are deleted with their folder)."""
        for collection in self.client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith(f"{self.build}-"):
                self.client.delete_collection(name)


def open_vectors(settings: Settings, build: str) -> VectorStore:
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise MuangError(f"MUANG_CHROMA_URL={settings.chroma_url!r} is not a URL like http://127.0.0.1:8000")
        client = chromadb.HttpClient(
            host=url.hostname, port=url.port or 8000, ssl=url.scheme == "https", settings=chroma_settings
        )
    else:
        client = chromadb.PersistentClient(path=str(build_dir(settings, build) / "chroma"), settings=chroma_settings)
    return VectorStore(client, build)


def build_dir(settings: Settings, build: str) -> Path:
    return settings.index_dir / "builds" / build


def current_build(settings: Settings) -> str | None:
    pointer = settings.index_dir / "CURRENT"
    if not pointer.exists():
        return None
    build = pointer.read_text().strip()
    return build if build and build_dir(settings, build).is_dir() else None


def commit_build(settings: Settings, build: str, keep: int = 2) -> None:
    """Make `build` the one queries read (atomic rename), then drop all but the newest `keep` builds."""
    pointer = settings.index_dir / "CURRENT"
    tmp = pointer.with_suffix(".tmp")
    tmp.write_text(build)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, pointer)
    builds = sorted((p for p in (settings.index_dir / "builds").iterdir() if p.is_dir()), key=lambda p: p.name)
    for old in builds[:-keep]:
        if old.name != build:
            discard_build(settings, old.name)


def discard_build(settings: Settings, build: str) -> None:
    if settings.chroma_url:
        try:
            open_vectors(settings, build).drop()
        except Exception:  # an unreachable server must not block cleaning up local files
            pass
    shutil.rmtree(build_dir(settings, build), ignore_errors=True)


def discard_unfinished(settings: Settings) -> None:
    """Remove builds that a killed `muang index` left behind: not current and without a manifest
    (the manifest is the last file a build writes). Call only while holding the index lock."""
    folder = settings.index_dir / "builds"
    if not folder.is_dir():
        return
    current = current_build(settings)
    for build in folder.iterdir():
        if build.is_dir() and build.name != current and not (build / "manifest.json").exists():
            discard_build(settings, build.name)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_chunks(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def check_embedders(manifest: dict[str, Any], embedders: list) -> None:
    """Refuse to query or extend an index with embedders other than those that built it."""
    built = [(e["name"], e["dim"]) for e in manifest["embedders"]]
    wanted = [(e.name, e.dim) for e in embedders]
    if built != wanted:
        have = "+".join(name for name, _ in built)
        want = "+".join(name for name, _ in wanted)
        raise MuangError(
            f"the index was built with embedder {have}, not {want}; "
            f"set MUANG_EMBEDDER={have} or run `muang index --rebuild`"
        )


@contextmanager
def index_lock(settings: Settings) -> Iterator[None]:
    """Only one `muang index` per index folder; a second one is refused with a clear message."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    path = settings.index_dir / ".lock"
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise MuangError(
                f"another `muang index` ({holder}) is updating {settings.index_dir}; wait for it to finish"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
