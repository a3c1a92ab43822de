"""What the web UI does, without Gradio: one shared open Index, answering, the documents table, uploads.

The Index is opened once and reused by every request; after an upload commits a new build it is reopened
so the new document is answerable at once.
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Callable

from assistant.config import MAX_QUESTION_CHARS, Settings
from assistant.errors import MuangError

log = logging.getLogger("muang.ui")
UPLOADS = "uploads"


class Service:
    """The app's shared state: settings and the open Index (guarded by a lock)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._index = None
        self._index_error: str | None = None

    # -- the index -------------------------------------------------------------------------------
    def index(self):
        """The open Index, reopened when another process (`muang index`) has committed a newer build;
        raises MuangError when there is none yet."""
        with self._lock:
            if self._index is None or not self._index.is_current():
                from assistant.retrieval import Index

                self._index = Index(self.settings)
            return self._index

    def try_index(self):
        try:
            return self.index()
        except MuangError as exc:
            self._index_error = str(exc)
            return None

    def reload(self) -> None:
        with self._lock:
            self._index = None
            self._index_error = None
        self.try_index()

    @property
    def uploads_dir(self) -> Path:
        return Path(self.settings.index_dir) / UPLOADS

    # -- answering -------------------------------------------------------------------------------
    def ask(self, question: str, city: str | None = None, smart: str | None = None,
            lang: str | None = None, history: list[dict[str, str]] | None = None,
            on_text: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Answer one question after the conversation in `history`; with an LLM configured the checked
        answer streams to `on_text`. Returns Answer.to_json(); raises MuangError for bad input."""
        from assistant.answering import answer
        from assistant.retrieval import Filters

        filters = Filters(city=city or None, smart=smart or None, lang=lang or None)
        index = self.index()
        # The shared index is used by one answer at a time (the embedders and the vector store are not
        # documented as thread-safe); the LLM's calls run outside the lock, so answers overlap there.
        return answer(index, question, filters=filters, history=history, on_text=on_text,
                      lock=self._lock).to_json()

    # -- documents -------------------------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        index = self.try_index()
        if index is None:
            return []
        uploads = str(self.uploads_dir.resolve()) + "/"
        # The user's own uploads first (newest interest), then the rest by id.
        order = sorted(index.docs.items(), key=lambda item: (not str(item[1].get("path", "")).startswith(uploads),
                                                             item[0]))
        rows = []
        for doc_id, meta in order:
            rows.append({"doc_id": doc_id, "title": meta.get("title", ""), "lang": meta.get("lang", ""),
                         "kind": meta.get("kind", ""), "chunks": len(index.doc_chunks.get(doc_id, []))})
        return rows

    def cities(self) -> list[str]:
        index = self.try_index()
        return sorted(index.cities()) if index is not None else []

    def add_files(self, files: list[str | Path], step: Callable[[float, str], None] = lambda f, d: None):
        """Copy uploaded files into <index_dir>/uploads/ and index that folder; reopen the Index.

        Returns (IndexReport or None, failures): unsupported files are failures and are not copied.
        """
        from assistant.documents import SUFFIXES
        from assistant.indexing import build_index

        failures: list[tuple[str, str]] = []
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        copied = 0
        for i, given in enumerate(files or []):
            source = Path(given)
            step(0.1 + 0.2 * i / max(len(files), 1), "copy")
            if source.suffix.lower() not in SUFFIXES:
                failures.append((source.name, f"unsupported file type {source.suffix or '(none)'}; "
                                              f"use one of {', '.join(SUFFIXES)}"))
                continue
            shutil.copyfile(source, self.uploads_dir / safe_name(source.name))
            copied += 1
        if not copied:
            return None, failures
        step(0.4, "index")
        report = build_index(self.settings, [self.uploads_dir], progress=False)
        failures.extend((_relative(p, self.uploads_dir), reason) for p, reason in report.failed)
        step(0.9, "reopen")
        self.reload()
        return report, failures


def safe_name(name: str) -> str:
    """A plain file name for an upload: no folders, no leading dot, no control characters.

    >>> safe_name("../.แผน 2567<x>.md")
    '_.แผน 2567_x_.md'
    """
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[\x00-\x1f<>:\"|?*]", "_", name)
    if name.startswith("."):
        name = "_" + name
    return name or "upload.txt"


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def check_question(question: str) -> tuple[str, tuple[str, dict[str, Any]] | None]:
    """The stripped question and, if it cannot be asked, the message key and values for the user."""
    question = (question or "").strip()
    if not question:
        return question, ("empty_question", {})
    if len(question) > MAX_QUESTION_CHARS:
        return question, ("too_long", {"n": len(question), "limit": MAX_QUESTION_CHARS})
    return question, None
