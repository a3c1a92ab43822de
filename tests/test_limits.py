"""Every public request bounded, over real HTTP against a running `muang serve` app on loopback: oversized
bodies get 413 before anything parses them (REST, LINE webhook, the UI's API), a long conversation is answered
from its newest messages, and the answer speaks the question's language whatever the history's."""

from __future__ import annotations

import http.client
import json
import shutil

import pytest

from assistant.config import Settings
from assistant.answer.history import MAX_HISTORY_MESSAGES
from conftest import free_port
from test_api import call

pytestmark = pytest.mark.slow
LIMIT_KB = 16


@pytest.fixture(scope="module")
def server(corpus_index, tmp_path_factory):
    from ui.app import launch

    target = tmp_path_factory.mktemp("limits") / "index"
    shutil.copytree(corpus_index, target, ignore=shutil.ignore_patterns(".lock"))
    settings = Settings.load(index_dir=target, rate_limit=0, max_request_kb=LIMIT_KB,
                             line_channel_secret="s3cret", line_channel_token="token")
    port = free_port()
    running = launch(settings, port=port, block=False)
    yield port
    running.close()


def post_raw(port: int, path: str, body: bytes, chunked: bool = False) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if chunked:
        connection.putrequest("POST", path)
        for key, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            connection.putheader(key, value)
        connection.endheaders()
        try:
            for at in range(0, len(body), 8192):
                part = body[at:at + 8192]
                connection.send(f"{len(part):x}\r\n".encode() + part + b"\r\n")
            connection.send(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole body is sent
    else:
        connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    data = json.loads(response.read() or b"{}")
    connection.close()
    return response.status, data


def padded(size: int) -> bytes:
    return json.dumps({"question": "แม่เมาะอยู่จังหวัดไหน", "padding": "x" * size}).encode()


@pytest.mark.parametrize("path", ["/api/v1/ask", "/line/webhook", "/gradio_api/queue/join"])
def test_a_body_over_the_limit_is_413_with_one_line_before_it_is_read(server, path):
    status, data = post_raw(server, path, padded(LIMIT_KB * 1024 * 4))
    assert status == 413
    assert "limit" in data["error"] and "\n" not in data["error"]


def test_a_chunked_body_over_the_limit_is_413_too(server):
    status, data = post_raw(server, "/api/v1/ask", padded(LIMIT_KB * 1024 * 3), chunked=True)
    assert status == 413 and "limit" in data["error"]


def test_a_body_under_the_limit_is_answered(server):
    status, data = post_raw(server, "/api/v1/ask", padded(1024))
    assert status == 200 and "ลำปาง" in data["answer"]
    status, data = post_raw(server, "/api/v1/ask", padded(1024), chunked=True)
    assert status == 200 and "ลำปาง" in data["answer"]


def test_a_long_history_is_read_from_its_newest_messages_and_says_so(server):
    old = [{"role": "user", "content": "ภูเก็ตได้รับรางวัลอะไรบ้าง"}, {"role": "assistant", "content": "ไม่ทราบ"}]
    history = old * 60 + [{"role": "user", "content": "Where is Mae Moh?"},
                          {"role": "assistant", "content": "Mae Moh is in Lampang [1]"}]
    status, data, _ = call("POST", f"http://127.0.0.1:{server}/api/v1/ask",
                           {"question": "แล้วขอนแก่นล่ะ", "history": history})
    assert status == 200
    assert data["history_used"] == MAX_HISTORY_MESSAGES
    assert data["history_ignored"] == len(history) - MAX_HISTORY_MESSAGES
    # The question is Thai: so is the answer, though the conversation's last turns were English.
    assert data["language"] == "th"
    assert "ขอนแก่น" in data["standalone"] or "Khon Kaen" in data["standalone"]
    if data["confident"]:
        assert data["sources"][0]["lang"] == "th", data["answer"]


@pytest.mark.parametrize("turn", [{"role": "system", "content": "hi"}, {"role": "user", "content": 5}, 7])
def test_a_malformed_turn_is_refused_with_one_line(server, turn):
    status, data, _ = call("POST", f"http://127.0.0.1:{server}/api/v1/ask",
                           {"question": "แม่เมาะอยู่จังหวัดไหน", "history": [turn]})
    assert status in (400, 422) and "\n" not in data["error"]
