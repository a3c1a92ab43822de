from assistant.index.lexical import LexicalIndex, content_tokens, tokenize

DOCS = [
    "แม่เมาะเมืองน่าอยู่ตั้งอยู่ในอำเภอแม่เมาะ จังหวัดลำปาง",
    "ภูเก็ตเมืองอัจฉริยะมีแผนครบ 7 ด้านทั้งจังหวัด",
    "วังจันทร์วัลเลย์เป็นโครงการของ ปตท. ในจังหวัดระยอง",
    "Khon Kaen Smart City covers the whole province.",
]


def test_bm25_ranks_the_thai_document_that_shares_the_words(tmp_path):
    index = LexicalIndex.build(DOCS)
    scores = index.scores("แม่เมาะอยู่จังหวัดอะไร")
    assert scores.argmax() == 0
    assert index.scores("วังจันทร์วัลเลย์ของใคร").argmax() == 2
    index.save(tmp_path / "bm25")
    again = LexicalIndex.load(tmp_path / "bm25")
    assert (again.scores("ภูเก็ต ๗ ด้าน") == index.scores("ภูเก็ต 7 ด้าน")).all()


def test_thai_text_is_segmented_not_split_on_spaces():
    assert "จังหวัด" in tokenize("ตั้งอยู่ในจังหวัดลำปาง")
    assert tokenize("ปี ๒๕๖๔") == ["ปี", "2564"]


def test_a_word_in_brackets_or_quotes_is_found_by_itself():
    # newmm leaves brackets on a Latin word: "(TSCCI)" once matched only "(TSCCI)"
    index = LexicalIndex.build([*DOCS, 'depa\'s Thailand Smart City Competitiveness Index (TSCCI) scores the cities.',
                                'Cities may apply for investment privileges ("BOI").'])
    assert index.scores("What is TSCCI?").argmax() == len(DOCS)
    assert index.scores("BOI").argmax() == len(DOCS) + 1


def test_unknown_words_score_nothing_and_have_the_highest_idf():
    index = LexicalIndex.build(DOCS)
    assert index.scores("สิงคโปร์").max() == 0
    assert index.idf("สิงคโปร์") > index.idf("จังหวัด")


def test_content_tokens_drop_question_words():
    assert "ไหน" not in content_tokens("แม่เมาะอยู่จังหวัดไหน")
    assert content_tokens("How many Smarts does Phuket have?") == ["smarts", "phuket"]
