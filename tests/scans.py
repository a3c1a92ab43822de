"""Scanned pages made here from text: rendered with a TLWG font (Debian fonts-thai-tlwg) into an image, as a
scanner would, optionally degraded. Used by the OCR tests and evals/bench_ocr.py; nothing binary is committed."""

from __future__ import annotations

import io
from pathlib import Path

THAI_FONT = "/usr/share/fonts/truetype/tlwg/Garuda.ttf"
A4_INCHES = (8.27, 11.69)


def wrap(text: str, fits) -> list[str]:
    """Lines of `text` that each fit (`fits(line)`), broken between Thai words (PyThaiNLP) and at spaces."""
    from pythainlp.tokenize import word_tokenize

    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in word_tokenize(paragraph.strip(), keep_whitespace=True):
            if fits(line + word) or not line:
                line += word
            else:
                lines.append(line.strip())
                line = word.lstrip()
        lines.append(line.strip())
    return lines


def page_image(text: str, dpi: int = 300, points: float = 14, font: str = THAI_FONT):
    """An A4 page (grayscale PIL image) with `text` set in `points`-point type and 1-inch margins; the text that
    did not fit is dropped."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(A4_INCHES[0] * dpi), int(A4_INCHES[1] * dpi)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    face = ImageFont.truetype(font, int(points / 72 * dpi))
    margin = dpi
    y = margin
    step = int(face.size * 1.7)
    for line in wrap(text, lambda s: draw.textlength(s, font=face) <= width - 2 * margin):
        if y + step > height - margin:
            break
        if line:
            draw.text((margin, y), line, font=face, fill=0)
        y += step
    return image


def fitted_text(text: str, dpi: int = 300, points: float = 14) -> str:
    """The part of `text` that page_image puts on one page, line by line (the reference for error rates)."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(A4_INCHES[0] * dpi), int(A4_INCHES[1] * dpi)
    draw = ImageDraw.Draw(Image.new("L", (8, 8)))
    face = ImageFont.truetype(THAI_FONT, int(points / 72 * dpi))
    lines, y, step = [], dpi, int(face.size * 1.7)
    for line in wrap(text, lambda s: draw.textlength(s, font=face) <= width - 2 * dpi):
        if y + step > height - dpi:
            break
        lines.append(line)
        y += step
    return "\n".join(line for line in lines if line)


def degrade(image, noise: float = 0.0, blur: float = 0.0, rotate: float = 0.0, specks: float = 0.0, seed: int = 0):
    """A scanner's faults: Gaussian noise (standard deviation in grey levels), blur (radius in pixels), a small
    rotation (degrees), salt-and-pepper specks (share of pixels)."""
    import numpy as np
    from PIL import Image, ImageFilter

    if rotate:
        image = image.rotate(rotate, resample=Image.BICUBIC, expand=False, fillcolor=255)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if noise or specks:
        rng = np.random.default_rng(seed)
        pixels = np.asarray(image).astype(np.float32)
        if noise:
            pixels = pixels + rng.normal(0, noise, pixels.shape)
        if specks:
            mask = rng.random(pixels.shape)
            pixels[mask < specks / 2] = 0
            pixels[mask > 1 - specks / 2] = 255
        image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    return image


def noise_page(dpi: int = 200, seed: int = 0):
    """A page of pure noise (what a scanner gives with its lid open on a dusty glass)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    size = (int(A4_INCHES[1] * dpi), int(A4_INCHES[0] * dpi))
    return Image.fromarray((rng.random(size) * 255).astype(np.uint8))


def image_pdf(images, dpi: int = 300) -> bytes:
    """An image-only PDF (no text layer), one image per page, as a scanner writes."""
    buffer = io.BytesIO()
    first, *rest = [image.convert("L") for image in images]
    first.save(buffer, format="PDF", resolution=dpi, save_all=True, append_images=rest)
    return buffer.getvalue()


def text_and_scan_pdf(path: Path, text_lines: list[str], scan, dpi: int = 300) -> None:
    """A two-page PDF: page 1 with a text layer (reportlab, TLWG font), page 2 a scanned image only."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Garuda", THAI_FONT))
    width, height = A4_INCHES[0] * 72, A4_INCHES[1] * 72
    page = canvas.Canvas(str(path), pagesize=(width, height))
    page.setFont("Garuda", 14)
    for i, line in enumerate(text_lines):
        page.drawString(72, height - 72 - 24 * i, line)
    page.showPage()
    page.drawImage(ImageReader(scan.convert("L")), 0, 0, width=width, height=height)
    page.showPage()
    page.save()


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance / reference length, on text with white space collapsed to one space."""
    ref, hyp = " ".join(reference.split()), " ".join(hypothesis.split())
    previous = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, start=1):
        current = [i]
        for j, b in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1] / max(1, len(ref))
