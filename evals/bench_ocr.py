"""OCR quality and speed on scanned pages made from real text: character error rate and pages/s per variant.

Pages: real Thai text (tests/data/thai-article.txt and a Thai corpus document) and real English text (corpus
documents), set in TLWG Garuda 14 pt on A4 (tests/scans.py), saved as image-only PDFs and read through the app's
loader (`assistant.ingest.documents.parse`: pypdfium2 rendering, Tesseract tha+eng, Thai repairs), exactly as
`muang index` reads a scan. Variants: 300 and 200 dpi clean; at 300 dpi Gaussian noise (sigma 25 grey levels)
with 1% salt-and-pepper specks, a blur (radius 1.5 px), and a 2 degree rotation. CER is the edit distance over
the reference length with white space collapsed; confidence is Tesseract's mean word confidence.

    .venv/bin/python evals/bench_ocr.py [--pages N]      (N pages per language and variant; default 2)

Prints a table and writes evals/results/bench_ocr.json. Targets: clean 300 dpi Thai CER <= 5%, noisy <= 10%.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from assistant.ingest.documents import parse, split_front_matter  # noqa: E402
from assistant.ingest.ocr import OcrOptions  # noqa: E402
from scans import cer, degrade, fitted_text, image_pdf, page_image  # noqa: E402

VARIANTS = {  # name: (dpi, degrade arguments)
    "clean-300": (300, {}),
    "clean-200": (200, {}),
    "noisy-300": (300, {"noise": 25, "specks": 0.01}),
    "blur-300": (300, {"blur": 1.5}),
    "rotated-300": (300, {"rotate": 2.0}),
}


def texts(lang: str, pages: int) -> list[str]:
    """Real text of `lang`: for Thai the test article first, then corpus documents; bodies only."""
    found = []
    if lang == "th":
        found.append((ROOT / "tests" / "data" / "thai-article.txt").read_text(encoding="utf-8"))
    for path in sorted((ROOT / "corpus").glob(f"*-{lang}.md")):
        _, body = split_front_matter(path.read_text(encoding="utf-8"), path)
        body = re.sub(r"^#+\s*", "", body, flags=re.M)  # headings as plain lines, as printed
        if len(body) > 1500:
            found.append(body.strip())
    return found[:pages]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2, help="pages per language and variant")
    args = parser.parse_args()
    options = OcrOptions(min_confidence=0)  # measure every page, including those the floor would hold back
    rows = []
    for variant, (dpi, faults) in VARIANTS.items():
        for lang in ("th", "en"):
            errors, confidences, seconds, chars = [], [], 0.0, 0
            for i, text in enumerate(texts(lang, args.pages)):
                reference = fitted_text(text, dpi=dpi)
                scan = image_pdf([degrade(page_image(text, dpi=dpi), seed=i, **faults)], dpi=dpi)
                started = time.perf_counter()
                doc = parse(scan, Path(f"{variant}-{lang}-{i}.pdf"), ocr=options)
                seconds += time.perf_counter() - started
                errors.append(cer(reference, doc.text) * len(reference))
                chars += len(reference)
                confidences.append(doc.metadata.get("ocr_confidence", 0.0))
            rows.append({"variant": variant, "lang": lang, "dpi": dpi, "pages": len(confidences),
                         "cer": sum(errors) / max(1, chars), "confidence": sum(confidences) / len(confidences),
                         "pages_per_s": len(confidences) / seconds, "seconds_per_page": seconds / len(confidences)})
            row = rows[-1]
            print(f"{variant:<12} {lang}  pages {row['pages']}  CER {row['cer']:6.2%}  confidence "
                  f"{row['confidence']:5.1f}  {row['pages_per_s']:.2f} pages/s ({row['seconds_per_page']:.1f} s/page)",
                  flush=True)
    print("\n| variant | lang | CER | confidence | pages/s |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['variant']} | {row['lang']} | {row['cer']:.2%} | {row['confidence']:.1f} | "
              f"{row['pages_per_s']:.2f} |")
    thai = {r["variant"]: r["cer"] for r in rows if r["lang"] == "th"}
    verdict = {"clean_300_th_cer_le_5pct": thai["clean-300"] <= 0.05, "noisy_300_th_cer_le_10pct": thai["noisy-300"] <= 0.10}
    print("\ntargets:", ", ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in verdict.items()))
    out = ROOT / "evals" / "results" / "bench_ocr.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "targets": verdict, "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(), "note": "shared machine, other jobs running"},
        "tesseract": os.popen("tesseract --version 2>&1").readline().strip()}, indent=2), encoding="utf-8")
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
