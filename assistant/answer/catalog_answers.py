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

from assistant.answer.catalog import (SMART_NAMES, approvals, City, cities_named, filter_cities, province_names,
                                      province_spellings, resolve_province)
from assistant.answer.city_answers import (APPROVAL_WORDS, EXISTS, city_approval, city_batch, city_is_smart, city_smarts,
                                     criteria_list, explained, province_with_most, smart_subject, smarts_list)
from assistant.ingest.documents import SMARTS
from assistant.ingest.chunking import normalize
from assistant.answer.figure_answers import figure_answer

if TYPE_CHECKING:
    from assistant.answer.analysis import Question

# Counting cities, not criteria or Smarts: "กี่เมือง", "how many areas", "จำนวนพื้นที่".
_COUNT = re.compile(
    r"(กี่|จำนวน)\s*(เมือง|พื้นที่|แห่ง|โครงการ|จังหวัด)|กี่\s*ที่(?!\s*\S*(ได้|มี|ผ่าน|เป็น))|\b(how many|number of)\s+(smart\s+)?(cities|areas|towns|places|projects)\b"
)
_LIST = re.compile(
    r"อะไรบ้าง|ไหนบ้าง|ที่ใดบ้าง|ใดบ้าง|รายชื่อ|(เมือง|พื้นที่|จังหวัด)\s*(ไหน|ใด)|"
    r"\b(which|what)\s+(\S+\s+){0,3}(cities|areas|towns|places)\b|"
    r"\blist\b|\bname the\b|^\s*all (the )?(smart[\s-]+)?(cities|areas)\b"
)
# Counting applications, targets, renewals or rankings is not counting awarded cities, and "what does ... do"
# ("ภูเก็ตสมาร์ทซิตี้ทำอะไรบ้าง") asks what a city does, not which cities there are.
_OTHER_TOPIC = re.compile(
    r"ยื่น|เป้า|สมัคร|ข้อเสนอ|เสนอ|ต่ออายุ|ดัชนี|อันดับ|อาเซียน|ประกาศ|ลงทุน|คะแนน|ทำอะไร|"
    r"\btarget|\bappl(y|ied|ication)|\bpropos|\brenew|\bindex\b|\btscci\b|\bascn\b|\basean\b|\brank|\binvest|\bscor"
)
_FILTERED_CITIES = re.compile(r"\b(cities|areas|towns)\b|\bwhich\b.*\b(city|area|town)\b|"
                              r"(เมือง|พื้นที่)\S*\s*(ที่|ซึ่ง)\s*(มี|ได้|ไม่|ทำ)")
_ONLY = re.compile(r"\bthe only\b|\bonly (smart )?cit(y|ies)\b|แห่งเดียว|เมืองเดียว|ที่เดียว")
_CITY_NOUN = re.compile(r"เมือง|พื้นที่|ซิ[ตท]ี้?|โครงการ|\bcit(y|ies)\b|\bareas?\b|\btowns?\b|\bplaces?\b|\bprojects?\b")
# A count or list over every city may use only these words: "มีเมืองใหม่ทันสมัยกี่เมือง" asks about a kind of city
# the catalog cannot tell apart, and all of them is not its answer.
_ALL_CITIES_WORDS = APPROVAL_WORDS | frozenset(
    "กี่ จำนวน แห่ง พื้นที่ โครงการ ทั้งหมด รวม ตอนนี้ ปัจจุบัน ล่าสุด ประเทศ ไทย ประเทศไทย แล้ว ไหน บ้าง อะไร ใด "
    "รายชื่อ ชื่อ สมาร์ท สมาร์ต ซิตี้ ซิตี how many number cities areas area towns places projects total thailand now currently so far "
    "there list name names which what all has have".split())
# The cities of a named city's batch: "Which cities were approved together with Yala?", "ยะลาผ่านพร้อมกับเมืองไหน"
_TOGETHER = re.compile(r"(ผ่าน|อนุมัติ|เห็นชอบ|ได้รับ\S*)\s*พร้อม|พร้อมกับ|ชุดเดียวกับ|รุ่นเดียวกับ|ครั้งเดียวกับ|\btogether with\b|\balongside\b|"
                       r"\bsame (batch|round|meeting|time) as\b|\bat the same (meeting|time) as\b")
