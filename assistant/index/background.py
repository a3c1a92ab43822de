"""A first run that answers at once: an index with BM25 and the fast embedders only, committed in seconds,
then the slow embedders' vectors built in a background thread and swapped in when complete, with its
progress in the index folder for any process to read."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import MuangError
from assistant.index import store
from assistant.index.embedding import get_embedders
from assistant.index.indexing import IndexReport, build_index


@dataclass
class BackgroundBuild:
    """A full build running in a thread; `status()` says how far it is, for the UI and the terminal."""

    stage: str = "starting"
    done: int = 0
    total: int = 0
    started: float = field(default_factory=time.monotonic)
    error: str | None = None
    report: IndexReport | None = None
    thread: Any = None

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def status(self) -> str:
        if self.error:
            return f"the full index could not be built: {self.error}"
        if self.report is not None:
            return f"full index ready ({self.report.chunks} chunks, {self.report.seconds:.0f} s)"
        share = f" {self.done}/{self.total} chunks" if self.total else ""
        return f"building the full index in the background: {self.stage}{share}"

    def wait(self, timeout: float | None = None) -> bool:
        if self.thread is not None:
            self.thread.join(timeout)
        return not self.running


def slow_embedders(settings: Settings) -> frozenset[str]:
    """The configured embedders that take minutes on a corpus (all but the fast ones)."""
    return frozenset(e.name for e in get_embedders(settings.embedder) if not e.fast)


def missing_embedders(settings: Settings) -> list[str]:
    """Embedders of the current build whose vectors were deferred (empty when the build is complete)."""
    build = store.current_build(settings)
    if build is None:
        return []
    return list(store.read_json(store.build_dir(settings, build) / "manifest.json").get("missing", []))


def build_in_background(settings: Settings, paths: list[Path] | None = None, progress: bool = True
                        ) -> BackgroundBuild | None:
    """Make the index answerable now and complete later.

    Without a current build, one is built at once with BM25 and the fast embedders only (seconds) and
    committed; then, if the current build lacks any embedder's vectors, a thread builds the full index
    (reusing every vector already there) and commits it when complete, while queries read the partial
    build. Returns the running build's handle, or None when the index was already complete.
    """
    import threading

    if store.current_build(settings) is None:
        defer = slow_embedders(settings)
        if defer == {e.name for e in get_embedders(settings.embedder)}:
            defer = frozenset()  # no fast embedder to answer with: build the full index now
        build_index(settings, paths, progress=progress, defer=defer)
    if not missing_embedders(settings):
        return None
    handle = BackgroundBuild()
    written = [0.0]

    def on_progress(stage: str, done: int, total: int) -> None:
        handle.stage, handle.done, handle.total = f"embedding ({stage})", done, total
        if time.monotonic() - written[0] >= 1 or done == total:
            written[0] = time.monotonic()
            _write_progress(settings, {"stage": handle.stage, "done": done, "total": total, "pid": os.getpid()})

    def run() -> None:
        try:
            handle.report = build_index(settings, paths, progress=progress, on_progress=on_progress)
        except Exception as exc:  # reported through status(); the partial build stays in use
            handle.error = str(exc) if isinstance(exc, MuangError) else f"{type(exc).__name__}: {exc}"
        finally:
            (settings.index_dir / PROGRESS).unlink(missing_ok=True)

    # A daemon thread: stopping the server abandons the unfinished build, which the next run discards.
    handle.thread = threading.Thread(target=run, name="muang-full-build", daemon=True)
    handle.thread.start()
    return handle


PROGRESS = "PROGRESS.json"  # in the index folder while a background build runs


def _write_progress(settings: Settings, data: dict[str, Any]) -> None:
    path = settings.index_dir / PROGRESS
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # progress is a courtesy; the build goes on


def build_progress(settings: Settings) -> dict[str, Any] | None:
    """The running background build's progress ({"stage", "done", "total", "pid"}), from any process;
    None when no build is running (a file left by a killed server is ignored)."""
    try:
        data = json.loads((settings.index_dir / PROGRESS).read_text(encoding="utf-8"))
        os.kill(int(data["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return data
