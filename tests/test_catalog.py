"""The cities catalog against the fact sheet, and count/list questions answered exactly from it."""

import json
import re

import pytest
import yaml

from assistant.answer.catalog import build_catalog, cities_named, filter_cities, provinces_in, resolve_province
from assistant.cli import main
from conftest import DATA

pytestmark = pytest.mark.slow
# City entries (later entries about a known city, without its names, add facts rather than a city).
FACTS = [e for e in yaml.safe_load((DATA / "facts.yaml").read_text(encoding="utf-8")) if e.get("city") and e.get("name_th")]


def cities_json(capsys, index_dir, *flags):
    assert main(["cities", "--json", "--index-dir", str(index_dir), *flags]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_fact_sheet_city_is_in_the_catalog_with_its_fields(capsys, corpus_index):
    table = {c["slug"]: c for c in cities_json(capsys, corpus_index)}
    for fact in FACTS:
        city = table[fact["city"]]
        assert city["name_th"] == fact["name_th"] and city["name_en"] == fact["name_en"]
        assert (city["province_th"], city["province_en"]) == (fact["province_th"], fact["province_en"])
        assert city["batch"] == fact.get("batch")
        assert city["smarts"] == (None if fact["smarts"] is None else
                                  [s for s in ("environment", "economy", "mobility", "energy", "people",
                                               "living", "governance") if s in fact["smarts"]])
        expected_awarded = str(fact["awarded"]) if fact.get("awarded") else None
        assert city["awarded"] == expected_awarded
        assert set(city["doc_ids"]) == {"th", "en"}
    assert len(table) == len(FACTS)


def test_filters(capsys, corpus_index):
    assert {c["slug"] for c in cities_json(capsys, corpus_index, "--smart", "mobility", "--batch", "1")} == {
        "phuket", "khon-kaen", "samyan", "wangchan-valley"}
    assert {c["slug"] for c in cities_json(capsys, corpus_index, "--province", "Rayong")} == {
        "wangchan-valley", "nakhon-rayong"}
    assert {c["slug"] for c in cities_json(capsys, corpus_index, "--province", "โคราช")} == {"korat"}
    assert main(["cities", "--smart", "magic", "--index-dir", str(corpus_index)]) == 2


def test_names_and_spellings_resolve():
    cities = build_catalog({
        "a": {"kind": "city", "city": "samyan", "lang": "en", "title": "Samyan Smart City", "aliases": ["Sam Yan"]},
        "b": {"kind": "city", "city": "wangchan-valley", "lang": "th", "title": "เมืองอัจฉริยะวังจันทร์วัลเลย์",
              "aliases": ["Wang Chan Valley", "Wangchan"]},
    })
    assert [c.slug for c in cities_named(cities, "Where is Sam Yan?")] == ["samyan"]
    assert [c.slug for c in cities_named(cities, "samyan smart city")] == ["samyan"]
    assert [c.slug for c in cities_named(cities, "Wang Chan Valley อยู่ไหน")] == ["wangchan-valley"]
    assert [c.slug for c in cities_named(cities, "วังจันทร์วัลเลย์ได้กี่ด้าน")] == ["wangchan-valley"]
    assert resolve_province("โคราช") == resolve_province("Nakhon Ratchasima") == "นครราชสีมา"
    assert provinces_in("วังจันทร์วัลเลย์อยู่ไหน") == []  # "เลย" inside the name is not Loei
    assert filter_cities(cities, province="Bangkok") == []


@pytest.mark.parametrize("question, expected, count", [
    ("มีเมืองอัจฉริยะกี่เมืองที่ได้ครบ 7 ด้าน", ["ภูเก็ต", "ขอนแก่น", "สามย่าน", "วังจันทร์", "โคราช", "มหาวิทยาลัยเชียงใหม่"], "6"),
    ("which batch-1 cities include Smart Energy", ["Phuket", "Khon Kaen", "Mae Moh", "Samyan", "Wangchan"], "5"),
    ("เมืองอัจฉริยะในจังหวัดระยองมีที่ไหนบ้าง", ["วังจันทร์", "นครระยอง"], "2"),
    ("Which smart cities are in Korat?", ["Korat"], "1"),
    ("พิษณุโลกมีกี่โครงการ", ["พิษณุโลก"], "2"),   # projects are counted as cities are
])
def test_count_and_list_questions_are_exact_and_cite_each_city(capsys, corpus_index, question, expected, count):
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"]
    assert re.search(rf"\b{count}\b", result["answer"])
    for name in expected:
        assert name in result["answer"]
    assert len(result["sources"]) == int(count)
    assert all(f"[{s['n']}]" in result["answer"] for s in result["sources"])


@pytest.mark.parametrize("question, lang, province_en", [
    ("ตรังมีสมาร์ทซิตี้ไหมครับ", "th", "Trang"),      # a short province name, no "จังหวัด"
    ("ยะลามีเมืองอัจฉริยะมั้ย", "th", "Yala"),        # also the name of a city
    ("Is there a smart city in Lampang?", "en", "Lampang"),
    ("Does Nan have a smart city?", "en", "Nan"),
    ("ชลบุรีเป็นเมืองอัจฉริยะไหม", "th", "Chon Buri"),  # a province is no city: its cities
])
def test_whether_a_province_has_a_smart_city_is_answered_with_its_cities(capsys, corpus_index, question, lang,
                                                                        province_en):
    expected = {c["doc_ids"][lang] for c in cities_json(capsys, corpus_index) if c["province_en"] == province_en}
    assert expected
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"], result["answer"]
    assert result["answer"].startswith("มี" if lang == "th" else "Yes")
    assert {s["doc_id"] for s in result["sources"]} == expected


@pytest.mark.parametrize("question, place", [("พัทยาเป็นเมืองอัจฉริยะไหม", "พัทยา"),
                                             ("เทศบาลนครหาดใหญ่เป็นสมาร์ทซิตี้รึยัง", "หาดใหญ่"),
                                             ("Is Pattaya a smart city?", "Pattaya")])
def test_a_place_no_document_names_as_a_smart_city_is_not_answered_with_a_similar_name(capsys, corpus_index,
                                                                                     question, place):
    names = {c["name_th"] for c in cities_json(capsys, corpus_index)} | {
        c["name_en"] for c in cities_json(capsys, corpus_index)}
    assert not [n for n in names if place in n]
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert not result["confident"] and place in result["answer"], result["answer"]
    assert not any(n in result["answer"] for n in names)
    assert result["sources"][0]["doc_id"].startswith("batches-")


@pytest.mark.parametrize("question, province_en", [("กระบี่มีเมืองอัจฉริยะหรือเปล่า", "Krabi"),
                                                   ("Does Tak have a smart city?", "Tak")])
def test_a_province_with_no_city_document_is_not_said_to_have_one(capsys, corpus_index, question, province_en):
    assert not [c for c in cities_json(capsys, corpus_index) if c["province_en"] == province_en]
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert not result["confident"], result["answer"]
    assert result["sources"] and result["sources"][0]["doc_id"].startswith("batches-")


@pytest.mark.parametrize("question, lang, slug", [
    ("เชียงรายเป็นเมืองอัจฉริยะไหม", "th", "chiang-rai"),
    ("สามย่านเป็นสมาร์ทซิตี้ป่ะ", "th", "samyan"),
    ("นครสวรรค์ได้เป็นเมืองอัจฉริยะหรือยัง", "th", "nakhon-sawan"),   # no batch known
    ("is chiang rai a smart city", "en", "chiang-rai"),
    ("โคราชเป็นสมาร์ทซิตี้ยัง", "th", "korat"),                 # "yet", without "หรือ"
])
def test_whether_a_named_city_is_a_smart_city_is_answered_from_the_catalog(capsys, corpus_index, question, lang, slug):
    [city] = [c for c in cities_json(capsys, corpus_index) if c["slug"] == slug]
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"], result["answer"]
    assert result["answer"].startswith("ใช่" if lang == "th" else "Yes")
    assert [s["doc_id"] for s in result["sources"]] == [city["doc_ids"][lang]]
    assert (bool(city["meeting"]) and city["meeting"] in result["answer"]) == bool(city["batch"] and city["meeting"])


@pytest.mark.parametrize("question", ["มีเมืองใหม่ทันสมัยกี่เมือง", "มีเมืองชายทะเลกี่เมือง", "How many coastal smart cities are there?"])
def test_a_count_of_a_kind_the_catalog_cannot_tell_apart_is_not_the_count_of_all(capsys, corpus_index, question):
    everyone = len(cities_json(capsys, corpus_index))
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] != "catalog" and not re.search(rf"\b{everyone}\b", result["answer"]), result["answer"]


