"""`kill -9` during `muang index` never breaks the index: the old answers stay, the next run finishes."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from assistant.answering import answer
from assistant.config import Settings
from assistant.retrieval import Index
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
    for i in range(20):
        (folder / f"note-{i:02d}.md").write_text(
            f"# Ferry note {i}\n\nKraisorn town runs the river ferry sensors, report {i}. " * 4, encoding="utf-8")
    return folder


@pytest.mark.parametrize("delay", [1.5, 5.0])
def test_sigkill_during_indexing_keeps_the_old_index_and_the_next_run_completes(tmp_path, corpus_index, new_docs, delay):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    before = ask(index_dir, QUESTION)

    process = subprocess.Popen([sys.executable, "-m", "assistant", "index", str(new_docs), "--index-dir",
                                str(index_dir)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    finished_early = process.poll() is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    after = ask(index_dir, QUESTION)
    assert after["answer"] == before["answer"] and after["sources"][0]["doc_id"] == before["sources"][0]["doc_id"]
    if not finished_early:
        assert ask(index_dir, NEW_QUESTION)["sources"][0]["doc_id"] not in {f"note-{i:02d}" for i in range(20)}

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
