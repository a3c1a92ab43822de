"""Follow-up questions without an LLM: the conversation's subject (a city, province, Smart or batch from the
catalog) carried into a question that lacks one; `muang ask --history`; `muang eval` over conversations."""

from __future__ import annotations

import json

import pytest

from assistant.cli import main
from assistant.config import Settings
from assistant.answer.conversation import standalone_question
from assistant.answer.history import check_history, load_history
from assistant.errors import MuangError
from assistant.answer.retrieval import Index
from conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def index(corpus_index) -> Index:
    return Index(Settings.load(index_dir=corpus_index))


def asked(*questions: str) -> list[dict[str, str]]:
    history = []
    for question in questions:
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": "…"}]
    return history


@pytest.mark.parametrize("before, question, expected", [
    # ellipsis: a new subject swapped into the last question
    (["แม่เมาะอยู่ที่ไหน"], "แล้วขอนแก่นล่ะ", "ขอนแก่นอยู่ที่ไหน"),
    (["Where is Mae Moh Smart City?"], "And Phuket?", "Where is Phuket Smart City?"),
    (["Which Smarts does Mae Moh cover?"], "what about Sam Yan?", "Which Smarts does Sam Yan cover?"),
    (["เมืองอัจฉริยะในจังหวัดระยองมีที่ไหนบ้าง"], "แล้วจังหวัดเชียงใหม่ล่ะ",
     "เมืองอัจฉริยะในจังหวัดเชียงใหม่มีที่ไหนบ้าง"),
    (["Which batch-1 cities include Smart Energy?"], "And Smart Mobility?",
     "Which batch-1 cities include Smart Mobility?"),
    (["มีเมืองอัจฉริยะกี่เมืองที่ได้ครบ 7 ด้าน"], "แล้วชุดที่ 1 ล่ะ",
     "มีเมืองอัจฉริยะกี่เมืองที่ได้ครบ 7 ด้าน ชุดที่ 1"),
    (["แม่เมาะอยู่จังหวัดไหน"], "And Phuket?", "ภูเก็ตเมืองอัจฉริยะอยู่จังหวัดไหน"),  # the frame's language
    (["Where is Mae Moh?", "How many criteria are there?"], "What about Khon Kaen?", "Where is Khon Kaen?"),
    # references: pronouns and demonstratives
    (["Where is Wangchan Valley?"], "Who owns it?", "Who owns Wangchan Valley?"),
    (["Where is Wangchan Valley?"], "Which smart cities are in that province?",
     "Which smart cities are in Rayong province?"),
    (["สามย่านสมาร์ทซิตี้อยู่ที่ไหน"], "ใครเป็นเจ้าของที่นี่", "ใครเป็นเจ้าของสามย่านสมาร์ทซิตี้"),
    (["โคราชอยู่จังหวัดอะไร"], "เมืองนั้นอยู่ชุดไหน", "โคราชอยู่ชุดไหน"),
    (["พลังงานอัจฉริยะคืออะไร"], "เมืองไหนบ้างที่มีด้านนี้", "เมืองไหนบ้างที่มีพลังงานอัจฉริยะ"),
    (["What is Smart Energy?"], "Which batch-1 cities have it?", "Which batch-1 cities have Smart Energy?"),
    (["Where is Khon Kaen?"], "What are its goals?", "What are Khon Kaen's goals?"),
    # omission: no subject at all, the conversation's is put in front
    (["แม่เมาะอยู่ที่ไหน", "แล้วขอนแก่นล่ะ"], "มีกี่ด้าน", "ขอนแก่น มีกี่ด้าน"),
    (["วังจันทร์วัลเลย์เป็นของใคร"], "ตั้งอยู่จังหวัดอะไร", "วังจันทร์วัลเลย์ ตั้งอยู่จังหวัดอะไร"),
    (["Where is Mae Moh?"], "When was the mark granted?", "Mae Moh: When was the mark granted?"),
    (["Where is Mae Moh?"], "แล้วได้รับตราเมื่อไร", "แม่เมาะเมืองน่าอยู่ ได้รับตราเมื่อไร"),  # the name in Thai
    # a place the documents never name replaces the old one, and will get no answer
    (["Where is Phuket Smart City?"], "And Atlantis?", "Where is Atlantis?"),
    (["แม่เมาะอยู่จังหวัดไหน"], "แล้วสิงคโปร์ล่ะ", "สิงคโปร์อยู่จังหวัดไหน"),
    # standing alone: its own subject, a definition, another topic, a count over all cities, no history
    (["แม่เมาะอยู่จังหวัดไหน"], "แล้วภูเก็ตได้กี่ด้าน", "แล้วภูเก็ตได้กี่ด้าน"),
    (["Where is Mae Moh?"], "What is depa?", "What is depa?"),
    (["แม่เมาะอยู่จังหวัดไหน"], "ดีป้าคืออะไร", "ดีป้าคืออะไร"),
    (["Where is Mae Moh?"], "How many criteria are there?", "How many criteria are there?"),
    (["แม่เมาะอยู่จังหวัดไหน"], "เกณฑ์การยื่นขอรับตรามีกี่ข้อ", "เกณฑ์การยื่นขอรับตรามีกี่ข้อ"),
    (["Where is Mae Moh?"], "How many smart cities are there?", "How many smart cities are there?"),
    ([], "มีกี่ด้าน", "มีกี่ด้าน"),
])
def test_follow_ups_become_standalone_questions(index, before, question, expected):
    assert standalone_question(index, question, asked(*before)) == expected


