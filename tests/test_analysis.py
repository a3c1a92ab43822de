"""Question analysis over the real catalog of the shipped corpus (front matter read by the real loader),
and answer units cut with the real sentence splitter. The questions here are written for these tests; none
comes from a benchmark."""


import pytest

from assistant.answer.analysis import analyze, clean
from assistant.answer.catalog import build_catalog
from assistant.ingest.documents import load_file
from assistant.ingest.units import units
from conftest import CORPUS


@pytest.fixture(scope="module")
def cities():
    docs = {}
    for path in sorted(CORPUS.glob("*.md")):
        doc = load_file(path, CORPUS)
        docs[doc.metadata["doc_id"]] = doc.metadata
    return build_catalog(docs)


def slugs(question):
    return [c.slug for c in question.cities]


@pytest.mark.parametrize("text, slug", [
    ("ภูเกตเป็นเมืองอัจฉริยะตั้งแต่ปีไหน", "phuket"),          # tone mark missing
    ("ขอนแก่นได้กี่ด้าน", "khon-kaen"),                       # right spelling, untouched
    ("tell me about wangchan vally", "wangchan-valley"),      # a letter missing
    ("Is Kon Kaen a smart city?", "khon-kaen"),
])
def test_misspelt_names_resolve_to_the_catalog_city(cities, text, slug):
    assert slugs(analyze(text, cities)) == [slug]


def test_a_right_name_is_never_corrected_into_another(cities):
    question = analyze("Chiang Rai smart city plan", cities)
    assert slugs(question) == ["chiang-rai"] and question.corrections == {}


@pytest.mark.parametrize("text", [
    "เมืองอัจฉริยะในกรุงเทพมีที่ไหนบ้าง",  # "นกรุงเทพ" is one letter from "กรุงเทพฯ"
    "กรุงเทพมีเมืองอัจฉริยะกี่แห่ง",        # and so is "กรุงเทพม"
    "ในระยองมีเมืองอัจฉริยะไหม",            # "นระยอง" from "นครระยอง"
    "ที่นครเชียงรายอยู่ไหน",                 # "นครเชียงรายอยู่" from "นครเชียงรายสู่"
    "is there a smart city in trang?",      # "in trang" from "si trang"
])
def test_right_names_beside_other_words_are_not_misspelt(cities, text):
    question = analyze(text, cities)
    assert question.corrected == text.lower() and question.corrections == {}


def test_a_name_with_a_bracketed_alias_is_named_by_either_part(cities):
    assert slugs(analyze("Who leads the Chiang Mai University Smart City project?", cities)) == ["cmu"]
    assert slugs(analyze("เทศบาลนครยะลาทำอะไรบ้าง", cities)) == ["yala"]


def test_a_dictionary_word_is_not_a_misspelt_province(cities):
    # "พลังงาน" (energy) holds a one-edit neighbour of the province Phang Nga.
    question = analyze("เมืองไหนมีพลังงานอัจฉริยะ", cities)
    assert question.provinces == [] and question.smarts == ["energy"]
    # "เมืองน่าอยู่" (liveable city) begins with a one-letter neighbour of "เมืองน่าน" (Nan).
    question = analyze("หาดใหญ่ได้รางวัลเมืองน่าอยู่ใช่ไหม", cities)
    assert question.cities == [] and question.corrections == {}


def test_years_in_both_calendars_and_thai_digits(cities):
    assert analyze("เมืองที่ได้รับในปี ๒๕๖๕", cities).years_ce == [2022]
    question = analyze("Which cities were approved in 2021?", cities)
    assert question.years_be == [2564] and "2564" in question.search_text
    # the short Buddhist-era year citizens type; a meeting number is not a year
    assert analyze("ภูเก็ตได้คะแนนปี 66 เท่าไหร่", cities).years_ce == [2023]
    assert analyze("ประชุมครั้งที่ 2/2564 มีกี่เมือง", cities).years_be == [2564]


def test_the_thai_spelling_of_smart_city_is_searched_with_the_documents_word(cities):
    assert "เมืองอัจฉริยะ" in analyze("สมาร์ตซิตี้ ทำอะไรให้ชาวบ้านบ้าง", cities).search_text
    assert analyze("เมืองอัจฉริยะคืออะไร", cities).expansions == []


def test_countries_other_than_thailand_are_entities(cities):
    question = analyze("ญี่ปุ่นมีเมืองอัจฉริยะกี่เมือง", cities)
    assert question.countries == ["ญี่ปุ่น"] and "ญี่ปุ่น" in question.entity_names
    assert analyze("How many smart cities does Thailand have?", cities).countries == []


def test_negation_excludes_the_smarts_after_it(cities):
    en = analyze("first batch cities with Smart Living but not Smart Energy", cities)
    assert (en.smarts, en.excluded_smarts, en.batches) == (["living"], ["energy"], [1])
    th = analyze("เมืองที่มีสิ่งแวดล้อมอัจฉริยะแต่ไม่มีเศรษฐกิจอัจฉริยะ", cities)
    assert (th.smarts, th.excluded_smarts) == (["environment"], ["economy"])


