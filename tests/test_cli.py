"""End to end through the `muang` command: index the shipped corpus, ask, search, evaluate, bad input."""

import json
import re
import subprocess
import sys

import pytest

from assistant.cli import main
from conftest import ROOT

# A dozen gold questions, Thai and English, citizen / staff / applicant.
QUESTIONS = [
    "th-cit-maemoh-province", "th-cit-samyan-owner", "th-cit-wangchan-area",
    "th-staff-secretary", "th-app-criteria-count",
    "en-cit-maemoh-province", "en-cit-wangchan-spelling", "en-cit-samyan-university", "en-staff-chaiwut",
    "en-staff-secretary", "en-app-boi",
]
pytestmark = pytest.mark.slow


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ask_json(capsys, index_dir, question: str, *flags: str) -> dict:
    code, out, err = run(capsys, "ask", question, "--json", "--index-dir", str(index_dir), *flags)
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("qid", QUESTIONS)
def test_gold_questions_are_answered_with_citations(capsys, corpus_index, gold, qid):
    row = next(r for r in gold if r["id"] == qid)
    result = ask_json(capsys, corpus_index, row["question"])
    assert result["confident"] is True
    assert result["language"] == row["lang"]
    answer = result["answer"]
    for group in row["answer_contains"]:
        assert any(alt.lower() in answer.lower() for alt in group), (group, answer)
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
    assert cited, "every answer cites its sources"
    by_n = {s["n"]: s for s in result["sources"]}
    assert cited <= set(by_n)
    assert any(by_n[n]["doc_id"] in row["gold_docs"] for n in cited)
    first = by_n[min(cited)]
    assert first["lang"] == row["lang"], "a source in the question's language is preferred"
    if result["mode"] == "extractive":  # a catalog answer states front-matter facts; it quotes no sentence
        assert first["quote"] and first["quote"] in answer and first["quote"] in first["text"]


def test_the_readme_example_answers_lampang(capsys, corpus_index):
    code, out, _ = run(capsys, "ask", "แม่เมาะอยู่จังหวัดไหน", "--index-dir", str(corpus_index))
    assert code == 0
    assert "ลำปาง" in out and "[1]" in out and "แม่เมาะ" in out


@pytest.mark.parametrize("qid", [r for r in ("th-out-weather", "th-out-tomyum", "th-out-fictional-city",
                                              "en-out-songdo", "en-out-fictional-city", "en-out-football")])
def test_out_of_scope_questions_are_not_confident(capsys, corpus_index, gold, qid):
    row = next(r for r in gold if r["id"] == qid)
    result = ask_json(capsys, corpus_index, row["question"])
    assert result["confident"] is False
    assert result["sources"], "an abstention still lists the nearest sources"
    expected = "ไม่พบคำตอบ" if row["lang"] == "th" else "do not answer"
    assert expected in result["answer"]


def test_english_question_over_thai_only_sources_says_the_source_is_thai(capsys, corpus_index):
    result = ask_json(capsys, corpus_index, "Which province is Mae Moh in?", "--lang", "th")
    assert result["confident"] is True
    assert "ลำปาง" in result["answer"]
    assert result["answer"].endswith("(The quoted source is in Thai.)")
    assert all(s["lang"] == "th" for s in result["sources"])


def test_city_filter_limits_sources(capsys, corpus_index):
    result = ask_json(capsys, corpus_index, "Which Smarts does the plan cover?", "--city", "phuket")
    assert result["sources"] and {s["city"] for s in result["sources"]} == {"phuket"}


def test_search_json_lists_ranked_chunks(capsys, corpus_index):
    code, out, _ = run(capsys, "search", "วังจันทร์วัลเลย์", "--json", "-k", "3", "--index-dir", str(corpus_index))
    results = json.loads(out)["results"]
    assert code == 0 and len(results) == 3
    assert results[0]["doc_id"].startswith("city-wangchan-valley")
    assert [r["rank"] for r in results] == [1, 2, 3]
    code, out, _ = run(capsys, "search", "criteria", "--kind", "smarts", "--json", "--index-dir", str(corpus_index))
    assert {r["doc_id"] for r in json.loads(out)["results"]} <= {"smarts-th", "smarts-en"}


@pytest.mark.parametrize("args, message", [
    (["ask", ""], "the question is empty"),
    (["ask", "   "], "the question is empty"),
    (["ask", "x" * 2001], "limit is 2000"),
    (["ask", "where?", "--city", "atlantis"], "unknown city 'atlantis'"),
    (["ask", "where?", "--smart", "magic"], "unknown Smart 'magic'"),
    (["search", "x", "-k", "0"], "-k must be between 1 and 50"),
    (["eval", "--set", "missing.jsonl"], "no such gold set"),
])
def test_bad_input_exits_2_with_one_line(capsys, corpus_index, args, message):
    code, out, err = run(capsys, *args, "--index-dir", str(corpus_index))
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_path_and_missing_index_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "index", str(tmp_path / "nowhere"), "--index-dir", str(tmp_path / "ix"))
    assert code == 2 and "no such file or folder" in err
    code, _, err = run(capsys, "ask", "แม่เมาะอยู่ไหน", "--index-dir", str(tmp_path / "ix"))
    assert code == 2 and "run `muang index`" in err


def test_eval_reports_the_contract_keys(capsys, corpus_index, tmp_path):
    subset = tmp_path / "gold.jsonl"
    lines = (ROOT / "evals" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(x) for x in lines if x.strip()]
    chosen = [next(r for r in rows if r["lang"] == lang and (r["who"] == "out") == out)
              for lang in ("th", "en") for out in (False, True)]
    subset.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in chosen) + "\n", encoding="utf-8")
    code, out, _ = run(capsys, "eval", "--set", str(subset), "--json", "--index-dir", str(corpus_index))
    report = json.loads(out)
    assert code == 0 and report["n"] == 4
    for key in ("recall@1", "recall@5", "mrr@10", "answer_accuracy", "abstain_rate_out"):
        assert 0.0 <= report[key] <= 1.0
        assert key in report["by_lang"]["th"] and key in report["by_lang"]["en"]
    assert report["abstain_rate_out"] == 1.0


def test_the_console_script_runs_as_a_real_process(corpus_index):
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", "Where is Wangchan Valley?", "--json",
         "--index-dir", str(corpus_index)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "Rayong" in json.loads(done.stdout)["answer"]

