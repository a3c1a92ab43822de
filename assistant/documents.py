"""Load files into Documents: text plus metadata from YAML front matter or inferred.

Supported: Markdown (optional front matter), plain text, HTML. Language is inferred by script when missing,
the title from the first heading (or the file name), and `doc_id` from the path relative to the indexed folder.
"""

from __future__ import annotations

import hashlib
import re
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


def load_file(path: Path, root: Path | None = None, max_mb: float = 50, max_pdf_pages: int = 2000) -> Document:
    """Load one file. `root` is the folder given to `muang index`; doc ids are relative to it.

    Raises MuangError with a one-line reason for unreadable, unsupported, oversized or garbled files.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise MuangError(f"{path}: unsupported file type {suffix or '(none)'}; use one of {', '.join(SUFFIXES)}")
    try:
        size = path.stat().st_size
        if size > max_mb * 1024 * 1024:
            raise MuangError(f"{path}: file is {size / 1048576:.1f} MB; the limit is {max_mb:g} MB (MUANG_MAX_FILE_MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise MuangError(f"{path}: cannot read ({exc.strerror or exc})") from None
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
    if not text.strip():
        raise MuangError(f"{path}: no text")
    return Document(text=text, metadata=_complete_metadata(meta, text, path, root, content_hash(data)))


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

    best = from_bytes(data).best()
    if best is None:
        raise MuangError(f"{path}: not text in any encoding we can detect (binary file?)")
    return str(best)


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
    return front, raw[match.end():]


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
