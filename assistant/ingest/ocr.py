"""Image or scanned page -> text with a confidence, by Tesseract (Debian's tesseract-ocr, Thai and English data).

Tesseract runs as its command-line program, once per page, writing plain text and per-word confidences (TSV) in
one pass. PDF pages are rendered with pypdfium2. Thai output is repaired: Tesseract 5 writes sara am as
nikhahit + sara aa, may put tone marks before vowels, and splits words with spaces that are not in the text.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from assistant.errors import MuangError

INSTALL = "apt-get install -y tesseract-ocr tesseract-ocr-tha tesseract-ocr-eng"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
# A4 at 600 dpi is 35 Mpx; more is a decompression bomb or a poster that Tesseract would take minutes on.
MAX_PIXELS = 40_000_000
MAX_FRAMES = 500  # pages of a multi-page TIFF looked at (then the OCR page cap applies)
MAX_DARK = 0.4  # a text page is mostly paper: more ink than this is noise, a photograph or a black scan

_THAI = "\u0E00-\u0E7F"
_ABOVE_BELOW = "\u0E31\u0E34-\u0E3A\u0E47-\u0E4E"  # combining vowels and marks: never start a word
_FOLLOWING = "\u0E30\u0E32\u0E33\u0E45\u0E46"  # ะ า ำ ๅ ๆ: never start a word
_LEADING = "\u0E40-\u0E44"  # เ แ โ ใ ไ: never end a word
_TONE = "\u0E48-\u0E4B"


@dataclass(frozen=True)
class OcrOptions:
    """How pages are read: Tesseract languages, rendering resolution, the page cap, the confidence floor."""

    langs: str = "tha+eng"
    dpi: int = 300
    max_pages: int = 200
    min_confidence: float = 60.0
    timeout: float = 60.0  # seconds for one page; a page that takes longer is reported, not waited for
    progress: bool = False


def ocr_options(settings: Any, progress: bool = False) -> OcrOptions:
    """The OCR options of a Settings object (MUANG_MAX_OCR_PAGES, MUANG_OCR_MIN_CONFIDENCE, MUANG_OCR_LANGS)."""
    return OcrOptions(langs=settings.ocr_langs, max_pages=settings.max_ocr_pages,
                      min_confidence=settings.ocr_min_confidence, progress=progress)


@dataclass
class PageText:
    text: str
    confidence: float  # 0-100: the mean of Tesseract's word confidences, weighted by characters
    words: int
    error: str = ""  # why the page could not be read (then text is empty)


def clean_thai(text: str) -> str:
    """Repair Tesseract's Thai: sara am, mark order, and spaces inside words; other text is left alone.

    >>> clean_thai("ต\u0e4d\u0e32บล น\u0e4d\u0e49\u0e32 เ มือง") == "ตำบล น้ำ เมือง"
    True
    >>> clean_thai("พลังงาน  พลเมือง Smart City")
    'พลังงาน พลเมือง Smart City'
    """
    from pythainlp.util import normalize

    # nikhahit + sara aa (a tone mark may sit on either side of the nikhahit) is sara am after the tone mark
    text = re.sub(f"([{_TONE}]?)\u0E4D([{_TONE}]?)\u0E32", "\\1\\2\u0E33", text)
    # Runs of single Thai letters split by spaces ("ก า ร") are one word cut letter by letter.
    text = re.sub(f"(?<![{_THAI}])[{_THAI}](?: [{_THAI}](?![{_THAI}]))+",
                  lambda m: m.group(0).replace(" ", ""), text)
    # A space cannot stand before a combining or following vowel, nor after a leading one.
    text = re.sub(f"(?<=[{_THAI}]) +(?=[{_ABOVE_BELOW}{_FOLLOWING}])", "", text)
    text = re.sub(f"(?<=[{_LEADING}]) +(?=[{_THAI}])", "", text)
    # normalize also puts tone marks after vowels and makes the runs of spaces that keep a gap's width one space.
    return normalize(text)


def check_installed(langs: str) -> str:
    """The tesseract program, after checking that it has every language asked for; else a MuangError naming
    the apt-get command."""
    program = shutil.which("tesseract")
    if program is None:
        raise MuangError(f"reading scanned pages needs Tesseract, which is not installed: {INSTALL}")
    try:
        listed = subprocess.run([program, "--list-langs"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MuangError(f"Tesseract does not run ({exc}); reinstall it: {INSTALL}") from None
    have = set(listed.split())
    missing = [lang for lang in langs.split("+") if lang not in have]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang}" for lang in missing)
        raise MuangError(f"Tesseract has no {'+'.join(missing)} language data: apt-get install -y {packages}")
    return program


def read_image(image: Any, options: OcrOptions, program: str | None = None) -> PageText:
    """The text of one page image (a PIL image) with its confidence."""
    program = program or check_installed(options.langs)
    gray, dark = _prepare(image.convert("L"))
    if dark * gray.size[0] * gray.size[1] < 100:  # not one letter's ink: a blank page, no need for Tesseract
        return PageText("", 0.0, 0)
    if dark > MAX_DARK:
        return PageText("", 0.0, 0, error=f"the page is {dark:.0%} dark even after removing specks: noise or a "
                                          "photograph, not text")
    with tempfile.TemporaryDirectory(prefix="muang-ocr-") as folder:
        source = Path(folder) / "page.pgm"  # uncompressed: the fastest to write and for Tesseract to read
        gray.save(source)
        base = Path(folder) / "out"
        # One thread per page: on a shared machine Tesseract's OpenMP threads cost more than they save.
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        command = [program, str(source), str(base), "-l", options.langs, "--dpi", str(options.dpi),
                   "-c", "preserve_interword_spaces=1", "-c", "tessedit_create_tsv=1", "txt"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=options.timeout, env=env)
        except subprocess.TimeoutExpired:
            raise MuangError(f"OCR took more than {options.timeout:g} s on one page") from None
        if done.returncode != 0:
            message = " ".join(done.stderr.decode("utf-8", "replace").split())[:200]
            raise MuangError(f"Tesseract failed ({message or done.returncode})")
        text = (base.with_suffix(".txt")).read_text(encoding="utf-8", errors="replace")
        tsv = (base.with_suffix(".tsv")).read_text(encoding="utf-8", errors="replace")
    confidence, words = _confidence(tsv)
    paragraphs = [_unwrap(p) for p in re.split(r"\n\s*\n", clean_thai(text))]
    return PageText("\n\n".join(p for p in paragraphs if p), confidence, words)


def _unwrap(paragraph: str) -> str:
    r"""One paragraph's lines as one line: Tesseract ends every printed line, and a line end inside a sentence
    would cut it in two. Thai lines join without a space (Thai breaks lines between words, not at spaces).

    >>> _unwrap("จำนวนสี่\nสิบแปดจุด\nin all\n48 points")
    'จำนวนสี่สิบแปดจุด in all 48 points'
    """
    joined = ""
    for line in (line.strip() for line in paragraph.splitlines()):
        if not line:
            continue
        thai = joined and re.match(f"[{_THAI}]", joined[-1]) and re.match(f"[{_THAI}]", line[0])
        joined += line if not joined or thai else " " + line
    return joined


def _prepare(gray: Any) -> tuple[Any, float]:
    """The page with salt-and-pepper specks removed when it has many (Tesseract can spend minutes on them), and
    the share of dark pixels left."""
    import numpy as np
    from PIL import ImageFilter

    dark = np.asarray(gray) < 128
    inner = dark[1:-1, 1:-1]
    # A dark pixel none of whose four neighbours is dark is a speck: letters have none.
    specks = inner & ~(dark[:-2, 1:-1] | dark[2:, 1:-1] | dark[1:-1, :-2] | dark[1:-1, 2:])
    if specks.sum() > 0.1 * max(1, inner.sum()):
        gray = gray.filter(ImageFilter.MedianFilter(3))
        dark = np.asarray(gray) < 128
    return gray, float(dark.mean())


def _confidence(tsv: str) -> tuple[float, int]:
    """Mean word confidence weighted by the word's length, and the number of words, from Tesseract's TSV."""
    total = weight = words = 0.0
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        try:
            conf = float(cells[10])
        except ValueError:
            continue
        if conf < 0:
            continue
        size = len(cells[11].strip())
        total += conf * size
        weight += size
        words += 1
    return (total / weight if weight else 0.0), int(words)


def read_pages(pages: Iterable[tuple[int, Any]], total: int, options: OcrOptions, label: str) -> Iterator[tuple[int, PageText]]:
    """(page number, PageText) for each (page number, image), with a progress bar of pages and their rate."""
    program = check_installed(options.langs)
    from tqdm import tqdm

    with tqdm(total=total, desc=f"OCR {label}"[:60], unit="page", disable=not options.progress or total == 0,
              file=sys.stderr, dynamic_ncols=True, leave=False) as bar:
        for number, image in pages:
            try:
                result = read_image(image, options, program)
            except MuangError as exc:  # one slow or broken page does not lose the others
                result = PageText("", 0.0, 0, error=str(exc))
            bar.update(1)
            yield number, result


def pdf_page_images(data: bytes, numbers: list[int], dpi: int) -> Iterator[tuple[int, Any]]:
    """(page number, image) for the given 1-based page numbers of a PDF, rendered at `dpi` (less for a page so
    large that it would pass MAX_PIXELS)."""
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise MuangError(f"the PDF cannot be rendered for OCR ({exc})") from None
    try:
        for number in numbers:
            try:
                page = document[number - 1]
            except (pdfium.PdfiumError, IndexError) as exc:
                raise MuangError(f"page {number} cannot be rendered ({exc})") from None
            try:
                width, height = page.get_size()  # points (1/72 inch)
                scale = dpi / 72
                pixels = width * scale * height * scale
                if pixels > MAX_PIXELS:
                    scale *= (MAX_PIXELS / pixels) ** 0.5
                image = page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
            yield number, image
    finally:
        document.close()


def image_frames(data: bytes) -> tuple[int, Iterator[tuple[int, Any]]]:
    """The number of pages of an image file (TIFFs may have many) and an iterator of (page number, image).

    Sizes are checked from the header before any pixel is decoded: a decompression bomb is refused."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = min(getattr(image, "n_frames", 1), MAX_FRAMES)
        width, height = image.size
    except Image.DecompressionBombError:
        raise MuangError(f"the image has more than {MAX_PIXELS // 1_000_000} megapixels (a decompression bomb?)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise MuangError(f"not a readable image ({type(exc).__name__})") from None
    if width * height > MAX_PIXELS:
        raise MuangError(f"the image is {width} x {height} pixels; the limit is {MAX_PIXELS // 1_000_000} "
                         "megapixels (a decompression bomb?)")

    def frames_of() -> Iterator[tuple[int, Any]]:
        for index in range(frames):
            try:
                image.seek(index)
                if image.size[0] * image.size[1] > MAX_PIXELS:
                    raise MuangError(f"page {index + 1} of the image is larger than "
                                     f"{MAX_PIXELS // 1_000_000} megapixels")
                frame = ImageOps.exif_transpose(image)  # phone photos are stored sideways with an EXIF turn
                frame.load()
            except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
                raise MuangError(f"page {index + 1} of the image cannot be decoded ({type(exc).__name__})") from None
            yield index + 1, frame

    return frames, frames_of()
