"""`muang check` on real proposals (Thai and English), with the criteria read from the corpus."""

import json

import pytest

from assistant.cli import main
from conftest import DATA

pytestmark = pytest.mark.slow
PROPOSALS = DATA / "proposals"
CRITERIA = {"area-goals", "infrastructure-plan", "data-platform", "services", "management"}


def check(capsys, index_dir, name):
    code = main(["check", str(PROPOSALS / name), "--json", "--index-dir", str(index_dir)])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


def statuses(report):
    return {r["criterion_id"]: r["status"] for r in report["results"]}


@pytest.mark.parametrize("name, lang", [("complete-th.md", "th"), ("complete-en.md", "en")])
def test_a_complete_proposal_covers_every_criterion(capsys, corpus_index, name, lang):
    code, report, _ = check(capsys, corpus_index, name)
    assert code == 0 and report["lang"] == lang
    assert statuses(report) == {c: "covered" for c in CRITERIA}
    for result in report["results"]:
        assert result["quotes"], "covered criteria come with evidence quotes from the proposal"
        for quote in result["quotes"]:
            assert quote in (PROPOSALS / name).read_text(encoding="utf-8")
        assert result["name_th"] and result["name_en"] and result["sources"]
    assert {"energy", "environment", "mobility", "governance"} <= set(report["smarts"])


def test_a_partial_proposal_misses_the_data_platform_and_the_budget(capsys, corpus_index):
    code, report, _ = check(capsys, corpus_index, "partial-th.md")
    got = statuses(report)
    assert code == 0
    assert got["data-platform"] == "missing" and got["infrastructure-plan"] == "missing"
    assert got["area-goals"] == "covered" and got["management"] == "covered"
    suggestion = next(r["suggestion"] for r in report["results"] if r["criterion_id"] == "data-platform")
    assert suggestion and any("\u0e00" <= ch <= "\u0e7f" for ch in suggestion), "suggestions in Thai"
    assert {"economy", "environment", "living"} <= set(report["smarts"])


def test_buzzwords_cover_nothing(capsys, corpus_index):
    code, report, _ = check(capsys, corpus_index, "buzzwords.txt")
    assert code == 0
    assert "covered" not in statuses(report).values()


def test_an_empty_proposal_is_bad_input(capsys, corpus_index):
    code, _, err = check(capsys, corpus_index, "empty.txt")
    assert code == 2 and "empty" in err


def test_text_output_is_a_table(capsys, corpus_index):
    assert main(["check", str(PROPOSALS / "partial-th.md"), "--index-dir", str(corpus_index)]) == 0
    out = capsys.readouterr().out
    assert "missing" in out and "ด้านที่ข้อเสนอกล่าวถึง" in out
