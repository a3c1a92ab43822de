"""Question analysis, done once: the raw question becomes one `Question` value that catalog routing,
retrieval, answer selection, follow-ups and abstention all read.

What it resolves: normalized text (Thai digits, tone-mark order, sara am, spacing), language, tokens and
content tokens, the catalog's cities and the provinces named (misspellings too: "ภูเกต", "Wangchan Vally",
by edit distance with rapidfuzz), the 7 Smarts (and which of them are negated: "but not Smart Mobility"),
batches and meetings, years in both calendars (BE = CE + 543), the answer type, whether the latest figure
is asked for, the thing a "what is X" question defines, and the predicate: the content words that say what
is asked about the entities, once the entities' own names are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.ingest.chunking import normalize, words
from assistant.ingest.documents import detect_lang
from assistant.index.lexical import content_tokens, tokenize
from assistant.answer.asking import asking_respelled
from assistant.answer.questions import answer_type, plain_ending
from assistant.answer.spelling import misspellings

if TYPE_CHECKING:
    from assistant.answer.catalog import City

BE_OFFSET = 543

SMART_PATTERNS = {
    "environment": r"สิ่งแวดล้อม|environment",
    "economy": r"เศรษฐกิจ|econom",
    "mobility": r"ขนส่ง|การเดินทาง|คมนาคม|mobility|transport",
    "energy": r"พลังงาน|energy",
    "people": r"พลเมือง|\bpeople\b|citizen",
    "living": r"การดำรงชีวิต|ความเป็นอยู่|\bliving\b",
    "governance": r"บริหารภาครัฐ|ธรรมาภิบาล|governance|public administration",
}
BATCH_PATTERNS = {
    # the first cities to get the mark are the batch approved first ("เมืองแรกที่ได้ตรา", "the first city")
    1: r"(รุ่น|ชุด|รอบ)แรก|(ชุด|รุ่น|ครั้ง|รอบ)ที่\s*1\b(?!\s*/)|batch[\s-]*(1|one)\b|first[\s-]+(batch|round)|"
       r"first five|5 เมือง(อัจฉริยะ)?แรก|(เมือง|พื้นที่)\s*แรก|first\s+(smart[\s-]+)?(city|cities|areas?|towns?)\b|1/2564",
    2: r"(ชุด|รุ่น|รอบ)ที่\s*2\b(?!\s*/)|batch[\s-]*(2|two)\b|second[\s-]+(batch|round)|2/2564",
    3: r"(ชุด|รุ่น|รอบ)ที่\s*3\b(?!\s*/)|batch[\s-]*(3|three)\b|third[\s-]+(batch|round)|1/2565",
}
# A negation cue: the names it applies to are excluded ("but not Smart Mobility", "นอกจากภูเก็ต", "not in
# Bangkok"); `_negated` decides which names those are.
_NEGATION = re.compile(
    r"\bbut not\b|\bnot\b|\bwithout\b|\bexcept(?: for)?\b|\bexcluding\b|\bno\b|\bdon'?t\b|\bdoesn'?t\b|"
    r"\bdidn'?t\b|\blacks?\b|\bother than\b|\bbesides\b|\b(?:apart|aside) from\b|\boutside(?: of)?\b|"
    r"แต่ไม่|(?<!หรือ)ไม่(?:ได้|มี|รวม|ใช่|ครอบคลุม)?|ยกเว้น|นอกจาก|นอกเหนือจาก|นอก|ขาด"
)
# What may join negated names: "not Smart Mobility, Smart People or Smart Living".
_JOINED = re.compile(r"(?:[\s,/]|\band\b|\bor\b|\bnor\b|และ|หรือ|กับ|ด้าน|ชุดที่)*")
NEGATION_REACH = 3  # words between a cue and the first name it negates ("do not cover", "ไม่ได้อยู่ในจังหวัด")
_LATEST = re.compile(
    r"ล่าสุด|ตอนนี้|ปัจจุบัน|ถึงตอนนี้|ถึงปัจจุบัน|จนถึงวันนี้|ทั้งหมดกี่|ตอนนี้มี|"
    r"\blatest\b|\bso far\b|\bto date\b|\bcurrent(ly)?\b|\bnow\b|\bmost recent\b|\bup to now\b|\bas of today\b"
)
_DEFINITION = [
    # "ไร" is "อะไร" as people type it in chat ("TSCCI คือไร")
    re.compile(r"^(.{2,60}?)\s*(คือ\s*(?:อะ)?ไร|หมายถึง(?:อะ)?ไร|หมายถึง|ย่อมาจาก(?:อะ)?ไร|ย่อมาจาก|แปลว่า(?:อะ)?ไร|คือ\s*ใคร|คือหน่วยงาน(?:อะ)?ไร|เป็นหน่วยงาน(?:อะ)?ไร)"),
    # and "smart city คือ", "TSCCI คือ?": the question word left out, as people type in chat
    re.compile(r"^(.{2,60}?)\s*คือ\s*[?？]*\s*$"),
    re.compile(r"^\s*what\s+(?:is|are|was|were)\s+(?:an?\s+|the\s+)?(.{2,60}?)\s*\??\s*$"),
    re.compile(r"^\s*what\s+does\s+(?:an?\s+|the\s+)?(.{2,60}?)\s+(?:stand\s+for|mean)\s*\??\s*$"),
    re.compile(r"^\s*(?:define|explain)\s+(?:an?\s+|the\s+)?(.{2,60}?)\s*\??\s*$"),
    re.compile(r"^\s*who\s+(?:is|are)\s+(?:the\s+)?(.{2,60}?)\s*\??\s*$"),
]
# A year in either calendar (CE 19xx/20xx, BE 24xx/25xx); selection also reads it in answer units.
YEAR = re.compile(r"(?<!\d)(19\d\d|20\d\d|24\d\d|25\d\d)(?!\d)")
# The short Buddhist-era year citizens type: "ปี 67", "พ.ศ. 66" (2567, 2566).
_SHORT_BE_YEAR = re.compile(r"(?:ปี|พ\.ศ\.)\s*([4-9]\d)(?![\d/.,:])")
# Any batch by number, also one the documents do not have ("ชุดที่ 4", "batch 6").
_BATCH_NUMBER = re.compile(r"(?:ชุด|รุ่น)ที่\s*(\d+)\b(?!\s*/)|\bbatch[\s-]*(?:no\.?\s*)?(\d+)\b(?!\s*/)")
# A batch in Thai number words, as people type it ("ชุดสอง", "ชุดที่สาม"): the documents write "ชุดที่ 2".
_BATCH_IN_WORDS = re.compile(r"ชุด(?:ที่)?\s*(หนึ่ง|สอง|สาม|สี่|ห้า|หก|เจ็ด|แปด|เก้า)(?!ย่าน)")
_THAI_NUMBERS = {w: n for n, w in enumerate("หนึ่ง สอง สาม สี่ ห้า หก เจ็ด แปด เก้า".split(), start=1)}
_MEETING = re.compile(r"(?<!\d)(\d{1,2})\s*/\s*(25\d\d)(?!\d)")
# Words that name the topic of the whole corpus, not what a question asks about it.
GENERIC_WORDS = frozenset(
    "เมือง อัจฉริยะ สมาร์ท ซิตี้ smart city cities smart-city smarts ด้าน depa ดีป้า".split())


@dataclass
class Question:
    """One analysed question. `text` is normalized for matching; `search_text` is what retrieval embeds and
    matches: the corrected spelling plus the other calendar's years."""

    raw: str
    text: str
    lang: str
    tokens: list[str]
    content: list[str]
    corrected: str = ""
    cities: list["City"] = field(default_factory=list)
    provinces: list[str] = field(default_factory=list)
    # every catalog city and province the question names, asked about or excluded ("นอกจากภูเก็ต")
    named_cities: list["City"] = field(default_factory=list)
    named_provinces: list[str] = field(default_factory=list)
    corrections: dict[str, str] = field(default_factory=dict)   # misspelled surface -> catalog spelling
    smarts: list[str] = field(default_factory=list)
    # the names a negation cue applies to: "but not Smart Mobility", "นอกจากภูเก็ต", "not in Bangkok", "not in batch 1"
    excluded_smarts: list[str] = field(default_factory=list)
    excluded_cities: list["City"] = field(default_factory=list)
    excluded_provinces: list[str] = field(default_factory=list)
    excluded_batches: list[int] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    meetings: list[str] = field(default_factory=list)
    years_ce: list[int] = field(default_factory=list)
    years_be: list[int] = field(default_factory=list)
    kind: str | None = None
    negated: bool = False
    latest: bool = False
    defines: str | None = None
    predicate: list[str] = field(default_factory=list)
    relation: list[str] = field(default_factory=list)
    expansions: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)  # other than Thailand: "ญี่ปุ่น", "south korea"

    @property
    def search_text(self) -> str:
        return " ".join([self.corrected or self.raw, *self.expansions])

    @property
    def asked_years(self) -> set[str]:
        """The years asked about, in both calendars, as text."""
        return {str(y) for y in self.years_ce + self.years_be}

    @property
    def entity_names(self) -> list[str]:
        """Every spelling of the cities, provinces and other countries the question names."""
        from assistant.answer.catalog import province_spellings

        names = [n for c in self.cities for n in (c.name_th, c.name_en, c.slug.replace("-", " "), *c.aliases) if n]
        return names + [s for p in self.provinces for s in province_spellings(p)] + self.countries