@pytest.mark.parametrize("question, lang, slug", [
    ("Which cities were approved together with Yala?", "en", "yala"),
    ("เมืองไหนอยู่ชุดเดียวกับขอนแก่น", "th", "khon-kaen"),
    ("นครสวรรค์ผ่านพร้อมกับเมืองไหน", "th", "nakhon-sawan"),   # its batch is not known
])
def test_the_cities_approved_together_with_one_are_the_rest_of_its_batch(capsys, corpus_index, question, lang, slug):
    table = cities_json(capsys, corpus_index)
    [city] = [c for c in table if c["slug"] == slug]
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog", result["answer"]
    if city["batch"] is None:
        assert not result["confident"] and [s["doc_id"] for s in result["sources"]] == [city["doc_ids"][lang]]
        return
    expected = {c["doc_ids"][lang] for c in table if c["batch"] == city["batch"] and c["slug"] != slug}
    assert result["confident"] and {s["doc_id"] for s in result["sources"]} == expected


@pytest.mark.parametrize("question, lang, province_en", [
    ("smart cities in rayong", "en", "Rayong"), ("เมืองอัจฉริยะ ลำปาง", "th", "Lampang"),
    ("สมาร์ทซิตี้ เชียงใหม่", "th", "Chiang Mai"), ("list of smart cities", "en", None),
])
def test_a_search_box_query_lists_the_cities(capsys, corpus_index, question, lang, province_en):
    expected = {c["doc_ids"][lang] for c in cities_json(capsys, corpus_index)
                if province_en is None or c["province_en"] == province_en}
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"]
    assert {s["doc_id"] for s in result["sources"]} == expected