def test_negation_reaches_the_names_it_applies_to(cities):
    # a cue negates the name right after it (and names joined to it), not every name after it
    q = analyze("Which cities without Smart People cover Smart Energy?", cities)
    assert (q.smarts, q.excluded_smarts) == (["energy"], ["people"])
    q = analyze("Which cities are not in batch 1 and lack smart energy?", cities)
    assert (q.batches, q.excluded_batches, q.excluded_smarts) == ([], [1], ["energy"])
    # "นอกจากภูเก็ต" leaves out the city; "not in Bangkok", "ไม่ได้อยู่ในจังหวัด..." the province
    q = analyze("นอกจากภูเก็ต มีเมืองไหนได้ครบ 7 ด้านบ้าง", cities)
    assert (slugs(q), [c.slug for c in q.excluded_cities], q.excluded_provinces) == ([], ["phuket"], [])
    assert "ภูเก็ต" not in q.predicate
    # what the catalog routes read: every name, asked about or left out
    assert [c.slug for c in q.named_cities] == ["phuket"]
    q = analyze("Which certified cities are not in Bangkok?", cities)
    assert (q.provinces, q.excluded_provinces, q.named_provinces) == ([], ["กรุงเทพมหานคร"], ["กรุงเทพมหานคร"])
    assert analyze("เมืองที่ไม่ได้อยู่ในจังหวัดภูเก็ตมีกี่เมือง", cities).excluded_provinces == ["ภูเก็ต"]
    # "หรือไม่" asks whether; it negates nothing
    assert slugs(analyze("ภูเก็ตได้ตราหรือไม่", cities)) == ["phuket"]


def test_answer_type_latest_definition_and_predicate(cities):
    assert analyze("ตอนนี้มีเมืองอัจฉริยะกี่เมืองแล้ว", cities).latest
    assert analyze("depa ย่อมาจากอะไร", cities).defines == "ดีป้า"  # the Thai documents spell it so
    assert analyze("What is the Smart City Thailand Office?", cities).defines == "smart city thailand office"
    question = analyze("น้ำท่วมที่ขอนแก่นหนักไหม", cities)
    assert slugs(question) == ["khon-kaen"] and "ขอนแก่น" not in question.predicate
    assert "น้ำท่วม" in question.predicate
    assert analyze("Who leads the project in Mae Moh?", cities).kind == "person"


@pytest.mark.parametrize("chat, plain", [
    ("แม่เมาะอยู่ไหนอะ", "แม่เมาะอยู่ไหน"),
    ("วังจันทร์วัลเลย์ อยู่ไหนคะ", "วังจันทร์วัลเลย์ อยู่ไหน"),   # the tokenizer glues "คะ" to "ไหน": "ไห|นคะ"
    ("ภูเก็ตได้ต่ออายุตรามั้ยคะ", "ภูเก็ตได้ต่ออายุตรามั้ย"),
    ("ภูเก็ตเป็นเมืองอัจฉริยะหรอ", "ภูเก็ตเป็นเมืองอัจฉริยะ หรือเปล่า"),  # a yes-no question in chat
    ("ใครชนะ", "ใครชนะ"),                                     # "นะ" ending a word is no particle
    ("ราคานี้มีค่า", "ราคานี้มีค่า"),
])
def test_chat_particles_ending_a_question_are_not_searched_for(cities, chat, plain):
    assert analyze(chat, cities).corrected == plain


def test_a_batch_in_thai_number_words_is_that_batch(cities):
    assert analyze("ชุดสองมีกี่เมือง", cities).batches == [2]
    assert analyze("เมืองอัจฉริยะชุดที่สามมีที่ไหนบ้าง", cities).batches == [3]
    assert analyze("สามย่านอยู่ชุดไหน", cities).batches == []


def test_a_thai_question_naming_depa_in_english_is_read_with_the_thai_spelling(cities):
    assert analyze("depa อยู่ภายใต้กระทรวงอะไร", cities).corrected == "ดีป้าอยู่ภายใต้กระทรวงอะไร"
    assert analyze("What ministry is depa under?", cities).corrected == "what ministry is depa under?"


def test_a_name_inside_a_longer_city_name_is_not_that_city_and_a_second_mention_is(cities):
    from assistant.answer.catalog import cities_named

    def named(text):
        return sorted(c.slug for c in cities_named(cities, text))

    assert named("Phuket Silicon Valley ได้รับการรับรองเดือนสิงหาคม 2568") == ["phuket-silicon-valley"]
    # "ภูเก็ต" is said apart from the longer name: both cities, whatever order a set of spellings comes in
    assert named("Phuket Silicon Valley เป็นคนละโครงการกับภูเก็ตในชุดที่ 1") == ["phuket", "phuket-silicon-valley"]


def test_clean_joins_sara_am_and_thai_digits():
    assert clean("ตําบล\u00a0 ๑๒") == "ตำบล 12"


def test_a_list_comes_with_its_intro_and_a_table_row_with_its_header():
    text = ("การสมัครมีขั้นตอนดังนี้\n1. ยื่นข้อเสนอ\n2. คณะกรรมการพิจารณา\n3. ประกาศผล\n\n"
            "| เมือง | จังหวัด |\n|---|---|\n| แม่เมาะ | ลำปาง |\n")
    found = units(text, "th")
    assert found[0].kind == "list" and "ประกาศผล" in found[0].text and "ขั้นตอนดังนี้" in found[0].text
    assert any(u.kind == "row" and "แม่เมาะ" in u.text and "จังหวัด" in u.text for u in found)


def test_a_list_cut_by_the_chunk_boundary_takes_its_items_from_the_next_chunk():
    found = units("The proposal has three parts, as follows:", "en", following="- a map\n- a plan\n- a budget\nMore.")
    assert found[0].kind == "list" and found[0].text.endswith("- a budget")


def test_no_province_spelled_right_is_altered_by_the_words_around_it(cities):
    from pythainlp.corpus import provinces

    altered = []
    for row in provinces(details=True):
        th, en = row["name_th"], row["name_en"].lower()
        for text in (f"ใน{th}มีเมืองอัจฉริยะไหม", f"ที่{th}อยู่ไหน", f"{th}มีกี่ด้าน", f"เมือง{th}คือ",
                     f"is there a smart city in {en}?", f"where is {en}"):
            if analyze(text, cities).corrected != text:
                altered.append(text)
    assert altered == []
