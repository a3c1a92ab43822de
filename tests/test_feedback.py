"""assistant.serve.feedback: 👍/👎 votes stored in SQLite beside the index, listed and exported as CSV."""

from __future__ import annotations

import csv
import json
import threading

import pytest

from assistant.serve import feedback
from assistant.answer.answering import Source
from assistant.config import Settings
from assistant.errors import MuangError


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings.load(env={}, index_dir=tmp_path / "index")


SOURCE = {"n": 1, "doc_id": "city-mae-moh-th", "title": "แม่เมาะเมืองน่าอยู่", "lang": "th", "city": "mae-moh",
          "chunk_id": "city-mae-moh-th#0", "score": 0.9, "url": "https://example.org/a", "text": "…ลำปาง", "quote": ""}


def test_no_votes_yet_is_an_empty_list_and_creates_nothing(settings):
    assert feedback.entries(settings) == []
    assert not feedback.path(settings).exists()


def test_record_then_entries_round_trip(settings):
    feedback.record(settings, "แม่เมาะอยู่จังหวัดไหน", "จังหวัดลำปาง [1]", [SOURCE], "up")
    source = Source(n=1, doc_id="d", title="T", lang="en", city=None, chunk_id="d#0", score=0.5, url="", text="x")
    feedback.record(settings, "Where?", "Nowhere.", [source], False)
    rows = feedback.entries(settings)
    assert feedback.path(settings) == settings.index_dir / "feedback.sqlite3"
    assert [r["vote"] for r in rows] == ["up", "down"]
    assert rows[0]["question"] == "แม่เมาะอยู่จังหวัดไหน"
    assert rows[0]["answer"] == "จังหวัดลำปาง [1]"
    assert rows[0]["sources"] == [SOURCE]
    assert rows[1]["sources"][0]["doc_id"] == "d"
    assert rows[0]["time"].endswith("Z") and rows[0]["time"][:2] == "20"


@pytest.mark.parametrize("vote, stored", [("like", "up"), ("Dislike", "down"), (1, "up"), (-1, "down"),
                                          ("👍", "up"), ("👎", "down"), (True, "up")])
def test_vote_spellings(settings, vote, stored):
    feedback.record(settings, "q", "a", [], vote)
    assert feedback.entries(settings)[-1]["vote"] == stored


def test_unknown_vote_is_a_user_error(settings):
    with pytest.raises(MuangError, match="unknown vote"):
        feedback.record(settings, "q", "a", [], "maybe")
    assert feedback.entries(settings) == []


def test_export_csv(settings, tmp_path):
    feedback.record(settings, "ภูเก็ตได้กี่ด้าน", "7 ด้าน [1]", [SOURCE], "up")
    feedback.record(settings, "q2", 'say "hi", ok', [], "down")
    target = tmp_path / "out.csv"
    assert feedback.export_csv(settings, target) == 2
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["vote"] for r in rows] == ["up", "down"]
    assert rows[0]["question"] == "ภูเก็ตได้กี่ด้าน"
    assert rows[1]["answer"] == 'say "hi", ok'
    assert '"doc_id": "city-mae-moh-th"' in rows[0]["sources"]


def test_export_with_no_votes_writes_only_the_header(settings, tmp_path):
    target = tmp_path / "empty.csv"
    assert feedback.export_csv(settings, target) == 0
    assert target.read_text(encoding="utf-8-sig").strip() == "id,time,vote,question,answer,sources"


def test_export_to_a_missing_folder_is_a_user_error(settings, tmp_path):
    with pytest.raises(MuangError):
        feedback.export_csv(settings, tmp_path / "nope" / "out.csv")


def test_concurrent_votes_are_all_kept(settings):
    def vote(i: int) -> None:
        for j in range(10):
            feedback.record(settings, f"q{i}-{j}", "a", [], "up" if j % 2 else "down")

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(feedback.entries(settings)) == 80


def test_feedback_command_lists_and_exports(settings, tmp_path, capsys):
    from assistant.cli import main

    feedback.record(settings, "แม่เมาะอยู่จังหวัดไหน", "ลำปาง [1]", [SOURCE], "up")
    assert main(["feedback", "--json", "--index-dir", str(settings.index_dir)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["question"], r["vote"]) for r in rows] == [("แม่เมาะอยู่จังหวัดไหน", "up")]
    target = tmp_path / "votes.csv"
    assert main(["feedback", "--export", str(target), "--index-dir", str(settings.index_dir)]) == 0
    assert "1 feedback entries" in capsys.readouterr().out and "ลำปาง" in target.read_text(encoding="utf-8-sig")