def test_a_question_about_all_of_a_provinces_cities_that_is_not_a_list_is_not_answered_with_the_list(capsys,
                                                                                                    corpus_index):
    assert main(["ask", "ภูเก็ตเมืองอัจฉริยะได้ตอนไหน", "--json", "--index-dir", str(corpus_index)]) == 0
    assert "เอกสารระบุชื่อ 2 เมือง" not in json.loads(capsys.readouterr().out)["answer"]
    assert main(["ask", "What is the total budget of the smart cities in Phuket?", "--json", "--index-dir",
                 str(corpus_index)]) == 0
    assert "The documents name 2 cities" not in json.loads(capsys.readouterr().out)["answer"]


@pytest.mark.parametrize("question, lang", [("Which provinces have more than one smart city?", "en"),
                                            ("จังหวัดไหนมีเมืองอัจฉริยะมากกว่า 1 เมือง", "th")])
def test_the_provinces_with_more_than_one_city_come_from_the_catalog(capsys, corpus_index, question, lang):
    table = cities_json(capsys, corpus_index)
    per_province: dict[str, list[str]] = {}
    for c in table:
        per_province.setdefault(c["province_en"], []).append(c["doc_ids"][lang])
    expected = {d for docs in per_province.values() if len(docs) > 1 for d in docs}
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"]
    assert {s["doc_id"] for s in result["sources"]} == expected


ALL_SEVEN = {"environment", "economy", "mobility", "energy", "people", "living", "governance"}


