"""The grounding check of a generated answer: every sentence cites a source that was given and says what
that source says.

The answer is cut into pieces after each run of citations ("... ลำปาง [1]", "... [2][3]"); a piece is cut
again at line breaks and, in Latin text, at sentence ends, so "A. B [1]" is two sentences of which the first
is uncited. Each sentence is then one of:

  ok            cites only sources that exist, and they support it (its words, or its meaning across
                languages, and every number in it);
  not_found     it says the documents do not answer (needs no citation);
  bad_citation  it cites a source number that was not given;
  uncited       it states something without a citation;
  unsupported   its citations exist but do not say what it says (e.g. an instruction hidden in a document,
                obeyed);
  empty         no letter or digit (a bullet, a stray citation): dropped without counting.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from assistant.ingest.chunking import normalize

SUPPORT_SHARE = 0.5     # share of a sentence's content words that its cited sources must contain
SUPPORT_COSINE = 0.45   # or, across languages, the USE-m3 similarity to the closest cited sentence
BE_OFFSET = 543         # Buddhist Era year = Common Era year + 543: "2564" supports "2021"

_CITE = re.compile(r"\[\s*(\d{1,3}(?:\s*[,،]\s*\d{1,3})*)\s*\]")
_CITE_RUN = re.compile(r"(?:[ \t]*\[\s*\d{1,3}(?:\s*[,،]\s*\d{1,3})*\s*\])+[ \t]*[.!?。]?")
_LATIN_END = re.compile(r"(?<=[a-z0-9)%][.!?])\s+(?=[A-Z\"'(])")
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S)


@dataclass
class Sentence:
    text: str                 # as written, with its citations and the whitespace before it
    cited: list[int]
    status: str = "ok"


@dataclass
class Checked:
    sentences: list[Sentence] = field(default_factory=list)

    @property
    def kept(self) -> list[Sentence]:
        return [s for s in self.sentences if s.status in ("ok", "not_found")]

    @property
    def removed(self) -> list[Sentence]:
        return [s for s in self.sentences if s.status in ("uncited", "unsupported", "bad_citation")]

    @property
    def bad_citation(self) -> bool:
        return any(s.status == "bad_citation" for s in self.sentences)

    @property
    def grounded(self) -> bool:
        """At least one sentence states something and is supported."""
        return any(s.status == "ok" for s in self.sentences)

    @property
    def not_found(self) -> bool:
        return not self.grounded and any(s.status == "not_found" for s in self.sentences)

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.kept).strip()


def visible(reply: str) -> str:
    """A model's reply without its reasoning (<think>...</think>, also while still open).

    >>> visible("<think>hmm</think>Lampang [1]")
    'Lampang [1]'
    """
    return _THINK.sub("", reply)


def split(text: str) -> list[Sentence]:
    """Sentences with their citations ("[1, 2]" counts as [1][2]).

    >>> [(s.text.strip(), s.cited) for s in split("แม่เมาะอยู่ลำปาง [1] มี 3 ด้าน [1, 2]. Extra.")]
    [('แม่เมาะอยู่ลำปาง [1]', [1]), ('มี 3 ด้าน [1, 2].', [1, 2]), ('Extra.', [])]
    """
    pieces: list[tuple[str, str]] = []  # (text before the citations, the citations)
    last = 0
    for match in _CITE_RUN.finditer(text):
        pieces.append((text[last:match.start()], match.group(0)))
        last = match.end()
    if text[last:]:
        pieces.append((text[last:], ""))
    out: list[Sentence] = []
    for body, cites in pieces:
        parts = [p for p in re.split(r"(?=\n)", body)]
        parts = [q for p in parts for q in _LATIN_END.split(p)]
        parts = [p for p in parts if p.strip()] or [body]
        for i, part in enumerate(parts):
            last_part = i == len(parts) - 1
            groups = _CITE.findall(cites) if last_part else []
            numbers = [int(n) for group in groups for n in re.split(r"\s*[,،]\s*", group)]
            lead = "" if i == 0 or part[:1].isspace() else " "
            out.append(Sentence(lead + part + (cites if last_part else ""), numbers))
    return out


def check(
    reply: str,
    n_sources: int,
    supports: Callable[[str, list[int]], bool],
    not_found: Iterable[str],
    final: bool = True,
) -> Checked:
    """Judge each sentence of a reply given `n_sources` numbered sources.

    supports(sentence_without_citations, cited_numbers): whether those sources say it.
    not_found: the phrases that say the documents do not answer.
    final=False (while streaming): the last, possibly unfinished sentence is left out.

    >>> yes = lambda text, cited: True
    >>> c = check("ลำปาง [1] ขอนแก่น [9] ภูเก็ต", 3, yes, ["ไม่พบคำตอบ"])
    >>> [s.status for s in c.sentences], c.bad_citation, c.text
    (['ok', 'bad_citation', 'uncited'], True, 'ลำปาง [1]')
    """
    text = visible(reply)
    sentences = split(text)
    if not final and sentences and not re.search(r"\]\W*$|\n\s*$", text):
        sentences = sentences[:-1]  # still being written
    phrases = [normalize(p) for p in not_found if p]
    for sentence in sentences:
        plain = _CITE.sub(" ", sentence.text).strip()
        if not any(ch.isalpha() or ch.isdigit() for ch in plain):
            sentence.status = "empty"  # a bullet, a stray citation: neither a claim nor worth keeping
            continue
        if any(p in normalize(plain) for p in phrases):
            sentence.status = "not_found"
        elif any(not 1 <= n <= n_sources for n in sentence.cited):
            sentence.status = "bad_citation"
        elif not sentence.cited:
            sentence.status = "uncited"
        elif not supports(plain, sentence.cited):
            sentence.status = "unsupported"
    return Checked(sentences)


def numbers_supported(sentence: str, sources: Iterable[str]) -> bool:
    """Every number of the sentence occurs in the sources (a year also in the other era; "3,454" = "3454").

    >>> numbers_supported("ได้รับตราในปี 2021 ครบ 7 ด้าน", ["ปี 2564 มีแผน 7 ด้าน"])
    True
    >>> numbers_supported("มี 5 ด้าน", ["มีแผน 3 ด้าน"])
    False
    """
    wanted = {_plain_number(n) for n in _NUMBER.findall(normalize(sentence))}
    if not wanted:
        return True
    have: set[str] = set()
    for text in sources:
        for number in _NUMBER.findall(normalize(text)):
            have.add(_plain_number(number))
            have.update(part for part in re.split(r"[.,/]", number) if part)
    for number in list(have):
        if number.isdigit() and 1900 <= int(number) <= 2700:
            have.update({str(int(number) - BE_OFFSET), str(int(number) + BE_OFFSET)})
    return wanted <= have


def _plain_number(number: str) -> str:
    return number.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", number) else number
