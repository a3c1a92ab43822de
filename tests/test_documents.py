"""Loading files: front matter, inferred metadata, encodings, Word and HTML; real files made in the test."""

import pytest

from assistant.documents import detect_lang, load_file
from assistant.errors import MuangError


def test_front_matter_and_inferred_metadata(tmp_path):
    folder = tmp_path / "docs"
    (folder / "reports").mkdir(parents=True)
    plain = folder / "reports" / "plan-2567.md"
    plain.write_text("# แผนพัฒนาเมือง ๒๕๖๗\n\nเทศบาลจะติดตั้งไฟส่องสว่างอัจฉริยะ", encoding="utf-8")
    doc = load_file(plain, folder)
    assert (doc.doc_id, doc.lang, doc.metadata["title"], doc.metadata["kind"]) == (
        "reports/plan-2567", "th", "แผนพัฒนาเมือง ๒๕๖๗", "document")
    fronted = folder / "x.md"
    fronted.write_text("---\nid: my-doc\nlang: en\nsmarts: [energy, nonsense]\n---\nText.", encoding="utf-8")
    doc = load_file(fronted, folder)
    assert (doc.doc_id, doc.metadata["smarts"], doc.text.strip()) == ("my-doc", ["energy"], "Text.")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp874", "tis-620"])
def test_thai_text_in_common_encodings(tmp_path, encoding):
    path = tmp_path / "note.txt"
    path.write_bytes("เมืองอัจฉริยะแม่เมาะ จังหวัดลำปาง".encode(encoding))
    assert "ลำปาง" in load_file(path).text


def test_word_document_paragraphs_headings_and_tables(tmp_path):
    from docx import Document

    word = Document()
    word.add_heading("แผนพัฒนาเมืองอัจฉริยะ", level=1)
    word.add_paragraph("เทศบาลจะพัฒนาแพลตฟอร์มข้อมูลเมืองเพื่อเชื่อมโยงข้อมูล")
    table = word.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "งบประมาณ"
    table.rows[0].cells[1].text = "250 ล้านบาท"
    path = tmp_path / "plan.docx"
    word.save(path)
    doc = load_file(path, tmp_path)
    assert doc.text.startswith("# แผนพัฒนาเมืองอัจฉริยะ")
    assert "แพลตฟอร์มข้อมูลเมือง" in doc.text and "งบประมาณ | 250 ล้านบาท" in doc.text
    assert doc.lang == "th" and doc.metadata["title"] == "แผนพัฒนาเมืองอัจฉริยะ"


def test_html_keeps_visible_text_only(tmp_path):
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>ข่าว</title><script>alert(1)</script><style>p{}</style></head>"
                    "<body><nav>เมนู</nav><h1>เมืองอัจฉริยะ</h1><p>ภูเก็ต &amp; ขอนแก่น</p></body></html>",
                    encoding="utf-8")
    doc = load_file(path)
    assert "alert" not in doc.text and "เมนู" not in doc.text and "p{}" not in doc.text
    assert "ภูเก็ต & ขอนแก่น" in doc.text and doc.metadata["title"] == "ข่าว"


@pytest.mark.parametrize("name, data, reason", [
    ("empty.txt", b"", "no text"),
    ("binary.txt", bytes(range(256)) * 4, "not text|garbage"),
    ("bad.docx", b"not a zip", "not a readable .docx"),
    ("bad.pdf", b"%PDF-1.4 garbage", "PDF"),
    ("picture.png", b"\x89PNG", "unsupported file type"),
])
def test_bad_files_get_a_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MuangError, match=reason):
        load_file(path)


def test_language_by_script():
    assert detect_lang("Phuket แผน 7 ด้าน ภูเก็ตเมืองอัจฉริยะ") == "th"
    assert detect_lang("1234 !!") == "en"
