"""What the web UI, the REST API and the LINE webhook do, without Gradio: one shared open Index, answering
(rate-limited per client), staff sessions, the documents table with origins, uploads and removals.

The Index is read-only while answering, so answers run side by side (each embedder guards its own engine);
a lock guards only the swap to a newly committed build. With `Settings.workers` > 1 the answers run in
worker processes (ui/workers.py).
"""

from __future__ import annotations

import logging
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Callable

from assistant.serve import auth, ratelimit
from assistant.index import provenance
from assistant.config import MAX_QUESTION_CHARS, Settings
from assistant.errors import MuangError

log = logging.getLogger("muang.ui")


class NotSignedIn(MuangError):
    """A staff action without a valid session."""


class Service:
    """The app's shared state: settings, the open Index and, with several workers, the answer pool."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._swap = threading.Lock()     # opening a newer build; answering itself takes no lock
        self._write = threading.Lock()    # one upload or removal at a time in this process
        self._index = None
        self._pool = None
        if settings.workers > 1:
            from ui.workers import AnswerPool

            self._pool = AnswerPool(settings, settings.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()

    # -- the index -------------------------------------------------------------------------------
    def index(self):
        """The open Index, reopened when a newer build has been committed (by an upload, a removal or
        `muang index`); raises MuangError when there is none yet."""
        index = self._index
        if index is not None and index.is_current():
            return index
        with self._swap:
            if self._index is None or not self._index.is_current():
                from assistant.answer.retrieval import Index

                self._index = Index(self.settings)
            return self._index

    def try_index(self):
        try:
            return self.index()
        except MuangError:
            return None

    @property
    def uploads_dir(self) -> Path:
        return provenance.uploads_dir(self.settings)

    # -- answering -------------------------------------------------------------------------------
    def ask(self, question: str, city: str | None = None, smart: str | None = None,
            lang: str | None = None, history: list[dict[str, str]] | None = None,
            on_text: Callable[[str], None] | None = None, client: str | None = None,
            k: int | None = None) -> dict[str, Any]:
        """Answer one question after the conversation in `history`, counted against `client`'s rate limit;
        with an LLM configured the checked answer streams to `on_text`. Returns the `muang ask --json` object
        (sources with their origin); raises ratelimit.Limited or MuangError for bad input."""
        from assistant.answer.answering import answer, check_question as valid_question
        from assistant.answer.retrieval import Filters

        valid_question(question)  # bad input is refused before it counts against the limit
        ratelimit.check(self.settings, client)
        filters = {"city": city or None, "smart": smart or None, "lang": lang or None}
        if self._pool is not None and on_text is None:
            self.index().check_filters(Filters(**filters))  # bad filters are bad input here, not in a worker
            return self._pool.answer(question, filters, history, k)
        index = self.index()
        result = answer(index, question, k=k, filters=Filters(**filters), history=history, on_text=on_text)
        return provenance.add_origins(self.settings, index.docs, result.to_json())

    # -- staff -----------------------------------------------------------------------------------
    def staff(self, token: str | None) -> str | None:
        """The signed-in staff member's name for a session token, else None."""
        return auth.session_user(self.settings, token)

    def _require(self, token: str | None) -> str:
        name = self.staff(token)
        if name is None:
            raise NotSignedIn("sign in as staff first")
        return name

    def documents(self, token: str | None) -> list[dict[str, Any]]:
        self._require(token)
        index = self.try_index()
        return provenance.documents(self.settings, index) if index is not None else []

    def cities(self) -> list[str]:
        index = self.try_index()
        return sorted(index.cities()) if index is not None else []

    def add_files(self, token: str | None, files: list[str | Path],
                  step: Callable[[float, str], None] = lambda f, d: None):
        """Copy uploaded files into <index_dir>/uploads/ and index that folder, recording who uploaded them.

        Returns (IndexReport or None, failures): unsupported files are failures and are not copied.
        """
        from assistant.ingest.documents import SUFFIXES
        from assistant.index.indexing import build_index

        name = self._require(token)
        failures: list[tuple[str, str]] = []
        with self._write:
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
            report = build_index(self.settings, [self.uploads_dir], progress=False,
                                 origin=provenance.upload_origin(name))
        failures.extend((_relative(p, self.uploads_dir), reason) for p, reason in report.failed)
        step(0.9, "reopen")
        self.index()
        log.info("%s uploaded %d file(s): build %s", name, copied, report.build)
        return report, failures

    def remove(self, token: str | None, doc_id: str) -> str:
        name = self._require(token)
        with self._write:
            build = provenance.remove_document(self.settings, (doc_id or "").strip())
        self.index()
        log.info("%s removed document %s: build %s", name, doc_id, build)
        return build

    def reindex(self, token: str | None):
        """Index the shipped corpus and the uploads again (changed files re-read, removed files dropped)."""
        from assistant.index.indexing import build_index

        self._require(token)
        with self._write:
            paths = [p for p in (Path(self.settings.corpus_dir), self.uploads_dir) if p.is_dir()]
            report = build_index(self.settings, paths, progress=False)
        self.index()
        return report

    def feedback(self, token: str | None) -> list[dict[str, Any]]:
        from assistant.serve import feedback

        self._require(token)
        return feedback.entries(self.settings)

    def export_feedback(self, token: str | None, target: Path) -> int:
        from assistant.serve import feedback

        self._require(token)
        return feedback.export_csv(self.settings, target)


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
