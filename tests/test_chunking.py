from pythainlp.tokenize import word_tokenize

from assistant.ingest.chunking import chunk, normalize, sentences, words
from conftest import CORPUS, DATA

THAI = (DATA / "thai-article.txt").read_text(encoding="utf-8")


def test_thai_chunks_stay_under_the_token_limit():
    pieces = chunk(THAI, "article", "th", max_tokens=60, overlap=1)
    assert len(pieces) > 3
    assert all(0 < len(words(p.text)) <= 60 for p in pieces)


def test_chunks_are_spans_of_the_original_text():
    pieces = chunk(THAI, "article", "th", max_tokens=60)
    for piece in pieces:
        assert THAI[piece.start:piece.end] == piece.text
    assert [p.chunk_id for p in pieces[:2]] == ["article#0", "article#1"]


def test_chunk_boundaries_fall_on_sentence_ends_when_sentences_fit():
    pieces = chunk(THAI, "article", "th", max_tokens=120, overlap=0)
    sentence_ends = set()
    for paragraph in THAI.split("\n\n"):
        offset = THAI.index(paragraph)
        for sentence in sentences(paragraph, "th"):
            sentence_ends.add(THAI.index(sentence, offset) + len(sentence))
    assert all(p.end in sentence_ends for p in pieces)


def test_a_long_sentence_is_cut_between_words_never_inside_one():
    sentence = "เมืองอัจฉริยะต้องมีแพลตฟอร์มข้อมูลเมืองที่เปิดและปลอดภัยเพื่อเชื่อมโยงข้อมูลระหว่างหน่วยงาน" * 6
    pieces = chunk(sentence, "long", "th", max_tokens=10, overlap=0)
    assert len(pieces) > 3
    boundaries = {0}
    position = 0
    for token in word_tokenize(sentence, engine="newmm", keep_whitespace=True):
        position += len(token)
        boundaries.add(position)
    for piece in pieces:
        assert piece.start in boundaries and piece.end in boundaries
        assert len(words(piece.text)) <= 10
    assert "".join(p.text for p in pieces) == sentence


def test_overlap_repeats_the_last_sentence_of_the_previous_chunk():
    pieces = chunk(THAI, "article", "th", max_tokens=60, overlap=1)
    overlapping = [a for a, b in zip(pieces, pieces[1:]) if b.start < a.end]
    assert overlapping, "consecutive chunks should share a sentence"


def test_markdown_headings_start_chunks_and_name_sections():
    text = (CORPUS / "smarts-th.md").read_text(encoding="utf-8").split("---", 2)[2]
    pieces = chunk(text, "smarts-th", "th")
    assert any(p.section for p in pieces)
    assert not any(p.text.lstrip().startswith("#") for p in pieces)


def test_english_sentences_split_on_punctuation():
    assert sentences("Mae Moh is in Lampang. It has 3 Smarts! Why?", "en") == [
        "Mae Moh is in Lampang.", "It has 3 Smarts!", "Why?"
    ]


def test_a_thai_sentence_does_not_end_at_the_initial_of_a_foreign_name():
    # crfcut cuts after "อี." here, and both pieces are long enough to stand as sentences of their own
    text = "งานวิจัยนี้นำโดยนักวิทยาศาสตร์ชื่อ นิโคลัส อี. สมิธ ร่วมกับทีมงานจากมหาวิทยาลัยแห่งหนึ่งในอังกฤษ"
    assert sentences(text, "th") == [text]


def test_normalize_converts_thai_digits_and_case():
    assert normalize("พ.ศ. ๒๕๖๔ Smart") == "พ.ศ. 2564 smart"


def test_empty_text_gives_no_chunks():
    assert chunk("   \n\n ", "empty") == []
    assert sentences("") == []
