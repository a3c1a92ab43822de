"""Follow-up questions without an LLM: the conversation's subject carried into a question that lacks one.

"แม่เมาะอยู่ที่ไหน" then "แล้วขอนแก่นล่ะ" asks the first question again about Khon Kaen; "มีกี่ด้าน" then asks
how many Smarts Khon Kaen has. Subjects are places (a city of the catalog or a province), Smarts and approval
batches, found through the catalog's names and aliases. A follow-up is one of three kinds:

- ellipsis: nothing but a new subject and follow-up words ("แล้วขอนแก่นล่ะ", "And Phuket?", "what about
  batch 2?"): the previous question is asked again with the new subject swapped in;
- reference: a pronoun or demonstrative ("it", "there", "this city", "ที่นี่", "เมืองนั้น", "ด้านนี้"): it is
  replaced by the subject's name;
- omission: no subject at all ("มีกี่ด้าน", "ได้รับตราเมื่อไร", "When was the mark granted?"): the subject's
  name is put in front, unless the question stands alone: a definition ("depa คืออะไร"), a count or list over
  all cities, a word of another topic (far more common in the criteria and programme documents than in the
  city documents: "criteria", "เกณฑ์") or a word the documents never use.
A question that names its own subject, or that the catalog answers over all cities, stands alone. After a
listed answer (the criteria, a province's cities), "the second one", "ข้อ 2" or "ข้อสุดท้าย" is that item.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from assistant.answer.catalog import SMART_NAMES, City, province_names, province_spellings, provinces_in
from assistant.ingest.documents import detect_lang
from assistant.answer.history import MAX_TURNS, Message
from assistant.answer.listing import item_reference, listed_items, lists_counted
from assistant.index.lexical import content_tokens, tokenize

# A word is about another topic than the conversation's city when this much larger a share of the other
# documents (criteria, programme) than of the city documents uses it: "criteria", "TSCCI", "สิทธิประโยชน์".
TOPIC_MARGIN = 0.2

# Generic words inside city names: "เมืองอัจฉริยะวังจันทร์วัลเลย์" is also called "วังจันทร์วัลเลย์".
_GENERIC_NAME = re.compile(r"เมืองอัจฉริยะ|สมาร์ทซิตี้|เมืองน่าอยู่|\bsmart city\b|\bliveable town\b|[()\"“”]", re.I)
_SMART_SYNONYMS = {"mobility": ("การเดินทาง", "transport")}
_BATCH = re.compile(
    r"(?:ชุด|รุ่น)\s*(?:ที่)?\s*([1-3])(?!\d)|(?:ชุด|รุ่น)(แรก)|\bbatch[\s-]*([1-3])\b|\b(first|second|third) batch\b",
    re.I,
)
_ORDINALS = {"แรก": "1", "first": "1", "second": "2", "third": "3"}
# Words that carry no subject in a follow-up ("แล้ว...ล่ะ", "and", "what about") or only classify one
# ("จังหวัด", "city"); a question of nothing else besides a subject is an ellipsis.
_FILLER = frozenset(
    "แล้ว ล่ะ หล่ะ ละ ส่วน และ ด้วย บ้าง ครับ คะ ค่ะ นะ จ้ะ เมือง จังหวัด ด้าน ชุด รุ่น ที่ ใน ของ "
    "and what about how also too then instead same the in of for city town province smart batch please".split()
)
_TH_FOLLOW = re.compile(r"^\s*(แล้ว|ส่วน)|(ล่ะ|หล่ะ)\s*(ครับ|คะ|ค่ะ|จ๊ะ|จ้ะ)?\s*[?？]*\s*$")
_EN_FOLLOW = re.compile(r"^\s*(and|so|what about|how about|and what about|what of|same for)\b", re.I)
# "What is depa?", "ดีป้าคืออะไร": a definition asks about the thing named, not about the conversation's city.
_DEFINITION = re.compile(r"คืออะไร|หมายถึง|แปลว่า|^\s*what(?:'s| is| are)\s+(?!the\b|its?\b|their\b)|\bmean\b|\bdefin",
                         re.I)
_TH_REF = re.compile(r"(เมือง|ที่|แห่ง|พื้นที่|จังหวัด|โครงการ|ด้าน)\s*(นี้|นั้น|นี่|นั่น)")
_EN_REF = re.compile(
    r"\b(?:(?:this|that|the same) (city|town|place|area|project|province|smart)|the (?:city|town)|"
    r"(it's|its|it|they|them|their)|"
    r"(?<!\bis )(?<!\bare )(?<!\bwas )(?<!\bwere )(there|here))\b",
    re.I,
)


@dataclass(frozen=True)
class Mention:
    """A subject named in a text: kind "place" (key "city:<slug>" or "province:<Thai name>"; a span that is
    both, such as "ขอนแก่น", has both keys), "smart" (key the Smart's slug) or "batch" (key "1".."3")."""

    kind: str
    keys: tuple[str, ...]
    surface: str
    start: int
    end: int


@dataclass
class Context:
    """What a conversation is about so far: the last subject of each kind (the most recent last) and the
    last question asked."""

    subjects: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # kind -> (key, surface, lang)
    frames: list[str] = field(default_factory=list)  # the questions asked so far, as resolved
    items: list[str] = field(default_factory=list)  # the list the last answer gave, in its order
    item: str | None = None  # the item of it the last question asked about

    @property
    def frame(self) -> str | None:
        return self.frames[-1] if self.frames else None

    def remember(self, kind: str, subject: tuple[str, str, str]) -> None:
        self.subjects.pop(kind, None)
        self.subjects[kind] = subject


@dataclass(frozen=True)
class Vocabulary:
    """What the documents tell about a question's words (see `standalone_question`); the defaults know nothing.

    topical(tokens, lang): some word belongs to documents other than the city documents (criteria, the
    programme), so the question is about that topic, not about the conversation's city.
    unknown(tokens): no word occurs in the documents at all ("Atlantis").
    stands_alone(question): the question is complete as it is (a count or list over all cities).
    """

    topical: Callable[[list[str], str], bool] = lambda tokens, lang: False
    unknown: Callable[[list[str]], bool] = lambda tokens: False
    stands_alone: Callable[[str], bool] = lambda question: False


def _resolve_item(question: str, context: Context, lang: str) -> str | None:
    """"What does the third one require?" after a list: the item in its place. "And the fifth?" asks the
    last question again about another item."""
    found = item_reference(question, lang, len(context.items)) if context.items else None
    if found is None:
        return None
    match, at = found
    item = context.items[at]
    rest = question[:match.start()] + " " + question[match.end():]
    if all(token in _FILLER for token in tokenize(rest)) and context.item and context.frame and context.item in context.frame:
        return context.frame.replace(context.item, item)
    return (question[:match.start()] + item + question[match.end():]).strip()


# -- finding subjects ---------------------------------------------------------------------------------
def find_mentions(text: str, cities: list[City]) -> list[Mention]:
    """The subjects a text names, left to right; a longer name wins over one inside it.

    >>> from assistant.answer.catalog import City
    >>> kk = City("khon-kaen", name_th="ขอนแก่นเมืองอัจฉริยะ", aliases=["ขอนแก่น", "Khon Kaen"])
    >>> [(m.kind, m.keys, m.surface) for m in find_mentions("แล้วขอนแก่นล่ะ", [kk])]
    [('place', ('city:khon-kaen', 'province:ขอนแก่น'), 'ขอนแก่น')]
    """
    found: list[Mention] = []
    for city in cities:
        for variant in _city_variants(city):
            found += [Mention("place", (f"city:{city.slug}",), *span) for span in _spans(text, variant)]
    for province in provinces_in(text):
        for spelling in province_spellings(province):
            short_thai = bool(re.search(r"[\u0E00-\u0E7F]", spelling)) and len(spelling) < 5
            for surface, start, end in _spans(text, spelling):
                if not short_thai or re.search(r"(จังหวัด|จ\.)\s*$", text[:start]):
                    found.append(Mention("place", (f"province:{province}",), surface, start, end))
    for slug, variants in _smart_variants().items():
        for variant in variants:
            found += [Mention("smart", (slug,), *span) for span in _spans(text, variant)]
    for match in _BATCH.finditer(text):
        number = next(g for g in match.groups() if g)
        found.append(Mention("batch", (_ORDINALS.get(number.lower(), number),), match.group(0),
                             match.start(), match.end()))
    return _merge(found)


def _city_variants(city: City) -> set[str]:
    names = {city.name_th, city.name_en, city.slug.replace("-", " "), *city.aliases}
    variants = set()
    for name in names:
        for variant in (name, _GENERIC_NAME.sub(" ", name)):
            variant = " ".join(variant.split())
            if len(variant) >= 3:
                variants.add(variant)
    return variants


def _smart_variants() -> dict[str, tuple[str, ...]]:
    """Each Smart's full and short names: "พลังงานอัจฉริยะ", "พลังงาน", "Smart Energy", "energy"."""
    out = {}
    for slug, (thai, english) in SMART_NAMES.items():
        short_th, short_en = thai.replace("อัจฉริยะ", ""), re.sub(r"(?i)^smart\s+", "", english)
        out[slug] = (thai, english, short_th, short_en, *_SMART_SYNONYMS.get(slug, ()))
    return out


def _spans(text: str, name: str) -> list[tuple[str, int, int]]:
    """Where `name` occurs in `text`, ignoring case and the spaces inside it ("Sam Yan" finds "Samyan")."""
    pattern = r"\s*".join(re.escape(part) for part in name.split())
    if not re.search(r"[\u0E00-\u0E7F]", name):  # Latin names are whole words; Thai has no word spaces
        pattern = rf"(?<![A-Za-z0-9]){pattern}(?![A-Za-z0-9])"
    return [(m.group(0), m.start(), m.end()) for m in re.finditer(pattern, text, re.I)]


def _merge(found: list[Mention]) -> list[Mention]:
    """Longest spans first, no overlaps; one span naming a city and a province keeps both keys."""
    chosen: list[Mention] = []
    for mention in sorted(found, key=lambda m: (-(m.end - m.start), m.start, m.keys)):
        same = next((c for c in chosen if (c.start, c.end, c.kind) == (mention.start, mention.end, mention.kind)), None)
        if same is not None:
            if mention.keys[0] not in same.keys:
                chosen[chosen.index(same)] = Mention(same.kind, same.keys + mention.keys, same.surface, same.start,
                                                     same.end)
            continue
        if all(mention.end <= c.start or mention.start >= c.end for c in chosen):
            chosen.append(mention)
    return sorted(chosen, key=lambda m: m.start)


# -- resolving a follow-up ------------------------------------------------------------------------------
def resolve(question: str, history: list[Message], cities: list[City], vocabulary: Vocabulary = Vocabulary()) -> str:
    """The question as it would be asked without the conversation before it.

    >>> from assistant.answer.catalog import City
    >>> cities = [City("mae-moh", name_th="แม่เมาะเมืองน่าอยู่", aliases=["แม่เมาะ", "Mae Moh"]),
    ...           City("khon-kaen", name_th="ขอนแก่นเมืองอัจฉริยะ", aliases=["ขอนแก่น", "Khon Kaen"])]
    >>> history = [{"role": "user", "content": "แม่เมาะอยู่ที่ไหน"}]
    >>> resolve("แล้วขอนแก่นล่ะ", history, cities)
    'ขอนแก่นอยู่ที่ไหน'
    >>> resolve("Which Smarts does it cover?", [{"role": "user", "content": "Where is Mae Moh?"}], cities)
    'Which Smarts does Mae Moh cover?'
    """
    context = Context()
    for message in history[-2 * MAX_TURNS:]:
        if message.get("role") == "user":
            asked = _resolve_one(message["content"], context, cities, vocabulary)
            for mention in find_mentions(asked, cities):
                context.remember(mention.kind, (mention.keys[0], mention.surface, detect_lang(mention.surface)))
            context.item = next((i for i in context.items if i in asked), None)
            context.frames.append(asked)
            continue
        if message.get("role") == "assistant":
            context.items = listed_items(message.get("content", "")) or (context.items if context.item else [])
        if message.get("role") == "assistant" and context.frame is not None and "place" not in _kinds(
                context.frame, cities):
            # "Which city has the oldest mark?" -> "Khon Kaen ..." -> "Where is it?": the answer named it.
            places = {m.keys[0]: m for m in find_mentions(message.get("content", ""), cities) if m.kind == "place"}
            if len(places) == 1:
                mention = next(iter(places.values()))
                context.remember("place", (mention.keys[0], mention.surface, detect_lang(mention.surface)))
    return _resolve_one(question, context, cities, vocabulary)


def _kinds(text: str, cities: list[City]) -> set[str]:
    return {m.kind for m in find_mentions(text, cities)}


def _resolve_one(question: str, context: Context, cities: list[City], vocabulary: Vocabulary) -> str:
    if context.frame is None:
        return question
    lang = detect_lang(question)
    item = _resolve_item(question, context, lang)
    if item is not None:
        return item
    mentions = find_mentions(question, cities)
    if mentions and _is_ellipsis(question, mentions):
        # The latest question that named a subject of this kind ("What about Phuket?" after a question
        # about the criteria goes back to the last question about a place); else the latest question.
        kind = mentions[0].kind
        frame = next((f for f in reversed(context.frames) if kind in _kinds(f, cities)), context.frame)
        return _swap(frame, mentions, cities)
    kinds = {m.kind for m in mentions}
    replaced = _replace_references(question, context, kinds, lang, cities)
    if replaced != question:
        return replaced
    if not mentions and vocabulary.stands_alone(question) and lists_counted(question, context.frame):
        # "มีเมืองไหนบ้าง" after "ในกรุงเทพล่ะ" (how many there): the cities counted, in the same province
        places = [m.keys for m in find_mentions(context.frame, cities) if m.kind == "place"]
        if len(places) == 1 and len(places[0]) == 1 and places[0][0].startswith("province:"):
            thai, english, body = *province_names(places[0][0].removeprefix("province:")), question.rstrip().rstrip("?？")
            return f"{body}ในจังหวัด{thai}" if lang == "th" else f"{body} in {english}?"
    if mentions or vocabulary.stands_alone(question):
        return question
    tokens = content_tokens(question)
    bare = _strip_follow_words(question)
    follow = bool(_TH_FOLLOW.search(question) or _EN_FOLLOW.search(question))
    if follow and tokens and vocabulary.unknown(tokens) and (lang == "th" or bare[:1].isupper()):
        # "And Atlantis?": a place the documents never name takes the old one's place, and gets no answer.
        frame_places = [m for m in find_mentions(context.frame, cities) if m.kind == "place"]
        if frame_places:
            target = frame_places[0]
            return context.frame[:target.start] + bare.rstrip("?？ ") + context.frame[target.end:]
        return question
    subject = next((context.subjects[k] for k in reversed(context.subjects) if k in ("place", "smart")), None)
    if subject is None or _DEFINITION.search(question) or vocabulary.topical(tokens, lang):
        return question
    if any(vocabulary.unknown([t]) for t in tokens):
        return question  # it asks about something the documents never mention: no subject makes it answerable
    name = _name(subject, lang, cities)
    return f"{name} {bare}" if lang == "th" else f"{name}: {bare}"


def _is_ellipsis(question: str, mentions: list[Mention]) -> bool:
    """Nothing but subjects and follow-up words: "แล้วขอนแก่นล่ะ", "And Phuket?", "ชุดที่ 2 ล่ะ"; not
    "แล้วภูเก็ตได้กี่ด้าน", which asks its own question."""
    rest = question
    for mention in sorted(mentions, key=lambda m: -m.start):
        rest = rest[:mention.start] + " " + rest[mention.end:]
    return all(token in _FILLER for token in tokenize(rest))


def _swap(frame: str, mentions: list[Mention], cities: list[City]) -> str:
    """The previous question with each new subject in place of the old one of its kind; a kind the previous
    question did not name is added at its end ("มีกี่เมืองที่ได้ครบ 7 ด้าน" + "ชุดที่ 2")."""
    lang = detect_lang(frame)
    old: dict[str, Mention] = {}
    for mention in find_mentions(frame, cities):
        old.setdefault(mention.kind, mention)
    edits: list[tuple[Mention, str]] = []
    extra: list[str] = []
    for mention in mentions:
        surface = mention.surface
        if detect_lang(surface) != lang:
            surface = _name((mention.keys[0], surface, detect_lang(surface)), lang, cities)
        if mention.kind in old:
            edits.append((old.pop(mention.kind), surface))
        else:
            extra.append(surface)
    out = frame
    for target, surface in sorted(edits, key=lambda e: -e[0].start):
        out = out[:target.start] + surface + out[target.end:]
    if extra:
        body = out.rstrip().rstrip("?？")
        out = f"{body} {' '.join(extra)}" + ("?" if body != out.rstrip() else "")
    return out


def _replace_references(question: str, context: Context, kinds: set[str], lang: str, cities: list[City]) -> str:
    """Pronouns and demonstratives replaced by the subject's name, where the question names none itself.
    "it" is the most recent subject; "this city" a place, "this Smart" a Smart, "that province" a place's
    province."""
    def subject_for(noun: str) -> tuple[str, str, str] | None:
        noun = noun.lower()
        wanted = ("smart",) if noun in ("smart", "ด้าน") else ("place",) if noun else ("place", "smart")
        return next((context.subjects[k] for k in reversed(context.subjects) if k in wanted and k not in kinds),
                    None)

    def named(subject: tuple[str, str, str], noun: str) -> str:
        if noun.lower() in ("province", "จังหวัด"):
            province = _province_of(subject, cities)
            if province:
                thai, english = province_names(province)
                return f"จังหวัด{thai}" if lang == "th" else f"{english} province"
        return _name(subject, lang, cities)

    def thai(match: re.Match) -> str:
        subject = subject_for(match.group(1) if match.group(1) in ("ด้าน",) else "place")
        return named(subject, match.group(1)) if subject else match.group(0)

    def english(match: re.Match) -> str:
        noun, pronoun, adverb = match.group(1) or "", match.group(2), match.group(3)
        subject = subject_for(noun if noun.lower() == "smart" else "place" if noun else "")
        if subject is None:
            return match.group(0)
        name = named(subject, noun)
        if pronoun:
            low = pronoun.lower()
            return name + ("'s" if low in ("its", "their") else " is" if low == "it's" else "")
        return f"in {name}" if adverb else name

    return _TH_REF.sub(thai, question) if lang == "th" else _EN_REF.sub(english, question)


def _province_of(subject: tuple[str, str, str], cities: list[City]) -> str | None:
    key = subject[0]
    if key.startswith("province:"):
        return key[9:]
    city = next((c for c in cities if f"city:{c.slug}" == key), None)
    return (city.province_th or city.province_en) if city else None


def _strip_follow_words(question: str) -> str:
    text = re.sub(r"^\s*(แล้ว|ส่วน)\s*", "", question)
    text = re.sub(r"\s*(ล่ะ|หล่ะ)(?=\s*(ครับ|คะ|ค่ะ)?\s*[?？]*\s*$)", "", text)
    text = re.sub(r"(?i)^\s*(and what about|what about|how about|what of|and|so)\s+", "", text)
    return text.strip() or question.strip()


def _name(subject: tuple[str, str, str], lang: str, cities: list[City]) -> str:
    """A subject's name in `lang`: as the user wrote it when in that language, else the catalog's name."""
    key, surface, surface_lang = subject
    if surface_lang == lang:
        return surface
    if key.startswith("city:"):
        city = next((c for c in cities if c.slug == key[5:]), None)
        return city.name(lang) if city else surface
    if key.startswith("province:"):
        thai, english = province_names(key[9:])
        return thai if lang == "th" else english
    if key in SMART_NAMES:
        return SMART_NAMES[key][0 if lang == "th" else 1]
    return f"ชุดที่ {key}" if lang == "th" else f"batch {key}"


# -- with an index ----------------------------------------------------------------------------------------
def standalone_question(index, question: str, history: list[Message]) -> str:
    """`resolve` over an open Index: its catalog names the subjects, its documents judge the words."""
    if not history:
        return question
    from assistant.answer.analysis import analyze
    from assistant.answer.catalog_answers import parse

    cities = index.catalog()

    def share(token: str, lang: str, city: bool) -> float:
        docs = [d for d, meta in index.docs.items()
                if meta.get("lang") == lang and (meta.get("kind") == "city") == city]
        return sum(token in index.doc_tokens(d) for d in docs) / len(docs) if docs else 0.0

    def topical(tokens: list[str], lang: str) -> bool:
        return any(share(t, lang, False) >= share(t, lang, True) + TOPIC_MARGIN for t in tokens)

    vocabulary = Vocabulary(topical=topical, unknown=lambda tokens: not index.lexical.known(tokens),
                            stands_alone=lambda q: parse(analyze(q, cities), cities) is not None)
    return resolve(question, history, cities, vocabulary)