@pytest.mark.parametrize("question, lang, wanted", [
    ("Which certified cities are not in Bangkok?", "en", lambda c: c["province_en"] != "Bangkok"),
    ("เมืองอัจฉริยะที่ไม่ได้อยู่ในจังหวัดภูเก็ตมีที่ไหนบ้าง", "th", lambda c: c["province_en"] != "Phuket"),
    ("นอกจากภูเก็ต มีเมืองไหนได้ครบ 7 ด้านบ้าง", "th",
     lambda c: c["slug"] != "phuket" and set(c["smarts"] or ()) == ALL_SEVEN),
    ("Which batch-1 cities do not cover Smart Mobility?", "en",
     lambda c: c["batch"] == 1 and c["smarts"] is not None and "mobility" not in c["smarts"]),
    ("Which cities lack Smart Living?", "en", lambda c: c["smarts"] is not None and "living" not in c["smarts"]),
    ("Which cities without Smart People cover Smart Energy?", "en",
     lambda c: c["smarts"] is not None and "people" not in c["smarts"] and "energy" in c["smarts"]),
    ("ชุดที่ 1 มีเมืองไหนบ้างนอกจากแม่เมาะ", "th", lambda c: c["batch"] == 1 and c["slug"] != "mae-moh"),
])
def test_set_difference_is_computed_from_the_catalog(capsys, corpus_index, question, lang, wanted):
    expected = {c["doc_ids"][lang] for c in cities_json(capsys, corpus_index) if wanted(c)}
    assert expected
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"]
    assert {s["doc_id"] for s in result["sources"]} == expected
    assert re.search(rf"\b{len(expected)}\b", result["answer"])


