"""Misspelled city and province names in a question and the catalog spellings they stand for ("ภูเกต",
"Wangchan Vally"): edit distance over the distinctive part of each name, never into another known name and
never inside a dictionary word."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.ingest.chunking import normalize, words

if TYPE_CHECKING:
    from assistant.answer.catalog import City

# Edit-distance similarity (0-100) a misspelled name needs; names shorter than these are never fuzzed,
# since one edit turns a short name into another word.
FUZZY_MIN_SCORE = 85
FUZZY_MIN_THAI = 5
FUZZY_MIN_LATIN = 6
PIECE_MIN_SCORE = 70  # what a misspelling says beside a right-spelled name keeps most letters of the spelling's


@lru_cache(maxsize=8)
def _name_table(key: tuple[tuple[str, ...], ...]) -> list[tuple[str, str]]:
    """(normalized spelling, canonical spelling) pairs of every name."""
    from assistant.answer.catalog import _GENERIC, _provinces

    pairs: dict[str, str] = {}
    for names in key:
        for name in names:
            # Only the distinctive part is fuzzed: with "smart city" kept, "Chiang Rai smart city" would
            # be one letter-edit ratio away from many long names.
            spelling = re.sub(r"\s+", " ", _GENERIC.sub(" ", normalize(name))).strip()
            pairs.setdefault(spelling, spelling)
    for spelling in _provinces():
        pairs.setdefault(spelling, spelling)
    return list(pairs.items())


def misspellings(text: str, cities: list["City"]) -> dict[str, str]:
    """Misspelled names in `text` and the catalog spellings they stand for.

    A name already spelled right is left alone, and a span that is itself a known name is never "corrected"
    into another one ("Chiang Rai" is not a typo of "Chiang Mai").
    """
    from rapidfuzz import fuzz

    key = tuple((c.name_th, c.name_en, c.slug.replace("-", " "), *c.aliases) for c in cities)
    names = _name_table(key)
    known = {s for s, _ in names}  # a short name ("trang") is right as typed, though too short to fuzz
    thai = re.compile(r"[\u0E00-\u0E7F]")
    table = [(s, c) for s, c in names if len(s) >= (FUZZY_MIN_THAI if thai.search(s) else FUZZY_MIN_LATIN)]
    # Names spelled right are blanked out first, so that no window of a misspelling can overlap them, unless
    # the misspelt name contains the right one ("Wangchan Vally" for "Wangchan Valley").
    original = text
    for spelling in sorted(known, key=len, reverse=True):
        text = text.replace(spelling, "\0" * len(spelling))
    found: dict[str, tuple[float, str]] = {}
    for spelling, canonical in table:
        if spelling in original:
            continue
        # rapidfuzz's alignment gives the best window; it is then widened or narrowed by a letter, because
        # a missing or extra letter shifts the window's length.
        alignment = fuzz.partial_ratio_alignment(spelling, original, score_cutoff=FUZZY_MIN_SCORE - 10)
        if alignment is None:
            continue
        start, end = alignment.dest_start, alignment.dest_end
        best: tuple[float, str] | None = None
        for a in range(max(0, start - 2), start + 3):
            for b in range(max(a + 1, end - 2), min(len(text), end + 2) + 1):
                window = original[a:b]
                if "\0" in text[a:b] and not _extends(text[a:b], window, spelling):
                    continue
                score = fuzz.ratio(spelling, window)
                if (score >= FUZZY_MIN_SCORE and (best is None or score > best[0]) and _whole(original, a, b)
                        and _words_agree(window, spelling) and not _inside_word(original, a, b)):
                    best = (score, window)
        if best and best[1].strip() and best[1].strip() not in known:
            wrong = best[1].strip()
            if wrong not in found or best[0] > found[wrong][0]:
                found[wrong] = (best[0], canonical)
    # A shorter misspelling inside a longer one belongs to the longer.
    return {w: c for w, (_, c) in found.items() if not any(w != o and w in o for o in found)}


def _inside_word(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies within one dictionary word ("พลังงา" of "พลังงาน" is not a misspelt
    "พังงา"), ends well inside one ("เมืองน่า" of "เมืองน่าอยู่" is not a misspelt "เมืองน่าน"), or cuts one at
    an edge: a misspelling is not itself a word, so the segmenter cannot find it whole in its dictionary, and
    its edges are those of the words around it."""
    from pythainlp.corpus import thai_words

    dictionary = thai_words()
    position = 0
    for word in words(text):
        found = text.find(word, position)
        if found < 0:
            continue
        position = found + len(word)
        if word in dictionary and (found <= start and end <= position or found < end < position
                                   and len(word) > 2 and end - found < len(word) - 1):
            return True
        # a window cutting a word of two letters or more at either edge ("น|ระยอง" of "ในระยอง" for "นครระยอง",
        # "กรุงเทพ|ม" of "กรุงเทพมี") takes a letter of a word spelled right
        if word in dictionary and len(word) >= 2 and (found < start < position or found < end < position):
            return True
    return False


