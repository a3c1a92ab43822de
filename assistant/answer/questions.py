"""What kind of answer a question expects (a number, a date, a place), and whether a sentence offers one.

Extractive answering prefers sentences that contain the kind of thing asked for.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.answer.catalog import mention_spans
from assistant.ingest.chunking import align, normalize, words
from assistant.config import MAX_QUESTION_CHARS
from assistant.ingest.documents import strip_controls
from assistant.errors import MuangError

_TYPES = {
    "number": re.compile(
        r"กี่|เท่าไร|เท่าไหร่|จำนวน|ร้อยละ|เปอร์เซ็นต์|\bhow (many|much|long|far|old|large|big)\b|"
        r"\bwhat (percentage|percent|number|amount|score)\b"
    ),
    "date": re.compile(
        r"เมื่อไร|เมื่อไหร่|เมื่อใด|ตอนไหน|ช่วงไหน|ช่วงใด|วันที่เท่าไร|วันไหน|วันใด|เดือนไหน|เดือนอะไร|ปีไหน|ปีใด|"
        r"ปีอะไร|พ\.ศ\.\s*อะไร|"
        r"\bwhen\b|\b(what|which) (year|date|day|month|century|decade)\b"
    ),
    "person": re.compile(r"ใคร|\bwho\b|\bwhose\b|\bwhom\b|\bwhich (person|organi[sz]ation|agency|company|office)\b"),
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


# A person or an organisation named: a title, an honorific, or capitalised words in English.
_PERSON = re.compile(r"นาย|นาง|ดร\.|ศ\.|รศ\.|ผศ\.|ผู้ว่า|นายก|รัฐมนตรี|ประธาน|ผู้อำนวยการ|กรรมการ|สำนักงาน|กระทรวง|สำนัก|กรม|"
                     r"บริษัท|มหาวิทยาลัย|สมาคม|(?<![ก-๙])[ก-ฮ]{2,5}\.(?![ก-๙])|(?:[A-Z][a-z]+\s+){1,3}[A-Z][a-z]+|\b[A-Z]{2,}\b")
_LIST = re.compile(r"อะไรบ้าง|ไหนบ้าง|ใครบ้าง|ใดบ้าง|มีอะไร|ขั้นตอน|ประกอบด้วย|ได้แก่|\b(what|which) (are|were)\b|"
                   r"\blist\b|\bsteps\b|\bname (the|all)\b|\bcomponents\b")


def asks_list(question: str) -> bool:
    """Whether a question asks for several things (whose answer is a list).

    >>> asks_list("ต้องเตรียมเอกสารอะไรบ้าง"), asks_list("What are the steps to apply?"), asks_list("Where is it?")
    (True, True, False)
    """
    return bool(_LIST.search(normalize(question)))


# The thing a "how many" question counts: "กี่ด้าน" -> ด้าน, "how many career sacks" -> sacks.
_THAI_UNIT = re.compile(r"กี่\s*([\u0E00-\u0E7F]+)")
_ENGLISH_UNIT = re.compile(r"\bhow many\s+((?:[a-z-]+\s+){0,2}?)([a-z-]+)\b(?=\s+(?:did|do|does|are|were|is|was|"
                           r"have|has|had|can|could|will|would|of|in|on|at|for|per|that|to)\b|\s*\?|$)")
_NUMBER_WORDS = (r"\d|หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า|สิบ|ร้อย|พัน|หมื่น|แสน|ล้าน|"
                 r"\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|million)\b")


def answer_type(question: str) -> str | None:
    """'number', 'date', 'place', 'person' or None; a number question that names what it counts is 'number:UNIT'.

    >>> answer_type("ภูเก็ตได้กี่ด้าน"), answer_type("When was the mark granted?"), answer_type("แม่เมาะอยู่จังหวัดไหน")
    ('number:ด้าน', 'date', 'place')
    >>> answer_type("How many career sacks did Jared Allen have?"), answer_type("How much did it cost?")
    ('number:sack', 'number')
    """
    text = normalize(question)
    for name in ("date", "number", "place", "person"):  # "what year" is a date before it is a number
        if _TYPES[name].search(text):
            return f"number:{unit}" if name == "number" and (unit := _unit(text)) else name
    return None


def _unit(text: str) -> str | None:
    thai = _THAI_UNIT.search(text)
    if thai:
        from assistant.ingest.chunking import words

        return words(thai.group(1))[0]
    english = _ENGLISH_UNIT.search(text)
    # A stem, so that "cities" also finds "city" and "sacks" finds "sack".
    return re.sub(r"(ies|es|s)$", "", english.group(2)) if english and len(english.group(2)) > 3 else None


# What only a definition says right after its term: "TSCCI ย่อมาจาก", "a smart city is". "เป็น", a bracket
# or "was" follow a term in many sentences that do not say what it is ("5 เมืองอัจฉริยะ (ไม่ทราบที่อยู่เว็บ)").
_DEFINES_STRICTLY = re.compile(r"\s*(?:คือ|หมายถึง|ย่อมาจาก|(?:is|are|refers to|stands for|means)(?![a-z]))")


# An abbreviation in brackets after its long name: "สำนักงานส่งเสริมเศรษฐกิจดิจิทัล (ดีป้า)", "(Thailand Smart City
# Competitiveness Index: TSCCI)". Only a one-word term, alone in the brackets: a name of several words there
# translates the one before it ("แพลตฟอร์มข้อมูลเมือง (City Data Platform) เป็น 1 ใน 5 หลัก...") or names a
# place ("สามย่าน (Samyan Smart City)"), and says nothing of what it is.
_GLOSSED = r"[^\s(]\s*\((?:[^()]*:\s*)?{term}\s*\)"
_FUNCTION_WORDS = frozenset("a an the of and for in on to".split())


def _initials(name: str) -> str:
    """ "the digital economy promotion agency" -> "depa": an abbreviation's letters, as its long form gives them
    (without that check, "X (...)" is any aside: "5 เมืองอัจฉริยะ (ไม่ทราบที่อยู่เว็บ)")."""
    return "".join(w[0] for w in re.findall(r"[a-z][a-z-]*", name) if w not in _FUNCTION_WORDS)


# A sentence that says it defines the term: "ให้นิยามเมืองอัจฉริยะว่า", "define a smart city as".
_DEFINED_AS = r"(?:นิยาม(?:ของ)?|(?<![a-z])defin(?:e[sd]?|ing))\s*(?:(?:a|an|the)\s+)?{term}\s*(?:ว่า|as(?![a-z]))"


def defines(text: str, term: str) -> bool:
    """Whether a sentence says what a term is, in the words only a definition uses right after the term, says
    that it defines the term ("ให้นิยาม X ว่า", "define X as"), or spells out an abbreviation: "long name (X)",
    or "X (long name)" when the long name's initials spell X.

    >>> defines("TSCCI ย่อมาจาก Thailand Smart City Competitiveness Index", "tscci")
    True
    >>> defines("คณะกรรมการให้นิยามเมืองอัจฉริยะว่า เป็นเมืองที่ใช้เทคโนโลยี", "เมืองอัจฉริยะ")
    True
    >>> defines("ดำเนินการโดยสำนักงานส่งเสริมเศรษฐกิจดิจิทัล (ดีป้า)", "ดีป้า")
    True
    >>> defines("สามย่าน (samyan smart city)", "smart city")
    False
    >>> defines("run by depa (the Digital Economy Promotion Agency) under", "depa"), defines("depa (2023)", "depa")
    (True, False)
    >>> defines("5 เมืองอัจฉริยะ (ไม่ทราบที่อยู่เว็บ) เป็นชุดแรก", "เมืองอัจฉริยะ"), defines("TSCCI ปี 2566 คือ 30 เมือง", "tscci")
    (False, False)
    """
    text, term = normalize(text), normalize(term)
    escaped, at_start = re.escape(term), term_at_word_start(term)
    if re.search(_DEFINED_AS.format(term=escaped), text):
        return True
    if " " not in term and (re.search(_GLOSSED.format(term=escaped), text) or any(
            _initials(m.group(1)) == term for m in re.finditer(at_start + r"\s*\(([^()]+)\)", text))):
        return True
    return any(_DEFINES_STRICTLY.match(text, m.end()) for m in re.finditer(at_start, text))


def titled(doc: dict, term: str) -> bool:
    """Whether a document's title names a term: the document is about it ("Thailand Smart City Competitiveness
    Index (TSCCI): 2023 scores ..."), where another only glosses it in passing."""
    return normalize(term) in normalize(doc.get("title", ""))


