"""The answer engine through `muang ask --json` on the shipped corpus: misspelt names, the other calendar,
negation, lists with their intro, and questions the documents cannot answer. The questions are written for
these tests (none is copied from a gold set or benchmark)."""

import json

import pytest

from assistant.cli import main

pytestmark = pytest.mark.slow


def ask(capsys, index_dir, question):
    assert main(["ask", question, "--json", "--index-dir", str(index_dir)]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_misspelt_city_is_still_answered(capsys, corpus_index):
    result = ask(capsys, corpus_index, "แม่เมาะเมืองน่าอยู่อยู่จังหวัดอะไรคับ")
    assert result["confident"] and "ลำปาง" in result["answer"]
    result = ask(capsys, corpus_index, "Which province is Wangchan Vally in?")
    assert result["confident"] and ("Rayong" in result["answer"] or "ระยอง" in result["answer"])


def test_a_where_question_is_answered_with_the_place(capsys, corpus_index):
    # "อยู่" is said inside "ตั้งอยู่"; "เลย" (Loei) inside "วัลเลย์" names no place.
    result = ask(capsys, corpus_index, "วังจันทร์วัลเลย์อยู่ที่ไหน")
    assert result["confident"] and "ระยอง" in result["answer"]


def test_negation_answers_the_set_difference(capsys, corpus_index):
    result = ask(capsys, corpus_index, "first-batch cities that plan Smart Energy but not Smart Mobility")
    assert result["mode"] == "catalog" and result["confident"]
    assert "Mae Moh" in result["answer"] and "Phuket" not in result["answer"]


def test_the_other_calendar_finds_the_same_round(capsys, corpus_index):
    ce = ask(capsys, corpus_index, "How many areas were approved in 2021?")
    be = ask(capsys, corpus_index, "How many areas were approved in 2564?")
    assert ce["confident"] and ce["answer"] == be["answer"]


@pytest.mark.parametrize("question", [
    "ขอนแก่นรถติดตรงไหนบ้างเช้านี้",
    "What is the phone number of the Phuket smart city office?",
    "สามย่านสมาร์ทซิตี้มีร้านกาแฟกี่ร้าน",
    "Which Australian towns hold the smart city mark?",
])
def test_what_the_documents_do_not_say_is_not_answered_confidently(capsys, corpus_index, question):
    result = ask(capsys, corpus_index, question)
    assert result["confident"] is False
    assert result["sources"], "an abstention still lists the nearest sources"


def test_latest_answers_with_the_most_recent_dated_total_and_its_date(capsys, corpus_index):
    from assistant.answer.catalog import figures, latest
    from assistant.config import Settings
    from assistant.answer.retrieval import Index

    newest = latest(figures(Index(Settings.load(index_dir=corpus_index)).docs, what="certified_cities_total"))
    assert newest, "the corpus records dated totals"
    result = ask(capsys, corpus_index, "So far, how many areas hold the smart city mark?")
    assert result["confident"] and str(newest[0].value) in result["answer"]
    assert newest[0].as_of[:4] in result["answer"]
    thai = ask(capsys, corpus_index, "ล่าสุดตอนนี้มีเมืองอัจฉริยะทั้งหมดกี่เมือง")
    assert str(newest[0].value) in thai["answer"] and str(int(newest[0].as_of[:4]) + 543) in thai["answer"]


@pytest.mark.parametrize("question", ["ประเทศไทยมีเมืองอัจฉริยะกี่เมือง", "How many smart cities are there in Thailand?"])
def test_a_count_asked_with_no_date_is_the_latest_total_not_the_cities_documented(capsys, corpus_index, question):
    # the corpus documents fewer cities than hold the mark: counting its city documents would understate it
    from assistant.answer.catalog import figures, latest
    from assistant.config import Settings
    from assistant.answer.retrieval import Index

    newest = latest(figures(Index(Settings.load(index_dir=corpus_index)).docs, what="certified_cities_total"))
    result = ask(capsys, corpus_index, question)
    assert result["confident"] and str(newest[0].value) in result["answer"]


@pytest.mark.parametrize("question", ["แม่เมาะอยู่ไหนอะ", "แม่เมาะอยู่จังหวัดไหนคะ", "แม่เมาะอยู่ไหนป่ะ"])
def test_a_question_typed_as_in_chat_is_answered_like_the_plain_one(capsys, corpus_index, question):
    result = ask(capsys, corpus_index, question)
    assert result["confident"] and "ลำปาง" in result["answer"], result


def test_an_everyday_verb_the_documents_never_use_does_not_turn_a_list_question_away(capsys, corpus_index):
    # "got" is in no document, but the approval route reads it: it says nothing of what the question is about
    said = ask(capsys, corpus_index, "Which cities were approved in 2022?")
    got = ask(capsys, corpus_index, "which cities got approved in 2022")
    assert got["mode"] == "catalog" and got["answer"] == said["answer"]


def test_a_sentence_about_the_document_itself_is_never_the_answer(capsys, corpus_index):
    result = ask(capsys, corpus_index, "What benefits does a certified smart city get?")
    assert "This document" not in result["answer"], result


@pytest.mark.parametrize("question", ["เชียงรายได้รับตราเมื่อไหร่", "When did Nan get the smart city mark?"])
def test_a_mark_date_no_document_gives_is_said_to_be_unknown_beside_the_approval(capsys, corpus_index, question):
    # their documents record the approving meeting and, later, the mark's renewal, never the date it was received
    result = ask(capsys, corpus_index, question)
    assert result["mode"] == "catalog" and "1/2565" in result["answer"], result
    assert "2568" not in result["answer"] and "2025" not in result["answer"], result


def test_markup_pasted_into_a_question_does_not_change_the_answer(capsys, corpus_index):
    plain = ask(capsys, corpus_index, "แม่เมาะอยู่จังหวัดไหน")
    pasted = ask(capsys, corpus_index, '<img src=x onerror="alert(1)"><b>แม่เมาะ</b>อยู่จังหวัดไหน')
    assert plain["confident"] and pasted["confident"] and "ลำปาง" in pasted["answer"]
    assert pasted["answer"] == plain["answer"]



@pytest.mark.parametrize("question", ["วังจันทร์วัลเลย์เป็นของใคร", "Who runs Wangchan Valley?"])
def test_an_owner_question_is_answered_right_or_not_confidently(capsys, corpus_index, question):
    # The city document scores Wangchan Valley in the TSCCI right beside "a project of PTT": quoting the
    # score confidently would be the wrong answer stated as fact.
    result = ask(capsys, corpus_index, question)
    assert not result["confident"] or "ปตท" in result["answer"] or "PTT" in result["answer"], result["answer"]


def index_one(capsys, tmp_path, name: str, text: str):
    """An index of one Markdown document, built through the CLI."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path / "ix"
    assert main(["index", str(docs), "--index-dir", str(index_dir), "--json"]) == 0
    capsys.readouterr()
    return index_dir


def test_a_sentence_opening_with_a_pronoun_is_quoted_with_the_one_before(capsys, tmp_path):
    index_dir = index_one(capsys, tmp_path, "club.md",
        "# Weaving club of Ban Rai\n\nSomchai Jaidee founded the weaving club of Ban Rai in 1990 with twelve "
        "neighbours. He is also the oldest member of the weaving club, at 81 years of age. The club meets on "
        "Sundays in the temple hall.\n")
    result = ask(capsys, index_dir, "Who is the oldest member of the weaving club?")
    assert result["confident"] and "81" in result["answer"]
    assert "Somchai" in result["answer"], "'He is ...' alone does not say who"


@pytest.mark.parametrize("question", ["How many certified smart cities are there now?",
                                      "so far how many smart cities has thailand got"])
def test_a_latest_total_asked_in_words_no_document_uses_is_still_the_dated_figure(capsys, corpus_index, question):
    from assistant.answer.catalog import figures, latest
    from assistant.config import Settings
    from assistant.answer.retrieval import Index

    newest = latest(figures(Index(Settings.load(index_dir=corpus_index)).docs, what="certified_cities_total"))
    result = ask(capsys, corpus_index, question)
    assert result["mode"] == "catalog" and str(newest[0].value) in result["answer"]


def test_a_total_for_a_country_the_documents_do_not_cover_is_not_answered(capsys, corpus_index):
    result = ask(capsys, corpus_index, "how many smart cities has vietnam got so far")
    assert result["confident"] is False



def test_a_year_first_thai_count_is_that_years_dated_total(capsys, corpus_index):
    from assistant.answer.catalog import figures
    from assistant.config import Settings
    from assistant.answer.retrieval import Index

    totals = figures(Index(Settings.load(index_dir=corpus_index)).docs, what="certified_cities_total", lang="th")
    that_year = {str(f.value) for f in totals if f.year == 2023}
    assert that_year, "the corpus records a 2023 total"
    result = ask(capsys, corpus_index, "ในปี 2023 มีเมืองอัจฉริยะกี่เมือง")
    assert result["mode"] == "catalog" and any(v in result["answer"] for v in that_year)


def _figures(corpus_index, what, lang=None):
    from assistant.answer.catalog import figures
    from assistant.config import Settings
    from assistant.answer.retrieval import Index

    return figures(Index(Settings.load(index_dir=corpus_index)).docs, what=what, lang=lang)


def test_renewals_in_a_year_are_that_years_renewal_figure(capsys, corpus_index):
    renewed = _figures(corpus_index, "renewed_cities")
    assert renewed, "the corpus records renewals"
    year = renewed[-1].year
    result = ask(capsys, corpus_index, f"How many smart cities got their mark renewed in {year}?")
    assert result["mode"] == "catalog" and str(renewed[-1].value) in result["answer"]
    thai = ask(capsys, corpus_index, f"เมืองอัจฉริยะที่ได้ต่ออายุตราในปี {year + 543} มีจำนวนเท่าไร")
    assert thai["mode"] == "catalog" and str(renewed[-1].value) in thai["answer"]


def test_a_rule_the_sources_state_differently_is_answered_with_every_value_and_the_disagreement(capsys, corpus_index):
    values = {f.value for f in _figures(corpus_index, "min_smarts_required")}
    assert len(values) > 1, "the corpus records sources that disagree on the minimum"
    result = ask(capsys, corpus_index, "How many Smarts does a city need at least?")
    assert result["mode"] == "catalog" and all(str(v) in result["answer"] for v in values)
    assert "disagree" in result["answer"]
    thai = ask(capsys, corpus_index, "ข้อเสนอเมืองอัจฉริยะต้องมีขั้นต่ำกี่ด้าน")
    assert thai["mode"] == "catalog" and "ไม่ตรงกัน" in thai["answer"]


def test_a_score_and_its_rounding_are_one_figure_not_a_disagreement(capsys, corpus_index):
    scores = [f for f in _figures(corpus_index, "tscci_score", lang="en") if f.city == "chachoengsao"]
    assert len({f.value for f in scores}) > 1, "the corpus states the score exactly and rounded"
    precise = max(scores, key=lambda f: len(str(f.value)))
    result = ask(capsys, corpus_index, "What TSCCI score did Chachoengsao get?")
    assert result["mode"] == "catalog" and f"{precise.value}%" in result["answer"]
    assert "disagree" not in result["answer"]


def test_a_total_comes_with_the_provinces_counted_the_same_day(capsys, corpus_index):
    provinces = {f.as_of: f.value for f in _figures(corpus_index, "certified_provinces_total")}
    totals = [f for f in _figures(corpus_index, "certified_cities_total") if f.as_of in provinces]
    assert totals, "the corpus records a total with its provinces"
    f = totals[0]
    result = ask(capsys, corpus_index, f"In total, how many areas held the smart city mark in {f.year}?")
    assert result["mode"] == "catalog" and f"{f.value} in {provinces[f.as_of]} provinces" in result["answer"]


def test_a_citys_batch_is_answered_from_its_front_matter_and_an_unknown_one_is_said_to_be_unknown(capsys, corpus_index):
    from assistant.config import Settings
    from assistant.answer.retrieval import Index

    cities = Index(Settings.load(index_dir=corpus_index)).catalog()
    known = next(c for c in cities if c.batch and c.name_en)
    unknown = next(c for c in cities if c.batch is None and c.name_en)
    result = ask(capsys, corpus_index, f"Which batch was {known.name_en} in?")
    assert result["mode"] == "catalog" and f"batch {known.batch}" in result["answer"]
    result = ask(capsys, corpus_index, f"In which round was {unknown.name_en} approved?")
    assert result["mode"] == "catalog" and "not known" in result["answer"] and not result["confident"]
    assert result["sources"][0]["doc_id"] == unknown.doc_ids["en"]


def test_a_message_asking_two_things_answers_both_with_one_numbering_of_sources(capsys, corpus_index):
    result = ask(capsys, corpus_index, "Which province is Mae Moh Smart City in? Which Smarts does Phuket Smart City plan?")
    assert result["confident"] and "Lampang" in result["answer"] and "Smart Governance" in result["answer"]
    cited = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", result["answer"])}
    assert cited <= {s["n"] for s in result["sources"]}
    assert [s["n"] for s in result["sources"]] == list(range(1, len(result["sources"]) + 1))


def test_a_quoted_sentence_saying_the_sources_do_not_know_is_quoted_but_not_confident(capsys, tmp_path):
    from assistant.answer.questions import states_unknown

    index_dir = index_one(capsys, tmp_path, "contest.md",
        "# Ban Rai weaving contest\n\nThe Ban Rai weaving contest is held every March in the temple hall. Twelve "
        "villages sent weavers in 2024. The pass mark of the Ban Rai weaving contest is not known from our "
        "sources.\n")
    result = ask(capsys, index_dir, "What pass mark does the Ban Rai weaving contest use?")
    assert "pass mark" in result["answer"] and states_unknown(result["answer"])
    assert result["confident"] is False, "the documents saying they do not know is not an answer"
    assert result["sources"] and result["sources"][0]["doc_id"].startswith("contest")


@pytest.mark.parametrize("sentence, says_unknown", [
    ("แหล่งข้อมูลของเราไม่มีการรับรองเมืองใหม่ในปี 2567", True),
    ("เราไม่พบชื่อโครงการของกระบี่", True),
    ("Our sources have no figure for the 2024 budget.", True),
    ("We found no report of a third cohort.", True),
    ("No source explains why the number of provinces fell.", True),
    # facts, not gaps: Wikipedia says "cause unknown" of the world, not of our sources
    ("มือกลองของวงลาออกอย่างไม่ทราบสาเหตุ", False),
    ("Mae Moh Smart City is in Lampang.", False),
])
def test_the_ways_a_document_says_it_does_not_know(sentence, says_unknown):
    from assistant.answer.questions import states_unknown

    assert states_unknown(sentence) is says_unknown


def test_evaluation_does_not_count_an_unknown_answer_as_a_false_abstention():
    from assistant.evaluation import score

    rows = [{"id": "a", "who": "staff", "gold_docs": ["d"], "answer_contains": [["ไม่ปรากฏ", "not known"]]},
            {"id": "b", "who": "staff", "gold_docs": ["d"], "answer_contains": [["Lampang"]]}]
    results = [{"docs": ["d"], "answer": "The date is not known from our sources. [1]", "confident": False},
               {"docs": ["d"], "answer": "Mae Moh is in Lampang. [1]", "confident": True}]
    report = score(rows, results)
    assert report["answer_accuracy"] == 1.0 and report["confident_rate_in"] == 1.0


@pytest.mark.parametrize("question", ["ชุดที่ 9 มีเมืองไหนบ้าง", "Which areas did sub-committee meeting 5/2566 approve?"])
def test_a_batch_or_meeting_no_document_records_is_said_to_be_unknown(capsys, corpus_index, question):
    result = ask(capsys, corpus_index, question)
    assert result["mode"] == "catalog" and result["confident"] is False
    assert "1/2564" in result["answer"], "the answer names the rounds the documents do record"


@pytest.mark.parametrize("question", ["เกาหลีใต้ใช้เกณฑ์อะไรรับรองเมืองอัจฉริยะ", "How does Japan pick its smart cities?"])
def test_a_question_about_another_country_is_not_answered_from_thai_documents(capsys, corpus_index, question):
    result = ask(capsys, corpus_index, question)
    assert result["confident"] is False, result["answer"]


def test_a_score_asked_for_a_year_without_one_is_not_another_years_score(capsys, corpus_index):
    scores = [f for f in _figures(corpus_index, "tscci_score") if f.city == "chachoengsao"]
    years = {f.year for f in scores}
    assert years and 2024 not in years, "the corpus has no 2024 score for Chachoengsao"
    result = ask(capsys, corpus_index, "คะแนน TSCCI ของฉะเชิงเทราในปี 67 คือเท่าไหร่")
    assert not result["confident"] or not any(str(f.value) in result["answer"] for f in scores), result["answer"]


def test_the_smarts_of_a_city_named_after_its_province_come_from_the_city(capsys, corpus_index):
    result = ask(capsys, corpus_index, "นครสวรรค์เมืองอัจฉริยะทำแผนไว้กี่ด้าน")
    assert result["mode"] == "catalog" and result["sources"][0]["doc_id"] == "city-nakhon-sawan-th"
    assert "ไม่ปรากฏ" in result["answer"] and result["confident"] is False


TOWN = """---
id: {slug}-en
title: {name}
lang: en
kind: city
city: {slug}
name_en: {name}
province_en: {province}
---
# {name}

{body}
"""


def index_files(capsys, tmp_path, files: dict[str, str]):
    """An index of the given documents (file name -> text)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in files.items():
        (docs / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path / "ix"
    assert main(["index", str(docs), "--index-dir", str(index_dir), "--json"]) == 0
    capsys.readouterr()
    return index_dir


def test_a_citys_page_quoting_another_citys_date_does_not_answer_with_it(capsys, tmp_path):
    index_dir = index_files(capsys, tmp_path, {
        "ban-rai.md": TOWN.format(
            slug="ban-rai", name="Ban Rai Smart Town", province="Nan",
            body="Ban Rai Smart Town is in Nan province and plans to share its river data with farmers. The date "
                 "Ban Rai Smart Town received its mark is not in our sources. Ban Na Smart Town received its mark "
                 "on 3 March 2023, as the provincial office reported."),
        "ban-na.md": TOWN.format(slug="ban-na", name="Ban Na Smart Town", province="Phrae",
                                 body="Ban Na Smart Town is in Phrae province and runs a market app for its weavers."),
    })
    result = ask(capsys, index_dir, "When did Ban Rai Smart Town receive its mark?")
    assert "3 March 2023" not in result["answer"] or not result["confident"], "that is Ban Na's date"
    result = ask(capsys, index_dir, "When did Ban Na Smart Town receive its mark?")
    assert "3 March 2023" in result["answer"]


def test_a_score_in_the_sentence_after_one_naming_the_city_is_not_that_citys_when_it_names_another(capsys, tmp_path):
    # The reader reads a unit with the sentence after it; a headline naming the asked town, followed by another
    # town's score, must not answer with that score.
    towns = {f"{slug}.md": TOWN.format(slug=slug, name=name, province=province, body=f"{name} is in {province} province.")
             for slug, name, province in [("ban-rai", "Ban Rai Smart Town", "Nan"),
                                          ("ban-na", "Ban Na Smart Town", "Phrae"),
                                          ("ban-khok", "Ban Khok Smart Town", "Loei")]}
    index_dir = index_files(capsys, tmp_path, towns | {"index.md": (
        "---\nid: town-index-en\ntitle: The 2024 town index\nlang: en\nkind: programme\n---\n# The 2024 town index\n\n"
        "Headlines on the 2024 town index named Ban Rai Smart Town and Ban Na Smart Town among the leaders. "
        "Ban Khok Smart Town came fourth in the 2024 town index with a score of 76.22%. "
        "The index is published every year by the provincial office.\n")})
    result = ask(capsys, index_dir, "What was Ban Rai Smart Town's score in the 2024 town index?")
    assert "76.22" not in result["answer"] or not result["confident"], "that is Ban Khok's score"
    result = ask(capsys, index_dir, "What was Ban Khok Smart Town's score in the 2024 town index?")
    assert result["confident"] and "76.22" in result["answer"], result


def test_an_answer_in_the_clause_after_the_one_the_question_matches_is_quoted_with_it(capsys, tmp_path):
    # Thai has no full stop: segmentation cuts at the space after "จึงได้", and what was decided is the next unit.
    index_dir = index_one(capsys, tmp_path, "council.md",
        "# สภาเมืองบ้านไร่\n\nสภาเมืองบ้านไร่ประชุมสมัยวิสามัญเมื่อเดือนมกราคม 2567 ที่ศาลากลางหมู่บ้าน "
        "หลังจากฟังความเห็นของชาวบ้านแล้วที่ประชุมจึงได้ อนุมัติงบประมาณ 20 ล้านบาทเพื่อสร้างสะพานข้ามแม่น้ำน่าน "
        "โครงการนี้จะเริ่มก่อสร้างในปีหน้า\n")
    result = ask(capsys, index_dir, "หลังฟังความเห็นชาวบ้านแล้ว ที่ประชุมสภาเมืองบ้านไร่ทำอะไร")
    assert result["confident"] and "อนุมัติงบประมาณ 20 ล้านบาท" in result["answer"]


def test_a_what_is_question_is_never_answered_with_a_sentence_that_only_names_the_term(capsys, corpus_index):
    # Most sentences naming TSCCI give its rankings, and they match "TSCCI" as well as its definition does;
    # "คือไร" is "คืออะไร" as people type it in chat. The definition's document is among the sources either way.
    for question in ("TSCCI คือไร", "tscci คืออะไร"):
        result = ask(capsys, corpus_index, question)
        assert not result["confident"] or "Thailand Smart City Competitiveness Index" in result["answer"], result
        assert "city-phadung-krung-kasem-th" in [s["doc_id"] for s in result["sources"]], result["sources"]


@pytest.mark.parametrize("question, long_name", [("What is depa?", "Digital Economy Promotion Agency"),
                                                 ("ดีป้าคืออะไร", "สำนักงานส่งเสริมเศรษฐกิจดิจิทัล")])
def test_an_abbreviation_is_answered_from_the_sentence_that_spells_it_out(capsys, corpus_index, question, long_name):
    # depa is spelled out only in passing, "depa (the Digital Economy Promotion Agency)" and "สำนักงานส่งเสริม
    # เศรษฐกิจดิจิทัล (ดีป้า)", in sentences about what depa runs: that answers what depa is
    result = ask(capsys, corpus_index, question)
    assert result["confident"] and long_name in result["answer"], result


def test_a_term_is_defined_from_the_document_about_it_not_from_one_glossing_it(capsys, corpus_index):
    # a city's page spells TSCCI out beside its ranking; the index's own page says what the index does
    result = ask(capsys, corpus_index, "What is TSCCI?")
    assert result["confident"] and result["sources"][0]["doc_id"] == "programme-tscci-en", result


def test_a_term_the_documents_never_define_is_not_answered(capsys, corpus_index):
    for question in ("What is a smart grid?", "IoT คืออะไร"):
        assert not ask(capsys, corpus_index, question)["confident"]


def test_a_what_is_question_is_answered_from_the_sentence_that_defines_the_term(capsys, corpus_index):
    # "สมาร์ทซิตี้" is the loanword people type; the documents define "เมืองอัจฉริยะ", saying "ให้นิยาม ... ว่า"
    # ("define ... as"), not "คือ". A definition is the whole sentence: no few-word short answer opens it.
    for question, definition in (("สมาร์ทซิตี้คืออะไร", "definition-smart-city-th"),
                                 ("What is a smart city?", "definition-smart-city-en")):
        result = ask(capsys, corpus_index, question)
        assert result["confident"] and result["sources"][0]["doc_id"] == definition, result
        assert result["short_answer"] == "", result


def test_the_sentence_read_after_the_last_unit_of_a_chunk_is_the_next_chunks_first_new_one(capsys, tmp_path,
                                                                                          monkeypatch):
    from assistant.answer import reading, selection
    from assistant.answer.retrieval import Hit, Index
    from assistant.config import Settings

    monkeypatch.setenv("MUANG_CHUNK_TOKENS", "40")
    said = ["เทศบาลเมืองบ้านไร่ตั้งอยู่ริมแม่น้ำน่าน และมีประชากรราวสองหมื่นคนในเขตเทศบาลทั้งหมด",
            "เทศบาลวางแผนติดตั้งเซนเซอร์วัดระดับน้ำตลอดแนวแม่น้ำเพื่อเตือนภัยน้ำท่วมให้ชาวบ้านล่วงหน้า",
            "ในปี 2566 เทศบาลเมืองบ้านไร่ได้รับ",
            "รางวัลเมืองน่าอยู่ระดับประเทศจากกรมส่งเสริมการปกครองท้องถิ่น และนำเงินรางวัลไปพัฒนาตลาดสด",
            "ตลาดสดของเทศบาลเปิดให้บริการทุกวันตั้งแต่เช้ามืดจนถึงเที่ยงวัน และรับชำระเงินผ่านคิวอาร์โค้ด"]
    index_dir = index_files(capsys, tmp_path, {"ban-rai.md": "# บ้านไร่\n\n" + "\n".join(said) + "\n\n## ตลาด\n\n"
                                               + "ตลาดแห่งใหม่ของเทศบาลสร้างเสร็จในปี 2567 และมีแผงค้ากว่าสองร้อยแผง\n"})
    index = Index(Settings.load(index_dir=index_dir))

    def candidates(position: int) -> list[selection.Candidate]:
        record = index.chunks[position]
        hit = Hit(chunk_id=record["chunk_id"], doc_id=record["doc_id"], text=record["text"], lang=record["lang"],
                  score=1.0, doc=index.docs[record["doc_id"]], section=record.get("section", ""))
        return [selection.Candidate(hit, unit, 0) for unit in selection.chunk_units(index, hit.chunk_id)]

    ending = [(k, cands[-1]) for k in range(len(index.chunks) - 1) for cands in [candidates(k)]
              if cands[-1].unit.text.startswith("ในปี 2566")]
    assert ending, [c["text"] for c in index.chunks]  # the chunk budget ends a chunk at the cut sentence
    nxt = reading.next_sentence(index, ending[0][1])
    assert nxt is not None and nxt.unit.text.startswith("รางวัลเมืองน่าอยู่")
    assert nxt.hit.chunk_id == index.chunks[ending[0][0] + 1]["chunk_id"]
    # the last sentence of a section is not followed by the next section's first
    section_end = [cands[-1] for k in range(len(index.chunks)) for cands in [candidates(k)]
                   if cands[-1].unit.text.startswith("ตลาดสดของ")]
    assert section_end and reading.next_sentence(index, section_end[-1]) is None


@pytest.mark.parametrize("before, sentence", [
    ("Hyperbaric chambers raise the pressure of the air a patient breathes.",
     "Carbon monoxide poisoning is sometimes treated using these devices."),
    ("ห้องปรับความดันสูงช่วยเพิ่มความดันของอากาศที่ผู้ป่วยหายใจ",
     "ผู้ป่วยที่ได้รับพิษจากคาร์บอนมอนอกไซด์บางครั้งได้รับการรักษาโดยใช้อุปกรณ์เหล่านี้"),
])
def test_a_quoted_sentence_naming_its_subject_only_as_these_is_quoted_after_the_one_before(before, sentence):
    import numpy as np

    from assistant.answer.quoting import pick_units
    from assistant.answer.retrieval import Candidate, Hit
    from assistant.ingest.units import Unit

    hit = Hit(chunk_id="d#0", doc_id="d", text=f"{before} {sentence}", lang="en", score=1.0, doc={"title": "d"})
    cands = [Candidate(hit, Unit(before, 0, "sentence"), 0), Candidate(hit, Unit(sentence, 1, "sentence"), 0)]
    [(_, quoted)] = pick_units(cands, np.array([0.1, 0.9]))
    assert quoted == f"{before} {sentence}"


@pytest.mark.parametrize("question, confident, says", [
    ("แม่เมาะอยู่อำเภออะไร", True, "อำเภอแม่เมาะ"),
    ("Which district is Mae Moh in?", True, "Mae Moh district"),
    ("ขอนแก่นอยู่ภาคไหน", False, None),     # no document names a region for it
    ("สามย่านอยู่เขตไหน", False, None),     # its "เขตส่งเสริม" (promotion zone) is no district
    # a past meeting's date does not say when the next one is
    ("ประชุมคณะกรรมการขับเคลื่อนครั้งหน้าวันไหน", False, None),
    ("when is the next meeting of the smart city development committee", False, None),
])
def test_where_at_a_level_or_the_next_of_something_is_answered_only_by_a_unit_saying_that(
        capsys, corpus_index, question, confident, says):
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["confident"] == confident, result["answer"]
    assert says is None or says in result["answer"]


def test_a_close_second_on_what_is_not_known_of_another_city_does_not_make_the_answer_unsure(capsys, corpus_index):
    assert main(["ask", "ได้ตราแล้วได้อะไร", "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["confident"] and "บีโอไอ" in result["answer"], result["answer"]
    assert not any(s["doc_id"].startswith("city-") for s in result["sources"][:1])


def test_a_second_unit_inside_the_first_is_not_quoted_again():
    import numpy as np

    from assistant.answer.quoting import pick_units
    from assistant.answer.retrieval import Candidate, Hit
    from assistant.ingest.units import Unit

    whole = "บางครั้งผู้ป่วยที่ได้รับพิษจากควันไฟได้รับการรักษาในห้องปรับความดันสูงของโรงพยาบาลจังหวัด"
    part = "ได้รับการรักษาในห้องปรับความดันสูงของโรงพยาบาลจังหวัด"
    first = Hit(chunk_id="d#0", doc_id="d", text=whole, lang="th", score=1.0, doc={"title": "d"})
    second = Hit(chunk_id="d#1", doc_id="d", text=part, lang="th", score=0.9, doc={"title": "d"})
    cands = [Candidate(first, Unit(whole, 0, "sentence"), 0), Candidate(second, Unit(part, 0, "sentence"), 1)]
    assert [quote for _, quote in pick_units(cands, np.array([0.9, 0.8]))] == [whole]


def test_what_is_not_known_of_a_city_not_asked_about_is_no_answer(capsys, corpus_index):
    # the best unit had been "The Smarts of Nakhon Sawan Smart City are not known", quoted for a question
    # about no city
    assert main(["ask", "บ้านเราเป็นเมืองอัจฉริยะไหม", "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert not result["confident"] and result["answer"].startswith("ไม่พบคำตอบ"), result["answer"]


@pytest.mark.parametrize("typed, says", [("แม่เมาะอยู่ทีไหน", "ลำปาง"), ("ขอนแก่นมีกีด้าน", "7")])
def test_question_words_typed_without_their_tone_marks_still_ask(capsys, corpus_index, typed, says):
    assert main(["ask", typed, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["confident"] and says in result["answer"], result["answer"]
