"""The items of a listed answer, a follow-up's reference to one of them by its place, and a follow-up asking
for the list of what was counted.

After "Which smart cities are in Bangkok?" or "เกณฑ์มีอะไรบ้าง", "the second one", "number 3", "ข้อ 2" or
"ข้อสุดท้าย" names an item of that list (`assistant/answer/conversation.py` puts the item's name in its place).
"""

from __future__ import annotations

import re

# A numbered item ("(3) Open and secure city data platform [4]") or a cited name in a list ("ได้แก่ สามย่าน
# สมาร์ทซิตี้ [1], เมืองอัจฉริยะมักกะสัน [2]").
_NUMBERED_ITEM = re.compile(r"\((\d{1,2})\)\s*([^\[\]()]+?)\s*\[\d+\]")
_CITED_LIST = re.compile(r"(?:ได้แก่|:)\s*((?:[^,:\[\]]+?\s*\[\d+\]\s*,\s*)+[^,:\[\]]+?\s*\[\d+\])")
_NUMBER_WORDS = {w: n for n, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth".split(), start=1)} | {
    w: n for n, w in enumerate("หนึ่ง สอง สาม สี่ ห้า หก เจ็ด แปด เก้า สิบ".split(), start=1)} | {"แรก": 1}
# "the third one", "the 2nd item", "number 3", "and the fifth?"; "ข้อ 3", "ข้อที่สาม", "อันที่ 2", "ข้อสุดท้าย"
# (not "the first batch", "the first city to ...", "เกณฑ์ข้อ 3": those name their own subject)
_EN_ITEM = re.compile(
    r"\b(?:the\s+)?(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|\d{1,2}(?:st|nd|rd|th))"
    r"(?:\s+(?:one|item|criterion)\b|(?=\s*[?.!]*\s*$))|\b(?:number|no\.|#)\s*(\d{1,2})\b", re.I)
_TH_ITEM = re.compile(r"(?<!เกณฑ์)(?:ข้อ|อัน|รายการ)\s*(?:ที่)?\s*(\d{1,2}|หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า|สิบ|แรก|สุดท้าย)")


def listed_items(answer: str) -> list[str]:
    """The items of a listed answer, in order: its numbered items, else the names it cites in a list.

    >>> listed_items("A proposal must meet five criteria [1]: (1) Clear goals [2] (2) A data platform [3]")
    ['Clear goals', 'A data platform']
    >>> listed_items("เอกสารระบุชื่อ 2 เมือง ในจังหวัดระยอง ได้แก่ วังจันทร์วัลเลย์ [1], นครระยอง [2]")
    ['วังจันทร์วัลเลย์', 'นครระยอง']
    """
    numbered = {int(n): text.strip() for n, text in _NUMBERED_ITEM.findall(answer)}
    if len(numbered) >= 2:
        return [numbered[n] for n in sorted(numbered)]
    listed = _CITED_LIST.search(answer)
    return [item.strip() for item in re.split(r"\s*\[\d+\]\s*,?\s*", listed.group(1)) if item.strip()] if listed else []


def item_reference(question: str, lang: str, count: int) -> tuple[re.Match, int] | None:
    """Where a question refers to an item of the last answer's list by its place, and which (0-based)."""
    match = (_TH_ITEM if lang == "th" else _EN_ITEM).search(question)
    if match is None:
        return None
    word = (match.group(1) or match.group(2) or "").lower() if lang != "th" else match.group(1)
    if word in ("last", "สุดท้าย"):
        return match, count - 1
    n = int(re.sub(r"\D", "", word)) if any(ch.isdigit() for ch in word) else _NUMBER_WORDS.get(word, 0)
    return (match, n - 1) if 1 <= n <= count else None


# A list question after a count ("มีกี่เมือง" ... "มีเมืองไหนบ้าง", "How many?" ... "Which are they?").
_COUNTS = re.compile(r"กี่|\bhow many\b|\bnumber of\b", re.I)
_LISTS = re.compile(r"ไหนบ้าง|อะไรบ้าง|ใดบ้าง|รายชื่อ|\bwhich\b|\blist\b|\bname them\b", re.I)


def lists_counted(question: str, before: str) -> bool:
    """Whether a question asks for the list of what the question before it counted.

    >>> lists_counted("มีเมืองไหนบ้าง", "มีเมืองอัจฉริยะกี่เมือง กรุงเทพ"), lists_counted("มีเมืองไหนบ้าง", "แม่เมาะอยู่ไหน")
    (True, False)
    """
    return bool(_LISTS.search(question) and _COUNTS.search(before))
