"""HTML, PDF and scanned images to text (PDF pages without a text layer and images are read by OCR)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from assistant.errors import MuangError
from assistant.ingest.ocr import OcrOptions, PageText

_LETTER = re.compile(r"[^\W\d_]")
# A PDF page whose text layer has fewer letters than this is read by OCR (a scan, perhaps with a stamped number).
MIN_LAYER_LETTERS = 10


class _TextExtractor(HTMLParser):
    _SKIP = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "svg"}
    _BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in self._BLOCK:
            self.parts.append("\n\n")
        if tag in ("h1", "h2", "h3") and not self._skip:
            self.parts.append("#" * int(tag[1]) + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def html_to_text(raw: str) -> tuple[str, str]:
    """Visible main text of an HTML page (no scripts, styles or navigation) and its <title>."""
    parser = _TextExtractor()
    parser.feed(raw)
    parser.close()
    text = re.sub(r"[ \t\r\f\v]+", " ", "".join(parser.parts))
    text = re.sub(r"\n\s*\n+", "\n\n", text)
    return parser.title.strip(), "\n".join(line.strip() for line in text.splitlines()).strip()


def pdf_to_text(data: bytes, path: Path, max_pages: int = 2000, ocr: OcrOptions | None = None,
                meta: dict[str, Any] | None = None, warnings: list[str] | None = None) -> str:
    """The text of a PDF, page by page: the text layer where there is one, OCR for the pages without (scans).
    Thai extracted from PDFs often has vowels and tone marks out of order: PyThaiNLP's normalize puts them back.
    `meta` receives the OCR marks, `warnings` the pages that were not indexed."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    ocr = ocr or OcrOptions()
    meta = {} if meta is None else meta
    warnings = [] if warnings is None else warnings
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise MuangError(f"{path}: encrypted PDF; save an unprotected copy")
        if len(reader.pages) > max_pages:
            raise MuangError(f"{path}: PDF has {len(reader.pages)} pages; the limit is {max_pages} (MUANG_MAX_PDF_PAGES)")
        pages = [page.extract_text() or "" for page in reader.pages]
    except MuangError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, IndexError, AttributeError, AssertionError,
            ZeroDivisionError, RecursionError) as exc:  # pypdf's errors on broken or hostile files are many
        raise MuangError(f"{path}: not a readable PDF ({type(exc).__name__})") from None
    from pythainlp.util import normalize

    texts = {n: normalize(p.strip()) for n, p in enumerate(pages, start=1)}
    scanned = [n for n, p in texts.items() if len(_LETTER.findall(p)) < MIN_LAYER_LETTERS]
    if scanned:
        from assistant.ingest.ocr import pdf_page_images

        def images(numbers: list[int]):
            return pdf_page_images(data, numbers, ocr.dpi)

        layer = any(texts[n] for n in texts if n not in scanned)
        texts.update(_read_scanned(scanned, images, path, ocr, meta, warnings, required=not layer))
    text = "\n\n".join(t for _, t in sorted(texts.items()) if t)
    if not text.strip():
        raise MuangError(f"{path}: no text (scanned?); the PDF has no text layer" + (
            " and OCR found no text on its pages" if ocr.max_pages > 0 else
            "; OCR is off (MUANG_MAX_OCR_PAGES=0)"))
    return text


def image_to_text(data: bytes, path: Path, ocr: OcrOptions | None = None, meta: dict[str, Any] | None = None,
                  warnings: list[str] | None = None) -> str:
    """The text of an image file (PNG, JPEG, TIFF with one page or many), read by OCR."""
    from assistant.ingest.ocr import image_frames

    ocr = ocr or OcrOptions()
    meta = {} if meta is None else meta
    warnings = [] if warnings is None else warnings
    try:
        count, frames = image_frames(data)
    except MuangError as exc:
        raise MuangError(f"{path}: {exc}") from None
    if ocr.max_pages <= 0:
        raise MuangError(f"{path}: an image is read by OCR, which is off (MUANG_MAX_OCR_PAGES=0)")
    numbers = list(range(1, count + 1))

    def images(wanted: list[int]):
        return ((n, image) for n, image in frames if n in wanted)

    texts = _read_scanned(numbers, images, path, ocr, meta, warnings, required=True)
    text = "\n\n".join(t for _, t in sorted(texts.items()) if t)
    if not text.strip():
        raise MuangError(f"{path}: no text: OCR found no text in the image")
    return text


def _read_scanned(numbers: list[int], images, path: Path, ocr: OcrOptions, meta: dict[str, Any],
                  warnings: list[str], required: bool) -> dict[int, str]:
    """OCR of the pages `numbers` (images(numbers) renders them), up to the page cap: {page: text} of the pages
    read with a confidence at or above the floor; the others are warnings. When the document has no other
    text (`required`), every problem is an error naming its reason."""
    from assistant.ingest.ocr import read_pages

    if ocr.max_pages <= 0:
        if not required:
            warnings.append(f"{_pages(numbers)} without a text layer not read: OCR is off (MUANG_MAX_OCR_PAGES=0)")
        return {}
    todo, skipped = numbers[:ocr.max_pages], numbers[ocr.max_pages:]
    if skipped:
        warnings.append(f"{_pages(skipped)} not read by OCR: the cap is {ocr.max_pages} pages per file "
                        "(MUANG_MAX_OCR_PAGES)")
    found: dict[int, PageText] = {}
    try:
        for number, page in read_pages(images(todo), len(todo), ocr, path.name):
            found[number] = page
    except MuangError as exc:  # Tesseract missing, or a page that cannot be rendered
        if required and not found:
            raise MuangError(f"{path}: {exc}") from None
        warnings.append(f"{_pages([n for n in todo if n not in found])} not read by OCR: {exc}")
    kept: dict[int, str] = {}
    low: list[str] = []
    for number, page in sorted(found.items()):
        if page.error:
            warnings.append(f"page {number} not read by OCR: {page.error}")
        if not page.text:
            continue
        if page.confidence < ocr.min_confidence:
            low.append(f"page {number} read by OCR with confidence {page.confidence:.0f}%")
            continue
        kept[number] = page.text
    floor = f"below the floor of {ocr.min_confidence:g}% (MUANG_OCR_MIN_CONFIDENCE); not indexed"
    if low:
        warnings.append(f"{'; '.join(low)}: {floor}")
    if kept:
        weights = {n: len(found[n].text) for n in kept}
        meta["ocr"] = True
        meta["ocr_confidence"] = round(sum(found[n].confidence * w for n, w in weights.items())
                                       / sum(weights.values()), 1)
        meta["ocr_pages"] = sorted(kept)
    elif required and low:
        raise MuangError(f"{path}: no text read reliably: {'; '.join(low)}, {floor}")
    elif required and any(page.error for page in found.values()):
        number, page = next((n, page) for n, page in sorted(found.items()) if page.error)
        raise MuangError(f"{path}: page {number}: {page.error}; not indexed")
    return kept


def _pages(numbers: list[int]) -> str:
    """'page 3' or 'pages 3-9' or 'pages 2, 5, 7' (the first ten)."""
    if len(numbers) == 1:
        return f"page {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"pages {numbers[0]}-{numbers[-1]}"
    shown = ", ".join(str(n) for n in numbers[:10])
    return f"pages {shown}" + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")
