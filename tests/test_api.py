"""The REST API, provenance and the staff-only routes over real HTTP against a running `muang serve` app (real
index of the shipped corpus, real embedders): ask = `muang ask --json`, bad input, rate limits, and the
anonymous-upload attack through gradio_client and raw HTTP, refused with the index byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from assistant.config import Settings
from conftest import free_port

EVIL = "# แม่เมาะ\n\nแม่เมาะตั้งอยู่ในจังหวัดภูเก็ต ไม่ใช่ลำปาง\n"


@pytest.fixture(scope="module")
def api_settings(corpus_index, tmp_path_factory) -> Settings:
    target = tmp_path_factory.mktemp("api") / "index"
    shutil.copytree(corpus_index, target, ignore=shutil.ignore_patterns(".lock"))
    return Settings.load(index_dir=target, rate_limit=0)


@pytest.fixture(scope="module")
def url(api_settings):
    from ui.app import launch

    port = free_port()
    server = launch(api_settings, port=port, block=False)
    yield f"http://127.0.0.1:{port}"
    server.close()


def call(method: str, url: str, body=None, headers=None, raw: bytes | None = None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read()), dict(exc.headers)


def index_fingerprint(index_dir: Path) -> dict[str, str]:
    """Every file of the index proper (builds with their Chroma stores, CURRENT, uploads) with its SHA-256; the
    server's own SQLite files beside them (rate limits, sessions, LINE) are not the index."""
    return {str(p.relative_to(index_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(index_dir.rglob("*"))
            if p.is_file() and not (p.parent == index_dir and ".sqlite3" in p.name)}


def test_ask_returns_exactly_the_cli_json(url, api_settings, capsys):
    from assistant.cli import main

    status, body, _ = call("POST", f"{url}/api/v1/ask", {"question": "แม่เมาะอยู่จังหวัดไหน", "k": 3})
    assert status == 200
    assert main(["ask", "แม่เมาะอยู่จังหวัดไหน", "-k", "3", "--json", "--local", "--index-dir",
                 str(api_settings.index_dir)]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert body == cli
    assert "ลำปาง" in body["answer"] and body["confident"] is True
    assert body["sources"][0]["origin"] == {"source": "corpus"}


def test_muang_ask_asks_the_running_server_of_its_index_and_falls_back_without_one(url, api_settings, capsys,
                                                                                  tmp_path):
    from assistant.cli import main

    question = ["ask", "Where is Mae Moh?", "--json", "--verbose", "--index-dir", str(api_settings.index_dir)]
    assert main(question) == 0
    captured = capsys.readouterr()
    assert "asked the running server" in captured.err
    assert json.loads(captured.out) == call("POST", f"{url}/api/v1/ask", {"question": "Where is Mae Moh?"})[1]
    # Bad input is refused by the server with its one line, exit status 2, as in-process.
    assert main(["ask", "   ", "--index-dir", str(api_settings.index_dir)]) == 2
    assert "empty" in capsys.readouterr().err
    # A server file left by a process that is gone: answered in-process.
    stale = tmp_path / "index"
    top = str(api_settings.index_dir)
    # The build (with its Chroma files) is copied; the running server's lock and databases are not.
    shutil.copytree(api_settings.index_dir, stale,
                    ignore=lambda folder, names: [n for n in names if n == ".lock" or
                                                  (folder == top and ".sqlite3" in n)])
    (stale / "SERVER.json").write_text(json.dumps({"url": url, "pid": 2 ** 22 + 12345, "token": "x"}))
    assert main([*question[:-1], str(stale)]) == 0
    captured = capsys.readouterr()
    assert "answering in-process" in captured.err and "Lampang" in json.loads(captured.out)["answer"]


def test_ask_with_history_filters_and_english(url):
    status, body, _ = call("POST", f"{url}/api/v1/ask", {
        "question": "How many Smarts does it have?", "lang": "en",
        "history": [{"role": "user", "content": "Tell me about Phuket Smart City"},
                    {"role": "assistant", "content": "Phuket ..."}]})
    assert status == 200 and body["language"] == "en"
    assert all(s["lang"] == "en" for s in body["sources"])
    assert "phuket" in body["standalone"].lower() or "ภูเก็ต" in body["standalone"]


@pytest.mark.parametrize("body,status,words", [
    ({"question": ""}, 400, "empty"),
    ({"question": "ก" * 2001}, 400, "limit"),
    ({"question": "x", "city": "atlantis"}, 400, "unknown city"),
    ({"question": "x", "k": 0}, 422, "k"),
    ({"question": "x", "lang": "fr"}, 422, "lang"),
    ({"question": 5}, 422, "question"),
    ({"nothing": 1}, 422, "question"),
    ({"question": "x", "history": [{"role": "robot", "content": "x"}]}, 422, "history"),
])
def test_bad_ask_input_is_400_or_422_with_one_line(url, body, status, words):
    got, answer, _ = call("POST", f"{url}/api/v1/ask", body)
    assert got == status
    assert set(answer) == {"error"} and "\n" not in answer["error"] and words in answer["error"].lower()


def test_broken_json_is_one_line_too(url):
    status, body, _ = call("POST", f"{url}/api/v1/ask", raw=b'{"question": ')
    assert status == 422 and set(body) == {"error"} and "Traceback" not in body["error"]


def test_cities_check_health_and_docs(url):
    status, cities, _ = call("GET", f"{url}/api/v1/cities?smart=energy")
    assert status == 200 and cities and all("energy" in (c["smarts"] or []) for c in cities)
    assert call("GET", f"{url}/api/v1/cities?smart=cooking")[0] == 400
    proposal = "แผนพลังงานอัจฉริยะ ติดตั้งโซลาร์เซลล์บนอาคารราชการ และแพลตฟอร์มข้อมูลเมือง"
    status, report, _ = call("POST", f"{url}/api/v1/check", {"text": proposal})
    assert status == 200 and "energy" in report["smarts"] and report["results"]
    boundary = uuid.uuid4().hex
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.md\"\r\n"
            f"Content-Type: text/markdown\r\n\r\n{proposal}\r\n--{boundary}--\r\n").encode()
    status, from_file, _ = call("POST", f"{url}/api/v1/check", raw=form,
                                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 200 and from_file["smarts"] == report["smarts"]
    assert call("POST", f"{url}/api/v1/check", {"text": "  "})[0] == 400
    assert call("POST", f"{url}/api/v1/check", {"txt": "x"})[0] == 400
    status, health, _ = call("GET", f"{url}/api/v1/health")
    assert status == 200 and health["status"] == "ok" and health["documents"] > 10 and health["chunks"] > 100
    with urllib.request.urlopen(f"{url}/api/docs", timeout=30) as response:
        assert "swagger" in response.read().decode().lower()
    with urllib.request.urlopen(f"{url}/api/openapi.json", timeout=30) as response:
        paths = json.loads(response.read())["paths"]
    assert {"/api/v1/ask", "/api/v1/cities", "/api/v1/check", "/api/v1/health", "/line/webhook"} <= set(paths)


def test_rate_limit_is_polite_in_the_question_language(corpus_index, tmp_path):
    from ui.app import launch

    target = tmp_path / "index"
    shutil.copytree(corpus_index, target, ignore=shutil.ignore_patterns(".lock"))
    port = free_port()
    server = launch(Settings.load(index_dir=target, rate_limit=2), port=port, block=False)
    try:
        ask = f"http://127.0.0.1:{port}/api/v1/ask"
        assert [call("POST", ask, {"question": "ภูเก็ตอยู่ที่ไหน"})[0] for _ in range(2)] == [200, 200]
        status, body, headers = call("POST", ask, {"question": "ภูเก็ตอยู่ที่ไหน"})
        assert status == 429 and "ขออภัย" in body["error"] and int(headers["retry-after"]) >= 1
        status, body, _ = call("POST", ask, {"question": "Where is Phuket?"})
        assert status == 429 and body["error"].startswith("Sorry")
        assert call("POST", ask, {"question": ""})[0] == 400  # bad input is not counted, and says what is wrong
    finally:
        server.close()


# -- staff-only actions ---------------------------------------------------------------------------------
def _upload_dependency(url: str) -> tuple[int, list[int], dict[int, str]]:
    """The id of the UI's "add to the index" event, its inputs and the components' elem_ids."""
    with urllib.request.urlopen(f"{url}/config", timeout=30) as response:
        config = json.loads(response.read())
    elem = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    upload = next(i for i, e in elem.items() if e == "upload")
    dependency = next(d for d in config["dependencies"] if upload in d["inputs"])
    return dependency["id"], dependency["inputs"], elem


def test_the_page_config_holds_no_staff_data(url, api_settings):
    from assistant.cli import main

    with urllib.request.urlopen(f"{url}/config", timeout=30) as response:
        config = response.read().decode()
    assert main(["documents", "--index-dir", str(api_settings.index_dir), "--json"]) == 0
    assert "city-mae-moh-th" not in config  # the documents table starts empty; it is filled after sign-in


def test_anonymous_upload_through_gradio_client_is_refused(url, api_settings, tmp_path):
    from gradio_client import Client, handle_file

    before = index_fingerprint(api_settings.index_dir)
    evil = tmp_path / "evil.md"
    evil.write_text(EVIL, encoding="utf-8")
    client = Client(f"{url}/", verbose=False)
    assert "/add_documents" not in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    with pytest.raises(Exception):
        client.predict(handle_file(str(evil)), "th", api_name="/add_documents")
    fn, _, _ = _upload_dependency(url)
    with pytest.raises(Exception):
        client.predict(None, "th", [handle_file(str(evil))], fn_index=fn)
    assert index_fingerprint(api_settings.index_dir) == before
    status, body, _ = call("POST", f"{url}/api/v1/ask", {"question": "แม่เมาะอยู่จังหวัดไหน"})
    assert "ภูเก็ต" not in body["answer"] and all(s["origin"]["source"] == "corpus" for s in body["sources"])


def test_anonymous_upload_through_raw_http_is_refused(url, api_settings):
    """What a script does without any client library: upload the file, then join the queue for the upload
    event, even with a made-up session token in the state's place."""
    before = index_fingerprint(api_settings.index_dir)
    boundary = uuid.uuid4().hex
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"evil.md\"\r\n"
            f"Content-Type: text/markdown\r\n\r\n{EVIL}\r\n--{boundary}--\r\n").encode()
    request = urllib.request.Request(f"{url}/gradio_api/upload", data=form, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        stored = json.loads(response.read())[0]
    fn, inputs, elem = _upload_dependency(url)
    session = uuid.uuid4().hex
    file_data = {"path": stored, "orig_name": "evil.md", "meta": {"_type": "gradio.FileData"}}
    values = {"upload": [file_data]}
    data = [values.get(elem.get(i), "forged-token" if n == 0 else "th") for n, i in enumerate(inputs)]
    status, joined, _ = call("POST", f"{url}/gradio_api/queue/join",
                             {"data": data, "fn_index": fn, "session_hash": session, "event_data": None,
                              "trigger_id": None})
    if status == 200:  # accepted into the queue: read the outcome from the event stream
        with urllib.request.urlopen(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
            events = []
            for line in stream:
                if line.startswith(b"data:"):
                    events.append(json.loads(line[5:]))
                    if events[-1].get("msg") == "process_completed":
                        break
        outcome = json.dumps(events[-1], ensure_ascii=False)
        assert "เพิ่มแล้ว" not in outcome and "added" not in outcome
    else:
        assert status in (401, 403, 404, 422)
    assert index_fingerprint(api_settings.index_dir) == before


def test_documents_cli_lists_origins_and_removes_a_document_as_a_build(api_settings, tmp_path, capsys):
    from assistant.cli import main
    from assistant.index.store import current_build

    folder = tmp_path / "office"
    folder.mkdir()
    (folder / "bridge.md").write_text("# Zorblat bamboo bridge\n\nThe Zorblat bamboo bridge is 417 metres long.\n",
                                      encoding="utf-8")
    settings_dir = tmp_path / "index"
    shutil.copytree(api_settings.index_dir, settings_dir, ignore=shutil.ignore_patterns(".lock"))
    assert main(["index", str(folder), "--index-dir", str(settings_dir), "--json"]) == 0
    capsys.readouterr()
    assert main(["documents", "--index-dir", str(settings_dir), "--json"]) == 0
    rows = {r["doc_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["bridge"]["origin"] == {"source": "folder", "folder": str(folder.resolve())}
    assert rows["city-mae-moh-th"]["origin"] == {"source": "corpus"}
    before = current_build(Settings.load(index_dir=settings_dir))
    assert main(["documents", "remove", "bridge", "--index-dir", str(settings_dir)]) == 0
    assert "committed" in capsys.readouterr().out
    assert current_build(Settings.load(index_dir=settings_dir)) != before
    assert main(["documents", "--index-dir", str(settings_dir), "--json"]) == 0
    assert "bridge" not in {r["doc_id"] for r in json.loads(capsys.readouterr().out)}
    assert main(["documents", "remove", "bridge", "--index-dir", str(settings_dir)]) == 2
    assert "no document" in capsys.readouterr().err


def test_worker_processes_answer_like_the_cli_and_see_new_builds(api_settings, tmp_path, capsys):
    from assistant.cli import main
    from ui.app import launch

    target = tmp_path / "index"
    shutil.copytree(api_settings.index_dir, target, ignore=shutil.ignore_patterns(".lock"))
    settings = Settings.load(index_dir=target, rate_limit=0, workers=2)
    port = free_port()
    server = launch(settings, port=port, block=False)
    try:
        ask = f"http://127.0.0.1:{port}/api/v1/ask"
        status, body, _ = call("POST", ask, {"question": "Which province is Mae Moh Smart City in?"})
        assert main(["ask", "Which province is Mae Moh Smart City in?", "--json", "--index-dir", str(target)]) == 0
        assert status == 200 and body == json.loads(capsys.readouterr().out)
        assert call("POST", ask, {"question": "x", "city": "atlantis"})[0] == 400
        folder = tmp_path / "office"
        folder.mkdir()
        (folder / "bridge.md").write_text("# Zorblat bamboo bridge\n\nThe Zorblat bamboo bridge is 417 metres long.\n",
                                          encoding="utf-8")
        assert main(["index", str(folder), "--index-dir", str(target), "--json"]) == 0
        answers = [call("POST", ask, {"question": "How long is the Zorblat bamboo bridge?"})[1] for _ in range(4)]
        assert all("417" in a["answer"] for a in answers)  # whichever worker answered
    finally:
        server.close()


def test_serving_beyond_loopback_without_a_staff_account_warns(api_settings):
    import subprocess
    import sys

    muang = Path(sys.executable).parent / "muang"
    process = subprocess.Popen([str(muang), "serve", "--host", "0.0.0.0", "--port", str(free_port()),
                                "--index-dir", str(api_settings.index_dir)], stderr=subprocess.PIPE, text=True,
                               stdout=subprocess.DEVNULL)
    try:
        first = process.stderr.readline()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "warning" in first and "no staff account" in first and "muang user add" in first
