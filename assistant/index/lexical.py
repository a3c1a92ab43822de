"""BM25 over PyThaiNLP `newmm` tokens (bm25s), persisted as a folder beside the vectors.

bm25s's default tokenizer splits on spaces, which Thai does not put between words: we give it word lists.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.ingest.chunking import normalize, words
from assistant.errors import MuangError

LEXICAL_VERSION = 2  # 2: brackets, quotes and stops no longer part of a token
_EN_STOPWORDS = frozenset(
    "a an the of in on at to for from by with and or is are was were be been it its this that these those "
    "what which who whom whose when where why how do does did has have had can could will would should "
    "there their they them as about into than then so not no yes i you he she we me my our your "
    "many much tell please any some far".split()
)
# Question words that PyThaiNLP's stopword list lacks; they say what is asked, not what it is about.
_THAI_QUESTION_WORDS = frozenset([
    "กี่", "ไหม", "มั๊ย", "เปล่า", "หรือเปล่า", "ล่ะ", "จ้ะ", "คับ", "ที่ไหนบ้าง", "อย่างไรบ้าง", "ครับผม",
    "นะคะ", "นะครับ", "คะ", "ขอบคุณ", "ทำ", "ตอน", "แล้ว", "บ้าง", "หน่อย", "จ๊ะ", "จ้า", "ค่ะ",
])


@lru_cache(maxsize=1)
def _thai_stopwords() -> frozenset[str]:
    from pythainlp.corpus import thai_stopwords

    return frozenset(thai_stopwords()) | _THAI_QUESTION_WORDS


def tokenize(text: str) -> list[str]:
    """Normalized word tokens for matching; punctuation dropped, also the brackets, quotes and stops that newmm
    leaves around a Latin word (without that, "(TSCCI)" is a word of its own and a search for "TSCCI" misses it).

    >>> tokenize("เมืองอัจฉริยะ ๗ ด้าน!"), tokenize('Index (TSCCI) "quoted" ("BOI"). 83.6.')
    (['เมือง', 'อัจฉริยะ', '7', 'ด้าน'], ['index', 'tscci', 'quoted', 'boi', '83.6'])
    """
    return [t for t in (w.strip(_AROUND) for w in words(normalize(text))) if any(ch.isalnum() for ch in t)]


_AROUND = "()[]{}<>\"“”«».,;:!?"


def content_tokens(text: str) -> list[str]:
    """`tokenize` without Thai and English stopwords: the words that carry a question's meaning.

    >>> content_tokens("แม่เมาะอยู่จังหวัดไหน")
    ['แม่', 'เมาะ', 'จังหวัด']
    """
    return drop_stopwords(tokenize(text))


def drop_stopwords(tokens) -> list[str]:
    """Tokens without Thai and English stopwords (`tokenize` output in, `content_tokens` out)."""
    thai = _thai_stopwords()
    return [t for t in tokens if t not in thai and t not in _EN_STOPWORDS]


class LexicalIndex:
    """BM25 scores for every chunk, in the order the chunks were given."""

    def __init__(self, model) -> None:
        self._model = model
        self._vocab: dict[str, int] = model.vocab_dict
        # bm25s stores a token-major sparse matrix: a token's column length is its document frequency.
        doc_freq = np.diff(model.scores["indptr"])
        n_docs = model.scores["num_docs"]
        self._idf = np.log(1 + (n_docs - doc_freq + 0.5) / (doc_freq + 0.5))
        self._unseen_idf = float(np.log(1 + (n_docs + 0.5) / 0.5))

    @classmethod
    def build(cls, texts: list[str]) -> "LexicalIndex":
        import bm25s

        model = bm25s.BM25()
        model.index([tokenize(t) or [""] for t in texts], show_progress=False)
        return cls(model)

    def save(self, folder: Path) -> None:
        self._model.save(str(folder), show_progress=False)
        (folder / "muang.json").write_text(json.dumps({"version": LEXICAL_VERSION}))

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s

        meta = folder / "muang.json"
        if not meta.exists() or json.loads(meta.read_text()).get("version") != LEXICAL_VERSION:
            raise MuangError(f"{folder}: lexical index is from another Muang version; run `muang index --rebuild`")
        return cls(bm25s.BM25.load(str(folder), show_progress=False))

    def known(self, tokens: list[str]) -> list[str]:
        """The tokens that occur somewhere in the indexed text."""
        return [t for t in tokens if t in self._vocab]

    def idf(self, token: str) -> float:
        """Inverse document frequency; a token the index never saw gets the highest value."""
        position = self._vocab.get(token)
        return self._unseen_idf if position is None else float(self._idf[position])

    def scores(self, query: str) -> np.ndarray:
        tokens = self.known(tokenize(query))
        if not tokens:
            return np.zeros(self._model.scores["num_docs"], dtype=np.float32)
        return self._model.get_scores(tokens)
