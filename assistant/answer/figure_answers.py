"""Dated figures answered exactly from front matter: totals of certified cities (with the provinces counted
the same day), renewals, TSCCI scores and ranks, the minimum number of Smarts; "now" or "latest" answers with
the newest figure and lists the earlier ones, a year with that year's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.answer.catalog import (City, Figure, figures, latest)

if TYPE_CHECKING:
    from assistant.answer.analysis import Question
from assistant.answer.city_answers import APPROVAL_WORDS, MONTHS_EN, THAI_MONTHS, city_names, explained


_HOW_MANY = r"(กี่|จำนวน|ทั้งหมด|รวม|เท่า\s*ไร|เท่า\s*ไหร่)|\bhow many\b|\bnumber of\b|\btotal\b"


@dataclass(frozen=True)
class _Kind:
    asks: re.Pattern
    # a total standing at a date: a year alone ("approved in 2565") asks for that year's approval rounds, so
    # with a year the question must also say it asks what stood ("latest", "รวมทั้งหมดในปี 2566")
    standing: bool = False
    # a rule rather than a count: differing values are sources disagreeing, not a change over time
    rule: bool = False
    words: frozenset[str] = frozenset()


_FIGURE_KINDS = {
    "certified_cities_total": _Kind(re.compile(
        r"(กี่|จำนวน|ทั้งหมด|รวม)\s*(เมือง|พื้นที่|แห่ง)|เมืองอัจฉริยะ.*(กี่|จำนวน)|\bhow many\b.*\b(cities|areas)\b|"
        r"\bnumber of\b.*\b(cities|areas)\b|\btotal\b.*\b(cities|areas)\b|\b(cities|areas)\b.*\b(so far|in total|total)\b"),
        standing=True),
    # "หลังการต่ออายุ ... มีกี่เมือง" (after the renewals) dates a total; it does not count renewals
    "renewed_cities": _Kind(re.compile(rf"(?<!หลัง)(?<!หลังการ)(?<!after the )(?<!after )(ต่ออายุ|\brenew).*({_HOW_MANY})|"
                                       rf"({_HOW_MANY}).*(?<!หลัง)(?<!หลังการ)(?<!after the )(?<!after )(ต่ออายุ|\brenew)"),
                            words=frozenset("ต่ออายุ การต่ออายุ renew renewed renewal renewals".split())),
    "min_smarts_required": _Kind(re.compile(
        r"(ขั้นต่ำ|อย่างน้อย|น้อยที่สุด|\bminimum\b|\bat least\b|\bfewest\b).*(ด้าน|\bsmarts?\b)|"
        r"(ด้าน|\bsmarts?\b).*(ขั้นต่ำ|อย่างน้อย|น้อยที่สุด|\bminimum\b|\bat least\b)"), rule=True,
        words=frozenset("ขั้นต่ำ อย่างน้อย น้อย ที่สุด ต้อง ครอบคลุม ผ่าน เข้าเกณฑ์ เกณฑ์ ด้าน ข้อเสนอ minimum least fewest "
                        "must need needs needed cover covers meet required smarts smart proposal application".split())),
    "tscci_score": _Kind(re.compile(r"(คะแนน|\bscore).*(tscci|ดัชนี|\bindex\b|ความสามารถในการแข่งขัน|competitiv)|"
                                    r"(tscci|ดัชนี|\bindex\b|ความสามารถในการแข่งขัน|competitiv).*(คะแนน|\bscore)")),
    "tscci_rank": _Kind(re.compile(r"(อันดับ|\brank).*(tscci|ดัชนี|\bindex\b|ความสามารถในการแข่งขัน|competitiv)|"
                                   r"(tscci|ดัชนี|\bindex\b|ความสามารถในการแข่งขัน|competitiv).*(อันดับ|\brank)")),
}
# "กี่เมืองที่ได้ครบ 7 ด้าน" counts the cities of a plan (the catalog), not the cities holding the mark
_SMARTS_ASKED = re.compile(r"ด้าน|ครบ|\bsmarts\b|\ball (7|seven)\b")
_STANDING = re.compile(r"ทั้งหมด|รวม|สะสม|ถือ|มีอยู่|^(?:ใน)?ปี \d{4} มี(?!การ)|\btotal\b|\bhold|\bheld\b|\bin all\b|\bthere (are|were)\b")


_FIGURE_WORDS = APPROVAL_WORDS | frozenset(
    "ล่าสุด ตอนนี้ ปัจจุบัน ทั้งหมด จำนวน รวม คะแนน อันดับ ดัชนี ความสามารถ การแข่งขัน แข่งขัน ประเทศ ไทย แล้ว "
    "พื้นที่ แห่ง tscci score scores rank ranking index competitiveness latest now so far total number "
    "currently current recent thailand holding hold held have has had areas far there exist exists are were "
    "many much date mark marks certified got get gotten awarded "
    # when the figure stood: "หลังประชุมเดือนพฤศจิกายน 2565", "after the meeting in November 2022"
    "หลัง หลังจาก ประชุม การประชุม รับรอง การรับรอง ได้รับรอง meeting after before since as of "
    "มกราคม กุมภาพันธ์ มีนาคม เมษายน พฤษภาคม มิถุนายน กรกฎาคม สิงหาคม กันยายน ตุลาคม พฤศจิกายน ธันวาคม "
    "january february march april may june july august september october november december".split())


def figure_answer(docs: dict[str, dict[str, Any]], cities: list[City], q: Question
                  ) -> tuple[str, list[str]] | None:
    """The dated figure of the kind asked, with its date: the most recent ("ล่าสุด", "so far", "now"), that
    of the year asked, or for a figure that is not a standing total every one the sources give; earlier
    figures with their dates, and a note when sources disagree. None when the question asks no such figure."""
    text = q.corrected
    kinds = [w for w, kind in _FIGURE_KINDS.items() if kind.asks.search(text)]
    if not kinds or q.smarts or q.excluded_smarts or q.batches or q.provinces and not q.cities:
        return None
    what = kinds[-1]  # a score or rank question also "counts"; the more specific kind wins
    kind = _FIGURE_KINDS[what]
    # "approved in 2565" asks for that year's approval rounds (parse); a standing total answers what stood at
    # some date ("how many held the mark in 2023", "รวมทั้งหมดในปี 2566") or, asked with no year ("ประเทศไทย
    # มีเมืองอัจฉริยะกี่เมือง"), the latest: the documents naming fewer cities than hold the mark says nothing
    # of how many there are.
    if kind.standing and (q.years_ce and not (q.latest or _STANDING.search(text)) or _SMARTS_ASKED.search(text)):
        return None
    if not explained(text, _FIGURE_WORDS | kind.words, [n for c in q.cities for n in city_names(c)]):
        return None
    wanted = {c.slug for c in q.cities}
    lang = q.lang
    found = [f for f in figures(docs, what=what, lang=lang) if (f.city in wanted if wanted else not f.city)]
    if not found:
        return None
    if q.years_ce and not q.latest:
        chosen = [f for f in found if f.year in q.years_ce]
        if not chosen:
            return None
    else:
        chosen = latest(found)
    # what the same day's figures add: the provinces of a total, the score behind a rank
    beside = {"certified_cities_total": "certified_provinces_total", "tscci_rank": "tscci_score"}.get(what)
    besides = [f for f in figures(docs, what=beside, lang=lang) if f.city in wanted or not wanted and not f.city
               ] if beside else []
    docs_cited: list[str] = []

    def cite(f: Figure) -> str:
        """[n] for the figure's document, and for every other document stating the same value that day."""
        numbers = []
        for same in found:
            if same.as_of == f.as_of and _agree(same.value, f.value):
                if same.doc_id not in docs_cited:
                    docs_cited.append(same.doc_id)
                numbers.append(docs_cited.index(same.doc_id) + 1)
        return "".join(f"[{n}]" for n in dict.fromkeys(numbers))

    def once(rows: list[Figure]) -> list[Figure]:
        """One figure per date and value; of a value and its rounding (76.78 and 76.8), the precise one."""
        kept: list[Figure] = []
        for f in sorted(rows, key=lambda f: -_decimals(f.value)):
            if not any(k.as_of == f.as_of and _agree(k.value, f.value) for k in kept):
                kept.append(f)
        return sorted(kept, key=lambda f: f.as_of)

    th = lang == "th"

    def said(f: Figure) -> str:
        # "30 พื้นที่ใน 23 จังหวัด", "4 (คะแนน 76.22%)"; a value some sources round is given both ways
        other = next((b for b in besides if b.as_of == f.as_of), None)
        extra = ""
        if other and what == "certified_cities_total":
            extra = f" ใน {_value(other)} จังหวัด" if th else f" in {_value(other)} provinces"
        elif other:
            extra = f" (คะแนน {_value(other)})" if th else f" (score {_value(other)})"
        rounded = sorted({_value(r) for r in found if r.as_of == f.as_of and r.value != f.value
                          and _agree(r.value, f.value)})
        if rounded:
            extra += (f" (บางแหล่งปัดเป็น {', '.join(rounded)})" if th else
                      f" (rounded to {', '.join(rounded)} in some sources)")
        return f"{_value(f)}{extra} ({_when(f.as_of, lang)}) {cite(f)}"

    main = "; ".join(said(f) for f in once(chosen))
    subject = _figure_subject(what, q, lang)
    parts = [f"{subject}{'ล่าสุด' if th and q.latest else ''}: {main}" if th else
             f"{subject}{', latest' if q.latest else ''}: {main}."]
    earlier = [f for f in found if f.as_of < chosen[0].as_of and f.value != chosen[0].value]
    if earlier and (q.latest or not q.years_ce):
        listed = ", ".join(said(f) for f in once(earlier)[-4:])
        parts.append(f"ตัวเลขก่อนหน้า: {listed}" if th else f"Earlier figures: {listed}.")
    if len(once(chosen)) > 1 or kind.rule and len({f.value for f in once(found)}) > 1:
        parts.append("แหล่งข้อมูลให้ตัวเลขไม่ตรงกัน เราแสดงทุกตัวเลขพร้อมวันที่และแหล่งที่มา" if th else
                     "The sources disagree; every figure is shown with its date and source.")
    notes = [f.note for f in chosen if f.note] if lang == "en" else []  # notes are written in English
    if notes:
        parts.append(("หมายเหตุ: " if th else "Note: ") + "; ".join(dict.fromkeys(notes)))
    return " ".join(parts), docs_cited


