"""Where each indexed document came from, the list of documents, and removing one (a new committed build).

An origin is {"source": "corpus"}, {"source": "folder", "folder": PATH} or
{"source": "upload", "by": STAFF_NAME, "at": ISO_TIME}; builds made before origins were recorded get one
inferred from the file's path.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from assistant.index import store
from assistant.config import Settings
from assistant.errors import MuangError

UPLOADS = "uploads"  # <index_dir>/uploads/: the files staff uploaded through the web UI


def uploads_dir(settings: Settings) -> Path:
    return Path(settings.index_dir) / UPLOADS


def upload_origin(by: str) -> dict[str, Any]:
    return {"source": "upload", "by": by, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def origin(settings: Settings, doc: dict[str, Any]) -> dict[str, Any]:
    """The recorded origin of a document's metadata, or one inferred from its path."""
    if isinstance(doc.get("origin"), dict):
        return doc["origin"]
    file = Path(str(doc.get("path", "")))
    if file.is_relative_to(uploads_dir(settings).resolve()):
        return {"source": "upload", "by": None, "at": None}
    if file.is_relative_to(Path(settings.corpus_dir).resolve()):
        return {"source": "corpus"}
    return {"source": "folder", "folder": str(file.parent)}


def describe(origin_: dict[str, Any], lang: str = "en") -> str:
    """One line for people.

    >>> describe({"source": "upload", "by": "somchai", "at": "2026-12-01T10:00:00Z"})
    'uploaded by somchai, 2026-12-01T10:00:00Z'
    >>> describe({"source": "corpus"}, "th")
    'คลังเอกสารที่มากับโปรแกรม'
    """
    source = origin_.get("source")
    th = lang == "th"
    if source == "corpus":
        return "คลังเอกสารที่มากับโปรแกรม" if th else "shipped corpus"
    if source == "upload":
        who = origin_.get("by") or ("ไม่ทราบ" if th else "unknown")
        when = origin_.get("at") or ("ไม่ทราบเวลา" if th else "time unknown")
        return f"อัปโหลดโดย {who}, {when}" if th else f"uploaded by {who}, {when}"
    folder = origin_.get("folder") or "?"
    return f"จัดทำดัชนีจากโฟลเดอร์ {folder}" if th else f"indexed from folder {folder}"


def add_origins(settings: Settings, docs: dict[str, dict[str, Any]], answer_json: dict[str, Any]) -> dict[str, Any]:
    """The `muang ask --json` object with each source's origin added (in place; returned for chaining)."""
    for source in answer_json.get("sources", []):
        doc = docs.get(source.get("doc_id"))
        if doc is not None:
            source["origin"] = origin(settings, doc)
    return answer_json


def documents(settings: Settings, index) -> list[dict[str, Any]]:
    """Every document of the open Index: id, title, language, kind, chunks and origin; uploads first."""
    rows = []
    for doc_id, meta in index.docs.items():
        rows.append({"doc_id": doc_id, "title": meta.get("title", ""), "lang": meta.get("lang", ""),
                     "kind": meta.get("kind", ""), "chunks": len(index.doc_chunks.get(doc_id, [])),
                     "origin": origin(settings, meta), "path": meta.get("path", "")})
    rows.sort(key=lambda row: (row["origin"]["source"] != "upload", row["doc_id"]))
    return rows


def remove_document(settings: Settings, doc_id: str) -> str:
    """Remove one document: a new build without it is committed (its vectors reused, nothing re-embedded).
    An uploaded file is deleted too, so that re-indexing the uploads does not bring it back; a corpus or
    folder document comes back when its folder is indexed again. Returns the new build's name."""
    from assistant.index.embedding import get_embedders
    from assistant.index.indexing import _write_build  # the same writer as every build: complete, then committed

    embedders = get_embedders(settings.embedder)
    with store.index_lock(settings):
        store.discard_unfinished(settings)
        previous = store.current_build(settings)
        if previous is None:
            raise MuangError(f"no index in {settings.index_dir}; run `muang index` first")
        folder = store.build_dir(settings, previous)
        manifest = store.read_json(folder / "manifest.json")
        store.check_embedders(manifest, embedders)
        docs = store.read_json(folder / "docs.json")
        if doc_id not in docs:
            raise MuangError(f"no document {doc_id!r} in the index; `muang documents` lists them")
        old_chunks = store.read_chunks(folder / "chunks.jsonl")
        removed = docs.pop(doc_id)
        files = {}
        for key, entry in manifest["files"].items():
            kept = [d for d in entry["doc_ids"] if d != doc_id]
            if kept:
                files[key] = {**entry, "doc_ids": kept}
        chunks = [dict(c) for c in old_chunks if c["doc_id"] != doc_id]
        if not chunks:
            raise MuangError(f"{doc_id!r} is the last document; an index needs at least one")
        build = _write_build(settings, previous, manifest, old_chunks, files, docs, chunks, embedders,
                             progress=False)
    upload = Path(str(removed.get("path", "")))
    if upload.is_relative_to(uploads_dir(settings).resolve()) and upload.is_file():
        upload.unlink()
    return build
