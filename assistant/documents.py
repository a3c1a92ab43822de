"""Load files into Documents: text plus metadata from YAML front matter or inferred.

Supported: Markdown (optional front matter), plain text, HTML, PDF (pages without a text layer read by OCR),
images (OCR), Word, Excel, PowerPoint and CSV. Language is inferred by script when missing, the title from the
first heading (or the file name), and `doc_id` from the path relative to the indexed folder.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from assistant.errors import MuangError
from assistant.ocr import IMAGE_SUFFIXES, OcrOptions, PageText

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".xlsx", ".pptx", ".csv") + IMAGE_SUFFIXES
KINDS = ("city", "smarts", "criteria", "process", "news", "faq", "document")
SMARTS = ("environment", "economy", "mobility", "energy", "people", "living", "governance")
_THAI = re.compile(r"[\u0E00-\u0E7F]")
_LETTER = re.compile(r"[^\W\d_]")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
# ANSI/VT escape sequences (CSI, OSC, two-character) and C0/C1 controls other than tab, line feed, form feed
# and carriage return; lone surrogates (undecodable bytes) too.
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
MAX_RUN_CHARS = 10_000
# A PDF page whose text layer has fewer letters than this is read by OCR (a scan, perhaps with a stamped number).
MIN_LAYER_LETTERS = 10
MAX_CELLS = 5_000  # cells read from one workbook or CSV file (a bigger table is data, not prose, and
# would take minutes to embed); the rest is reported, not indexed
MAX_SLIDES = 2_000


@dataclass
class Document:
    """One file's text and metadata. `metadata` always has doc_id, title, lang, kind, sources."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what was not indexed, and why (OCR pages, cut sheets)

    @property
    def doc_id(self) -> str:
        return self.metadata["doc_id"]

    @property
    def lang(self) -> str:
        return self.metadata["lang"]


def detect_lang(text: str) -> str:
    """'th' when Thai letters are a substantial share of the letters, else 'en'.

    >>> detect_lang("แม่เมาะอยู่จังหวัดไหน"), detect_lang("Where is Mae Moh?")
    ('th', 'en')
    """
    letters = _LETTER.findall(text)
    if not letters:
        return "en"
    thai = sum(1 for ch in letters if _THAI.match(ch))
    return "th" if thai / len(letters) >= 0.2 else "en"


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_file(path: Path, max_mb: float = 50) -> bytes:
    """The bytes of one regular file within the size limit; a pipe, device or folder is refused unread."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise MuangError(f"{path}: not a regular file (a pipe, device or socket); skipped")
        if info.st_size > max_mb * 1024 * 1024:
            raise MuangError(f"{path}: file is {info.st_size / 1048576:.1f} MB; the limit is {max_mb:g} MB "
                             "(MUANG_MAX_FILE_MB)")
        return path.read_bytes()
    except OSError as exc:
        raise MuangError(f"{path}: cannot read ({exc.strerror or exc})") from None


def load_file(path: Path, root: Path | None = None, max_mb: float = 50, max_pdf_pages: int = 2000,
              ocr: OcrOptions | None = None) -> Document:
    """Load one file. `root` is the folder given to `muang index`; doc ids are relative to it.

    Raises MuangError with a one-line reason for unreadable, unsupported, oversized or garbled files.
    """
    path = Path(path)
    check_name(path)
    return parse(read_file(path, max_mb), path, root, max_mb, max_pdf_pages, ocr)


def check_name(path: Path) -> None:
    """Refuse a file whose name is not valid UTF-8: it could be neither stored nor shown as a source."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise MuangError(f"{display_path(path)}: the file name is not valid UTF-8; rename the file") from None


def display_path(path: Path | str) -> str:
    """A path as printable text: bytes that are not UTF-8 shown as U+FFFD."""
    return os.fsencode(str(path)).decode("utf-8", errors="replace")


