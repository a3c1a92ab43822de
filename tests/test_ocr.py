"""OCR of scanned PDFs and image files with the real Tesseract (Debian tesseract-ocr, Thai and English data):
pages are rendered here from real text with a TLWG font, as a scanner would give them."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.ingest.documents import load_file
from assistant.errors import MuangError
from assistant.ingest.ocr import OcrOptions, clean_thai
from scans import cer, degrade, fitted_text, image_pdf, noise_page, page_image, text_and_scan_pdf

DATA = Path(__file__).resolve().parent / "data"
THAI = DATA.joinpath("thai-article.txt").read_text(encoding="utf-8").split("\n\n")[0]
ENGLISH = ("The city data platform links traffic sensors, air quality stations and flood gauges. "
           "Residents report broken street lights through a mobile application.")


@pytest.mark.parametrize("raw, clean", [
    ("ต\u0e4d\u0e32บล", "ตำบล"),  # sara am as Tesseract 5 writes it: nikhahit + sara aa
    ("น\u0e49\u0e4d\u0e32ท่วม", "น้ำท่วม"),  # with a tone mark before the nikhahit
    ("น\u0e4d\u0e49\u0e32", "น้ำ"),  # and after it
    ("ส\u0e48\u0e34ง", "สิ่ง"),  # tone mark before the vowel above
    ("เ มือง อัจฉริยะ", "เมือง อัจฉริยะ"),  # no space after a leading vowel; a real space stays
    ("ก า ร พัฒนา", "การ พัฒนา"),  # a word cut letter by letter
    ("พลังงาน   พลเมือง", "พลังงาน พลเมือง"),  # a wide gap is one space
    ("Smart  City 2567", "Smart City 2567"),  # other words untouched
])
def test_thai_post_processing(raw, clean):
    assert clean_thai(raw) == clean


def test_scanned_thai_pdf_is_read_by_ocr_and_marked(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(image_pdf([page_image(THAI, dpi=300)], dpi=300))
    doc = load_file(path, tmp_path)
    assert doc.lang == "th" and doc.metadata["ocr"] is True and doc.metadata["ocr_pages"] == [1]
    assert 60 <= doc.metadata["ocr_confidence"] <= 100
    assert cer(fitted_text(THAI), doc.text) <= 0.05
    assert "\u0e4d\u0e32" not in doc.text and "สำนักงาน" in doc.text  # sara am repaired


@pytest.mark.parametrize("suffix, kind", [(".png", "PNG"), (".jpg", "JPEG"), (".tiff", "TIFF")])
def test_image_files_are_read_by_ocr(tmp_path, suffix, kind):
    path = tmp_path / f"notice{suffix}"
    page_image(ENGLISH, dpi=200).save(path, format=kind, **({"dpi": (200, 200)} if kind != "TIFF" else {}))
    doc = load_file(path, tmp_path)
    assert doc.lang == "en" and doc.metadata["ocr"] is True
    assert "flood gauges. Residents report broken street lights" in " ".join(doc.text.split())


def test_multi_page_tiff_reads_every_page(tmp_path):
    path = tmp_path / "minutes.tif"
    first, second = page_image("Meeting opened at nine.", dpi=200), page_image("Budget approved unanimously.", dpi=200)
    first.save(path, format="TIFF", save_all=True, append_images=[second])
    doc = load_file(path, tmp_path)
    assert doc.metadata["ocr_pages"] == [1, 2]
    assert doc.text.index("nine") < doc.text.index("unanimously")


def test_mixed_pdf_reads_only_the_scanned_page_by_ocr(tmp_path):
    path = tmp_path / "mixed.pdf"
    text_and_scan_pdf(path, ["แผนพัฒนาเมืองอัจฉริยะ จังหวัดลำปาง"], page_image(ENGLISH, dpi=300))
    doc = load_file(path, tmp_path)
    assert doc.metadata["ocr_pages"] == [2]  # page 1 has a text layer
    assert doc.text.index("จังหวัดลำปาง") < doc.text.index("air quality stations")


def test_a_page_of_noise_is_refused_with_its_reason(tmp_path):
    path = tmp_path / "noise.pdf"
    path.write_bytes(image_pdf([noise_page()], dpi=200))
    with pytest.raises(MuangError, match=r"page 1: .*noise"):
        load_file(path, tmp_path)


def test_pages_below_the_confidence_floor_are_warnings_not_text(tmp_path):
    path = tmp_path / "mixed.pdf"
    text_and_scan_pdf(path, ["Committee minutes, page one."], degrade(page_image(ENGLISH, dpi=200), blur=2.5))
    doc = load_file(path, tmp_path, ocr=OcrOptions(min_confidence=99.9))
    assert "flood" not in doc.text and "Committee minutes" in doc.text and "ocr" not in doc.metadata
    [warning] = doc.warnings
    assert "page 2 read by OCR with confidence" in warning and "not indexed" in warning
    only_scan = tmp_path / "scan.pdf"
    only_scan.write_bytes(image_pdf([page_image(ENGLISH, dpi=200)], dpi=200))
    with pytest.raises(MuangError, match="no text read reliably: page 1 .*confidence"):
        load_file(only_scan, tmp_path, ocr=OcrOptions(min_confidence=99.9))


def test_the_page_cap_reads_the_first_pages_and_warns_about_the_rest(tmp_path):
    path = tmp_path / "long.pdf"
    pages = [page_image(f"Chapter {word} of the plan.", dpi=200) for word in ("one", "two", "three")]
    path.write_bytes(image_pdf(pages, dpi=200))
    doc = load_file(path, tmp_path, ocr=OcrOptions(max_pages=1))
    assert doc.metadata["ocr_pages"] == [1] and "one" in doc.text and "two" not in doc.text
    assert doc.warnings == ["pages 2-3 not read by OCR: the cap is 1 pages per file (MUANG_MAX_OCR_PAGES)"]
    with pytest.raises(MuangError, match="OCR is off"):
        load_file(path, tmp_path, ocr=OcrOptions(max_pages=0))


def test_progress_bar_counts_pages_with_their_rate(tmp_path, capsys):
    path = tmp_path / "two.pdf"
    path.write_bytes(image_pdf([page_image("First page.", dpi=200), page_image("Second page.", dpi=200)], dpi=200))
    load_file(path, tmp_path, ocr=OcrOptions(progress=True))
    bar = capsys.readouterr().err
    assert "OCR two.pdf" in bar and "2/2" in bar and ("page/s" in bar or "s/page" in bar)


def test_missing_tesseract_or_language_names_the_apt_get_command(tmp_path, monkeypatch):
    path = tmp_path / "scan.png"
    page_image(ENGLISH, dpi=200).save(path)
    with pytest.raises(MuangError, match="tesseract-ocr-xyz"):
        load_file(path, tmp_path, ocr=OcrOptions(langs="eng+xyz"))
    monkeypatch.setenv("PATH", str(tmp_path))  # a machine without the tesseract program
    with pytest.raises(MuangError, match="apt-get install -y tesseract-ocr tesseract-ocr-tha tesseract-ocr-eng"):
        load_file(path, tmp_path)


@pytest.mark.parametrize("name, data, reason", [
    ("empty.png", b"", "not a readable image"),
    ("text.jpg", b"just some text, not a picture", "not a readable image"),
    ("cut.png", None, "cannot be decoded|not a readable image"),
    ("bomb.png", "bomb", "megapixels"),
])
def test_bad_images_get_a_reason(tmp_path, name, data, reason):
    from PIL import Image

    if data is None:  # a real PNG cut in half
        buffer = io.BytesIO()
        page_image(ENGLISH, dpi=100).save(buffer, format="PNG")
        data = buffer.getvalue()[: len(buffer.getvalue()) // 2]
    elif data == "bomb":  # 20,000 x 20,000 pixels of white: a few hundred KB that decode to 400 MB
        buffer = io.BytesIO()
        Image.new("1", (20_000, 20_000), 1).save(buffer, format="PNG")
        data = buffer.getvalue()
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(MuangError, match=reason):
        load_file(path, tmp_path)
