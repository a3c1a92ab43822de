"""Load files into Documents: text plus metadata from YAML front matter or inferred.

Supported: Markdown (optional front matter), plain text, HTML. Language is inferred by script when missing,
the title from the first heading (or the file name), and `doc_id` from the path relative to the indexed folder.
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

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")
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


@dataclass
class Document:
    """One file's text and metadata. `metadata` always has doc_id, title, lang, kind, sources."""

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)

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


def load_file(path: Path, root: Path | None = None, max_mb: float = 50, max_pdf_pages: int = 2000) -> Document:
    """Load one file. `root` is the folder given to `muang index`; doc ids are relative to it.

    Raises MuangError with a one-line reason for unreadable, unsupported, oversized or garbled files.
    """
    path = Path(path)
    check_name(path)
    return parse(read_file(path, max_mb), path, root, max_mb, max_pdf_pages)


def check_name(path: Path) -> None:
    """Refuse a file whose name is not valid UTF-8: it could be neither stored nor shown as a source."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise MuangError(f"{display_path(path)}: the file name is not valid UTF-8; rename the file") from None


def display_path(path: Path | str) -> str:
    """A path as printable text: bytes that are not UTF-8 shown as U+FFFD."""
    return os.fsencode(str(path)).decode("utf-8", errors="replace")


def parse(data: bytes, path: Path, root: Path | None = None, max_mb: float = 50, max_pdf_pages: int = 2000) -> Document:
    """A Document from a file's bytes; `path` gives its type (suffix), doc id and title."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MuangError(f"{path}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")
    meta: dict[str, Any] = {}
    if suffix == ".pdf":
        text = pdf_to_text(data, path, max_pdf_pages)
    elif suffix == ".docx":
        text = docx_to_text(data, path, max_bytes=int(max_mb * 1024 * 1024) * 4)
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
    return Document(text=text, metadata=_complete_metadata(meta, text, path, root, content_hash(data)))


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


def pdf_to_text(data: bytes, path: Path, max_pages: int = 2000) -> str:
    """The text layer of a PDF, page by page. Thai extracted from PDFs often has vowels and tone marks
    out of order: PyThaiNLP's normalize puts them back."""
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

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
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise MuangError(f"{path}: no text (scanned?); the PDF has no text layer")
    from pythainlp.util import normalize

    return normalize(text)


def docx_to_text(data: bytes, path: Path, max_bytes: int = 200 * 1024 * 1024) -> str:
    """Paragraphs (headings as Markdown headings) and table rows of a Word document.

    The archive's declared sizes are checked before anything is inflated: a zip bomb is refused."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
            if inflated > max_bytes or inflated > 200 * max(1, len(data)):
                raise MuangError(f"{path}: .docx inflates to {inflated / 1048576:.0f} MB (zip bomb?); not indexed")
    except zipfile.BadZipFile:
        raise MuangError(f"{path}: not a readable .docx (not a zip archive)") from None
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
