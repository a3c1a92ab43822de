"""Office files and CSV to text: Word, Excel, PowerPoint (zip archives checked before anything is inflated)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

from assistant.errors import MuangError
from assistant.ingest.frontmatter import MAX_VALUE_CHARS

MAX_CELLS = 5_000  # cells read from one workbook or CSV file (a bigger table is data, not prose, and
# would take minutes to embed); the rest is reported, not indexed
MAX_SLIDES = 2_000


def check_zip(data: bytes, path: Path, kind: str, max_bytes: int) -> None:
    """Refuse an Office file that is not a zip archive (an encrypted or pre-2007 file is an OLE container),
    or whose declared sizes inflate past the limits (a zip bomb), before anything is inflated."""
    import io
    import zipfile

    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise MuangError(f"{path}: encrypted (password-protected) or old-format Office file; save an unprotected "
                         f"{kind} copy")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
            if inflated > max_bytes or inflated > 200 * max(1, len(data)):
                raise MuangError(f"{path}: {kind} inflates to {inflated / 1048576:.0f} MB (zip bomb?); not indexed")
    except zipfile.BadZipFile:
        raise MuangError(f"{path}: not a readable {kind} (not a zip archive)") from None


def docx_to_text(data: bytes, path: Path, max_bytes: int = 200 * 1024 * 1024) -> str:
    """Paragraphs (headings as Markdown headings) and table rows of a Word document.

    The archive's declared sizes are checked before anything is inflated: a zip bomb is refused."""
    import io
    import zipfile

    check_zip(data, path, ".docx", max_bytes)
    try:
        from docx import Document as open_docx

        word = open_docx(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, AttributeError) as exc:
        raise MuangError(f"{path}: not a readable .docx ({type(exc).__name__})") from None
    parts: list[str] = []
    for paragraph in word.paragraphs:
        line = paragraph.text.strip()
        if not line:
            continue
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
        level = style.removeprefix("Heading ").strip()
        parts.append(f"{'#' * int(level)} {line}" if style.startswith("Heading") and level.isdigit() else line)
    for table in word.tables:
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if cells:
                parts.append(" | ".join(cells))
    return "\n\n".join(parts)


# What the Office libraries raise on broken or hostile archives (missing parts, bad XML, lying sizes).
def _office_errors() -> tuple[type[BaseException], ...]:
    import zipfile
    from xml.etree.ElementTree import ParseError

    from lxml.etree import LxmlError

    return (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, ValueError, TypeError, AttributeError, IndexError,
            EOFError, OSError, ParseError, LxmlError, RecursionError, AssertionError)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime.datetime) and not value.time():
        value = value.date()
    return " ".join(str(value).split())


def xlsx_to_text(data: bytes, path: Path, max_bytes: int = 200 * 1024 * 1024, meta: dict[str, Any] | None = None,
                 warnings: list[str] | None = None) -> str:
    """Each sheet as a `## sheet name` section with its rows, cells joined by " | " (formulas as their last saved
    values). At most MAX_CELLS cells are read; the rest is a warning."""
    import io

    meta = {} if meta is None else meta
    warnings = [] if warnings is None else warnings
    check_zip(data, path, ".xlsx", max_bytes)
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except _office_errors() as exc:
        raise MuangError(f"{path}: not a readable .xlsx ({type(exc).__name__})") from None
    parts: list[str] = []
    budget = MAX_CELLS
    try:
        if book.properties is not None and book.properties.title:
            meta["title"] = " ".join(str(book.properties.title).split())[:MAX_VALUE_CHARS]
        for sheet in book.worksheets:
            if budget <= 0:
                warnings.append(f"sheet {sheet.title!r} not read: the file has more than {MAX_CELLS:,} cells")
                continue
            sheet.reset_dimensions()  # the declared size can lie (A1:XFD1048576): read the cells there are
            rows: list[str] = []
            for row in sheet.iter_rows(values_only=True):
                budget -= max(1, len(row))
                if budget < 0:
                    warnings.append(f"sheet {sheet.title!r} cut after {len(rows):,} rows: the file has more than "
                                    f"{MAX_CELLS:,} cells; the rest is not indexed")
                    break
                cells = [_cell(value) for value in row]
                if any(cells):
                    rows.append(" | ".join(cells).strip(" |"))
            if rows:
                parts.append(f"## {sheet.title}\n\n" + "\n".join(rows))
    except _office_errors() as exc:
        raise MuangError(f"{path}: not a readable .xlsx ({type(exc).__name__})") from None
    finally:
        book.close()
    meta.setdefault("title", path.stem)
    return "\n\n".join(parts)


