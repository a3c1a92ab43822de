"""What kind of answer a question expects (a number, a date, a place), and whether a sentence offers one.

Extractive answering prefers sentences that contain the kind of thing asked for.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.chunking import normalize

_TYPES = {
    "number": re.compile(
        r"กี่|เท่าไร|เท่าไหร่|จำนวน|ร้อยละ|เปอร์เซ็นต์|\bhow (many|much|long|far|old|large|big)\b|"
        r"\bwhat (percentage|percent|number|amount|score)\b"
    ),
    "date": re.compile(
        r"เมื่อไร|เมื่อไหร่|เมื่อใด|วันที่เท่าไร|วันไหน|วันใด|ปีไหน|ปีใด|ปีอะไร|พ\.ศ\.\s*อะไร|"
        r"\bwhen\b|\b(what|which) (year|date|day|month|century|decade)\b"
    ),
    "place": re.compile(
        r"ที่ไหน|อยู่ไหน|จังหวัดไหน|จังหวัดอะไร|จังหวัดใด|อำเภอไหน|อำเภอใด|ภาคไหน|ประเทศไหน|"
        r"\bwhere\b|\b(what|which) (province|district|city|country|region|place)\b"
    ),
}
_DIGIT = re.compile(r"\d")
_YEAR_OR_MONTH = re.compile(
    r"\b(1[0-9]|2[0-9])\d\d\b|มกราคม|กุมภาพันธ์|มีนาคม|เมษายน|พฤษภาคม|มิถุนายน|กรกฎาคม|สิงหาคม|กันยายน|"
    r"ตุลาคม|พฤศจิกายน|ธันวาคม|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
)


def answer_type(question: str) -> str | None:
    """'number', 'date', 'place' or None.

    >>> answer_type("ภูเก็ตได้กี่ด้าน"), answer_type("When was the mark granted?"), answer_type("แม่เมาะอยู่จังหวัดไหน")
    ('number', 'date', 'place')
    """
    text = normalize(question)
    for name in ("date", "number", "place"):  # "what year" is a date before it is a number
        if _TYPES[name].search(text):
            return name
    return None


def offers(sentence: str, kind: str | None) -> bool:
    """Whether a sentence contains something of the asked-for kind.

    >>> offers("แม่เมาะเมืองน่าอยู่ตั้งอยู่ในจังหวัดลำปาง", "place")
    True
    """
    if kind is None:
        return False
    text = normalize(sentence)
    if kind == "number":
        return bool(_DIGIT.search(text))
    if kind == "date":
        return bool(_YEAR_OR_MONTH.search(text))
    return any(name in text for name in _place_names())


@lru_cache(maxsize=1)
def _place_names() -> tuple[str, ...]:
    from pythainlp.corpus import provinces

    names = set()
    for row in provinces(details=True):
        names.update({row["name_th"], row["name_en"].lower()})
    names.update({"กรุงเทพ", "จังหวัด", "อำเภอ", "ตำบล", "province", "district"})
    return tuple(sorted(names))