# Thai spellings of English terms that the documents write in Thai words: "สมาร์ทซิตี้" is searched as
# "เมืองอัจฉริยะ" as well (retrieval embeds and matches the documents' own term).
_LOANWORDS = [
    (re.compile(r"สมาร์[ทต]\s*ซิตี้?"), "เมืองอัจฉริยะ"),
]
# English names a Thai question may use for what the Thai documents write in Thai: "depa อยู่ภายใต้กระทรวงอะไร".
_THAI_SPELLINGS = [(re.compile(r"(?<![a-z])depa(?![a-z])\s*"), "ดีป้า")]


_TAG = re.compile(r"</?[A-Za-z][^<>]{0,500}>")


def clean(text: str) -> str:
    """Normalized for matching: HTML tags dropped (pasted markup is not what is asked, and its words would
    match markup in documents), PyThaiNLP normalization (tone-mark order), Arabic digits, sara am written as
    nikhahit + sara aa made one letter, runs of spaces made one, lower case.

    >>> clean("ตําบล  ๒๕๖๕ <b onclick='x()'>")
    'ตำบล 2565'
    """
    text = _TAG.sub(" ", text)
    text = text.replace("\u0e4d\u0e32", "\u0e33").replace("\u0e4d \u0e32", "\u0e33")
    return re.sub(r"\s+", " ", normalize(text)).strip()


