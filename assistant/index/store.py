"""Where an index lives: Chroma collections for the vectors, and a snapshot folder per build.

Layout under `MUANG_INDEX_DIR`:
  CURRENT                  names the build that queries read; replaced atomically when a build commits
  builds/<build>/          manifest.json, docs.json, chunks.jsonl, bm25/ and (embedded mode) chroma/
  .lock                    held by the one `muang index` allowed to run at a time
  ID                       server mode: this index folder's id, recorded in each of its collections

A build is written beside the current one and only becomes visible when CURRENT is swapped, so vectors,
BM25 and manifest change together or not at all. With `MUANG_CHROMA_URL` the vectors live on the Chroma
server in collections named after the build (`<build>-<embedder>`); everything else, CURRENT included, stays
in the index folder. A build's collections are written before its manifest and never changed afterwards, so
whatever build CURRENT names, its chunk records, BM25 index and vectors are the same snapshot. Old builds
are deleted collections first, then folder; collections whose folder is gone are swept on the next run.
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


class VectorStore:
    """The vectors of one build, one Chroma collection per embedder.

    A build's collections are written once (`add`, by `muang index`) and then only read, so the handles and
    their sizes are cached: a query is one call to Chroma (one HTTP request in server mode). Reading never
    creates a collection: a build whose vectors are gone (deleted on the server, say) is an error, not an
    empty result.
    """

    def __init__(self, client: Any, build: str, where: str = "", settings: Settings | None = None) -> None:
        self.client = client
        self.build = build
        self.where = where  # for messages: the server's address or the build folder
        self._settings = settings  # server mode: the index folder whose builds these are (see index_id)
        self._collections: dict[str, Any] = {}
        self._counts: dict[str, int] = {}

    @property
    def owner(self) -> str:
        """The id recorded in this index's collections on a server; read (or created) only by writers, so
        that a process that only answers questions never writes to the index folder."""
        return index_id(self._settings) if self._settings else ""

    def _collection(self, embedder, create: bool = False):
        name = collection_name(self.build, embedder.name)
        collection = self._collections.get(name)
        if collection is not None:
            return collection
        from assistant.index.embedding import as_chroma

        if create:
            collection = self.client.get_or_create_collection(
                name,
                embedding_function=as_chroma(embedder),
                configuration={"hnsw": {"space": "cosine", "ef_search": 200, "ef_construction": 200}},
                metadata={"embedder": embedder.name, "dim": embedder.dim, "build": self.build,
                          **({"index": self.owner} if self.owner else {})},
            )
        else:
            try:
                collection = self.client.get_collection(name, embedding_function=as_chroma(embedder))
            except Exception as exc:  # chromadb raises NotFoundError (embedded) or a server error
                if "does not exist" not in str(exc) and type(exc).__name__ != "NotFoundError":
                    raise
                raise MuangError(
                    f"the vectors of build {self.build} ({embedder.name}) are missing from {self.where}; "
                    "run `muang index --rebuild`"
                ) from None
        self._collections[name] = collection
        return collection

    def add(self, embedder, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        collection = self._collection(embedder, create=True)
        for start in range(0, len(ids), _ADD_BATCH):
            end = start + _ADD_BATCH
            collection.add(ids=ids[start:end], embeddings=vectors[start:end], metadatas=metadatas[start:end])
        self._counts.pop(collection.name, None)

    def count(self, embedder) -> int:
        collection = self._collection(embedder)
        if collection.name not in self._counts:
            self._counts[collection.name] = collection.count()
        return self._counts[collection.name]

    def query(
        self, embedder, vector: np.ndarray, k: int, where: dict[str, Any] | None = None, ids: list[str] | None = None
    ) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity) pairs, best first; only among `ids` or chunks matching `where` if given."""
        k = min(k, self.count(embedder) if ids is None else len(ids))
        if k <= 0:
            return []
        result = self._collection(embedder).query(
            query_embeddings=[vector], n_results=k, where=where or None, ids=ids, include=["distances"])
        return [(cid, 1.0 - float(dist)) for cid, dist in zip(result["ids"][0], result["distances"][0])]

    def vectors(self, embedder, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._collection(embedder).get(ids=ids, include=["embeddings"])
        return {cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(got["ids"], got["embeddings"])}

    def names(self) -> list[str]:
        """Names of this build's collections on the server (or in the build's embedded store)."""
        found = []
        for collection in self.client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            if name.startswith(f"{self.build}-"):
                found.append(name)
        return found

    def drop(self) -> None:
        """Delete this build's collections (server mode; embedded builds are deleted with their folder)."""
        for name in self.names():
            self.client.delete_collection(name)
        self._collections.clear()
        self._counts.clear()


def open_vectors(settings: Settings, build: str) -> VectorStore:
    """The vector store of one build: a Chroma server's collections (MUANG_CHROMA_URL) or the build's folder."""
    import chromadb

    chroma_settings = chromadb.Settings(anonymized_telemetry=False)
    if settings.chroma_url:
        host, port, ssl = _server_address(settings.chroma_url)
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
        except ValueError as exc:  # chromadb says "Could not connect to a Chroma server..."
            raise MuangError(
                f"cannot use the Chroma server at {settings.chroma_url} (MUANG_CHROMA_URL): {exc}"
            ) from None
        return VectorStore(client, build, where=f"the Chroma server at {settings.chroma_url}", settings=settings)
    folder = build_dir(settings, build) / "chroma"
    client = chromadb.PersistentClient(path=str(folder), settings=chroma_settings)
    return VectorStore(client, build, where=str(folder))


def _server_address(url: str) -> tuple[str, int, bool]:
    """Host, port and TLS of MUANG_CHROMA_URL.

    >>> _server_address("http://10.0.0.5:8123")
    ('10.0.0.5', 8123, False)
    >>> _server_address("https://chroma.example.org")
    ('chroma.example.org', 443, True)
    """
    from urllib.parse import urlparse

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise MuangError(f"MUANG_CHROMA_URL={url!r} is not a URL like http://127.0.0.1:8000")
    ssl = parsed.scheme == "https"
    return parsed.hostname, parsed.port or (443 if ssl else 8000), ssl


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


def discard_build(settings: Settings, build: str) -> bool:
    """Delete a build: its collections on the Chroma server (server mode), then its folder.

    If the server cannot be reached the folder is kept, so that a later `muang index` (which discards old
    and unfinished builds again) deletes the collections then: no collection is ever left without the
    folder that names it. Returns whether the build is gone.
    """
    if settings.chroma_url:
        try:
            open_vectors(settings, build).drop()
        except Exception:  # an unreachable server must not fail the run that is cleaning up
            return False
    shutil.rmtree(build_dir(settings, build), ignore_errors=True)
    return True


def discard_unfinished(settings: Settings) -> None:
    """Remove builds that a killed `muang index` left behind: not current and without a manifest
    (the manifest is the last file a build writes); in server mode also this index's collections whose
    build folder is gone (e.g. after `make clean`). Call only while holding the index lock."""
    folder = settings.index_dir / "builds"
    current = current_build(settings)
    if folder.is_dir():
        for build in folder.iterdir():
            if build.is_dir() and build.name != current and not (build / "manifest.json").exists():
                discard_build(settings, build.name)
    if settings.chroma_url:
        drop_orphans(settings)


def index_id(settings: Settings) -> str:
    """A random id for this index folder, created once (file `ID`). In server mode every collection records
    it, so that an index finds its own collections on a server that other index folders share."""
    path = settings.index_dir / "ID"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, "x") as handle:
                handle.write(os.urandom(8).hex())
        except FileExistsError:
            pass
        return path.read_text().strip()


def drop_orphans(settings: Settings) -> list[str]:
    """Server mode: delete the collections of this index folder whose build folder no longer exists."""
    vectors = open_vectors(settings, "")
    owner = vectors.owner
    dropped = []
    for collection in vectors.client.list_collections():
        meta = collection.metadata or {}
        build = meta.get("build")
        if meta.get("index") == owner and build and not build_dir(settings, str(build)).is_dir():
            vectors.client.delete_collection(collection.name)
            dropped.append(collection.name)
    return dropped


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


def sqlite(file: Path, schema: str):
    """A connection to one of the index folder's own SQLite files (staff accounts, LINE conversations), its
    tables created on first use."""
    import sqlite3

    file.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(file, timeout=30)
    connection.executescript(schema)
    return connection
