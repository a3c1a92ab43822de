"""The cities catalog: a structured table built from city documents' front matter.

Retrieval over prose cannot count or list reliably; the catalog can. It is built from every indexed document
of kind `city` (the shipped corpus and a user's own documents with the same keys). `smarts: null` stays
unknown: counts say how many cities are known and how many are not.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from assistant.ingest.chunking import normalize
from assistant.ingest.documents import SMARTS
from assistant.errors import MuangError

SMART_NAMES = {
    "environment": ("สิ่งแวดล้อมอัจฉริยะ", "Smart Environment"),
    "economy": ("เศรษฐกิจอัจฉริยะ", "Smart Economy"),
    "mobility": ("ขนส่งอัจฉริยะ", "Smart Mobility"),
    "energy": ("พลังงานอัจฉริยะ", "Smart Energy"),
    "people": ("พลเมืองอัจฉริยะ", "Smart People"),
    "living": ("การดำรงชีวิตอัจฉริยะ", "Smart Living"),
    "governance": ("การบริหารภาครัฐอัจฉริยะ", "Smart Governance"),
}


STRENGTHS = ("official", "news", "blog")  # strongest first
DEFAULT_PROGRAMME = "depa-mark"


@dataclass
class City:
    """One awarded area, merged from its Thai and English documents."""

    slug: str
    name_th: str = ""
    name_en: str = ""
    province_th: str = ""
    province_en: str = ""
    batch: int | None = None
    meeting: str | None = None
    smarts: list[str] | None = None
    awarded: str | None = None
    aliases: list[str] = field(default_factory=list)
    doc_ids: dict[str, str] = field(default_factory=dict)  # lang -> doc_id
    sources: list[str] = field(default_factory=list)
    # official | news | blog: the weakest source the city's documents rely on (None: not stated)
    source_strength: str | None = None
    weak_sources: list[str] = field(default_factory=list)

    def name(self, lang: str) -> str:
        return (self.name_th or self.name_en) if lang == "th" else (self.name_en or self.name_th)

    def province(self, lang: str) -> str:
        return (self.province_th or self.province_en) if lang == "th" else (self.province_en or self.province_th)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def build_catalog(docs: dict[str, dict[str, Any]]) -> list[City]:
    """Cities from document metadata (doc_id -> metadata), sorted by batch, then Thai name."""
    cities: dict[str, City] = {}
    for doc_id, meta in sorted(docs.items()):
        slug = meta.get("city")
        if meta.get("kind") != "city" or not slug:
            continue
        city = cities.setdefault(str(slug), City(slug=str(slug)))
        lang = meta.get("lang", "th")
        city.doc_ids.setdefault(lang, doc_id)
        title = str(meta.get("title") or "")
        city.name_th = city.name_th or str(meta.get("name_th") or (title if lang == "th" else ""))
        city.name_en = city.name_en or str(meta.get("name_en") or (title if lang == "en" else ""))
        province = str(meta.get("province") or "")
        city.province_th = city.province_th or str(meta.get("province_th") or (province if lang == "th" else ""))
        city.province_en = city.province_en or str(meta.get("province_en") or (province if lang == "en" else ""))
        if city.batch is None and isinstance(meta.get("batch"), int):
            city.batch = meta["batch"]
        city.meeting = city.meeting or (str(meta["meeting"]) if meta.get("meeting") else None)
        if city.smarts is None and isinstance(meta.get("smarts"), list):
            city.smarts = [s for s in SMARTS if s in meta["smarts"]]
        city.awarded = city.awarded or (str(meta["awarded"]) if meta.get("awarded") else None)
        for alias in meta.get("aliases") or []:
            if str(alias) not in city.aliases:
                city.aliases.append(str(alias))
        for source in meta.get("sources") or []:
            if source not in city.sources:
                city.sources.append(source)
        strength = meta.get("source_strength")
        if strength in STRENGTHS and (city.source_strength is None
                                      or STRENGTHS.index(strength) > STRENGTHS.index(city.source_strength)):
            city.source_strength = strength
        for weak in meta.get("weak_sources") or []:
            if str(weak) not in city.weak_sources:
                city.weak_sources.append(str(weak))
    return sorted(cities.values(), key=lambda c: (c.batch or 99, c.name_th or c.name_en))


@dataclass(frozen=True)
class Figure:
    """One dated count, total, score or target from a document's `figures` front matter.

    `as_of` is YYYY, YYYY-MM or YYYY-MM-DD text: it sorts in time order, and a coarser date sorts before the
    finer dates inside it ("2023" < "2023-07" < "2023-07-28")."""

    what: str
    value: int | float
    as_of: str
    source: str
    doc_id: str
    city: str | None = None
    unit: str | None = None
    note: str | None = None
    lang: str = ""
    programme: str = DEFAULT_PROGRAMME
    doc_ids: tuple[str, ...] = ()  # every document stating this figure (its Thai and English versions)

    @property
    def year(self) -> int:
        return int(self.as_of[:4])

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def figures(docs: dict[str, dict[str, Any]], what: str | None = None, city: str | None = None,
            lang: str | None = None) -> list[Figure]:
    """Dated figures from document metadata (doc_id -> metadata), oldest first.

    A figure stated by several documents (the Thai and English versions of one, or a summary and a city page)
    appears once, with `doc_id` from the document in `lang` when there is one and all of them in `doc_ids`.
    """
    merged: dict[tuple, Figure] = {}
    for doc_id, meta in sorted(docs.items()):
        for item in meta.get("figures") or []:
            if what and item["what"] != what or city and item.get("city") != city:
                continue
            key = (item["what"], item["value"], item["as_of"], item.get("city"), item["source"])
            found = merged.get(key)
            doc_lang = str(meta.get("lang", ""))
            if found is None:
                merged[key] = Figure(
                    what=item["what"], value=item["value"], as_of=str(item["as_of"]), source=item["source"],
                    doc_id=meta.get("doc_id", doc_id), city=item.get("city"), unit=item.get("unit"),
                    note=item.get("note"), lang=doc_lang,
                    programme=str(meta.get("programme") or DEFAULT_PROGRAMME), doc_ids=(meta.get("doc_id", doc_id),))
                continue
            ids = found.doc_ids + (meta.get("doc_id", doc_id),)
            better = lang is not None and doc_lang == lang and found.lang != lang
            merged[key] = replace(found, doc_ids=ids, **({"doc_id": ids[-1], "lang": doc_lang} if better else {}))
    return sorted(merged.values(), key=lambda f: (f.as_of, f.what, f.city or "", f.value))


def latest(found: list[Figure]) -> list[Figure]:
    """The figures with the most recent `as_of` (several when sources of that date differ)."""
    if not found:
        return []
    newest = max(f.as_of for f in found)
    return [f for f in found if f.as_of == newest]


def filter_cities(
    cities: list[City], smart: str | None = None, batch: int | None = None, province: str | None = None
) -> list[City]:
    """Cities having a Smart (known only), in a batch, in a province (Thai or English name, or alias)."""
    if smart and smart not in SMARTS:
        raise MuangError(f"unknown Smart {smart!r}; choose one of {', '.join(SMARTS)}")
    wanted_province = resolve_province(province) if province else None
    if province and wanted_province is None:
        raise MuangError(f"unknown province {province!r}")
    out = []
    for city in cities:
        if smart and smart not in (city.smarts or []):
            continue
        if batch is not None and city.batch != batch:
            continue
        if wanted_province and wanted_province not in (city.province_th, city.province_en):
            continue
        out.append(city)
    return out


@lru_cache(maxsize=1)
def _provinces() -> dict[str, tuple[str, str]]:
    """Every spelling of a province (normalized) -> (Thai name, English name)."""
    from pythainlp.corpus import provinces

    table: dict[str, tuple[str, str]] = {}
    for row in provinces(details=True):
        names = (row["name_th"], row["name_en"])
        for spelling in (row["name_th"], row["name_en"], row["name_en"].replace(" ", "")):
            table[normalize(spelling)] = names
    bangkok = table[normalize("กรุงเทพมหานคร")]
    korat = table[normalize("นครราชสีมา")]
    for spelling in ("กรุงเทพ", "กรุงเทพฯ", "กทม", "กทม.", "bkk"):
        table[normalize(spelling)] = bangkok
    for spelling in ("โคราช", "korat"):
        table[normalize(spelling)] = korat
    return table


def resolve_province(name: str) -> str | None:
    """The canonical Thai province name for a Thai or English name or common alias.

    >>> resolve_province("Korat"), resolve_province("ระยอง"), resolve_province("Atlantis")
    ('นครราชสีมา', 'ระยอง', None)
    """
    names = _provinces().get(normalize(name.strip()))
    return names[0] if names else None


def province_spellings(thai_name: str) -> list[str]:
    """Every known spelling (normalized) of a province given its canonical Thai name."""
    return [spelling for spelling, names in _provinces().items() if names[0] == thai_name]


def province_names(name: str) -> tuple[str, str]:
    """(Thai, English) names of a province given any known spelling; unknown names come back as given."""
    return _provinces().get(normalize(name.strip()), (name, name))


# Short Thai spellings that are never part of another word.
_SAFE_ABBREVIATIONS = frozenset({"กทม", "กทม."})


def provinces_in(text: str) -> list[str]:
    """Canonical Thai names of the provinces a text mentions, longest spellings first.

    Short Thai names (เลย, ตาก, น่าน) also occur inside other words ("วังจันทร์วัลเลย์"), so names under
    five letters count only after "จังหวัด" or "จ.".

    >>> provinces_in("วังจันทร์วัลเลย์อยู่จังหวัดระยอง"), provinces_in("Which cities are in Korat?")
    (['ระยอง'], ['นครราชสีมา'])
    """
    text = normalize(text)
    found: list[str] = []
    for spelling in sorted(_provinces(), key=len, reverse=True):
        if len(spelling) < 3:
            continue
        thai = bool(re.search(r"[\u0E00-\u0E7F]", spelling))
        if thai and len(spelling) < 5 and spelling not in _SAFE_ABBREVIATIONS:
            hit = re.search(rf"(จังหวัด|จ\.)\s*{re.escape(spelling)}", text) is not None
        else:
            hit = _mentions(text, spelling)
        if hit:
            names = _provinces()[spelling]
            if names[0] not in found:
                found.append(names[0])
            text = text.replace(spelling, " ")
    return found


_GENERIC = re.compile(r"เมืองอัจฉริยะ|สมาร์ทซิตี้|เมืองน่าอยู่|\bsmart city\b|\bliveable town\b|[()\"]")


def cities_named(cities: list[City], text: str) -> list[City]:
    """Cities whose name, alias or slug a text mentions (Samyan / Sam Yan, Wangchan / Wang Chan, ...).

    Generic words ("เมืองอัจฉริยะ", "Smart City") are dropped from names first, so that
    "วังจันทร์วัลเลย์" finds "เมืองอัจฉริยะวังจันทร์วัลเลย์".
    """
    text = normalize(text)
    squeezed = text.replace(" ", "")
    found: list[tuple[City, list[str]]] = []
    for city in cities:
        matched = [k.replace(" ", "") for k in city_keys(city)
                   if _mentions(text, k) or " " in k and k.replace(" ", "") in squeezed]
        if matched:
            found.append((city, matched))
    # "Phuket Silicon Valley" names one city, not also "Phuket": a match inside another city's longer one does
    # not count, and a city is named when one of its matches is no such part. (Every match is judged: picking
    # one of equal length, "phuket" or "ภูเก็ต", followed the set's order, which changes with the hash seed.)
    others = [(city, key) for city, keys in found for key in keys]
    return [city for city, keys in found
            if any(not any(o is not city and key != other and key in other for o, other in others) for key in keys)]


def city_keys(city: City) -> set[str]:
    """The normalized spellings a text may name a city by: its names, alias and slug, each also without the
    generic words ("วังจันทร์วัลเลย์" for "เมืองอัจฉริยะวังจันทร์วัลเลย์")."""
    return set(_keys(city.name_th, city.name_en, city.slug, tuple(city.aliases)))


@lru_cache(maxsize=4096)
def _keys(name_th: str, name_en: str, slug: str, aliases: tuple[str, ...]) -> frozenset[str]:
    # cached: every answer unit is checked against every city, and PyThaiNLP's normalize is not cheap
    names = {name_th, name_en, slug.replace("-", " "), *aliases}
    # "Chiang Mai University Smart City (CMU Smart City)" is also named by either part alone
    names |= {part.strip() for name in list(names) if name and "(" in name
              for part in (re.sub(r"\([^()]*\)", " ", name), *re.findall(r"\(([^()]*)\)", name))}
    keys = {re.sub(r"\s+", " ", k) for name in names if name
            for k in (normalize(name), _GENERIC.sub(" ", normalize(name)).strip())}
    return frozenset(k for k in keys if len(k) >= 3)


def mention_spans(text: str, name: str) -> list[tuple[int, int]]:
    """Where a normalized text mentions a name (as `cities_named` and `provinces_in` match it)."""
    if re.search(r"[\u0E00-\u0E7F]", name):  # Thai has no word spaces: a substring is the only test
        return [(m.start(), m.end()) for m in re.finditer(re.escape(name), text)]
    return [(m.start(), m.end()) for m in re.finditer(rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])", text)]


def _mentions(text: str, name: str) -> bool:
    return bool(mention_spans(text, name))


def approvals(docs: dict[str, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """How many areas each approval round approved, from any document's `batches` front matter
    (e.g. corpus/batches-*.md: {batch: 3, meeting: "1/2565", areas: 15, provinces: 14})."""
    out: dict[int, dict[str, Any]] = {}
    for meta in docs.values():
        for row in meta.get("batches") or []:
            if isinstance(row, dict) and isinstance(row.get("batch"), int):
                out.setdefault(row["batch"], row)
    return out