def term_at_word_start(term: str) -> str:
    """A pattern for a term where a word starts ("สามย่านสมาร์ทซิตี้" does not hold the term "สมาร์ทซิตี้");
    Thai vowel and tone marks are not \\w, hence the Thai block."""
    return rf"(?<![\w\u0e00-\u0e7f]){re.escape(term)}"


def offers(sentence: str, kind: str | None) -> bool:
    """Whether a sentence contains something of the asked-for kind.

    >>> offers("แม่เมาะเมืองน่าอยู่ตั้งอยู่ในจังหวัดลำปาง", "place")
    True
    """
    if kind is None:
        return False
    text = normalize(sentence)
    if kind.startswith("number:"):
        # The counted thing right after a number ("7 ด้าน", "136 career sacks", "seven Smarts"): a sentence
        # with some other number in it ("7 เมือง" for "กี่ด้าน") does not answer.
        unit = re.escape(kind.removeprefix("number:"))
        return re.search(rf"({_NUMBER_WORDS})[\d,.]*\s*(?:\(?[a-z-]+\)?\s+){{0,2}}{unit}", text) is not None
    if kind == "number":
        return bool(_DIGIT.search(text))
    if kind == "date":
        return bool(_YEAR_OR_MONTH.search(text))
    if kind == "person":
        return bool(_PERSON.search(sentence))
    return _names_a_place(text)


