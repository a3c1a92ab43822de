"""End to end: a scanned Thai plan (an image-only PDF made here) indexed by `muang index` answers a question
about its content with a source marked as read by OCR; a scanned page of noise is listed with its reason; the
corpus answers stay as they were."""

from __future__ import annotations

import json
import shutil

import pytest

from assistant.cli import main
from scans import image_pdf, noise_page, page_image

pytestmark = pytest.mark.slow

# A made-up municipality, so that no corpus answer can move because of it.
PLAN = ("แผนพัฒนาเมืองอัจฉริยะเทศบาลตำบลบางซอร์บ พ.ศ. 2569\n"
        "เทศบาลตำบลบางซอร์บจะติดตั้งเซนเซอร์ตรวจวัดฝุ่นละอองขนาดเล็กจำนวนสี่สิบแปดจุดรอบตลาดริมคลอง "
        "และเปิดศูนย์ข้อมูลเมืองให้ประชาชนดูค่าคุณภาพอากาศได้ทุกวัน\n"
        "งบประมาณของโครงการมาจากกองทุนพัฒนาเมืองของเทศบาลเอง")
CORPUS_QUESTIONS = ["แม่เมาะอยู่จังหวัดไหน", "Where is Wangchan Valley?"]


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def test_a_scanned_plan_answers_with_an_ocr_citation(corpus_index, tmp_path, capsys):
    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir, symlinks=True)
    before = {q: run(capsys, "ask", q, "--json", "--index-dir", str(index_dir))[1] for q in CORPUS_QUESTIONS}

    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "แผนบางซอร์บ.pdf").write_bytes(image_pdf([page_image(PLAN, dpi=300)], dpi=300))
    (folder / "blank-scan.pdf").write_bytes(image_pdf([noise_page()], dpi=200))
    code, report = run(capsys, "index", str(folder), "--json", "--index-dir", str(index_dir))
    assert code == 0
    assert [p.endswith("แผนบางซอร์บ.pdf") for p in report["added"]] == [True]
    [failed] = report["failed"]
    assert failed["path"].endswith("blank-scan.pdf") and "noise" in failed["reason"]

    code, answer = run(capsys, "ask", "เทศบาลตำบลบางซอร์บจะติดตั้งเซนเซอร์ตรวจวัดฝุ่นกี่จุด", "--json",
                       "--index-dir", str(index_dir))
    assert code == 0 and answer["confident"] is True
    cited = [s for s in answer["sources"] if f"[{s['n']}]" in answer["answer"]]
    assert cited and all(s["ocr"] is True and s["doc_id"] == "แผนบางซอร์บ" for s in cited)
    assert "สี่สิบแปด" in answer["answer"]

    for question, old in before.items():
        new = run(capsys, "ask", question, "--json", "--index-dir", str(index_dir))[1]
        assert (new["answer"], new["sources"][0]["doc_id"]) == (old["answer"], old["sources"][0]["doc_id"])
        assert new["sources"][0]["ocr"] is False
