"""The LINE webhook over real HTTP: a local fake LINE platform (tests/fake_line.py) posts signed events to a running
`muang serve` app and records the replies it gets through the Messaging API (line-bot-sdk)."""

from __future__ import annotations

import shutil
import time

import pytest

from assistant.config import Settings
from conftest import free_port
from fake_line import FakeLine, sign, sticker_event, text_event

SECRET = "test-channel-secret"
TOKEN = "test-channel-token"


@pytest.fixture(scope="module")
def line():
    fake = FakeLine()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def webhook(corpus_index, tmp_path_factory, line):
    from ui.app import launch

    target = tmp_path_factory.mktemp("line") / "index"
    shutil.copytree(corpus_index, target, ignore=shutil.ignore_patterns(".lock"))
    settings = Settings.load(index_dir=target, rate_limit=0, line_channel_secret=SECRET,
                             line_channel_token=TOKEN, line_api_url=line.url)
    port = free_port()
    server = launch(settings, port=port, block=False)
    yield f"http://127.0.0.1:{port}/line/webhook"
    server.close()


def texts(reply: dict) -> list[str]:
    return [m["text"] for m in reply["messages"]]


def test_a_thai_question_gets_the_answer_then_numbered_sources(line, webhook):
    event = text_event("แม่เมาะอยู่จังหวัดไหน", user="Uthai")
    assert line.post(webhook, [event], SECRET) == (200, {"status": "ok"})
    reply = line.wait_reply(event["replyToken"])
    answer, sources = texts(reply)[0], texts(reply)[-1]
    assert "ลำปาง" in answer and "[1]" in answer
    assert sources.startswith("แหล่งข้อมูล:") and "[1]" in sources and "https://" in sources
    assert line.authorizations[-1] == f"Bearer {TOKEN}"


def test_an_english_follow_up_uses_that_users_conversation(line, webhook):
    first = text_event("Tell me about Phuket Smart City", user="Ufollow")
    line.post(webhook, [first], SECRET)
    line.wait_reply(first["replyToken"])
    follow = text_event("How many Smarts does it have?", user="Ufollow")
    line.post(webhook, [follow], SECRET)
    answer = texts(line.wait_reply(follow["replyToken"]))[0]
    assert "7" in answer or "seven" in answer.lower()
    assert texts(line.replies[follow["replyToken"]])[-1].startswith("Sources:")


@pytest.mark.parametrize("signature", [None, "d3Jvbmcgc2lnbmF0dXJl"])
def test_a_missing_or_wrong_signature_is_401_and_never_answered(line, webhook, signature):
    event = text_event("แม่เมาะอยู่จังหวัดไหน")
    status, body = line.post(webhook, [event], None if signature is None else SECRET, signature=signature)
    assert status == 401 and "signature" in body["error"].lower()
    status, _ = line.post(webhook, [event], "another-channels-secret")
    assert status == 401
    time.sleep(1.0)
    assert event["replyToken"] not in line.replies


def test_a_replayed_event_is_answered_once(line, webhook):
    event = text_event("ภูเก็ตอยู่ที่ไหน", user="Ureplay")
    assert line.post(webhook, [event], SECRET)[0] == 200
    line.wait_reply(event["replyToken"])
    again = dict(event, replyToken="second-token", deliveryContext={"isRedelivery": True})
    assert line.post(webhook, [again], SECRET)[0] == 200
    time.sleep(2.0)
    assert "second-token" not in line.replies


def test_a_sticker_gets_a_friendly_ask_for_text(line, webhook):
    event = sticker_event(user="Usticker")
    line.post(webhook, [event], SECRET)
    message = texts(line.wait_reply(event["replyToken"]))[0]
    assert "ข้อความ" in message and "text" in message


def test_a_4000_character_message_gets_a_short_answer_within_line_limits(line, webhook):
    event = text_event("ภูเก็ต" * 800, user="Ulong")
    line.post(webhook, [event], SECRET)
    reply = line.wait_reply(event["replyToken"])
    assert 1 <= len(reply["messages"]) <= 5 and all(len(t) <= 5000 for t in texts(reply))
    assert "4,800" in texts(reply)[0] and "2,000" in texts(reply)[0]


def test_in_a_group_the_bot_answers_only_when_mentioned(line, webhook):
    chatter = text_event("แม่เมาะอยู่จังหวัดไหน", user="Ugroup", group="Cgroup1")
    asked = text_event("แม่เมาะอยู่จังหวัดไหน", user="Ugroup", group="Cgroup1", mention_bot=True)
    photo = sticker_event(user="Ugroup")
    photo["source"] = {"type": "group", "groupId": "Cgroup1", "userId": "Ugroup"}
    assert line.post(webhook, [chatter, photo, asked], SECRET)[0] == 200
    answer = texts(line.wait_reply(asked["replyToken"]))[0]
    assert "ลำปาง" in answer and "@Muang" not in answer
    time.sleep(1.0)
    assert chatter["replyToken"] not in line.replies and photo["replyToken"] not in line.replies


def test_not_a_line_body_is_400(line, webhook):
    import json
    import urllib.error
    import urllib.request

    body = b"not json"
    request = urllib.request.Request(webhook, data=body, method="POST",
                                     headers={"X-Line-Signature": sign(SECRET, body)})
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=30)
    assert failed.value.code == 400 and "error" in json.loads(failed.value.read())


def test_answer_messages_respect_line_limits():
    from ui.line import answer_messages

    result = {"language": "en", "answer": "word " * 3000,
              "sources": [{"n": i, "title": f"T{i}", "url": f"https://x.org/{i}"} for i in range(1, 6)]}
    messages = answer_messages(result)
    assert len(messages) <= 5 and all(len(m) <= 5000 for m in messages)
    assert messages[-1].startswith("Sources:") and "https://x.org/5" in messages[-1]
