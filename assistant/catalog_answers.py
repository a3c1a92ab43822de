"""Count and list questions answered exactly from the cities catalog, not from retrieved prose.

"มีเมืองอัจฉริยะกี่เมืองที่ได้ครบ 7 ด้าน", "which batch-1 cities include Smart Energy",
"เมืองอัจฉริยะในจังหวัดระยองมีที่ไหนบ้าง", "how many areas were approved in 2565". When the catalog is
incomplete for the question (unknown Smarts, a partly known batch) the answer says what is known and
that the rest is not in the documents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.analysis import SMART_PATTERNS
from assistant.catalog import (SMART_NAMES, City, Figure, cities_named, figures, filter_cities, latest,
                               province_names, provinces_in, resolve_province)
from assistant.chunking import normalize
from assistant.documents import SMARTS

if TYPE_CHECKING:
    from assistant.analysis import Question

# Counting cities, not criteria or Smarts: "กี่เมือง", "how many areas", "จำนวนพื้นที่".
_COUNT = re.compile(
    r"(กี่|จำนวน)\s*(เมือง|พื้นที่|แห่ง|โครงการ|จังหวัด)|\b(how many|number of)\s+(smart\s+)?(cities|areas|towns|places|projects)\b"
)
_LIST = re.compile(
    r"อะไรบ้าง|ไหนบ้าง|ที่ใดบ้าง|ใดบ้าง|รายชื่อ|(เมือง|พื้นที่|จังหวัด)\s*(ไหน|ใด)|"
    r"\b(which|what)\b.*\b(cities|areas|towns|places)\b|"
    r"\blist\b|\bname the\b"
)
# Counting applications, targets, renewals or rankings is not counting awarded cities.
_OTHER_TOPIC = re.compile(
    r"ยื่น|เป้า|สมัคร|ข้อเสนอ|เสนอ|ต่ออายุ|ดัชนี|อันดับ|อาเซียน|ประกาศ|ลงทุน|"
    r"\btarget|\bappl(y|ied|ication)|\bpropos|\brenew|\bindex\b|\btscci\b|\bascn\b|\basean\b|\brank|\binvest"
)
_FILTERED_CITIES = re.compile(r"\b(cities|areas|towns)\b|(เมือง|พื้นที่)\S*\s*(ที่|ซึ่ง)\s*(มี|ได้|ไม่|ทำ)")
_ONLY = re.compile(r"\bthe only\b|\bonly (smart )?cit(y|ies)\b|แห่งเดียว|เมืองเดียว|ที่เดียว")
_CITY_NOUN = re.compile(r"เมือง|พื้นที่|\bcit(y|ies)\b|\bareas?\b|\btowns?\b|\bplaces?\b")
_ALL_SEVEN = re.compile(r"ครบ\s*(ทั้ง)?\s*7|ครบทุกด้าน|\ball (7|seven)\b|\bevery smart\b")


@dataclass
class CatalogQuery:
    count: bool
    smarts: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)   # "but not Smart Mobility": none of these
    batches: list[int] = field(default_factory=list)
    province: str | None = None
    # set difference: "not in Bangkok", "นอกจากภูเก็ต", "not in batch 1"
    excluded_provinces: list[str] = field(default_factory=list)
    excluded_cities: list[City] = field(default_factory=list)
    excluded_batches: list[int] = field(default_factory=list)

    @property
    def excludes(self) -> bool:
        return bool(self.excluded or self.excluded_provinces or self.excluded_cities or self.excluded_batches)


def parse(q: Question, cities: list[City]) -> CatalogQuery | None:
    """A catalog query if the question counts or lists cities (and names no single city), else None."""
    text = q.corrected
    provinces = q.provinces
    only = bool(provinces and _ONLY.search(text))  # "the only smart city in Rayong?" asks for the list
    count, listing = bool(_COUNT.search(text)), bool(_LIST.search(text)) or only
    query = CatalogQuery(count=count, excluded=list(q.excluded_smarts), excluded_provinces=list(q.excluded_provinces),
                         excluded_cities=list(q.excluded_cities), excluded_batches=list(q.excluded_batches))
    # "batch-1 cities with Smart Energy but not Smart Mobility" lists without a list word.
    listing = listing or bool((q.smarts or query.excludes or q.batches) and _FILTERED_CITIES.search(text))
    if not (count or listing) or not _CITY_NOUN.search(text) or _OTHER_TOPIC.search(text):
        return None
    # "จังหวัดภูเก็ตมีเมืองอัจฉริยะกี่แห่ง" names a province, not the city called Phuket; "นอกจากภูเก็ต มีเมืองไหน
    # ..." names the city it leaves out.
    if not only and [c for c in q.cities if c in cities_named(cities, _without(text, provinces))]:
        return None
    query.smarts = list(SMARTS) if _ALL_SEVEN.search(text) else list(q.smarts)
    query.batches = list(q.batches)
    if not query.batches and q.years_be:
        # A year in either calendar selects the approval rounds held that year (BE in meeting numbers).
        years = {str(y) for y in q.years_be}
        query.batches = sorted({c.batch for c in cities if c.batch and c.meeting and
                                any(c.meeting.endswith(y) for y in years)})
        if not query.batches:
            return None  # a year the approval rounds do not cover
    query.province = provinces[0] if provinces else None
    if not (query.smarts or query.excludes or query.batches or query.province) and not count:
        return None
    return query


def _without(text: str, provinces: list[str]) -> str:
    """The text with its province mentions removed (every spelling of each province)."""
    from assistant.catalog import province_spellings

    for province in provinces:
        for spelling in province_spellings(province):
            text = text.replace(spelling, " ")
    return text


def approvals(docs: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """How many areas each approval round approved, from any document's `batches` front matter
    (e.g. corpus/batches-*.md: {batch: 3, meeting: "1/2565", areas: 15, provinces: 14})."""
    out: dict[int, dict[str, Any]] = {}
    for meta in docs.values():
        for row in meta.get("batches") or []:
            if isinstance(row, dict) and isinstance(row.get("batch"), int):
                out.setdefault(row["batch"], row)
    return out


# Words an exact answer may leave unexplained in the question, besides the names it resolved. Anything else
# ("ใบประกาศเขตส่งเสริม", "scoring weights", "นายกรัฐมนตรี") asks something front matter cannot answer, and
# the question goes to retrieval instead.
_GENERIC_WORDS = frozenset("เมือง อัจฉริยะ smart city cities smart-city ทำ มี เป็น ได้ ครบ ทั้ง all 7 เจ็ด seven".split())
_SMARTS_WORDS = _GENERIC_WORDS | frozenset(
    "ด้าน smarts aspect aspects แผน พัฒนา การพัฒนา ครอบคลุม cover covers covered include includes included "
    "plan plans planned ลักษณะ หลัก development".split())
_CRITERIA_WORDS = _GENERIC_WORDS | frozenset(
    "เกณฑ์ ข้อ ข้อเสนอ ยื่น ยื่นข้อเสนอ ยื่นขอ สมัคร ต้อง ขอ การพิจารณา พิจารณา criteria criterion proposal "
    "proposals application applications must meet contain include need needs required requirements apply "
    "five 5 list".split())
_APPROVAL_WORDS = _GENERIC_WORDS | frozenset(
    "ตรา ตราสัญลักษณ์ สัญลักษณ์ เห็นชอบ อนุมัติ การพิจารณา พิจารณา ปี วัน วันที่ เดือน approved approve "
    "awarded award certified mark become became selected get got receive received granted year date month".split())
_MOST_WORDS = _GENERIC_WORDS | frozenset("จังหวัด มาก ที่สุด เยอะ province provinces most".split())


def _explained(question: str, allowed: frozenset[str], names: list[str] = ()) -> bool:
    """Whether every content word of the question is in `allowed`, a number, or part of one of `names`."""
    from assistant.lexical import content_tokens

    spelled = " ".join(normalize(n) for n in names)
    # "'s" of "Wangchan Valley's" says nothing of its own
    return all(t in allowed or t.isdigit() or t in spelled or t.startswith("'") for t in content_tokens(question))


def _city_names(city: City) -> list[str]:
    return [city.name_th, city.name_en, city.slug.replace("-", " "), *city.aliases]


_SMART_SPELLINGS = [name for pair in SMART_NAMES.values() for name in pair] + [
    "ขนส่ง การเดินทาง พลังงาน สิ่งแวดล้อม เศรษฐกิจ พลเมือง การดำรงชีวิต บริหารภาครัฐ mobility energy environment "
    "economy people living governance transport"]


# Asking which of the 7 Smarts a city's plan covers: "ขอนแก่นได้กี่ด้าน", "Which Smarts does Mae Moh cover?".
_SMARTS_QUESTION = re.compile(
    r"กี่ด้าน|ด้าน\s*(อะไร|ไหน|ใด)|\bsmarts?\b.*(อะไร|ไหน|ใด|ไหม|มั้ย|หรือเปล่า|บ้าง)|"
    r"\b(how many|which|what)\s+(of the (7|seven) )?smarts\b|\bsmarts?\b.*\b(cover|have|has|include|plan)|"
    r"\b(cover|have|has|include|includes|plan)\b.*\bsmart\s+(environment|economy|mobility|energy|people|living|"
    r"governance)\b|(มี|ได้|ครอบคลุม).*(อัจฉริยะ|smart).*(ไหม|มั้ย|หรือไม่|หรือเปล่า)"
)


def city_smarts(cities: list[City], question: str, lang: str) -> tuple[str, list[City]] | None:
    """Which Smarts one named city's plan covers, or whether it covers the Smarts asked about, or that its
    documents do not say (front matter `smarts: null`); None when the question is not that or names no single
    city."""
    text = normalize(question)
    named = cities_named(cities, text)
    if len(named) != 1 or not _SMARTS_QUESTION.search(text):
        return None
    if not _explained(question, _SMARTS_WORDS, _city_names(named[0]) + _SMART_SPELLINGS):
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
_THAI_MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน",
                "ตุลาคม", "พฤศจิกายน", "ธันวาคม")


def city_approval(cities: list[City], question: str, lang: str) -> tuple[str, list[City]] | None:
    """When one named city was approved: its approval meeting (and the mark's date when a source gives it)."""
    from assistant.questions import answer_type

    text = normalize(question)
    named = cities_named(cities, text)
    if len(named) != 1 or answer_type(question) != "date" or not _AWARD.search(text) or not named[0].meeting:
        return None
    city, th = named[0], lang == "th"
    if not _explained(question, _APPROVAL_WORDS, _city_names(city)):
        return None
    if re.search(r"ตรา|\bmark|\bcertif", text) and not city.awarded:
        return None  # the mark's date is not in front matter; the city's documents say what is known
    parts = [f"{city.name(lang)} ได้รับความเห็นชอบในการประชุมคณะอนุกรรมการฯ ครั้งที่ {city.meeting} [1]" if th else
             f"{city.name(lang)} was approved at sub-committee meeting {city.meeting} [1]."]
    if city.awarded and re.fullmatch(r"\d{4}-\d\d-\d\d", city.awarded):
        year, month, day = (int(x) for x in city.awarded.split("-"))
        parts.append(f"และได้รับตราสัญลักษณ์เมื่อวันที่ {day} {_THAI_MONTHS[month - 1]} {year + 543} [1]" if th else
                     f"It received the smart-city mark on {day} {_MONTHS_EN[month - 1]} {year} [1].")
    return " ".join(parts), [city]


# Asking which approval round one city was in: "ฉะเชิงเทราได้รับตราในชุดไหน", "Which batch was Yala in?".
_BATCH_QUESTION = re.compile(
    r"(ชุด|รุ่น|ครั้ง)\s*(ที่)?\s*(ไหน|ใด|อะไร|เท่าไร|เท่าไหร่)|\b(which|what)\s+(batch|round|meeting)\b|"
    r"\bin which (batch|round|meeting)\b")
_BATCH_WORDS = _APPROVAL_WORDS | frozenset(
    "ชุด รุ่น ครั้ง ประชุม การประชุม คณะอนุกรรมการ อนุกรรมการ ผ่าน อยู่ batch round meeting sub-committee "
    "subcommittee committee part".split())


def city_batch(cities: list[City], question: str, lang: str) -> tuple[str, list[City]] | None:
    """Which batch (approval meeting) one named city was in, or that its documents do not say (front matter
    `batch: null`): an unknown batch is said as unknown, never guessed from a nearby list."""
    text = normalize(question)
    named = cities_named(cities, text)
    if len(named) != 1 or not _BATCH_QUESTION.search(text):
        return None
    city, th = named[0], lang == "th"
    if not _explained(question, _BATCH_WORDS, _city_names(city)):
        return None
    if city.batch is None:
        return (f"ไม่ปรากฏในเอกสารที่มีว่า{city.name(lang)}ได้รับความเห็นชอบในชุดหรือการประชุมครั้งใด (ไม่ทราบชุด) [1]"
                if th else f"The documents do not say in which batch or meeting {city.name(lang)} was approved "
                           "(not known) [1]."), [city]
    meeting = (f" (การประชุมคณะอนุกรรมการฯ ครั้งที่ {city.meeting})" if th else
               f" (sub-committee meeting {city.meeting})") if city.meeting else ""
    return (f"{city.name(lang)} อยู่ในชุดที่ {city.batch}{meeting} [1]" if th else
            f"{city.name(lang)} was in batch {city.batch}{meeting} [1]."), [city]


_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


_MOST = re.compile(r"มากที่สุด|เยอะที่สุด|\bthe most\b|\bmost (smart )?cit")
_PROVINCE_WORD = re.compile(r"จังหวัด|\bprovinces?\b")


def province_with_most(docs, cities: list[City], question: str, lang: str) -> tuple[str, list[City]] | None:
    """Which province has the most named cities, with the caveat that the named lists are partial."""
    text = normalize(question)
    if not (_MOST.search(text) and _PROVINCE_WORD.search(text)) or cities_named(cities, text):
        return None
    if not _explained(question, _MOST_WORDS):
        return None
    by_province: dict[str, list[City]] = {}
    for city in cities:
        if city.province_th or city.province_en:
            by_province.setdefault(city.province(lang), []).append(city)
    if not by_province:
        return None
    most = max(len(group) for group in by_province.values())
    top = [(name, group) for name, group in sorted(by_province.items()) if len(group) == most]
    cited = [city for _, group in top for city in group]
    numbered = iter(range(1, len(cited) + 1))
    th = lang == "th"
    lists = "; ".join(f"{name}: " + ", ".join(f"{c.name(lang)} [{next(numbered)}]" for c in group)
                      for name, group in top)
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


# What a proposal must contain, or what the criteria are: "ยื่นข้อเสนอต้องมีอะไรบ้าง", "What are the five criteria?".
_CRITERIA_LIST = re.compile(
    r"เกณฑ์.*(อะไรบ้าง|อะไร|ไหนบ้าง|กี่ข้อ|ได้แก่|มีอะไร)|(ข้อเสนอ|ยื่น|สมัคร).*(ต้องมี|ต้อง.*อะไรบ้าง|ต้องผ่าน.*อะไร)|"
    r"\b(what|which|list|how many)\b.*\bcriteri|\bcriteria\b.*\b(are|list)\b|"
    r"\bwhat (must|should|does) (a|the|my|our) (smart[- ]city )?(proposal|application)\b.*\b(contain|include|have|cover|meet)"
)
# The 7 Smarts themselves, asked without naming a city: "เมืองอัจฉริยะมีกี่ด้าน", "What are the 7 Smarts?".
_SMARTS_LIST = re.compile(
    r"(มี)?กี่ด้าน|(7|เจ็ด)\s*(ด้าน|smarts?).*(อะไรบ้าง|อะไร|ได้แก่|ไหนบ้าง)|ด้าน.*(อะไรบ้าง|ไหนบ้าง)|"
    r"\bhow many smarts\b|\b(what|which|list)\b.*\b(7|seven) smarts\b|\bwhat are the smarts\b"
)


_ENGLISH_NUMBERS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def criteria_list(docs: dict[str, dict[str, Any]], cities: list[City], question: str, lang: str
                  ) -> tuple[str, list[str]] | None:
    """The application criteria in order, each citing its own document (read from the corpus, kind criteria)."""
    text = normalize(question)
    if not _CRITERIA_LIST.search(text) or re.search(r"(ข้อ|criterion)\s*\d", text) or cities_named(cities, text):
        return None  # "เกณฑ์ข้อ 3 คืออะไร" asks about one criterion, "ขอนแก่นผ่านเกณฑ์อะไร" about one city
    if not _explained(question, _CRITERIA_WORDS):
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
    said = f" [1]" if overview else ""
    text = (f"ข้อเสนอเมืองอัจฉริยะต้องผ่านเกณฑ์ {count} ข้อ{said} ได้แก่ " if th else
            f"A smart-city proposal must meet {count} criteria{said}: ")
    return text + " ".join(items), cited


def smarts_list(docs: dict[str, dict[str, Any]], cities: list[City], question: str, lang: str
                ) -> tuple[str, list[str]] | None:
    """The 7 Smarts by name, citing the document that lists them (kind smarts), for a question naming no city."""
    text = normalize(question)
    if not _SMARTS_LIST.search(text) or cities_named(cities, text) or provinces_in(question):
        return None
    if not _explained(question, _SMARTS_WORDS):
        return None
    listing = [d for d, meta in sorted(docs.items()) if meta.get("kind") == "smarts"]
    doc_id = next((d for d in listing if docs[d].get("lang") == lang), listing[0] if listing else None)
    if doc_id is None:
        return None
    th = lang == "th"
    names = [SMART_NAMES[s][0 if th else 1] for s in SMARTS]
    return (f"การพัฒนาเมืองอัจฉริยะมี {len(names)} ด้าน (7 Smarts) ได้แก่ {' '.join(names)} [1]" if th else
            f"Smart-city development has {len(names)} aspects, the 7 Smarts: {', '.join(names)} [1]."), [doc_id]


def answer_from_catalog(docs: dict[str, dict[str, Any]], cities: list[City], q: Question
                        ) -> tuple[str, list[str]] | None:
    """(answer text, cited doc ids: [n] is the n-th) or None when front matter cannot answer the question."""
    question, lang = q.corrected, q.lang
    exact = (figure_answer(docs, cities, q) or criteria_list(docs, cities, question, lang)
             or smarts_list(docs, cities, question, lang))
    if exact or not cities:
        return exact
    # "นครสวรรค์เมืองอัจฉริยะมีด้านไหนบ้าง" names a city whose name holds a province: its Smarts, not a province list
    smarts = city_smarts(cities, question, lang)
    if smarts:
        return smarts[0], _doc_ids(smarts[1], lang)
    query = parse(q, cities)
    if query is None:
        found = (city_batch(cities, question, lang)
                 or city_approval(cities, question, lang) or province_with_most(docs, cities, question, lang))
        return (found[0], _doc_ids(found[1], lang)) if found else None
    scope = [c for c in cities if c.batch in query.batches] if query.batches else cities
    if query.province:
        scope = filter_cities(scope, province=query.province)
    scope = [c for c in scope if c.slug not in {x.slug for x in query.excluded_cities}
             and (resolve_province(c.province_th) or c.province_th) not in query.excluded_provinces
             and not (c.batch and c.batch in query.excluded_batches)]
    asked = query.smarts or query.excluded
    unknown = [c for c in scope if asked and c.smarts is None]
    matched = [c for c in scope if (not asked or c.smarts is not None)
               and all(s in (c.smarts or []) for s in query.smarts)
               and not any(s in (c.smarts or []) for s in query.excluded)]
    matched.sort(key=lambda c: (c.batch or 99, c.name(lang)))
    named = {b: sum(1 for c in cities if c.batch == b) for b in query.batches}
    # "no city ..." is read off the documents of the cities in scope: they are its sources
    cited = matched or [c for c in scope if c.smarts is not None][:8] or scope[:8]
    return _compose(query, matched, unknown, approvals(docs), named, lang), _doc_ids(cited, lang)


def unknown_round(docs: dict[str, dict[str, Any]], cities: list[City], q: Question
                   ) -> tuple[str, list[str]] | None:
    """A batch or meeting the question names that no document records ("ชุดที่ 4", "meeting 3/2564"): said to
    be unknown, citing the document that lists the rounds, instead of answering for the rounds that exist."""
    rounds = approvals(docs)
    batches = {c.batch for c in cities if c.batch} | set(rounds)
    meetings = {c.meeting for c in cities if c.meeting} | {str(r.get("meeting")) for r in rounds.values()}
    missing = [f"ชุดที่ {b}" if q.lang == "th" else f"batch {b}" for b in q.batches if b not in batches]
    missing += [(f"การประชุมครั้งที่ {m}" if q.lang == "th" else f"meeting {m}") for m in q.meetings
                if m not in meetings and (m.split("/")[1] >= "2562")]  # a meeting number, not a date like 1/2550
    if not missing or not rounds:
        return None
    listing = next((d for d, meta in sorted(docs.items()) if meta.get("batches") and meta.get("lang") == q.lang),
                   None) or next(d for d, meta in sorted(docs.items()) if meta.get("batches"))
    known = ", ".join(str(r.get("meeting")) for _, r in sorted(rounds.items()))
    names = ", ".join(missing)
    return (f"ไม่ปรากฏในเอกสารที่มีว่ามี{names} เอกสารบันทึกการพิจารณาครั้งที่ {known} [1]" if q.lang == "th" else
            f"The documents do not say there was a {names}; they record the rounds {known} [1]."), [listing]


def _doc_ids(cities: list[City], lang: str) -> list[str]:
    """Each city's document in the question's language, else its other one."""
    return [c.doc_ids.get(lang) or next(iter(c.doc_ids.values())) for c in cities]


def _compose(query: CatalogQuery, matched: list[City], unknown: list[City], rounds, named: dict[int, int],
             lang: str) -> str:
    th = lang == "th"
    names = ", ".join(f"{c.name(lang)} [{i}]" for i, c in enumerate(matched, start=1))
    what = _describe(query, lang)
    parts = []
    official = [rounds[b] for b in query.batches if isinstance(rounds.get(b, {}).get("areas"), int)]
    if query.count and official and len(official) == len(query.batches) and not query.smarts and not query.province:
        # The meetings' own totals come first: the named list may be partial.
        each = ", ".join(
            (f"ครั้งที่ {r['meeting']} เห็นชอบ {r['areas']} พื้นที่" if th
             else f"meeting {r['meeting']} approved {r['areas']} areas") for r in official)
        total = sum(r["areas"] for r in official)
        if len(official) > 1:
            parts.append(f"ตามเอกสาร {each} รวม {total} พื้นที่" if th else
                         f"According to the documents, {each}: {total} areas in all.")
        else:
            parts.append(f"ตามเอกสาร {each}" if th else f"According to the documents, {each}.")
    if th:
        parts.append(f"เอกสารระบุชื่อ {len(matched)} เมือง{what} ได้แก่ {names}" if matched else
                     f"เอกสารไม่ระบุชื่อเมืองใด{what}")
    else:
        noun = "city" if len(matched) == 1 else "cities"
        parts.append(f"The documents name {len(matched)} {noun}{what}: {names}." if matched else
                     f"The documents name no city{what}.")
    if unknown:
        parts.append(
            f"อีก {len(unknown)} เมืองในขอบเขตนี้ เอกสารไม่ระบุว่ามีด้านใดบ้าง จึงนับไม่ได้" if th else
            f"For {len(unknown)} more cities in scope the documents do not say which Smarts they cover, "
            "so they are not counted."
        )
    for batch in query.batches:
        row = rounds.get(batch)
        known = named.get(batch, 0)
        if row and isinstance(row.get("areas"), int) and row["areas"] > known and not query.smarts:
            parts.append(
                f"ที่ประชุมครั้งที่ {row.get('meeting', batch)} เห็นชอบทั้งหมด {row['areas']} พื้นที่ "
                f"แต่เอกสารที่มีระบุชื่อไว้เพียง {known} พื้นที่ ที่เหลือไม่อยู่ในเอกสาร" if th else
                f"Meeting {row.get('meeting', batch)} approved {row['areas']} areas in all, but the documents "
                f"name only {known} of them; the rest are not in the documents."
            )
    return " ".join(parts)


def _describe(query: CatalogQuery, lang: str) -> str:
    th = lang == "th"
    parts = []
    if query.batches:
        batches = ", ".join(str(b) for b in query.batches)
        parts.append(f"ในชุดที่ {batches}" if th else f" in batch {batches}")
    if query.province:
        parts.append(f"ในจังหวัด{query.province}" if th else f" in {province_names(query.province)[1]}")
    if query.smarts == list(SMARTS):
        parts.append("ที่มีครบ 7 ด้าน" if th else " with all 7 Smarts")
    elif query.smarts:
        names = ", ".join(SMART_NAMES[s][0 if th else 1] for s in query.smarts)
        parts.append(f"ที่มีด้าน{names}" if th else f" with {names}")
    if query.excluded:
        names = ", ".join(SMART_NAMES[s][0 if th else 1] for s in query.excluded)
        parts.append(f"{'แต่' if query.smarts else 'ที่'}ไม่มีด้าน{names}" if th else
                     f" {'but ' if query.smarts else ''}without {names}")
    if query.excluded_batches:
        batches = ", ".join(str(b) for b in query.excluded_batches)
        parts.append(f"ที่ไม่อยู่ในชุดที่ {batches}" if th else f" not in batch {batches}")
    if query.excluded_provinces:
        names = ", ".join(province_names(p)[0 if th else 1] for p in query.excluded_provinces)
        parts.append(f"นอกจังหวัด{names}" if th else f" outside {names}")
    if query.excluded_cities:
        names = ", ".join(c.name(lang) for c in query.excluded_cities)
        parts.append(f"นอกจาก{names}" if th else f" other than {names}")
    return (" " if th and parts else "") + " ".join(parts) if th else "".join(parts)


# Dated figures (front matter `figures: [{what, value, as_of, source, city?, unit?, note?}]`, vocabulary in
# docs/corpus.md). A question reaches a figure of a kind below when it asks that kind's number and every word
# it uses is one such a question uses; other figures are answered from prose.
_HOW_MANY = r"(กี่|จำนวน|ทั้งหมด|รวม|เท่า\s*ไร|เท่า\s*ไหร่)|\bhow many\b|\bnumber of\b|\btotal\b"


@dataclass(frozen=True)
class _Kind:
    asks: re.Pattern
    # a total standing at a date: a year alone ("approved in 2565") asks for that year's approval rounds, so
    # the question must also say it asks what stood ("latest", "รวมทั้งหมดในปี 2566")
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
_STANDING = re.compile(r"ทั้งหมด|รวม|สะสม|ถือ|มีอยู่|^(?:ใน)?ปี \d{4} มี(?!การ)|\btotal\b|\bhold|\bheld\b|\bin all\b|\bthere (are|were)\b")


_FIGURE_WORDS = _APPROVAL_WORDS | frozenset(
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
    # "approved in 2565" asks for that year's approval rounds (parse); a standing total answers "latest" or
    # what stood at some date ("how many held the mark in 2023", "รวมทั้งหมดในปี 2566").
    if kind.standing and not (q.latest or q.years_ce and _STANDING.search(text)):
        return None
    if not _explained(text, _FIGURE_WORDS | kind.words, [n for c in q.cities for n in _city_names(c)]):
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
            out = f"{_THAI_MONTHS[int(month) - 1]} {out}"
        return f"{int(day)} {out}" if day else out
    out = year
    if month:
        out = f"{_MONTHS_EN[int(month) - 1]} {out}"
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
