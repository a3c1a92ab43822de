"""Loading files: front matter, inferred metadata, encodings, Word and HTML; real files made in the test."""

import pytest

from assistant.ingest.documents import detect_lang, load_file
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
    ("picture.png", b"\x89PNG", "not a readable image"),
    ("noise.bin", b"\x00" * 8, "unsupported file type"),
])
def test_bad_files_get_a_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MuangError, match=reason):
        load_file(path)


def test_language_by_script():
    assert detect_lang("Phuket แผน 7 ด้าน ภูเก็ตเมืองอัจฉริยะ") == "th"
    assert detect_lang("1234 !!") == "en"


THAI_FONT = "/usr/share/fonts/truetype/tlwg/Garuda.ttf"  # Debian fonts-thai-tlwg (`make test` installs it)


def thai_pdf(path, lines: list[str]) -> None:
    """A real PDF with an embedded Thai TrueType font, written by ReportLab."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Garuda", THAI_FONT))
    page = canvas.Canvas(str(path))
    page.setFont("Garuda", 14)
    for i, line in enumerate(lines):
        page.drawString(72, 760 - 24 * i, line)
    page.showPage()
    page.save()


def test_thai_pdf_text_layer_comes_back_in_reading_order(tmp_path):
    path = tmp_path / "plan.pdf"
    # The second line is typed as PDF extraction often yields it: the tone mark before the vowel (น ้ ำ).
    thai_pdf(path, ["แผนพัฒนาเมืองอัจฉริยะแม่เมาะ จังหวัดลำปาง", "ระบบติดตามคุณภาพน\u0e49\u0e33ในอ่างเก็บน\u0e49\u0e33"])
    doc = load_file(path, tmp_path)
    assert doc.lang == "th" and "แผนพัฒนาเมืองอัจฉริยะแม่เมาะ" in doc.text and "จังหวัดลำปาง" in doc.text
    assert "คุณภาพน้ำในอ่างเก็บน้ำ" in doc.text  # normalized to the standard order (น ำ ้ -> น ้ ำ)


def test_pdf_page_without_a_text_layer_or_readable_text_is_refused_with_the_reason(tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    page = canvas.Canvas(str(path))
    page.rect(72, 72, 400, 600, fill=1)  # a page with only a picture-like shape: OCR looks and finds no text
    page.showPage()
    page.save()
    with pytest.raises(MuangError, match="page 1: the page is 4.% dark.*not text"):
        load_file(path)


def test_a_pipe_is_refused_without_reading_it(tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.txt")
    with pytest.raises(MuangError, match="not a regular file"):
        load_file(tmp_path / "pipe.txt")  # would block forever if it were opened


@pytest.mark.parametrize("front, reason", [
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ntitle: *d",
     "too large"),
    ("title: [1, 2]", "`title` must be text"),
    ("aliases: {a: b}", "`aliases` must be a list of text"),
    ("batch: two", "`batch` must be a whole number"),
])
def test_front_matter_of_the_wrong_shape_is_refused(tmp_path, front, reason):
    path = tmp_path / "city.md"
    path.write_text(f"---\n{front}\n---\nText.", encoding="utf-8")
    with pytest.raises(MuangError, match=reason):
        load_file(path)


def test_terminal_escapes_and_controls_are_removed_and_blobs_refused(tmp_path):
    path = tmp_path / "note.txt"
    ordinary = "Lampang is a province in the north of Thailand. " * 6
    path.write_text(ordinary + "Lampang\x1b[2J\x1b[31m is red\x1b[0m\x07 today \x1b]0;title\x07done", encoding="utf-8")
    assert load_file(path).text == ordinary + "Lampang is red  today done"
    blob = tmp_path / "blob.txt"
    blob.write_text("QUJD" * 5000, encoding="ascii")
    with pytest.raises(MuangError, match="without a space"):
        load_file(blob)


def test_short_western_text_is_read_as_windows_1252(tmp_path):
    path = tmp_path / "cafe.txt"
    path.write_bytes("Café naïve résumé, Señor Müller paid 5 €.".encode("cp1252"))
    assert load_file(path).text == "Café naïve résumé, Señor Müller paid 5 €."
