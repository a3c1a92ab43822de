"""Questions about one city, the criteria or the 7 Smarts, answered exactly from front matter: which Smarts a
city plans, when it was approved, its batch, the province with the most cities, the criteria in order, the 7
Smarts. A route answers only when every content word of the question is explained by it (`explained`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from assistant.answer.analysis import SMART_PATTERNS
from assistant.answer.catalog import SMART_NAMES, City, approvals
from assistant.ingest.chunking import normalize
from assistant.ingest.documents import SMARTS

if TYPE_CHECKING:
    from assistant.answer.analysis import Question


# Words an exact answer may leave unexplained in the question, besides the names it resolved. Anything else
# ("ใบประกาศเขตส่งเสริม", "scoring weights", "นายกรัฐมนตรี") asks something front matter cannot answer, and
# the question goes to retrieval instead.
_GENERIC_WORDS = frozenset("เมือง อัจฉริยะ smart city cities smart-city ทำ มี เป็น ได้ ครบ ทั้ง all 7 เจ็ด seven".split())
_SMARTS_WORDS = _GENERIC_WORDS | frozenset(
    "ด้าน smarts aspect aspects แผน พัฒนา การพัฒนา ครอบคลุม cover covers covered include includes included "
    "plan plans planned ลักษณะ หลัก development สมาร์ท สมาร์ต".split())
_CRITERIA_WORDS = _GENERIC_WORDS | frozenset(
    "เกณฑ์ ข้อ ข้อเสนอ ยื่น ยื่นข้อเสนอ ยื่นขอ สมัคร ต้อง ขอ การพิจารณา พิจารณา criteria criterion proposal "
    "proposals application applications must meet contain include need needs required requirements apply "
    "five 5 list ประเมิน การประเมิน ตัดสิน คัดเลือก การคัดเลือก assess assessed assessment evaluate evaluated "
    "evaluation selection เตรียม เอกสาร prepare documents document submit mark ตรา ตราสัญลักษณ์ ขอรับ ให้คะแนน "
    "scored judged".split())
APPROVAL_WORDS = _GENERIC_WORDS | frozenset(
    "ตรา ตราสัญลักษณ์ สัญลักษณ์ เห็นชอบ อนุมัติ การพิจารณา พิจารณา ปี วัน วันที่ เดือน approved approve "
    "awarded award certified mark become became selected get got receive received granted year date month".split())
_MOST_WORDS = _GENERIC_WORDS | frozenset(
    "จังหวัด มาก ที่สุด เยอะ province provinces most มากกว่า หนึ่ง หลาย ตั้งแต่ สอง more than one several multiple "
    "two least".split())
# Every word a route reads: a question's word among them ("got" of "got approved", "prepare") is no sign that it
# asks about something the documents never name.
ROUTE_WORDS = _SMARTS_WORDS | _CRITERIA_WORDS | APPROVAL_WORDS | _MOST_WORDS | frozenset(
    "together alongside same พร้อม เดียวกับ".split())  # "approved together with Yala" (catalog_answers._TOGETHER)


def explained(question: str, allowed: frozenset[str], names: list[str] = ()) -> bool:
    """Whether every content word of the question is in `allowed`, a number, or part of one of `names`."""
    from assistant.index.lexical import content_tokens

    spelled = " ".join(normalize(n) for n in names)
    # "'s" of "Wangchan Valley's" says nothing of its own
    return all(t in allowed or t.isdigit() or t in spelled or t.startswith("'") for t in content_tokens(question))


def city_names(city: City) -> list[str]:
    return [city.name_th, city.name_en, city.slug.replace("-", " "), *city.aliases]


_SMART_SPELLINGS = [name for pair in SMART_NAMES.values() for name in pair] + [
    "ขนส่ง การเดินทาง พลังงาน สิ่งแวดล้อม เศรษฐกิจ พลเมือง การดำรงชีวิต บริหารภาครัฐ mobility energy environment "
    "economy people living governance transport"]


# Asking whether a place has a smart city at all: "ปัตตานีมีเมืองอัจฉริยะไหม", "Does Nan have a smart city?",
# "Are there any smart cities in Trang?" (the catalog lists the province's cities; not a question of Smarts).
EXISTS = re.compile(
    r"มี\s*((เมือง|พื้นที่)\s*อัจฉริยะ|สมา(?:ร์)?[ทต]\s*ซิ[ตท]ี้?)\s*(ด้วย)?\s*(ไหม|มั้ย|มั๊ย|หรือเปล่า|หรือไม่|รึเปล่า|บ้างไหม)|"
    r"\b(is|are)\s+there\s+(a|an|any)\s+smart[\s-]+(city|cities|town|towns|areas?)\b|"
    r"\b(does|do|has)\b.{1,40}\bhave\s+(a|an|any)\s+smart[\s-]+(city|cities|town|towns)\b"
)

# Asking whether one named place is a smart city: "เชียงรายเป็นเมืองอัจฉริยะไหม", "ได้เป็นเมืองอัจฉริยะหรือยัง",
# "Is Chiang Rai a smart city?".
_IS_SMART = re.compile(
    r"(เป็น|ได้เป็น)\s*((เมือง|พื้นที่)\s*อัจฉริยะ|สมา(?:ร์)?[ทต]\s*ซิ[ตท]ี้?)\s*(แล้ว|ด้วย)?\s*"
    r"(ไหม|มั้ย|มั๊ย|หรือเปล่า|หรือไม่|ใช่ไหม|ใช่มั้ย|ใช่หรือไม่|รึเปล่า|หรือยัง|รึยัง|ยัง(?!ไง|คง))|"
    r"^\s*(is|was|has)\b.{2,80}?\b(a|an|one of the)\s+(certified\s+|official\s+)?smart[\s-]+(city|cities|town|area)\b"
)
_SUBJECT_EN = re.compile(r"^\s*(?:is|was|has)\s+(.{2,60}?)\s+(?:been\s+)?(?:a|an|one of the)\s+")
# Not a place's name: "ที่นี่เป็นเมืองอัจฉริยะไหม", "Is this a smart city?", "บ้านเราเป็นเมืองอัจฉริยะยัง".
_NOT_A_PLACE = re.compile(r"ที่นี่|เรา|นี้|นั้น|บ้าน|ไหน|อะไร|ใด|\b(this|it|our|my|here|there|that|which|what|your)\b")
_IS_SMART_WORDS = APPROVAL_WORDS | frozenset(
    "เป็น ใช่ ไหม มั้ย หรือเปล่า หรือไม่ หรือยัง ยัง แล้ว พื้นที่ สมาร์ท สมาร์ต ซิตี้ ซิตี official one areas area town been"
    .split())

# Asking which of the 7 Smarts a city's plan covers: "ขอนแก่นได้กี่ด้าน", "ได้กี่ smart", "Which Smarts does Mae Moh
# cover?".
_SMARTS_QUESTION = re.compile(
    r"กี่ด้าน|กี่\s*(smarts?\b|สมา(?:ร์)?[ทต])|ด้าน\s*(อะไร|ไหน|ใด)|\bsmarts?\b.*(อะไร|ไหน|ใด|ไหม|มั้ย|หรือเปล่า|บ้าง)|"
    r"\b(how many|which|what)\s+(of the (7|seven) )?smarts\b|\bsmarts?\b.*\b(cover|have|has|include|plan)|"
    r"\b(cover|have|has|include|includes|plan)\b.*\bsmart\s+(environment|economy|mobility|energy|people|living|"
    r"governance)\b|(มี|ได้|ครอบคลุม).*(อัจฉริยะ|smart).*(ไหม|มั้ย|หรือไม่|หรือเปล่า)"
)


def city_smarts(q: "Question") -> tuple[str, list[City]] | None:
    """Which Smarts one named city's plan covers, or whether it covers the Smarts asked about, or that its
    documents do not say (front matter `smarts: null`); None when the question is not that or names no single
    city."""
    question, lang, text, named = q.corrected, q.lang, normalize(q.corrected), q.named_cities
    if len(named) != 1 or not _SMARTS_QUESTION.search(text) or EXISTS.search(text):
        return None
    if not explained(question, _SMARTS_WORDS, city_names(named[0]) + _SMART_SPELLINGS):
        return None
    city, th = named[0], lang == "th"
    if city.smarts is None:  # unknown is said as unknown, never guessed from a nearby sentence
        return (f"ไม่ปรากฏในเอกสารที่มีว่า{city.name(lang)}มีแผนพัฒนาด้านใดบ้างของ 7 Smarts [1]" if th else
                f"The documents do not say which of the 7 Smarts {city.name(lang)} plans (not known) [1]."), [city]
    asked = [s for s, pattern in SMART_PATTERNS.items() if re.search(pattern, text)]
    names = [SMART_NAMES[s][0 if th else 1] for s in city.smarts]
    if len(city.smarts) == len(SMARTS):
        have = (f"{city.name(lang)} มีแผนพัฒนาครบทั้ง 7 ด้าน ได้แก่ {' '.join(names)} [1]" if th else
                f"{city.name(lang)} plans all 7 Smarts: {', '.join(names)} [1].")
    else:
        have = (f"{city.name(lang)} มีแผนพัฒนา {len(names)} ด้าน ได้แก่ {' '.join(names)} [1]" if th else
                f"{city.name(lang)} plans {len(names)} of the 7 Smarts: {', '.join(names)} [1].")
    if not asked:
        return have, [city]
    yes = [SMART_NAMES[s][0 if th else 1] for s in asked if s in city.smarts]
    no = [SMART_NAMES[s][0 if th else 1] for s in asked if s not in city.smarts]
    parts = []
    if yes:
        parts.append(f"มี: แผนของ{city.name(lang)}รวมด้าน{' '.join(yes)}" if th else
                     f"Yes: the plan of {city.name(lang)} includes {', '.join(yes)}.")
    if no:
        parts.append(f"ไม่มี: แผนของ{city.name(lang)}ไม่รวมด้าน{' '.join(no)}" if th else
                     f"No: the plan of {city.name(lang)} does not include {', '.join(no)}.")
    return " ".join(parts) + " " + have, [city]


# Asking when a city was approved or got the mark (a date question about the award, not about a plan's events).
_AWARD = re.compile(r"ได้รับ|ได้เป็น|ผ่าน|เห็นชอบ|รับรอง|ตรา|ประกาศ|\b(approv|award|certif|mark|become|became|select|get|got|receiv|grant)")
THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน",
                "ตุลาคม", "พฤศจิกายน", "ธันวาคม")


def city_approval(q: "Question") -> tuple[str, list[City]] | None:
    """When one named city was approved: its approval meeting (and the mark's date when a source gives it)."""
    from assistant.answer.questions import answer_type

    question, lang, text, named = q.corrected, q.lang, normalize(q.corrected), q.named_cities
    if len(named) != 1 or answer_type(question) != "date" or not _AWARD.search(text) or not named[0].meeting:
        return None
    city, th = named[0], lang == "th"
    if not explained(question, APPROVAL_WORDS, city_names(city)):
        return None
    parts = [f"{city.name(lang)} ได้รับความเห็นชอบในการประชุมคณะอนุกรรมการฯ ครั้งที่ {city.meeting} [1]" if th else
             f"{city.name(lang)} was approved at sub-committee meeting {city.meeting} [1]."]
    if re.search(r"ตรา|\bmark|\bcertif", text) and not city.awarded:
        # said, not left to the prose: its nearest sentence is often the mark's renewal, a later date
        parts.append("ส่วนวันที่ได้รับตราสัญลักษณ์ไม่ปรากฏในเอกสารที่มี" if th else
                     "The date it received the smart-city mark is not in the documents.")
    if city.awarded and re.fullmatch(r"\d{4}-\d\d-\d\d", city.awarded):
        year, month, day = (int(x) for x in city.awarded.split("-"))
        parts.append(f"และได้รับตราสัญลักษณ์เมื่อวันที่ {day} {THAI_MONTHS[month - 1]} {year + 543} [1]" if th else
                     f"It received the smart-city mark on {day} {MONTHS_EN[month - 1]} {year} [1].")
    return " ".join(parts), [city]


# Asking which approval round one city was in: "ฉะเชิงเทราได้รับตราในชุดไหน", "Which batch was Yala in?".
_BATCH_QUESTION = re.compile(
    r"(ชุด|รุ่น|ครั้ง)\s*(ที่)?\s*(ไหน|ใด|อะไร|เท่าไร|เท่าไหร่)|\b(which|what)\s+(batch|round|meeting)\b|"
    r"\bin which (batch|round|meeting)\b")
_BATCH_WORDS = APPROVAL_WORDS | frozenset(
    "ชุด รุ่น ครั้ง ประชุม การประชุม คณะอนุกรรมการ อนุกรรมการ ผ่าน อยู่ batch round meeting sub-committee "
    "subcommittee committee part".split())


def city_is_smart(q: "Question") -> tuple[str, list[City]] | None:
    """Whether one named place is a smart city, when the catalog has it: yes, with its batch and approving
    meeting where known (a place the catalog lacks is left to the documents' prose)."""
    question, lang, text, named = q.corrected, q.lang, normalize(q.corrected), q.named_cities
    if len(named) != 1 or not _IS_SMART.search(text) or not explained(question, _IS_SMART_WORDS, city_names(named[0])):
        return None
    city, th = named[0], lang == "th"
    where = (f" อยู่ในชุดที่ {city.batch}{_meeting(city, th)}" if th else
             f", in batch {city.batch}{_meeting(city, th)}") if city.batch and city.meeting else ""
    return (f"ใช่: {city.name(lang)} เป็นพื้นที่หนึ่งในโครงการเมืองอัจฉริยะประเทศไทย{where} [1]" if th else
            f"Yes: {city.name(lang)} is one of the areas of Thailand's Smart City programme{where} [1]."), [city]


def smart_subject(q: "Question") -> str:
    """The place an "is X a smart city" question asks about, as typed ("พัทยา" in "พัทยาเป็นเมืองอัจฉริยะไหม",
    "Pattaya"), or "" when it asks none.

    >>> from assistant.answer.analysis import analyze
    >>> smart_subject(analyze("เมืองพัทยาเป็นสมาร์ทซิตี้รึยัง")), smart_subject(analyze("Is Pattaya a smart city?"))
    ('พัทยา', 'Pattaya')
    """
    question = q.corrected
    found = _IS_SMART.search(question.lower())
    if not found:
        return ""
    english = _SUBJECT_EN.match(q.raw.lower())  # the name as typed: the corrected question is lower case
    subject = q.raw[english.start(1):english.end(1)] if english else question[:found.start()]
    subject = re.sub(r"^(เมือง|จังหวัด|จ\.|อำเภอ|อ\.|เทศบาล(นคร|เมือง)?|the\s+)", "", subject.strip(), flags=re.I).strip()
    return "" if len(subject) > 40 or _NOT_A_PLACE.search(subject.lower()) else subject


def city_batch(q: "Question") -> tuple[str, list[City]] | None:
    """Which batch (approval meeting) one named city was in, or that its documents do not say (front matter
    `batch: null`): an unknown batch is said as unknown, never guessed from a nearby list."""
    question, lang, text, named = q.corrected, q.lang, normalize(q.corrected), q.named_cities
    if len(named) != 1 or not _BATCH_QUESTION.search(text):
        return None
    city, th = named[0], lang == "th"
    if not explained(question, _BATCH_WORDS, city_names(city)):
        return None
    if city.batch is None:
        return (f"ไม่ปรากฏในเอกสารที่มีว่า{city.name(lang)}ได้รับความเห็นชอบในชุดหรือการประชุมครั้งใด (ไม่ทราบชุด) [1]"
                if th else f"The documents do not say in which batch or meeting {city.name(lang)} was approved "
                           "(not known) [1]."), [city]
    return (f"{city.name(lang)} อยู่ในชุดที่ {city.batch}{_meeting(city, th)} [1]" if th else
            f"{city.name(lang)} was in batch {city.batch}{_meeting(city, th)} [1]."), [city]


def _meeting(city: City, th: bool) -> str:
    """" (the meeting that approved it)", or "" when not known."""
    if not city.meeting:
        return ""
    return f" (การประชุมคณะอนุกรรมการฯ ครั้งที่ {city.meeting})" if th else f" (sub-committee meeting {city.meeting})"


MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_MOST = re.compile(r"มากที่สุด|เยอะที่สุด|\bthe most\b|\bmost (smart )?cit")
# "Which provinces have more than one smart city?", "จังหวัดไหนมีเมืองอัจฉริยะมากกว่า 1 เมือง", "มีหลายเมือง"
_SEVERAL = re.compile(r"มากกว่า\s*(1|หนึ่ง)|หลาย\s*(เมือง|แห่ง|พื้นที่)|ตั้งแต่\s*(2|สอง)|\bmore than (one|1)\b|"
                      r"\b(several|multiple)\b|\b(two|2) or more\b|\bat least (two|2)\b")
_PROVINCE_WORD = re.compile(r"จังหวัด|\bprovinces?\b")


def province_with_most(docs, cities: list[City], q: "Question") -> tuple[str, list[City]] | None:
    """Which province has the most named cities (or which have more than one), with the caveat that the named
    lists are partial."""
    question, lang, text = q.corrected, q.lang, normalize(q.corrected)
    several = bool(_SEVERAL.search(text))
    if not ((_MOST.search(text) or several) and _PROVINCE_WORD.search(text)) or q.named_cities:
        return None
    if not explained(question, _MOST_WORDS):
        return None
    by_province: dict[str, list[City]] = {}
    for city in cities:
        if city.province_th or city.province_en:
            by_province.setdefault(city.province(lang), []).append(city)
    if not by_province:
        return None
    most = max(len(group) for group in by_province.values())
    top = [(name, group) for name, group in sorted(by_province.items(), key=lambda g: (-len(g[1]), g[0]))
           if len(group) == most or several and len(group) > 1]
    cited = [city for _, group in top for city in group]
    numbered = iter(range(1, len(cited) + 1))
    th = lang == "th"
    lists = "; ".join(f"{name}: " + ", ".join(f"{c.name(lang)} [{next(numbered)}]" for c in group)
                      for name, group in top)
    if several:
        text_out = (f"จากรายชื่อเมืองในเอกสาร จังหวัดที่มีเมืองอัจฉริยะมากกว่า 1 เมืองมี {len(top)} จังหวัด ได้แก่ {lists}"
                    if th else f"Of the cities the documents name, {len(top)} provinces have more than one: {lists}.")
    else:
        text_out = (f"จากรายชื่อเมืองในเอกสาร จังหวัดที่มีเมืองอัจฉริยะมากที่สุดมี {most} เมือง ได้แก่ {lists}" if th else
                    f"Of the cities the documents name, the most in one province is {most}: {lists}.")
    rounds = approvals(docs)
    partial = [r for b, r in sorted(rounds.items()) if isinstance(r.get("areas"), int)
               and r["areas"] > sum(1 for c in cities if c.batch == b)]
    if partial:
        meetings = ", ".join(str(r.get("meeting")) for r in partial)
        text_out += (f" แต่รายชื่อของการประชุมครั้งที่ {meetings} ในเอกสารไม่ครบ จึงอาจไม่ใช่คำตอบสุดท้าย" if th else
                     f" The documents name only part of the areas approved at meeting(s) {meetings}, so this may "
                     "not be the final answer.")
    return text_out, cited


# What a proposal must contain, or what the criteria are: "ยื่นข้อเสนอต้องมีอะไรบ้าง", "What are the five criteria?",
# "สมัครต้องเตรียมอะไร", "What do we need to prepare for the application?".
_CRITERIA_LIST = re.compile(
    r"เกณฑ์.*(อะไรบ้าง|อะไร|ไหนบ้าง|กี่ข้อ|ได้แก่|มีอะไร)|(ข้อเสนอ|ยื่น|สมัคร).*(ต้องมี|ต้อง.*อะไรบ้าง|ต้องผ่าน.*อะไร|เตรียม.*อะไร)|"
    r"\bwhat\b.*\b(need|prepare|submit)\b.*\b(apply|application|proposal)|"
    r"\b(what|which|list|how many)\b.*\bcriteri|\bcriteria\b.*\b(are|list)\b|"
    r"\bhow (is|are) (a|the|my|our)? ?(smart[- ]city )?(proposal|application)s? (assessed|evaluated)|"
    r"\bwhat (must|should|does) (a|the|my|our) (smart[- ]city )?(proposal|application)\b.*\b(contain|include|have|cover|meet)"
)
# The 7 Smarts themselves, asked without naming a city: "เมืองอัจฉริยะมีกี่ด้าน", "What are the 7 Smarts?".
_SMARTS_LIST = re.compile(
    r"(มี)?กี่ด้าน|(7|เจ็ด)\s*(ด้าน|smarts?).*(อะไรบ้าง|อะไร|ได้แก่|ไหนบ้าง)|ด้าน.*(อะไรบ้าง|ไหนบ้าง)|"
    r"\bhow many smarts\b|\b(what|which|list)\b.*\b(7|seven) smarts\b|\bwhat are the smarts\b"
)

# "Which cities cover all 7 Smarts?" asks for cities (the catalog's list), not for the Smarts.
_ASKS_CITIES = re.compile(r"\b(cities|towns|areas)\b|(เมือง|พื้นที่)\s*(ไหน|ใด)")

_ENGLISH_NUMBERS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def criteria_list(docs: dict[str, dict[str, Any]], q: "Question") -> tuple[str, list[str]] | None:
    """The application criteria in order, each citing its own document (read from the corpus, kind criteria)."""
    question, lang, text = q.corrected, q.lang, normalize(q.corrected)
    if not _CRITERIA_LIST.search(text) or re.search(r"(ข้อ|criterion)\s*\d", text) or q.named_cities:
        return None  # "เกณฑ์ข้อ 3 คืออะไร" asks about one criterion, "ขอนแก่นผ่านเกณฑ์อะไร" about one city
    if not explained(question, _CRITERIA_WORDS):
        return None
    by_order: dict[int, str] = {}
    for doc_id, meta in sorted(docs.items()):
        if meta.get("kind") == "criteria" and isinstance(meta.get("order"), int) and meta.get("criterion"):
            if meta.get("lang") == lang or meta["order"] not in by_order:
                by_order[meta["order"]] = doc_id
    if not by_order:
        return None
    th = lang == "th"
    # The overview document (front matter `role: overview`) is cited first: it states the count and records
    # where some reports list the criteria differently.
    overview = next((d for d, meta in sorted(docs.items()) if meta.get("kind") == "criteria"
                     and meta.get("role") == "overview" and meta.get("lang") == lang), None)
    cited = ([overview] if overview else []) + [d for _, d in sorted(by_order.items())]
    first = 2 if overview else 1
    items = [f"({n}) {docs[d].get('name_th' if th else 'name_en') or docs[d].get('title', d)} [{i}]"
             for i, (n, d) in enumerate(sorted(by_order.items()), start=first)]
    count = len(items) if th else _ENGLISH_NUMBERS.get(len(items), len(items))
    said = " [1]" if overview else ""
    text = (f"ข้อเสนอเมืองอัจฉริยะต้องผ่านเกณฑ์ {count} ข้อ{said} ได้แก่ " if th else
            f"A smart-city proposal must meet {count} criteria{said}: ")
    return text + " ".join(items), cited


def smarts_list(docs: dict[str, dict[str, Any]], q: "Question") -> tuple[str, list[str]] | None:
    """The 7 Smarts by name, citing the document that lists them (kind smarts), for a question naming no city."""
    question, lang, text = q.corrected, q.lang, normalize(q.corrected)
    if not _SMARTS_LIST.search(text) or q.named_cities or q.named_provinces or _ASKS_CITIES.search(text):
        return None
    if not explained(question, _SMARTS_WORDS):
        return None
    listing = [d for d, meta in sorted(docs.items()) if meta.get("kind") == "smarts"]
    doc_id = next((d for d in listing if docs[d].get("lang") == lang), listing[0] if listing else None)
    if doc_id is None:
        return None
    th = lang == "th"
    names = [SMART_NAMES[s][0 if th else 1] for s in SMARTS]
    return (f"การพัฒนาเมืองอัจฉริยะมี {len(names)} ด้าน (7 Smarts) ได้แก่ {' '.join(names)} [1]" if th else
            f"Smart-city development has {len(names)} aspects, the 7 Smarts: {', '.join(names)} [1]."), [doc_id]