_KEYWORD_WORDS = frozenset("เมือง อัจฉริยะ พื้นที่ สมาร์ท สมาร์ต ซิตี้ ซิตี จังหวัด ใน ที่ smart city cities smart-city "
                           "areas area towns town province in of the".split())
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
    exists: bool = False  # "ปัตตานีมีเมืองอัจฉริยะไหม": yes or no, then the list
    together: bool = False  # "approved together with Yala": the rest of its batch

    @property
    def excludes(self) -> bool:
        return bool(self.excluded or self.excluded_provinces or self.excluded_cities or self.excluded_batches)


def parse(q: Question, cities: list[City]) -> CatalogQuery | None:
    """A catalog query if the question counts or lists cities (and names no single city), else None."""
    text = q.corrected
    together = _together(q, cities)
    if together is not None:
        return together
    provinces = q.provinces or _named_province(q)
    only = bool(provinces and _ONLY.search(text))  # "the only smart city in Rayong?" asks for the list
    # "Does Nan have a smart city?", "ชลบุรีเป็นเมืองอัจฉริยะไหม" (a province is no city: the list of its cities)
    exists = bool(provinces and (EXISTS.search(text) or not q.named_cities and smart_subject(q)))
    # "smart cities in rayong", "เมืองอัจฉริยะ ลำปาง": nothing but cities and a province, as typed into a search box
    keyword = bool(provinces) and _keywords_only(text, provinces)
    count, listing = bool(_COUNT.search(text)), bool(_LIST.search(text)) or only or exists or keyword
    query = CatalogQuery(count=count, excluded=list(q.excluded_smarts), excluded_provinces=list(q.excluded_provinces),
                         excluded_cities=list(q.excluded_cities), excluded_batches=list(q.excluded_batches),
                         exists=exists)
    # "batch-1 cities with Smart Energy but not Smart Mobility" lists without a list word.
    listing = listing or bool((q.smarts or query.excludes or q.batches) and _FILTERED_CITIES.search(text))
    if not (count or listing) or not _CITY_NOUN.search(text) or _OTHER_TOPIC.search(text):
        return None
    # "จังหวัดภูเก็ตมีเมืองอัจฉริยะกี่แห่ง" names a province, not the city called Phuket; "นอกจากภูเก็ต มีเมืองไหน
    # ..." names the city it leaves out.
    if not (only or exists) and [c for c in q.cities if c in cities_named(cities, _without(text, provinces))]:
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
    if not (query.smarts or query.excludes or query.batches or query.province) and not explained(text, _ALL_CITIES_WORDS):
        return None
    return query


def _keywords_only(text: str, provinces: list[str]) -> bool:
    """Whether a text is nothing but "smart cities" and provinces, as typed into a search box: every word,
    the small ones too ("ตอนไหน" asks something)."""
    from assistant.index.lexical import tokenize

    return all(t in _KEYWORD_WORDS for t in tokenize(_without(normalize(text), provinces)) if t.strip())


def _together(q: Question, cities: list[City]) -> CatalogQuery | None:
    """"Which cities were approved together with Yala?": the other cities of its batch (no batch when the city's
    is not known; None when the question is not that)."""
    text = q.corrected
    if len(q.named_cities) != 1 or not _TOGETHER.search(text) or not _LIST.search(text) and not _COUNT.search(text):
        return None
    city = q.named_cities[0]
    return CatalogQuery(count=bool(_COUNT.search(text)), batches=[city.batch] if city.batch else [],
                        excluded_cities=[city], together=True)


def _named_province(q: Question) -> list[str]:
    """The province a "does X have a smart city" or "is X a smart city" question asks about when `provinces_in`
    found none: a short Thai province name counts there only after "จังหวัด" (it occurs inside other words), but
    as the whole subject of "ตรังมีสมาร์ทซิตี้ไหม" or "ชลบุรีเป็นเมืองอัจฉริยะไหม" it is the province, and in
    "ยะลามีเมืองอัจฉริยะไหม" it named the city called Yala after its province."""
    from assistant.answer.catalog import province_spellings

    found = EXISTS.search(q.corrected)
    if found:
        subject = re.sub(r"^(ใน|ที่)?\s*(จังหวัด|จ\.)?\s*", "", q.corrected[:found.start()].strip())
    else:
        subject = "" if q.named_cities else smart_subject(q)
    province = resolve_province(subject) if subject else None
    if province:
        return [province]
    if not found or len(q.cities) != 1:
        return []
    province = resolve_province(q.cities[0].province_th)
    text = normalize(q.corrected)
    return [province] if province and any(s in text for s in province_spellings(province)) else []


