"""Excel, PowerPoint and CSV files: text, sheet and slide titles, tables as rows; real files written here."""

from __future__ import annotations

import pytest

from assistant.ingest.documents import load_file
from assistant.errors import MuangError
from assistant.ingest.office import MAX_CELLS


def workbook(path, sheets: dict[str, list[list]], title: str | None = None) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    if title:
        book.properties.title = title
    book.save(path)


def test_xlsx_sheets_are_sections_and_rows_keep_their_cells(tmp_path):
    path = tmp_path / "budget.xlsx"
    workbook(path, {
        "งบประมาณ": [["โครงการ", "งบ (ล้านบาท)"], ["ไฟส่องสว่างอัจฉริยะ", 12.5], ["แพลตฟอร์มข้อมูลเมือง", 30.0]],
        "Timeline": [["Phase", "Year"], ["Pilot", 2025], [None, None], ["Roll-out", "=B2+1"]],
    }, title="แผนงบประมาณเมืองอัจฉริยะ")
    doc = load_file(path, tmp_path)
    assert doc.metadata["title"] == "แผนงบประมาณเมืองอัจฉริยะ" and doc.lang == "th"
    assert "## งบประมาณ" in doc.text and "## Timeline" in doc.text
    assert "ไฟส่องสว่างอัจฉริยะ | 12.5" in doc.text and "แพลตฟอร์มข้อมูลเมือง | 30" in doc.text
    assert "Pilot | 2025" in doc.text
    assert doc.text.index("## งบประมาณ") < doc.text.index("## Timeline")


def test_xlsx_without_a_title_is_named_after_the_file(tmp_path):
    path = tmp_path / "sensors.xlsx"
    workbook(path, {"Sheet1": [["PM2.5 stations", 14]]})
    assert load_file(path, tmp_path).metadata["title"] == "sensors"


def test_a_huge_sheet_is_cut_with_a_warning(tmp_path):
    path = tmp_path / "log.xlsx"
    rows = MAX_CELLS // 2 + 10
    workbook(path, {"Readings": [[i, i * 2] for i in range(rows)], "Notes": [["never reached"]]})
    doc = load_file(path, tmp_path)
    assert "Readings" in doc.warnings[0] and "cut after" in doc.warnings[0]
    assert "Notes" in doc.warnings[1] and "never reached" not in doc.text


def test_pptx_slides_are_sections_with_titles_tables_and_notes(tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Smart Mobility Plan"
    slide.placeholders[1].text = "Electric buses on three routes\nBike sharing at ten stations"
    slide.notes_slide.notes_text_frame.text = "Ask the council about depot land."
    second = deck.slides.add_slide(deck.slide_layouts[5])
    second.shapes.title.text = "แผนงบประมาณ"
    table = second.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for r, row in enumerate([["รายการ", "ล้านบาท"], ["รถโดยสารไฟฟ้า", "45"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    path = tmp_path / "deck.pptx"
    deck.save(path)
    doc = load_file(path, tmp_path)
    assert doc.metadata["title"] == "Smart Mobility Plan"
    assert "## Slide 1: Smart Mobility Plan" in doc.text and "## Slide 2: แผนงบประมาณ" in doc.text
    assert "Bike sharing at ten stations" in doc.text and "depot land" in doc.text
    assert "รถโดยสารไฟฟ้า | 45" in doc.text


@pytest.mark.parametrize("content, encoding, row", [
    ("project,budget\nSmart lighting,12\n", "utf-8", "Smart lighting | 12"),
    ("โครงการ;งบประมาณ\nไฟส่องสว่าง;12\n", "utf-8-sig", "ไฟส่องสว่าง | 12"),
    ("โครงการ\tงบประมาณ\nไฟส่องสว่าง\t12\n", "cp874", "ไฟส่องสว่าง | 12"),
    ('name,note\n"Wangchan, Rayong","said ""yes"""\n', "utf-8", 'Wangchan, Rayong | said "yes"'),
])
def test_csv_rows_in_common_separators_and_encodings(tmp_path, content, encoding, row):
    path = tmp_path / "table.csv"
    path.write_bytes(content.encode(encoding))
    assert row in load_file(path, tmp_path).text


@pytest.mark.parametrize("name, reason", [
    ("empty.xlsx", "not a readable .xlsx"),
    ("empty.pptx", "not a readable .pptx"),
    ("empty.csv", "no text"),
])
def test_empty_office_files_get_a_reason(tmp_path, name, reason):
    path = tmp_path / name
    path.write_bytes(b"")
    with pytest.raises(MuangError, match=reason):
        load_file(path, tmp_path)