def _names_a_place(text: str) -> bool:
    """A province name (or จังหวัด, อำเภอ, district ...) as whole words: a place name inside another word
    ("เลย" in "วัลเลย์", "tak" in "take") names no place.

    >>> _names_a_place("วังจันทร์วัลเลย์ได้คะแนนสูงสุด"), _names_a_place("ตั้งอยู่ในจังหวัดระยอง")
    (False, True)
    """
    spans = align(text, words(text))
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    return any(start in starts and end in ends
               for name in _place_names() for start, end in mention_spans(text, name))


@lru_cache(maxsize=1)
def _place_names() -> tuple[str, ...]:
    from pythainlp.corpus import provinces

    names = set()
    for row in provinces(details=True):
        names.update({row["name_th"], row["name_en"].lower()})
    names.update({"กรุงเทพ", "จังหวัด", "อำเภอ", "ตำบล", "province", "district"})
    return tuple(sorted(names))


# A yes/no question: "Is Hat Yai a depa smart city?", "ภูเก็ตได้ตราแล้วใช่ไหม". Its answer may be a "no".
_POLAR = re.compile(r"^(is|are|was|were|does|do|did|can|could|has|have|had|will|would|should|must|may)\b|"
                    r"(ใช่ไหม|ใช่มั้ย|ใช่หรือไม่|หรือไม่|หรือเปล่า|รึเปล่า|ไหม|มั้ย|หรือยัง|ใช่ป่าว)\s*\??$")
# A sentence that says no: "is not the mark of depa", "ไม่ใช่ตราสัญลักษณ์", "does not make a city".
_SAYS_NO = re.compile(r"\b(not|no|never|neither|nor|cannot)\b|n't\b|ไม่|มิได้|หาใช่")


# A sentence saying the documents do not know: how corpus/ states a gap ("ไม่ปรากฏในแหล่งข้อมูลที่เรามี",
# "The documents do not say which ...", "not known from our sources"); docs/corpus.md asks for these phrasings.
_STATES_UNKNOWN = re.compile(
    r"ไม่ปรากฏใน(?:แหล่งข้อมูล|เอกสาร)|ไม่พบแหล่งข้อมูล|(?:แหล่งข้อมูล|เอกสาร)\S*\s*(?:ของเรา|ที่เรามี|ที่มี)?\s*ไม่(?:ได้)?ระบุ|"
    r"(?:แหล่งข้อมูล|เอกสาร)(?:ของเรา|ที่เรามี)\s*ไม่มี|เราไม่พบ|"
    r"\bnot known from (?:our|the) sources?\b|\b(?:sources?|documents?) (?:do|does|did) not (?:say|name|give|state)\b|"
    r"\bno source (?:we read|names|gives|gave|says|states|explains|reports)\b|\bnot (?:named |stated )?in our sources\b|"
    r"\bour sources (?:have|give|list|record) no\b|\bwe found no\b|\(not known\)")


