"""Shared fixtures. Real parts only: real PyThaiNLP, real embedders, real Chroma, the shipped corpus."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = ROOT / "evals" / "gold.jsonl"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def gold() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """The shipped corpus indexed once per session with the default embedders, through the CLI."""
    from assistant.cli import main

    index_dir = tmp_path_factory.mktemp("corpus-index")
    assert main(["index", str(CORPUS), "--index-dir", str(index_dir), "--json"]) == 0
    return index_dir


@pytest.fixture()
def corpus_copy(tmp_path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real `chroma run` (the console script beside this Python) on a free port; its URL. Stopped at the end."""
    import subprocess
    import sys
    import time
    import urllib.request

    chroma = Path(sys.executable).parent / "chroma"
    if not chroma.exists():
        pytest.skip(f"no chroma console script in {chroma.parent}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path_factory.mktemp("chroma-server")
    process = subprocess.Popen([str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma run did not start on port {port}") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["embedded", "server"])
def chroma_url(request, monkeypatch) -> str | None:
    """Run a test once against the embedded store and once against a real Chroma server (MUANG_CHROMA_URL)."""
    if request.param == "embedded":
        monkeypatch.delenv("MUANG_CHROMA_URL", raising=False)
        return None
    url = request.getfixturevalue("chroma_server")
    monkeypatch.setenv("MUANG_CHROMA_URL", url)
    return url