def _without(text: str, provinces: list[str]) -> str:
    """The text with its province mentions removed (every spelling of each province, the longest first: "กรุงเทพ"
    inside "กรุงเทพมหานคร" would leave "มหานคร")."""
    for province in provinces:
        for spelling in sorted(province_spellings(province), key=len, reverse=True):
            text = text.replace(spelling, " ")
    return text


def answer_from_catalog(docs: dict[str, dict[str, Any]], cities: list[City], q: Question
                        ) -> tuple[str, list[str]] | None:
    """(answer text, cited doc ids: [n] is the n-th) or None when front matter cannot answer the question."""
    lang = q.lang
    exact = figure_answer(docs, cities, q) or criteria_list(docs, q) or smarts_list(docs, q)
    if exact or not cities:
        return exact
    # "นครสวรรค์เมืองอัจฉริยะมีด้านไหนบ้าง" names a city whose name holds a province: its Smarts, not a province list
    smarts = city_smarts(q)
    if smarts:
        return smarts[0], _doc_ids(smarts[1], lang)
    query = parse(q, cities)
    if query is None:
        found = city_is_smart(q) or city_batch(q) or city_approval(q) or province_with_most(docs, cities, q)
        return (found[0], _doc_ids(found[1], lang)) if found else None
    if query.together and not query.batches:
        [city] = query.excluded_cities
        name = city.name(lang)
        return ((f"ไม่ปรากฏในเอกสารที่มีว่า{name}ได้รับความเห็นชอบในชุดหรือการประชุมครั้งใด จึงบอกไม่ได้ว่าผ่านพร้อมกับเมืองใด [1]"
                 if lang == "th" else f"The documents do not say in which batch or meeting {name} was approved (not "
                                      "known), so not which cities were approved with it [1]."), _doc_ids([city], lang))
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
    if query.exists and not matched:
        # no city document there: said so (not confidently), citing the list of approved areas, which also
        # says what little is known of a province named without a project ("Krabi ... name not known")
        listing = _listing(docs, lang)
        th_name, en_name = province_names(query.province)
        text = (f"เอกสารไม่ระบุชื่อเมืองอัจฉริยะในจังหวัด{th_name}" if lang == "th" else
                f"The documents do not name a smart city in {en_name}")
        if listing is None:
            return text + ("" if lang == "th" else "."), []
        return (text + (" รายชื่อพื้นที่ที่ได้รับการรับรองอยู่ใน [1]" if lang == "th" else
                        "; the approved areas they list are in [1]."), [listing])
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
    listing = _listing(docs, q.lang)
    known = ", ".join(str(r.get("meeting")) for _, r in sorted(rounds.items()))
    names = ", ".join(missing)
    return (f"ไม่ปรากฏในเอกสารที่มีว่ามี{names} เอกสารบันทึกการพิจารณาครั้งที่ {known} [1]" if q.lang == "th" else
            f"The documents do not say there was a {names}; they record the rounds {known} [1]."), [listing]


def place_not_listed(docs: dict[str, dict[str, Any]], cities: list[City], q: Question
                     ) -> tuple[str, list[str]] | None:
    """"พัทยาเป็นเมืองอัจฉริยะไหม" about a place that is neither a city of the catalog nor a province: the
    documents do not name it as one (said so, not confidently, citing the list of approved areas). Retrieval
    had answered with the nearest spelling ("ปัตตานี"), confidently."""
    subject = "" if q.cities else smart_subject(q)
    if not subject or q.provinces or resolve_province(subject) or cities_named(cities, subject):
        return None
    listing = _listing(docs, q.lang)
    if listing is None:
        return None
    return ((f"เอกสารไม่ระบุว่า{subject}เป็นเมืองอัจฉริยะ รายชื่อพื้นที่ที่ได้รับการรับรองอยู่ใน [1]" if q.lang == "th" else
             f"The documents do not name {subject} as a smart city; the approved areas they list are in [1]."), [listing])


def _listing(docs: dict[str, dict[str, Any]], lang: str) -> str | None:
    """The document that lists the approval rounds (front matter `batches`), in the language asked if there is one."""
    return (next((d for d, meta in sorted(docs.items()) if meta.get("batches") and meta.get("lang") == lang), None)
            or next((d for d, meta in sorted(docs.items()) if meta.get("batches")), None))


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
    if query.exists and matched:
        parts.append("มี:" if th else "Yes:")
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