def _extends(masked: str, window: str, spelling: str) -> bool:
    """Whether a window holding right-spelled names (blanked out in `masked`) is a misspelling of `spelling`
    that extends them: the names are parts of the spelling, and what the window says before, between and
    after them is a misspelling of what the spelling says there ("wangchan vally" of "wangchan valley"). Not
    when that is missing, a word spelled right, or other letters: "นกรุงเทพ" (of "ในกรุงเทพ") and "กรุงเทพม"
    (of "กรุงเทพมี") are not a misspelt "กรุงเทพฯ", nor "in trang" a misspelt "si trang", nor "นครเชียงราย"
    + "อยู่" a misspelt "นครเชียงรายสู่".

    >>> blank = chr(0)
    >>> _extends(blank * 8 + " vally", "wangchan vally", "wangchan valley"), _extends("น" + blank * 7, "นกรุงเทพ", "กรุงเทพฯ")
    (True, False)
    """
    from pythainlp.corpus import thai_words
    from rapidfuzz import fuzz

    from assistant.answer.catalog import resolve_province

    spans = [(m.start(), m.end()) for m in re.finditer(r"\0+", masked)]
    names = [window[a:b] for a, b in spans]
    if spelling in window or not all(name in spelling for name in names):
        return False
    province = resolve_province(spelling)
    if province and any(resolve_province(name) == province for name in names):
        return False
    rest = [piece.strip() for piece in re.split(r"\0+", masked)]
    if any(rest) and all(piece in thai_words() for piece in rest if piece):
        return False
    # the spelling around the same names, piece for piece
    pieces, at = [], 0
    for name in names:
        found = spelling.find(name, at)
        if found < 0:
            return False
        pieces.append(spelling[at:found].strip())
        at = found + len(name)
    pieces.append(spelling[at:].strip())
    # (one letter more beside a name, where the spelling has nothing, still counts: a doubled letter)
    return all(fuzz.ratio(w, s) >= PIECE_MIN_SCORE if w and s else len(w) <= 1 for w, s in zip(rest, pieces))


def _words_agree(window: str, spelling: str) -> bool:
    """Whether a window of as many words as the spelling misspells each of them, not only the whole: "in trang"
    is one indel-pair from "si trang", but "in" is no misspelt "si"."""
    from rapidfuzz import fuzz

    said, meant = window.split(), spelling.split()
    return len(said) != len(meant) or all(fuzz.ratio(w, m) >= PIECE_MIN_SCORE or w == m for w, m in zip(said, meant))


def _whole(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] does not cut a Latin word in two (Thai has no word spaces to respect)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    latin = re.compile(r"[a-z0-9]")
    return not (latin.match(before) and latin.match(text[start])) and not (
        latin.match(after) and latin.match(text[end - 1]))