def analyze(raw: str, cities: list["City"] | None = None) -> Question:
    """The `Question` for a raw question string, with entities resolved against `cities` (the catalog).

    >>> q = analyze("in 2022 how many cities were approved but not Smart Mobility?")
    >>> q.years_be, q.excluded_smarts, q.kind, q.lang
    ([2565], ['mobility'], 'number:cit', 'en')
    """
    from assistant.answer.catalog import cities_named, city_keys, province_spellings, provinces_in

    cities = cities or []
    text = clean(raw)
    lang = detect_lang(raw)
    corrections = misspellings(text, cities)
    corrected = text
    for wrong, right in corrections.items():
        corrected = corrected.replace(wrong, right)
    # "แม่เมาะอยู่ไหนอะ" asks what "แม่เมาะอยู่ไหน" does, and "อยู่ทีไหน" what "อยู่ที่ไหน" does
    corrected = plain_ending(asking_respelled(corrected))
    corrected = _BATCH_IN_WORDS.sub(lambda m: f"ชุดที่ {_THAI_NUMBERS[m.group(1)]} ", corrected).replace("  ", " ")
    if lang == "th":
        for pattern, spelling in _THAI_SPELLINGS:
            corrected = pattern.sub(spelling, corrected)
    affirmed, negated = _negated(corrected, cities)
    named = cities_named(cities, affirmed)
    provinces = provinces_in(affirmed)
    smarts = _smarts(affirmed)
    batches = _batches(affirmed)
    excluded_cities = [c for c in cities_named(cities, negated) if c not in named]
    # "นอกจากภูเก็ต" excludes the city called Phuket; "not in Phuket province", the province
    excluded_provinces = [p for p in provinces_in(negated) if p not in provinces and (
        _as_province(corrected, p)
        or not any(k in province_spellings(p) for c in excluded_cities for k in city_keys(c)))]
    excluded_cities = [c for c in excluded_cities if c.province_th not in excluded_provinces]
    years = [int(y) for y in YEAR.findall(corrected)] + [2500 + int(y) for y in _SHORT_BE_YEAR.findall(corrected)]
    years_be = sorted({y if y > 2400 else y + BE_OFFSET for y in years})
    years_ce = sorted({y - BE_OFFSET if y > 2400 else y for y in years})
    expansions = [str(y) for y in years_be + years_ce if str(y) not in corrected]
    expansions += [term for pattern, term in _LOANWORDS if pattern.search(corrected) and term not in corrected]
    tokens = tokenize(corrected)
    question = Question(
        raw=raw, text=text, lang=lang, tokens=tokens, content=content_tokens(corrected),
        corrected=corrected, cities=named, provinces=provinces, corrections=corrections,
        named_cities=cities_named(cities, corrected), named_provinces=provinces_in(corrected),
        smarts=smarts, excluded_smarts=[s for s in _smarts(negated) if s not in smarts],
        batches=batches, excluded_cities=excluded_cities, excluded_provinces=excluded_provinces,
        excluded_batches=[b for b in _batches(negated) if b not in batches],
        meetings=[f"{int(a)}/{b}" for a, b in _MEETING.findall(corrected)],
        years_ce=years_ce, years_be=years_be, kind=answer_type(corrected),
        negated=bool(_NEGATION.search(corrected)), latest=bool(_LATEST.search(corrected)),
        defines=_defines(corrected), expansions=expansions, countries=countries_in(corrected, tokens),
    )
    question.predicate = _predicate(question)
    question.relation = _relation(question)
    return question