def _decimals(value: int | float) -> int:
    text = f"{value}"
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def _agree(a: int | float, b: int | float) -> bool:
    """Whether two values are one figure, one of them rounded: 76.78 and 76.8, 83.60 and 83.6."""
    from decimal import ROUND_HALF_UP, Decimal

    step = Decimal(1).scaleb(-min(_decimals(a), _decimals(b)))  # sources round half up: 83.55 -> 83.6
    return Decimal(str(a)).quantize(step, ROUND_HALF_UP) == Decimal(str(b)).quantize(step, ROUND_HALF_UP)


def _value(f: Figure) -> str:
    number = f"{f.value:,.2f}".rstrip("0").rstrip(".") if isinstance(f.value, float) else f"{f.value:,}"
    return f"{number}{'%' if f.unit == 'percent' else ''}"


def _when(as_of: str, lang: str) -> str:
    """'2023-07' -> 'ก.ค. 2566' / 'Jul 2023'; a year alone in the language's calendar."""
    match = re.fullmatch(r"(\d{4})(?:-(\d\d))?(?:-(\d\d))?", as_of)
    if not match:
        return as_of
    year, month, day = match.group(1), match.group(2), match.group(3)
    if lang == "th":
        out = f"พ.ศ. {int(year) + 543}"
        if month:
            out = f"{THAI_MONTHS[int(month) - 1]} {out}"
        return f"{int(day)} {out}" if day else out
    out = year
    if month:
        out = f"{MONTHS_EN[int(month) - 1]} {out}"
    return f"{int(day)} {out}" if day else out


def _figure_subject(what: str, q: Question, lang: str) -> str:
    th = lang == "th"
    city = q.cities[0].name(lang) if q.cities else ""
    if what == "certified_cities_total":
        return "จำนวนเมืองที่ได้รับตราสัญลักษณ์เมืองอัจฉริยะ" if th else "Cities holding the smart-city mark"
    if what == "renewed_cities":
        return "จำนวนเมืองที่ได้ต่ออายุตราสัญลักษณ์" if th else "Cities whose smart-city mark was renewed"
    if what == "min_smarts_required":
        return "จำนวนด้าน (Smarts) ขั้นต่ำที่เมืองต้องมี" if th else "Minimum number of Smarts a city must meet"
    if what == "tscci_score":
        return f"คะแนนดัชนี TSCCI ของ{city}" if th else f"TSCCI score of {city}"
    return f"อันดับดัชนี TSCCI ของ{city}" if th else f"TSCCI rank of {city}"