def states_unknown(sentence: str) -> bool:
    """Whether a sentence says the documents do not know something, rather than stating it.

    >>> states_unknown("วันที่ภูเก็ตได้รับตราไม่ปรากฏในแหล่งข้อมูลที่เรามี"), states_unknown("Mae Moh is in Lampang.")
    (True, False)
    """
    return bool(_STATES_UNKNOWN.search(normalize(sentence)))


def is_polar(question: str) -> bool:
    """Whether a question asks yes or no.

    >>> is_polar("Is Hat Yai a smart city?"), is_polar("ภูเก็ตได้ตราแล้วใช่ไหม"), is_polar("Where is Hat Yai?")
    (True, True, False)
    """
    return bool(_POLAR.search(normalize(question).strip()))


def says_no(sentence: str) -> bool:
    """Whether a sentence contains a negation (what a "no" to a yes/no question needs)."""
    return bool(_SAYS_NO.search(normalize(sentence)))


# Where a question ends inside a message that asks several ("ต้องทำยังไง สมัครออนไลน์ได้ไหม",
# "Where is it? Who runs it?"): a Thai question word before a space, or a question mark.
_THAI_QUESTION_END = re.compile(
    r"(ยังไง|อย่างไร|ไหม|มั้ย|หรือไม่|หรือเปล่า|อะไร|อะไรบ้าง|ที่ไหน|ไหนบ้าง|เมื่อไร|เมื่อไหร่|เมื่อใด|ใคร|ใครบ้าง|"
    r"เท่าไร|เท่าไหร่|รึเปล่า)\??$")


# A trailing phrase that goes on with the question before it: "in ...", "of ...", "from ...", "since ...".
_GOES_ON = re.compile(r"^(ใน|ของ|จาก|สำหรับ|ตั้งแต่|ภายใน)")


def split_questions(message: str, most: int = 3) -> list[str]:
    """The questions of a message that asks several, in order; [message] when it asks one. A part must ask
    something of its own (a content word besides the question words), so "ภูเก็ตได้กี่ด้าน อะไรบ้าง" is one.

    >>> split_questions("อยากสมัครต้องทำยังไง สมัครออนไลน์ได้ไหม")
    ['อยากสมัครต้องทำยังไง', 'สมัครออนไลน์ได้ไหม']
    >>> split_questions("Where is Mae Moh? Who runs it?"), split_questions("ภูเก็ตได้กี่ด้าน อะไรบ้าง")
    (['Where is Mae Moh?', 'Who runs it?'], ['ภูเก็ตได้กี่ด้าน อะไรบ้าง'])
    >>> split_questions("มีเมืองไหนบ้าง ในกรุงเทพ")
    ['มีเมืองไหนบ้าง ในกรุงเทพ']
    """
    from assistant.index.lexical import content_tokens

    pieces: list[str] = []
    current: list[str] = []
    for word in message.split():
        current.append(word)
        if word.endswith("?") or _THAI_QUESTION_END.search(word) and re.search(r"[\u0E00-\u0E7F]", word):
            pieces.append(" ".join(current))
            current = []
    if current:
        if pieces and (not content_tokens(" ".join(current)) or _GOES_ON.match(current[0])):
            # a trailing "please" or "ครับ" belongs to the last question, and so does a place or time it asks
            # about ("มีเมืองไหนบ้าง ในกรุงเทพ")
            pieces[-1] += " " + " ".join(current)
        else:
            pieces.append(" ".join(current))
    parts: list[str] = []
    for piece in pieces:
        if parts and not _asks_something(piece, content_tokens):
            parts[-1] += " " + piece
        else:
            parts.append(piece)
    if len(parts) > 1 and not _asks_something(parts[0], content_tokens):
        parts[1] = f"{parts[0]} {parts[1]}"
        parts.pop(0)
    return parts if 1 < len(parts) <= most else [message]


