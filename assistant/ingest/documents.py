"""Load files into Documents: text plus metadata from YAML front matter or inferred.

Supported: Markdown (optional front matter), plain text, HTML, PDF (pages without a text layer read by OCR),
images (OCR), Word, Excel, PowerPoint and CSV. Language is inferred by script when missing, the title from the
first heading (or the file name), and `doc_id` from the path relative to the indexed folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import MuangError
from assistant.ingest.formats import html_to_text, image_to_text, pdf_to_text
from assistant.ingest.frontmatter import split_front_matter
from assistant.ingest.ocr import IMAGE_SUFFIXES, OcrOptions
from assistant.ingest.office import csv_to_text, docx_to_text, pptx_to_text, xlsx_to_text

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx", ".xlsx", ".pptx", ".csv") + IMAGE_SUFFIXES
KINDS = ("city", "smarts", "criteria", "process", "news", "faq", "document")
SMARTS = ("environment", "economy", "mobility", "energy", "people", "living", "governance")
_THAI = re.compile(r"[\u0E00-\u0E7F]")
_LETTER = re.compile(r"[^\W\d_]")
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