def test_a_subject_named_only_in_the_answer_is_carried(index):
    history = [{"role": "user", "content": "Which city is run by PTT?"},
               {"role": "assistant", "content": "Wangchan Valley Smart City is a project of PTT. [1]"}]
    assert standalone_question(index, "Where is it?", history) == "Where is Wangchan Valley Smart City?"


def _ask(capsys, corpus_index, question, history=()):
    args = ["ask", question, "--json", "--index-dir", str(corpus_index)]
    if history:
        path = corpus_index.parent / "items-chat.json"
        path.write_text(json.dumps(list(history), ensure_ascii=False), encoding="utf-8")
        args += ["--history", str(path)]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("first, follow, again", [
    ("Which smart cities are in Bangkok?", "which batch was the second one in?", "and the first one?"),
    ("What are the five criteria?", "what does the third one require?", "and the fifth?"),
    ("เกณฑ์มีอะไรบ้าง", "ข้อ 2 ต้องทำอะไร", "แล้วข้อสุดท้ายล่ะ"),
])
def test_an_item_of_a_listed_answer_is_referred_to_by_its_place(capsys, corpus_index, index, first, follow, again):
    listed = _ask(capsys, corpus_index, first)
    # a list cites each item's document in order; a criteria list cites its overview first
    docs = [s["doc_id"] for s in listed["sources"]]
    items = docs[1:] if len(docs) > 1 and "(1)" in listed["answer"] else docs
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": listed["answer"]}]
    n = {"second": 1, "third": 2, "ข้อ 2": 1}[next(k for k in ("second", "third", "ข้อ 2") if k in follow)]
    result = _ask(capsys, corpus_index, follow, history)
    assert result["standalone"] != follow and result["sources"][0]["doc_id"] == items[n], result
    history += [{"role": "user", "content": follow}, {"role": "assistant", "content": result["answer"]}]
    result = _ask(capsys, corpus_index, again, history)
    wanted = items[0] if "first" in again else items[-1]
    assert result["sources"][0]["doc_id"] == wanted, result


def test_history_files_and_their_errors(tmp_path):
    assert check_history(["a", {"role": "assistant", "content": "b"}]) == [
        {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    with pytest.raises(MuangError, match="history item 1"):
        check_history([{"role": "system", "content": "x"}])
    with pytest.raises(MuangError, match="JSON list"):
        check_history({"role": "user"})
    bad = tmp_path / "bad.json"
    bad.write_text("[", encoding="utf-8")
    with pytest.raises(MuangError, match="not a JSON history"):
        load_history(bad)
    with pytest.raises(MuangError, match="no such history file"):
        load_history(tmp_path / "missing.json")


def test_ask_with_history_answers_the_follow_up(capsys, corpus_index, tmp_path):
    history = tmp_path / "chat.json"
    history.write_text(json.dumps(["แม่เมาะอยู่ที่ไหน", "แล้วขอนแก่นล่ะ"], ensure_ascii=False), encoding="utf-8")
    code = main(["ask", "มีกี่ด้าน", "--history", str(history), "--json", "--index-dir", str(corpus_index)])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["question"] == "มีกี่ด้าน" and data["standalone"] == "ขอนแก่น มีกี่ด้าน"
    assert data["confident"] and "7" in data["answer"] and data["mode"] in ("extractive", "catalog")
    assert any(s["city"] == "khon-kaen" for s in data["sources"])
    code = main(["ask", "Who owns it?", "--history", str(history), "--index-dir", str(corpus_index)])
    assert code == 0  # a Thai history, an English follow-up: still answered, in text form
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}', encoding="utf-8")
    code = main(["ask", "มีกี่ด้าน", "--history", str(bad), "--index-dir", str(corpus_index)])
    _, err = capsys.readouterr()
    assert code == 2 and "JSON list" in err and err.count("\n") == 1


def test_eval_reports_conversations(capsys, corpus_index, tmp_path):
    rows = [json.loads(line) for line in (ROOT / "evals" / "conversations.jsonl").read_text(encoding="utf-8")
            .splitlines() if line.strip()]
    assert len(rows) >= 10 and {r["lang"] for r in rows} == {"th", "en"}
    chosen = [next(r for r in rows if r["id"] == "th-maemoh-khonkaen"),
              next(r for r in rows if r["id"] == "en-unknown-place")]
    subset = tmp_path / "conversations.jsonl"
    subset.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in chosen) + "\n", encoding="utf-8")
    details = tmp_path / "details.jsonl"
    code = main(["eval", "--set", str(subset), "--json", "--details", str(details), "--index-dir", str(corpus_index)])
    report = json.loads(capsys.readouterr()[0])
    assert code == 0 and report["n"] == 5 and report["conversations"] == 2
    assert report["conversation_accuracy"] == 1.0 and report["followup_accuracy"] == 1.0
    assert report["abstain_rate_out"] == 1.0
    turns = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [t["id"] for t in turns][:3] == ["th-maemoh-khonkaen#1", "th-maemoh-khonkaen#2", "th-maemoh-khonkaen#3"]
    assert turns[2]["standalone"] == "ขอนแก่น มีกี่ด้าน"


def test_which_ones_after_a_count_in_a_province_lists_that_provinces_cities(capsys, corpus_index):
    history = []
    for question in ("มีเมืองอัจฉริยะกี่เมือง", "ในกรุงเทพล่ะ"):
        answered = _ask(capsys, corpus_index, question, history)
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": answered["answer"]}]
    result = _ask(capsys, corpus_index, "มีเมืองไหนบ้าง", history)
    assert result["mode"] == "catalog" and "กรุงเทพมหานคร" in result["answer"], result["answer"]
    assert len(result["sources"]) < 10  # not every city