def parse(data: bytes, path: Path, root: Path | None = None, max_mb: float = 50, max_pdf_pages: int = 2000,
          ocr: OcrOptions | None = None) -> Document:
    """A Document from a file's bytes; `path` gives its type (suffix), doc id and title."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MuangError(f"{path}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    ocr = ocr or OcrOptions()
    max_bytes = int(max_mb * 1024 * 1024) * 4
    if suffix == ".pdf":
        text = pdf_to_text(data, path, max_pdf_pages, ocr, meta, warnings)
    elif suffix in IMAGE_SUFFIXES:
        text = image_to_text(data, path, ocr, meta, warnings)
    elif suffix == ".docx":
        text = docx_to_text(data, path, max_bytes=max_bytes)
    elif suffix == ".xlsx":
        text = xlsx_to_text(data, path, max_bytes, meta, warnings)
    elif suffix == ".pptx":
        text = pptx_to_text(data, path, max_bytes, meta)
    elif suffix == ".csv":
        text = csv_to_text(decode(data, path), path, warnings)
    elif suffix in (".html", ".htm"):
        raw = decode(data, path)
        html_title, text = html_to_text(raw)
        if html_title:
            meta["title"] = html_title
    else:
        front, text = split_front_matter(decode(data, path), path)
        meta.update(front)
    text = strip_controls(text)
    if not text.strip():
        raise MuangError(f"{path}: no text")
    check_prose(text, path)
    return Document(text=text, metadata=_complete_metadata(meta, text, path, root, content_hash(data)),
                    warnings=warnings)


def strip_controls(text: str) -> str:
    """Text without terminal escape sequences and control characters (line breaks and tabs kept): they would
    reach answers, web pages and terminals."""
    return _CONTROLS.sub(" ", _ESCAPES.sub("", text))


def check_prose(text: str, path: Path | str = "") -> None:
    """Refuse text holding a run of characters without any space longer than any word or Thai phrase: an
    encoded blob or a minified file, which no one asks about and which word segmentation cannot cut quickly."""
    run = re.search(r"\S{%d}" % (MAX_RUN_CHARS + 1), text)
    if run:
        end = run.end()
        while end < len(text) and not text[end].isspace():
            end += 1
        raise MuangError(f"{path}: holds {end - run.start():,} characters without a space (encoded data or a "
                         f"minified file?); the limit is {MAX_RUN_CHARS:,}")


def decode(data: bytes, path: Path) -> str:
    """Decode text: a BOM, else strict UTF-8, else the encoding charset-normalizer detects (TIS-620, cp874,
    UTF-16 without BOM, ...). Text that decodes to garbage (binary data, control characters) is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16", errors="replace")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = _thai_legacy(data) or _detected(data, path)
    text = text.replace("\x00", "")
    if text and _garbage_share(text) > 0.02:
        raise MuangError(f"{path}: decodes to garbage (control characters or binary data); not indexed")
    return text


def _thai_legacy(data: bytes) -> str | None:
    """TIS-620 / Windows-874 text, which general detectors mistake for CJK on short files: accepted when it
    decodes strictly and reads as mostly Thai letters."""
    try:
        text = data.decode("cp874")
    except UnicodeDecodeError:
        return None
    letters = _LETTER.findall(text)
    return text if letters and sum(1 for ch in letters if _THAI.match(ch)) / len(letters) >= 0.5 else None


def _detected(data: bytes, path: Path) -> str:
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is None:
        raise MuangError(f"{path}: not text in any encoding we can detect (binary file?)")
    # Short Western text fits several code pages equally well; of those, Windows-1252 is by far the likeliest.
    tied = [m for m in results if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    return str(next((m for m in tied if "cp1252" in m.could_be_from_charset), best))


def _garbage_share(text: str) -> float:
    import unicodedata

    sample = text[:200_000]
    bad = sum(1 for ch in sample if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Co", "Cs", "Cn")
                                                       and ch not in "\n\r\t\f"))
    return bad / max(1, len(sample))