def pptx_to_text(data: bytes, path: Path, max_bytes: int = 200 * 1024 * 1024, meta: dict[str, Any] | None = None) -> str:
    """Each slide as a `## Slide N: title` section: its text boxes, tables as rows, and the speaker notes."""
    import io

    meta = {} if meta is None else meta
    check_zip(data, path, ".pptx", max_bytes)
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
        if len(deck.slides) > MAX_SLIDES:
            raise MuangError(f"{path}: {len(deck.slides)} slides; the limit is {MAX_SLIDES}")
        parts: list[str] = []
        for number, slide in enumerate(deck.slides, start=1):
            title_shape = slide.shapes.title
            title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
            lines: list[str] = []
            for shape in slide.shapes:
                if title_shape is not None and shape.shape_id == title_shape.shape_id:
                    continue
                lines.extend(_shape_lines(shape, depth=0))
            if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
                notes = slide.notes_slide.notes_text_frame.text.strip()
                if notes:
                    lines.append(notes)
            if title or lines:
                heading = f"## Slide {number}: {title}" if title else f"## Slide {number}"
                parts.append(heading + "\n\n" + "\n".join(lines))
        core_title = deck.core_properties.title
    except MuangError:
        raise
    except _office_errors() as exc:
        raise MuangError(f"{path}: not a readable .pptx ({type(exc).__name__})") from None
    first = re.search(r"^## Slide 1: (.+)$", parts[0], re.M) if parts else None
    meta.setdefault("title", " ".join(str(core_title or (first.group(1) if first else path.stem)).split()))
    return "\n\n".join(parts)


def _shape_lines(shape: Any, depth: int) -> list[str]:
    """Text of a shape: its paragraphs, a table's rows, a group's members (nested groups to a sane depth)."""
    if depth > 20:
        return []
    if hasattr(shape, "shapes"):  # a group
        return [line for member in shape.shapes for line in _shape_lines(member, depth + 1)]
    if getattr(shape, "has_table", False):
        rows = []
        for row in shape.table.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            if any(cells):
                rows.append(" | ".join(cells))
        return rows
    if getattr(shape, "has_text_frame", False):
        return [line.strip() for line in shape.text_frame.text.splitlines() if line.strip()]
    return []


def csv_to_text(raw: str, path: Path | str = "", warnings: list[str] | None = None) -> str:
    """Rows of a CSV file (comma, semicolon, tab or pipe separated, as detected), cells joined by " | "."""
    import csv
    import io

    warnings = [] if warnings is None else warnings
    sample = raw[:20_000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows: list[str] = []
    budget = MAX_CELLS
    try:  # a field over csv's limit (131,072 characters) is an error: no one writes prose in one cell that long
        for row in csv.reader(io.StringIO(raw, newline=""), dialect):
            budget -= max(1, len(row))
            if budget < 0:
                warnings.append(f"cut after {len(rows):,} rows: the file has more than {MAX_CELLS:,} cells; "
                                "the rest is not indexed")
                break
            cells = [" ".join(cell.split()) for cell in row]
            if any(cells):
                rows.append(" | ".join(cells).strip(" |"))
    except csv.Error as exc:
        raise MuangError(f"{path}: not a readable CSV file ({exc})") from None
    return "\n".join(rows)