# How a question ends in chat: politeness and softening particles, which no document says ("แม่เมาะอยู่ไหนอะ",
# "อยู่ไหนคะ"), and the chat forms of a yes-no question ("ได้ต่ออายุไหมป่ะ", "เป็นเมืองอัจฉริยะหรอ").
_SOFTENERS = sorted("ครับผม ครับ คับ ครัช ฮะ ค่ะ คะ ค่า คร่ะ จ้ะ จ้า จ๊ะ จ๋า นะคะ นะครับ นะ น้า อะ อ่ะ อ่า เอ่ย เนี่ย "
                    "วะ ว่ะ".split(), key=len, reverse=True)
_CHAT_POLAR = sorted("หรอ เหรอ ป่ะ ปะ ป่าว รึเปล่า รึป่าว".split(), key=len, reverse=True)
_ASKS_WHAT = re.compile(r"ใคร|อะไร|ไหน|ใด|เมื่อไร|เมื่อไหร่|อย่างไร|ยังไง|ทำไม|เท่าไร|เท่าไหร่|กี่|บ้าง|ไหม|มั้ย|หรือไม่|"
                        r"หรือเปล่า|หรือยัง")


def plain_ending(text: str) -> str:
    """The question without the chat particles that end it, a yes-no one asked with "หรือเปล่า": what the
    documents' words are matched, and the reader reads, against.

    >>> plain_ending("แม่เมาะอยู่ไหนอะ"), plain_ending("วังจันทร์วัลเลย์ อยู่ไหนคะ?"), plain_ending("ใครชนะ")
    ('แม่เมาะอยู่ไหน', 'วังจันทร์วัลเลย์ อยู่ไหน', 'ใครชนะ')
    >>> plain_ending("แม่เมาะได้ต่ออายุตราปี 68 ป่ะ"), plain_ending("มีกี่เมืองเหรอคะ")
    ('แม่เมาะได้ต่ออายุตราปี 68 หรือเปล่า', 'มีกี่เมือง')
    """
    out = text.rstrip(" ?？!")
    while True:
        found = next((p for p in _SOFTENERS + _CHAT_POLAR if out.endswith(p) and _ends_a_word(out, p)), None)
        if found is None:
            return text if out == text.rstrip(" ?？!") else out
        out = out[:-len(found)].rstrip(" ?？!")
        if found in _CHAT_POLAR and not _ASKS_WHAT.search(out):
            return f"{out} หรือเปล่า"


def _ends_a_word(text: str, particle: str) -> bool:
    """Whether the particle ending the text is a word of its own: "อะ" in "ไหนอะ", not "นะ" in "ชนะ" or "ค่า"
    in "มีค่า". The tokenizer may glue it to the letter before ("ไห|นคะ"): only a dictionary word starting
    where the rest of the text has a word boundary keeps it."""
    from itertools import accumulate

    from pythainlp.corpus import thai_words
    from pythainlp.tokenize import word_tokenize

    rest = text[:-len(particle)]
    if not rest.strip() or not re.search(r"[\u0E00-\u0E7F]$", particle):
        return False
    last = word_tokenize(text)[-1]
    if last == particle or rest.endswith(" "):
        return True
    boundaries = set(accumulate(len(t) for t in word_tokenize(rest)))
    return not (last in thai_words() and len(last) > len(particle) and len(text) - len(last) in boundaries | {0})


def _asks_something(text: str, content_tokens) -> bool:
    return len(content_tokens(text)) >= 1 and len(text.strip()) >= 6


def check_question(question: str) -> str:
    """The question as text to answer: control characters and undecodable bytes removed, length checked."""
    question = strip_controls(question or "").strip()
    if not question:
        raise MuangError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise MuangError(f"the question has {len(question)} characters; the limit is {MAX_QUESTION_CHARS}")
    return question
