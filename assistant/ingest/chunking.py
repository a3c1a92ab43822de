"""Thai-aware chunking: PyThaiNLP sentences packed into chunks bounded by `newmm` word tokens.

Chunk boundaries fall between sentences where possible and otherwise between words, never inside a word.
The original text is kept for display; `normalize` gives the form used for matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.ingest.documents import detect_lang

DEFAULT_WORD_ENGINE = "newmm"
DEFAULT_SENTENCE_ENGINE = "crfcut"
MIN_SENTENCE_CHARS = 40
# Sentence splitters and word segmentation slow down sharply on very long lines; a line is cut (at a space
# where there is one) into pieces of at most this many characters first. A chunk holds at most
# CHARS_PER_TOKEN characters per allowed token, which only binds for text made of very long "words".
MAX_LINE_CHARS = 1_000
CHARS_PER_TOKEN = 20
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_EN_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9\u0E00-\u0E7F])")
# crfcut ends a sentence after Thai abbreviations such as "พ.ศ." or "ต.ค.", and after the initial of a foreign
# name spelt as its Thai letter name ("ไมเคิล อี. แมนน์", "จอห์น เอฟ. เคนเนดี"); rejoin those.
_LATIN_LETTER_NAMES = ("เอ|บี|ซี|ดี|อี|เอฟ|จี|เอช|ไอ|เจ|เค|แอล|เอ็ม|เอ็น|โอ|พี|คิว|อาร์|เอส|ที|ยู|วี|ดับเบิลยู|"
                       "ดับบลิว|ดับเบิ้ลยู|เอ็กซ์|วาย|แซด")
_THAI_ABBREVIATION_END = re.compile(
    rf"(?:^|[\s(])(?:(?:[\u0E01-\u0E2E]{{1,3}}\.){{1,3}}|(?:(?:{_LATIN_LETTER_NAMES})\.){{1,3}})\s*$")
# A full stop after a title, a common abbreviation or an initial does not end an English sentence
# ("the St. Johns River", "Maria C. Tiddeman", "the U.S. Army", "Dr. Smith").
_EN_ABBREVIATION_END = re.compile(
    r"(?:^|[\s(\"'])(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|Ft|Jr|Sr|Gen|Col|Lt|Capt|Sgt|Gov|Sen|Rep|Rev|Hon|Pres|Inc|Ltd|Co|"
    r"Corp|No|Nos|Vol|Fig|Figs|al|cf|vs|etc|approx|Jan|Feb|Mar|Apr|Aug|Sep|Sept|Oct|Nov|Dec|e\.g|i\.e|(?:[A-Z]\.)*[A-Z])\.[\"')\]]*$")
_LIST_ITEM = re.compile(r"^([-*+•]|\d{1,3}[.)])\s")


@dataclass(frozen=True)
class Chunk:
    """A span of a document. `start`/`end` are character offsets into the document text."""

    doc_id: str
    index: int
    text: str
    start: int
    end: int
    lang: str
    section: str = ""

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.index}"


@lru_cache(maxsize=1)
def _thai_tables() -> tuple[object, object]:
    from pythainlp.util import normalize as thai_normalize
    from pythainlp.util import thai_digit_to_arabic_digit

    return thai_normalize, thai_digit_to_arabic_digit


def normalize(text: str) -> str:
    """The form used for matching: PyThaiNLP normalization, Arabic digits, lower case.

    >>> normalize("ปี ๒๕๖๔ Phuket")
    'ปี 2564 phuket'
    """
    thai_normalize, to_arabic = _thai_tables()
    return to_arabic(thai_normalize(text)).lower()  # type: ignore[operator]


def words(text: str, engine: str = DEFAULT_WORD_ENGINE) -> list[str]:
    """Word tokens (whitespace dropped), Thai by `newmm` dictionary segmentation.

    >>> words("ภูเก็ตอยู่จังหวัดไหน")
    ['ภูเก็ต', 'อยู่', 'จังหวัด', 'ไหน']
    """
    if not text.strip():
        return []
    from pythainlp.tokenize import word_tokenize

    return [t for t in word_tokenize(text, engine=engine, keep_whitespace=False) if t.strip()]


def sentences(text: str, lang: str | None = None) -> list[str]:
    """Split a paragraph into sentences; their concatenation (whitespace aside) is the paragraph.

    Thai uses PyThaiNLP `crfcut` on each line (a line break in Thai text ends a sentence or a phrase);
    English joins wrapped lines and splits after sentence punctuation. List items are sentences of their own.
    """
    text = text.strip()
    if not text:
        return []
    if (lang or detect_lang(text)) == "th":
        from pythainlp.tokenize import sent_tokenize

        parts: list[str] = []
        for line in text.splitlines():
            for piece in _cut(line.strip(), MAX_LINE_CHARS):
                found = [p.strip() for p in sent_tokenize(piece, engine=DEFAULT_SENTENCE_ENGINE)]
                parts.extend(_rejoin_fragments(_rejoin_brackets(_rejoin_abbreviations([p for p in found if p]))))
        return parts
    return [piece for line in _english_lines(text) for p in _rejoin_english(_EN_SENTENCE_END.split(line))
            for piece in _cut(p.strip(), MAX_LINE_CHARS)]


def _cut(line: str, limit: int) -> list[str]:
    """`line` in pieces of at most `limit` characters, cut at the last space before the limit when there is one.

    >>> _cut("aaa bbb ccc", 8)
    ['aaa bbb', 'ccc']
    """
    pieces: list[str] = []
    while len(line) > limit:
        at = line.rfind(" ", limit // 2, limit + 1)
        if at <= 0:  # no space (Thai without breaks): cut before the last word the window ends in
            tail = words(line[limit - 100:limit])
            at = limit - len(tail[-1]) if len(tail) > 1 else limit
        pieces.append(line[:at].strip())
        line = line[at:].strip()
    if line:
        pieces.append(line)
    return pieces


def _english_lines(text: str) -> list[str]:
    """Soft-wrapped lines joined; a list item or a line after closing punctuation starts anew."""
    lines: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if (lines and not _LIST_ITEM.match(line) and not _HEADING.match(line) and not _HEADING.match(lines[-1])
                and not lines[-1].endswith((".", "!", "?", ":", ";"))):
            lines[-1] = f"{lines[-1]} {line}"
        else:
            lines.append(line)
    return lines


def _rejoin(parts: list[str], joins) -> list[str]:
    """Join each piece to the one before it when `joins(previous, piece)` says so."""
    out: list[str] = []
    for part in parts:
        if out and joins(out[-1], part):
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    return out


def _rejoin_fragments(parts: list[str]) -> list[str]:
    """crfcut cuts Thai at many spaces; a piece too short to stand alone joins its neighbour."""
    return _rejoin(parts, lambda prev, part: min(len(prev), len(part)) < MIN_SENTENCE_CHARS)


def _rejoin_brackets(parts: list[str]) -> list[str]:
    """crfcut cuts inside parentheses ("83.55% (กรุงเทพธุรกิจ | รายงานแถลง ...)"); a sentence does not end
    before its bracket closes.

    >>> _rejoin_brackets(["คะแนน 83.55% (กรุงเทพธุรกิจ", "แถลง 19 มิ.ย. 2567)", "ต่อไป"])
    ['คะแนน 83.55% (กรุงเทพธุรกิจ แถลง 19 มิ.ย. 2567)', 'ต่อไป']
    """
    return _rejoin(parts, lambda prev, _: prev.count("(") > prev.count(")") and len(prev) < MAX_LINE_CHARS)


def _rejoin_english(parts: list[str]) -> list[str]:
    """An English piece ending in an abbreviation or an initial goes on in the next piece.

    >>> _rejoin_english(["Jean Ribault charted the St.", "Johns River in 1562.", "It rained."])
    ['Jean Ribault charted the St. Johns River in 1562.', 'It rained.']
    """
    return _rejoin(parts, lambda prev, _: _EN_ABBREVIATION_END.search(prev) is not None)


def _rejoin_abbreviations(parts: list[str]) -> list[str]:
    """crfcut ends a sentence after "พ.ศ.", "ต.ค." or an initial; the next piece belongs to it.

    >>> _rejoin_abbreviations(["เอกสารปี 1999 โดย ไมเคิล อี.", "แมนน์ และมัลคอล์ม เค.", "ฮิวจ์ส"])
    ['เอกสารปี 1999 โดย ไมเคิล อี. แมนน์ และมัลคอล์ม เค. ฮิวจ์ส']
    """
    return _rejoin(parts, lambda prev, _: _THAI_ABBREVIATION_END.search(prev) is not None)


def chunk(
    text: str,
    doc_id: str,
    lang: str | None = None,
    max_tokens: int = 220,
    overlap: int = 1,
) -> list[Chunk]:
    """Split a document into chunks of at most `max_tokens` word tokens.

    Sentences are packed whole; a sentence longer than the limit is cut between words. Each chunk
    starts with the last `overlap` sentences of the one before it, within the same section.
    Markdown headings start a new chunk and name its section.
    """
    if max_tokens < 8:
        raise ValueError("max_tokens must be at least 8")
    lang = lang or detect_lang(text)
    max_chars = max_tokens * CHARS_PER_TOKEN
    units = list(_sentence_units(text, lang, max_tokens))
    chunks: list[Chunk] = []
    current: list[tuple[int, int, int]] = []  # (start, end, tokens)
    section = ""

    def flush(keep_overlap: bool) -> list[tuple[int, int, int]]:
        if current:
            start, end = current[0][0], current[-1][1]
            chunks.append(Chunk(doc_id, len(chunks), text[start:end], start, end, lang, section))
        if not keep_overlap or overlap <= 0:
            return []
        return current[-overlap:] if len(current) > overlap else []

    for kind, start, end, n_tokens in units:
        if kind == "heading":
            current = flush(keep_overlap=False)
            section = text[start:end].lstrip("# ").strip()
            continue
        if current and (sum(t for _, _, t in current) + n_tokens > max_tokens
                        or end - current[0][0] > max_chars):
            carried = flush(keep_overlap=True)
            while carried and (sum(t for _, _, t in carried) + n_tokens > max_tokens
                               or end - carried[0][0] > max_chars):
                carried = carried[1:]
            current = carried
        current.append((start, end, n_tokens))
    flush(keep_overlap=False)
    return chunks


def _sentence_units(text: str, lang: str, max_tokens: int):
    """Yield ('heading'|'sentence', start, end, tokens) in document order."""
    for kind, start, end in _paragraphs(text):
        if kind == "heading":
            yield kind, start, end, 0
            continue
        paragraph = text[start:end]
        for s_start, s_end in align(paragraph, sentences(paragraph, lang)):
            yield from _bounded(text, start + s_start, text[start + s_start:start + s_end], max_tokens)


def _paragraphs(text: str) -> list[tuple[str, int, int]]:
    """('heading'|'paragraph', start, end) spans: blank lines and Markdown headings separate paragraphs."""
    out: list[tuple[str, int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        start, end = pos, pos + len(body)
        pos += len(line)
        if not body.strip():
            out.append(("blank", start, end))
        elif _HEADING.match(body):
            out.append(("heading", start, end))
        elif out and out[-1][0] == "paragraph":
            out[-1] = ("paragraph", out[-1][1], end)
        else:
            out.append(("paragraph", start, end))
    return [span for span in out if span[0] != "blank"]


def align(text: str, parts: list[str]) -> list[tuple[int, int]]:
    """Map splitter output back to offsets in `text`, counting non-space characters.

    Splitters may drop or change whitespace, so each part is located by its non-space length.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for part in parts:
        need = sum(1 for ch in part if not ch.isspace())
        while pos < len(text) and text[pos].isspace():
            pos += 1
        start = pos
        while need and pos < len(text):
            if not text[pos].isspace():
                need -= 1
            pos += 1
        if pos > start:
            spans.append((start, pos))
    if pos < len(text) and text[pos:].strip():
        spans.append((pos + len(text[pos:]) - len(text[pos:].lstrip()), len(text.rstrip())))
    return spans


def _bounded(text: str, start: int, sentence: str, max_tokens: int):
    """One sentence as one unit, or cut between words into pieces of at most `max_tokens` tokens."""
    tokens = words(sentence)
    if len(tokens) <= max_tokens:
        yield "sentence", start, start + len(sentence), max(1, len(tokens))
        return
    from pythainlp.tokenize import word_tokenize

    pieces = word_tokenize(sentence, engine=DEFAULT_WORD_ENGINE, keep_whitespace=True)
    piece_start, pos, count = 0, 0, 0
    for piece in pieces:
        if piece.strip():
            if count == max_tokens:
                yield "sentence", start + piece_start, start + pos, count
                piece_start, count = pos, 0
            count += 1
        pos += len(piece)
    if count:
        yield "sentence", start + piece_start, start + pos, count

