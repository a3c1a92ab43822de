"""What a question asks beyond its content words: its question words as typed in chat, respelled as written
Thai spells them, and the kind of answer some questions need (a place at an administrative level, the next
of something), which a sentence matching every other word may not give."""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.ingest.chunking import normalize

# Question words as typed in chat, tone marks left out or added ("อยู่ทีไหน", "เมื่อไร่", "มีกีด้าน"): no document
# says them, and a question asking "where" without its "where" is answered with whatever matches the rest.
_TYPED_ASKING = [
    (re.compile(r"ที(?=ไหน)"), "ที่"),
    (re.compile(r"เมื่อไร่"), "เมื่อไร"),
    (re.compile(r"(เมื่อ|เท่า)ไหร(?![่้])"), r"\1ไหร่"),
    (re.compile(r"ยังงัย"), "ยังไง"),
    (re.compile(r"(?<![ก-ฮ])กี(?=\s*(ด้าน|เมือง|แห่ง|ที่|ปี|คน|ข้อ|ครั้ง|บาท|วัน|เดือน|โครงการ|จังหวัด|พื้นที่|ประเภท))"), "กี่"),
]


def asking_respelled(text: str) -> str:
    """The question with its question words spelled as written Thai spells them.

    >>> asking_respelled("แม่เมาะอยู่ทีไหน"), asking_respelled("ภูเก็ตได้ตราเมื่อไร่"), asking_respelled("ขอนแก่นมีกีด้าน")
    ('แม่เมาะอยู่ที่ไหน', 'ภูเก็ตได้ตราเมื่อไร', 'ขอนแก่นมีกี่ด้าน')
    >>> asking_respelled("กีฬาอะไร"), asking_respelled("ได้เท่าไหร่")
    ('กีฬาอะไร', 'ได้เท่าไหร่')
    """
    for pattern, spelled in _TYPED_ASKING:
        text = pattern.sub(spelled, text)
    return text


# What a question asks, and what a sentence that answers it says: "where" at an administrative level
# ("ขอนแก่นอยู่ภาคไหน", "Which district is Mae Moh in?"; a province or a "เขตส่งเสริม" (promotion zone) does not
# answer which district, nor "ภาครัฐ" (the public sector) which region), and the next of something ("ประชุม
# ครั้งถัดไปเมื่อไหร่", "the next deadline"), which a sentence on a past one does not answer.
_ASKED = {
    "region": (re.compile(r"ภาค\s*(ไหน|อะไร|ใด)|\b(which|what) (region|part of (thailand|the country))\b"),
               re.compile(r"ภาค(?!รัฐ|เอกชน|ประชา|ส่วน|ธุรกิจ|การ)|อีสาน|\b(north|south|east|west|central)|"
                          r"\bregion")),
    "district": (re.compile(r"(อำเภอ|เขต)\s*(ไหน|อะไร|ใด)|\b(which|what) (district|amphoe|khet)\b"),
                 re.compile(r"อำเภอ|อ\.\s*\S|เขต(?!ส่งเสริม)|\bdistrict\b|\bamphoe\b|\bkhet\b")),
    "subdistrict": (re.compile(r"ตำบล\s*(ไหน|อะไร|ใด)|\b(which|what) (sub-?district|tambon)\b"),
                    re.compile(r"ตำบล|ต\.\s*\S|\bsub-?district\b|\btambon\b")),
    "next": (re.compile(r"(ครั้ง|รอบ)(ถัดไป|หน้า)|ปีหน้า|\bnext\b|\bupcoming\b"),
             re.compile(r"ถัดไป|ครั้งหน้า|รอบหน้า|ปีหน้า|จะ(จัด|เปิด|ปิด|ประชุม|ประกาศ)|กำหนดการ|\bnext\b|"
                        r"\bupcoming\b|\bwill (be )?(held|open|close|meet|announce)|\bscheduled\b")),
}


def says_asked(question: str, sentence: str) -> bool:
    """Whether a sentence says what kind of thing a question asks (`_ASKED`; True when it asks none of them).

    >>> says_asked("ขอนแก่นอยู่ภาคไหน", "ขอนแก่นได้คะแนน 53.8%"), says_asked("Which district is Mae Moh in?",
    ...     "Mae Moh Smart City is in Mae Moh district, Lampang province.")
    (False, True)
    >>> says_asked("ประชุมครั้งถัดไปเมื่อไหร่", "คณะกรรมการประชุมครั้งที่ 1/2565 เมื่อวันที่ 9 พฤศจิกายน 2565")
    False
    """
    wanted = _wanted(question)
    return not wanted or all(says.search(normalize(sentence)) for says in wanted)


@lru_cache(maxsize=256)
def _wanted(question: str) -> tuple[re.Pattern, ...]:
    """What a sentence must say to answer the question (asked once per question, not once per candidate)."""
    question = normalize(question)
    return tuple(says for asks, says in _ASKED.values() if asks.search(question))
