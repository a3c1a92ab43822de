"""Answers in worker processes (`muang serve --workers N`), so that a host's cores are used.

One front process serves the web UI, the REST API and the LINE webhook (Gradio keeps each browser session's
state in the process that served the page, so the front cannot be forked into several servers); the
CPU-bound part of answering (embedding, retrieval, sentence scoring) runs in N spawned processes, each with
its own read-only Index. A worker reopens its Index when a newer build has been committed, so an upload is
answerable at once in every worker.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from assistant.config import Settings

# This worker process's settings and open Index: set by the pool's initializer, one per process.
_settings: Settings | None = None
_index = None


def _open(settings: Settings) -> None:
    global _settings, _index
    from assistant.answer.retrieval import Index

    _settings = settings
    _index = Index(settings)


def _answer(question: str, filters: dict[str, Any], history: list[dict[str, str]] | None,
            k: int | None) -> dict[str, Any]:
    from assistant.answer.answering import answer
    from assistant.index.provenance import add_origins
    from assistant.answer.retrieval import Filters

    if _index is None or not _index.is_current():
        _open(_settings)
    result = answer(_index, question, k=k, filters=Filters(**filters), history=history).to_json()
    return add_origins(_index.settings, _index.docs, result)


class AnswerPool:
    """N processes answering questions; `answer` blocks the calling thread until its answer is ready."""

    def __init__(self, settings: Settings, workers: int) -> None:
        # spawn, not fork: the front process already runs threads (Gradio, uvicorn, the embedders' engines).
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_open, initargs=(settings,))
        self.workers = workers
        # Start every worker now (each loads the embedders), not on the first citizens' questions.
        for future in [self._pool.submit(_ready) for _ in range(workers)]:
            future.result()

    def answer(self, question: str, filters: dict[str, Any], history: list[dict[str, str]] | None,
               k: int | None = None) -> dict[str, Any]:
        return self._pool.submit(_answer, question, filters, history, k).result()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _ready() -> bool:
    return _index is not None