def split_front_matter(raw: str, path: Path | str = "") -> tuple[dict[str, Any], str]:
    """Split YAML front matter from Markdown. A malformed block is a MuangError, not silently text."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    import yaml

    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise MuangError(f"{path}: front matter is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(front, dict):
        raise MuangError(f"{path}: front matter must be a mapping of keys to values")
    return check_front_matter(front, path), raw[match.end():]


# Front-matter fields and the shape each must have; other keys may hold text, numbers or lists of them.
_TEXT_FIELDS = ("id", "title", "lang", "kind", "city", "province", "province_th", "province_en", "name_th",
                "name_en", "meeting", "awarded", "url", "criterion", "suggestion")
_NUMBER_FIELDS = ("batch", "order", "item")
_LIST_FIELDS = ("aliases", "sources", "smarts", "evidence")
_SCALARS = (str, int, float, bool, datetime.date)
MAX_FRONT_MATTER_NODES = 5_000
MAX_VALUE_CHARS = 2_000


def check_front_matter(front: dict[str, Any], path: Path | str = "") -> dict[str, Any]:
    """Front matter whose values have the shapes the index and the catalog rely on.

    The size is checked first by a walk that stops early: YAML aliases can make a few lines expand to
    gigabytes ("billion laughs"). Wrong types are refused with the field named, not guessed at.
    """
    budget = [MAX_FRONT_MATTER_NODES]

    def walk(value: Any) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise MuangError(f"{path}: front matter is too large (more than {MAX_FRONT_MATTER_NODES} values; "
                             "YAML aliases?)")
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            raise MuangError(f"{path}: a front-matter value has {len(value):,} characters; the limit is "
                             f"{MAX_VALUE_CHARS:,}")
        for child in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
            walk(child)

    walk(front)

    def wrong(key: str, shape: str) -> MuangError:
        return MuangError(f"{path}: front matter `{key}` must be {shape}, not {type(front[key]).__name__}")

    for key, value in front.items():
        if value is None:
            continue
        if key in _TEXT_FIELDS and not isinstance(value, _SCALARS):
            raise wrong(key, "text")
        if key in _NUMBER_FIELDS and not (isinstance(value, int) and not isinstance(value, bool)):
            raise wrong(key, "a whole number")
        if key in _LIST_FIELDS:
            items = value if isinstance(value, list) else [value]
            if not all(isinstance(item, _SCALARS) for item in items):
                raise wrong(key, "a list of text")
            front[key] = [str(item) for item in items]
        if key == "figures":
            front[key] = check_figures(value, path)
    return front


_AS_OF = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_FIGURE_TEXT = ("what", "source", "city", "unit", "note")


def check_figures(value: Any, path: Path | str = "") -> list[dict[str, Any]]:
    """`figures`: dated counts, totals, scores and targets, each {what, value, as_of, source} with optional
    city, unit and note. `as_of` (YYYY, YYYY-MM or YYYY-MM-DD) comes back as text so that it sorts and
    survives JSON; a wrong shape is refused with the field named (`figures[2].value`)."""
    if not isinstance(value, list):
        raise MuangError(f"{path}: front matter `figures` must be a list of mappings, not {type(value).__name__}")
    out = []
    for n, item in enumerate(value):
        where = f"{path}: front matter `figures[{n}]"
        if not isinstance(item, dict):
            raise MuangError(f"{where}` must be a mapping, not {type(item).__name__}")
        for key in ("what", "value", "as_of", "source"):
            if item.get(key) is None:
                raise MuangError(f"{where}.{key}` is missing")
        for key in _FIGURE_TEXT:
            if item.get(key) is not None and not isinstance(item[key], str):
                raise MuangError(f"{where}.{key}` must be text, not {type(item[key]).__name__}")
        number = item["value"]
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise MuangError(f"{where}.value` must be a number, not {type(number).__name__}")
        as_of = item["as_of"]
        as_of = as_of.isoformat() if isinstance(as_of, datetime.date) else str(as_of)
        if isinstance(item["as_of"], (bool, float)) or not _AS_OF.fullmatch(as_of):
            raise MuangError(f"{where}.as_of` must be a date YYYY-MM-DD, YYYY-MM or YYYY, not {item['as_of']!r}")
        out.append({**item, "as_of": as_of})
    return out


def _complete_metadata(meta: dict[str, Any], text: str, path: Path, root: Path | None, digest: str) -> dict[str, Any]:
    rel = path.relative_to(root) if root is not None and path.is_relative_to(root) else Path(path.name)
    out = dict(meta)
    out["doc_id"] = str(meta.get("id") or rel.with_suffix("").as_posix())
    out.pop("id", None)
    out["lang"] = meta.get("lang") if meta.get("lang") in ("th", "en") else detect_lang(text)
    heading = _HEADING.search(text)
    out["title"] = str(meta.get("title") or (heading.group(1) if heading else path.stem))
    out["kind"] = meta.get("kind") if meta.get("kind") in KINDS else "document"
    sources = meta.get("sources") or []
    out["sources"] = [str(s) for s in (sources if isinstance(sources, list) else [sources])]
    out["url"] = str(meta.get("url") or next((s for s in out["sources"] if s.startswith("http")), ""))
    smarts = meta.get("smarts")
    # None means "not known from a source", which the catalog keeps apart from "none".
    out["smarts"] = [s for s in smarts if s in SMARTS] if isinstance(smarts, list) else None
    for key in ("awarded", "batch", "city", "province"):
        if out.get(key) is not None:
            out[key] = str(out[key]) if key != "batch" else out[key]
    out["path"] = str(path)
    out["hash"] = digest
    return out


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
        from assistant.ocr import pdf_page_images

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
    from assistant.ocr import image_frames

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
    from assistant.ocr import read_pages

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