def test_an_empty_set_difference_says_so_and_cites_what_was_checked(capsys, corpus_index):
    assert main(["ask", "Which batch-1 cities do not cover Smart Economy?", "--json",
                 "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and "no city in batch 1 without Smart Economy" in result["answer"]
    assert {s["doc_id"] for s in result["sources"]} >= {"city-mae-moh-en", "city-phuket-en"}


def test_unknown_smarts_and_partial_batches_are_said(capsys, corpus_index):
    assert main(["ask", "how many areas were approved in 2565", "--json", "--index-dir", str(corpus_index)]) == 0
    answer = json.loads(capsys.readouterr().out)["answer"]
    assert "15" in answer and "not in the documents" in answer
    assert main(["ask", "มีกี่เมืองที่มีด้านพลังงานอัจฉริยะ", "--json", "--index-dir", str(corpus_index)]) == 0
    answer = json.loads(capsys.readouterr().out)["answer"]
    assert "ไม่ระบุว่ามีด้านใดบ้าง" in answer


@pytest.mark.parametrize("question, says, cites", [
    ("ขอนแก่นได้รับรองกี่ด้าน", ["ครบทั้ง 7 ด้าน", "ขนส่งอัจฉริยะ"], "city-khon-kaen-th"),
    ("แม่เมาะมีขนส่งอัจฉริยะไหม", ["ไม่มี", "3 ด้าน", "พลังงานอัจฉริยะ"], "city-mae-moh-th"),
    ("Does Phuket have smart mobility?", ["Yes", "all 7 Smarts"], "city-phuket-en"),
    ("Which Smarts does Mae Moh cover?", ["3 of the 7 Smarts", "Smart Energy"], "city-mae-moh-en"),
])
def test_which_smarts_a_city_plans_comes_from_the_catalog(capsys, corpus_index, question, says, cites):
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"] and result["sources"][0]["doc_id"] == cites
    for text in says:
        assert text in result["answer"]


def test_a_city_whose_smarts_are_unknown_is_said_to_be_unknown_citing_its_document(capsys, corpus_index):
    assert main(["ask", "Which Smarts does Phuket Silicon Valley cover?", "--json", "--index-dir",
                 str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "not known" in result["answer"] and "Phuket Silicon Valley" in result["answer"]
    assert result["sources"][0]["doc_id"].startswith("city-phuket-silicon-valley")  # not Phuket Smart City
    assert result["confident"] is False, "saying the documents do not know is not an answer"


@pytest.mark.parametrize("question, says, cites", [
    ("ภูเก็ตได้เป็นเมืองอัจฉริยะตอนไหน", ["ครั้งที่ 1/2564"], "city-phuket-th"),
    ("แม่เมาะได้รับตราเมื่อไร", ["1/2564", "13 สิงหาคม 2564"], "city-mae-moh-th"),
    ("When was Korat approved as a smart city?", ["meeting 1/2565"], "city-korat-en"),
])
def test_when_a_city_was_approved_comes_from_the_catalog(capsys, corpus_index, question, says, cites):
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["sources"][0]["doc_id"] == cites
    for text in says:
        assert text in result["answer"]


def test_informal_list_and_most_questions(capsys, corpus_index):
    assert main(["ask", "มีเมืองไหนได้ครบ 7 ด้านบ้าง", "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and len(result["sources"]) == 6 and "ไม่ระบุว่ามีด้านใดบ้าง" in result["answer"]
    assert main(["ask", "Which province has the most smart cities?", "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and "Bangkok" in result["answer"] and "4" in result["answer"]
    assert "only part" in result["answer"]  # the named lists of two meetings are partial


@pytest.mark.parametrize("question, first, says", [
    ("ยื่นข้อเสนอต้องมีอะไรบ้าง", "criteria-overview-th", ["เกณฑ์ 5 ข้อ", "แพลตฟอร์มข้อมูลเมือง", "[6]"]),
    ("What are the five criteria?", "criteria-overview-en", ["five criteria", "Sustainable management model", "[6]"]),
    ("ข้อเสนอถูกประเมินด้วยเกณฑ์อะไร", "criteria-overview-th", ["เกณฑ์ 5 ข้อ", "[6]"]),
    ("How are applications assessed?", "criteria-overview-en", ["five criteria", "[6]"]),
    ("เกณฑ์ให้คะแนนข้อเสนอมีกี่ข้อ", "criteria-overview-th", ["เกณฑ์ 5 ข้อ", "[6]"]),
    ("เมืองอัจฉริยะมีกี่ด้าน", "smarts-th", ["7 ด้าน", "การบริหารภาครัฐอัจฉริยะ"]),
    ("What are the 7 Smarts?", "smarts-en", ["Smart Mobility", "Smart Governance"]),
    ("กทม.มีเมืองอัจฉริยะกี่แห่ง", "city-samyan-th", ["4 เมือง", "กรุงเทพมหานคร"]),
    ("ขอนแก่นได้กี่สมาร์ท", "city-khon-kaen-th", ["7 ด้าน"]),
])
def test_criteria_and_smarts_lists_come_from_front_matter(capsys, corpus_index, question, first, says):
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["sources"][0]["doc_id"] == first
    for text in says:
        assert text in result["answer"]
    assert all(f"[{s['n']}]" in result["answer"] for s in result["sources"])


@pytest.mark.parametrize("question, lang", [("เมืองแรกที่ได้รับตราคือเมืองไหน", "th"), ("รอบแรกมีกี่เมือง", "th"),
                                            ("which was the first city to get the mark", "en")])
def test_the_first_cities_are_the_batch_approved_first(capsys, corpus_index, question, lang):
    first = {c["doc_ids"][lang] for c in cities_json(capsys, corpus_index) if c["batch"] == 1}
    assert main(["ask", question, "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and result["confident"], result["answer"]
    assert {s["doc_id"] for s in result["sources"]} == first


def test_which_cities_cover_all_seven_smarts_lists_cities_not_the_smarts(capsys, corpus_index):
    every = {c["doc_ids"]["en"] for c in cities_json(capsys, corpus_index) if c["smarts"] and len(c["smarts"]) == 7}
    assert main(["ask", "which cities cover all 7 smarts", "--json", "--index-dir", str(corpus_index)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mode"] == "catalog" and {s["doc_id"] for s in result["sources"]} == every
