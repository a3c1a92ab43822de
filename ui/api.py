"""The REST API (/api/v1) on the same FastAPI app as the UI: ask, cities, check, health.

Public routes only: staff actions exist in the signed-in web UI, not here. Bad input gets 400 or 422 with
{"error": "one line"}; a client over the rate limit gets 429 with the polite message in the question's
language and a Retry-After header.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from assistant.config import MAX_QUESTION_CHARS
from assistant.ingest.documents import detect_lang
from assistant.errors import MuangError
from assistant.serve.ratelimit import Limited
from assistant.serve.running import HEADER as LOCAL_HEADER

log = logging.getLogger("muang.api")
MAX_PROPOSAL_CHARS = 200_000


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description=f"the question, Thai or English, at most {MAX_QUESTION_CHARS} characters")
    history: list[Message | str] | None = Field(None, description="the conversation so far (messages, or "
                                                                   "earlier questions)")
    k: int | None = Field(None, ge=1, le=50, description="number of sources (default 5)")
    city: str | None = Field(None, description="only documents about this city (slug, e.g. phuket)")
    smart: str | None = Field(None, description="only documents about this Smart (e.g. energy)")
    lang: Literal["th", "en"] | None = Field(None, description="only sources in this language")


class CheckRequest(BaseModel):
    text: str = Field(description="the proposal's text")


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split())[:300]}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    first = (exc.errors() or [{}])[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
    return f"{where}: {first.get('msg', 'invalid input')}" if where else first.get("msg", "invalid input")


def client_key(request: Request) -> str | None:
    return f"ip:{request.client.host}" if request.client else None


def install(app: FastAPI, service) -> None:
    """Add the /api/v1 routes and the one-line error handlers to `app`."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return error(422, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error(exc.status_code, exc.detail or "error", getattr(exc, "headers", None))

    @app.post("/api/v1/ask", tags=["questions"], summary="Answer a question with sources",
              description="Returns exactly the `muang ask --json` object; each source also has its `origin`.")
    def ask(body: AskRequest, request: Request) -> Any:
        history = [m.model_dump() if isinstance(m, Message) else m for m in body.history or []] or None
        # `muang ask` on this host, holding the token from the index folder, is not a public client.
        token = getattr(request.app.state, "local_token", None)
        local = token is not None and request.headers.get(LOCAL_HEADER) == token
        try:
            return service.ask(body.question, body.city, body.smart, body.lang, history=history,
                               client=None if local else client_key(request), k=body.k)
        except Limited as exc:
            return error(429, exc.message(detect_lang(body.question)),
                         {"Retry-After": str(max(1, round(exc.retry_after)))})
        except MuangError as exc:
            return error(400, str(exc))

    @app.get("/api/v1/cities", tags=["precedents"], summary="The precedents table: awarded cities")
    def cities(smart: str | None = None, batch: int | None = None, province: str | None = None) -> Any:
        from assistant.answer.catalog import filter_cities
        from assistant.ingest.documents import SMARTS

        if smart and smart not in SMARTS:
            return error(400, f"unknown Smart {smart!r}; choose one of {', '.join(SMARTS)}")
        try:
            index = service.index()
            found = filter_cities(index.catalog(), smart=smart, batch=batch, province=province)
        except MuangError as exc:
            return error(400, str(exc))
        return [c.to_json() for c in found]

    @app.post("/api/v1/check", tags=["criteria"], summary="Check a proposal against the application criteria",
              description="JSON `{\"text\": ...}`, or a multipart form with a `file` (.md .txt .html .pdf .docx) "
                          "or a `text` field.",
              openapi_extra={"requestBody": {"content": {
                  "application/json": {"schema": CheckRequest.model_json_schema()},
                  "multipart/form-data": {"schema": {"type": "object", "properties": {
                      "file": {"type": "string", "format": "binary"}, "text": {"type": "string"}}}}}}})
    async def check(request: Request) -> Any:
        try:
            text = await _proposal(request, service.settings.max_file_mb)
        except MuangError as exc:
            return error(400, str(exc))
        if not text.strip():
            return error(400, "the proposal is empty: send its text or a file")
        if len(text) > MAX_PROPOSAL_CHARS:
            return error(400, f"the proposal has {len(text)} characters; the limit is {MAX_PROPOSAL_CHARS}")
        from starlette.concurrency import run_in_threadpool

        from assistant.answer.criteria import check_text

        try:
            report = await run_in_threadpool(lambda: check_text(service.index(), text))
        except MuangError as exc:
            return error(400, str(exc))
        return report.to_json()

    @app.get("/api/v1/health", tags=["service"], summary="Whether the server can answer, and which build")
    def health() -> Any:
        index = service.try_index()
        if index is None:
            return JSONResponse({"status": "no index", "build": None, "documents": 0, "chunks": 0}, status_code=503)
        return {"status": "ok", "build": index.build, "documents": len(index.docs), "chunks": len(index.chunks)}


async def _proposal(request: Request, max_mb: float) -> str:
    """The proposal's text from a JSON body or a multipart form (text field, or a file read like any document)."""
    kind = request.headers.get("content-type", "")
    if kind.startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if upload is not None and hasattr(upload, "read"):
            from assistant.answer.criteria import read_proposal

            data = await upload.read()
            if len(data) > max_mb * 1024 * 1024:
                raise MuangError(f"the file is larger than {max_mb:g} MB")
            suffix = Path(upload.filename or "proposal.txt").suffix or ".txt"
            with tempfile.TemporaryDirectory(prefix="muang-check-") as folder:
                path = Path(folder) / f"proposal{suffix}"
                path.write_bytes(data)
                return read_proposal(path)
        return str(form.get("text") or "")
    try:
        data = await request.json()
    except ValueError:
        raise MuangError("send JSON {\"text\": ...} or a multipart form with a file") from None
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise MuangError("the JSON body must be an object with a string \"text\"")
    return data["text"]