def respell(raw: str, cities: list["City"]) -> str:
    """The raw question with misspelt catalog names spelled as the catalog does, case and all else kept, so
    that follow-up resolution finds the subject too ("แล้วภูเกตล่ะ").

    >>> from assistant.answer.catalog import City
    >>> respell("And Khon Kean?", [City("khon-kaen", name_en="Khon Kaen")])
    'And khon kaen?'
    """
    for wrong, right in misspellings(clean(raw), cities).items():
        raw = re.sub(re.escape(wrong), right, raw, flags=re.I)
    return raw


def _smarts(text: str) -> list[str]:
    return [slug for slug, pattern in SMART_PATTERNS.items() if re.search(pattern, text)]


def _batches(text: str) -> list[int]:
    return sorted({b for b, p in BATCH_PATTERNS.items() if re.search(p, text)}
                  | {int(m.group(1) or m.group(2)) for m in _BATCH_NUMBER.finditer(text)})


def is_negation(word: str) -> bool:
    """Whether a word is a negation cue ("lack", "without", "นอกจาก"): it says how, not what, a question asks.

    >>> is_negation("lack"), is_negation("ยกเว้น"), is_negation("phuket")
    (True, True, False)
    """
    return bool(_NEGATION.fullmatch(normalize(word)))


def _as_province(text: str, province: str) -> bool:
    """Whether a text names a province as a province ("จังหวัดภูเก็ต", "Phuket province", "in Bangkok")."""
    from assistant.answer.catalog import province_spellings

    return any(re.search(rf"(?:จังหวัด|จ\.)\s*{re.escape(s)}|{re.escape(s)}\s+province|\bin\s+{re.escape(s)}", text)
               for s in province_spellings(province))


def _negated(text: str, cities: list["City"]) -> tuple[str, str]:
    """(the text without the names a negation cue applies to, those names): a cue negates the first name
    (city, province, Smart or batch) within NEGATION_REACH words after it and the names joined to that one by
    "and", "or" or commas. "batch-1 cities with Smart Energy but not Smart Mobility" negates Smart Mobility
    only; "Which cities without Smart People cover Smart Energy?" negates Smart People only.

    >>> _negated("นอกจากภูเก็ต มีเมืองไหนได้ครบ 7 ด้าน", [])[1]
    'ภูเก็ต'
    >>> _negated("which cities are not in batch 1 and lack smart energy?", [])[1]
    'batch 1 | smart energy'
    """
    from assistant.answer.catalog import cities_named, city_keys, mention_spans, province_spellings, provinces_in

    if not _NEGATION.search(text):
        return text, ""
    spans = [(m.start(), m.end()) for pattern in (*SMART_PATTERNS.values(), *BATCH_PATTERNS.values())
             for m in re.finditer(pattern, text)]
    spans += [(m.start(), m.end()) for m in _BATCH_NUMBER.finditer(text)]
    # "smart mobility" is one name, not "mobility" after the word "smart"
    spans = [(s - 6, e) if text[max(0, s - 6):s] == "smart " else (s, e) for s, e in spans]
    names = [k for c in cities_named(cities, text) for k in city_keys(c)]
    names += [spelling for p in provinces_in(text) for spelling in province_spellings(p)]
    spans += [span for name in names for span in mention_spans(text, name)]
    negated: list[tuple[int, int]] = []
    for cue in _NEGATION.finditer(text):
        end, first = cue.end(), True
        for start, stop in sorted(set(spans)):
            if start < end:
                if negated and negated[-1][0] <= start < negated[-1][1]:
                    negated[-1] = (negated[-1][0], max(stop, negated[-1][1]))  # the same name, spelt longer
                    end = negated[-1][1]
                continue
            gap = text[end:start]
            if first and len(words(gap)) > NEGATION_REACH or not first and not _JOINED.fullmatch(gap):
                break
            negated.append((start, stop))
            end, first = stop, False
    if not negated:
        return text, ""
    affirmed = text
    for start, stop in negated:
        affirmed = affirmed[:start] + " " * (stop - start) + affirmed[stop:]
    return affirmed, " | ".join(text[s:e] for s, e in negated)


# "What is the final score of ...", "จุดมุ่งหมายของกีฬาคืออะไร" ask an attribute of something, not what it is.
_ATTRIBUTE = re.compile(r"\b(?:of|for|in|to|who|which|that|name|named|called)\b|ของ|ที่|ใน|ชื่อ")
DEFINED_WORDS = 4  # a term to define is a name or a short noun phrase


def _defines(text: str) -> str | None:
    """The term a "what is X" question asks to define ("tscci" of "tscci คืออะไร"), if it asks one.

    >>> _defines("tscci คืออะไร"), _defines("what is the smart city thailand office?"), _defines("สมาร์ทซิตี้คืออะไร")
    ('tscci', 'smart city thailand office', 'เมืองอัจฉริยะ')
    >>> _defines("what was the final score of the afc championship game?"), _defines("จุดมุ่งหมายของกีฬาคืออะไร")
    (None, None)
    >>> _defines("smart city คือ")
    'smart city'

    """
    for pattern in _DEFINITION:
        match = pattern.search(text)
        if match:
            subject = re.sub(r"^(แล้ว|ส่วน|ว่า)\s*", "", match.group(1)).strip(" ?")
            if (subject and not re.fullmatch(r"(it|this|that|they|นี่|นั่น|นี้|มัน)", subject)
                    and not _ATTRIBUTE.search(subject) and len(words(subject)) <= DEFINED_WORDS):
                for pattern, native in _LOANWORDS:  # documents define "เมืองอัจฉริยะ", not "สมาร์ทซิตี้"
                    subject = pattern.sub(native, subject)
                return subject
    return None


# Thailand itself is what every document is about; naming it says nothing.
_HOME = {"ไทย", "ประเทศไทย", "thailand", "siam", "สยาม"}
_OTHER_SPELLINGS = ("south korea", "north korea", "korea", "united kingdom", "england", "usa", "america")


@lru_cache(maxsize=1)
def _countries() -> tuple[frozenset[str], re.Pattern]:
    """Thai country names, and one pattern for the English ones (whole words), Thailand left out."""
    import pytz
    from pythainlp.corpus import countries

    english = set(_OTHER_SPELLINGS)
    for name in pytz.country_names.values():
        english.add(name.lower())
        english.add(re.sub(r"\s*\(.*\)", "", name.lower()).strip())  # "korea (south)" is also written "korea"
    english = sorted((n for n in english - _HOME if len(n) > 2), key=len, reverse=True)
    return frozenset(countries()) - _HOME, re.compile(rf"(?<![a-z])({'|'.join(map(re.escape, english))})(?![a-z])")


def countries_in(text: str, tokens: list[str] | None = None) -> list[str]:
    """The countries other than Thailand a question names, as written in it (`tokens`: the text's words, when
    the caller has them).

    >>> countries_in("ญี่ปุ่นใช้เกณฑ์อะไรรับรองเมืองอัจฉริยะ"), countries_in("What is South Korea's smart city budget?")
    (['ญี่ปุ่น'], ['south korea'])
    >>> countries_in("ภูเก็ตอยู่จังหวัดไหน"), countries_in("Is Phuket in Thailand?")
    ([], [])
    """
    thai, english = _countries()
    lowered = text.lower()
    found: list[str] = []
    tokens = [t.lower() for t in tokens] if tokens is not None else tokenize(lowered)
    for i, token in enumerate(tokens):  # whole Thai words: "ลาว" is not in "ลาวา"
        for joined in (token, "".join(tokens[i:i + 2]), "".join(tokens[i:i + 3])):
            if joined in thai and joined not in found:
                found.append(joined)
    found += [m.group(1) for m in english.finditer(lowered) if m.group(1) not in found]
    return found


def _predicate(question: Question) -> list[str]:
    """Content words that are not the names of the entities asked about nor the corpus's generic words."""
    from assistant.answer.catalog import city_keys, province_spellings

    negated = [k for c in question.excluded_cities for k in city_keys(c)]
    negated += [s for p in question.excluded_provinces for s in province_spellings(p)]
    names = " ".join(normalize(n) for n in question.entity_names + negated)
    return [t for t in question.content if t not in GENERIC_WORDS and not (names and t in names)]


# Words that ask (they never appear in the answer) rather than relate the entity to the answer.
ASKING = frozenset(
    "ใคร อะไร ไหน ที่ไหน ใด เมื่อไร เมื่อไหร่ ไหร่ อย่างไร ยังไง ทำไม เท่าไร เท่าไหร่ กี่ ไหม มั้ย หรือไม่ "
    "บ้าง ครับ ค่ะ คะ นะ จ้ะ หรือเปล่า เปล่า ล่ะ "
    "what which who whom whose when where why how do does did please tell me".split()
)


def _relation(question: Question) -> list[str]:
    """The function words that relate the entity to the answer ("เป็น ของ" in "X เป็นของใคร", "in" in
    "Which province is X in"): stopwords to retrieval, but an answer unit usually repeats them."""
    content = set(question.content)
    names = " ".join(normalize(n) for n in question.entity_names)
    return [t for t in dict.fromkeys(question.tokens)
            if t not in content and t not in ASKING and not (names and t in names) and not t.isdigit()]
