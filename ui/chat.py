"""One turn of the chat: the question, the conversation so far, and the streamed, cited answer.

A generator for Gradio: each yield is (chat messages, sources panel, question box, chat state, records).
With an LLM configured the answer streams as the model writes it (only sentences that passed the grounding
check are ever shown); the extractive answer appears in a few growing pieces.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from assistant.errors import MuangError
from assistant.serve.ratelimit import Limited
from ui import render
from ui.service import Service, check_question
from ui.texts import t

log = logging.getLogger("muang.ui")
STREAM_STEPS = 6       # an extractive answer appears in this many growing pieces
STREAM_DELAY = 0.03    # seconds between pieces
_DONE = object()


def history_of(records: list[Any]) -> list[dict[str, str]]:
    """The conversation as the answer chain reads it, from the answered turns' records.

    >>> history_of([None, {"question": "แม่เมาะอยู่ที่ไหน", "answer": "ลำปาง [1]"}])
    [{'role': 'user', 'content': 'แม่เมาะอยู่ที่ไหน'}, {'role': 'assistant', 'content': 'ลำปาง [1]'}]
    """
    out: list[dict[str, str]] = []
    for record in records or []:
        if record:
            out += [{"role": "user", "content": record["question"]},
                    {"role": "assistant", "content": record["answer"]}]
    return out


def chat_turn(service: Service, question_text: str, city: str | None, smart: str | None, source_lang: str | None,
              lang: str, history: list[dict[str, Any]], recs: list[Any], client: str | None = None
              ) -> Iterator[tuple]:
    """Answer one question after the earlier turns, streaming it into the conversation; `client` is the key
    the question counts against in the rate limit."""
    history, recs = list(history or []), list(recs or [])
    text, problem = check_question(question_text)
    if problem:
        if text:
            history.append({"role": "user", "content": render.esc_md(text[:300] + "…")})
            recs.append(None)
        history.append({"role": "assistant", "content": render.error_markdown(t(lang, problem[0], **problem[1]), lang)})
        recs.append(None)
        yield history, gr.update(), question_text, history, recs
        return
    conversation = history_of(recs)
    history.append({"role": "user", "content": render.esc_md(text)})
    history.append({"role": "assistant", "content": "…"})
    recs += [None, None]
    yield history, gr.update(), "", history, recs

    llm = bool(service.settings.llm_url)
    result: dict[str, Any] | None = None
    try:
        if llm:
            for item in _streamed(service, text, city, smart, source_lang, conversation, client):
                if isinstance(item, str):
                    history[-1] = {"role": "assistant", "content": render.answer_markdown(item + " …", True, [], lang)}
                    yield history, gr.update(), "", history, recs
                else:
                    result = item
        else:
            result = service.ask(text, city, smart, source_lang, history=conversation, client=client)
    except Limited as exc:
        history[-1] = {"role": "assistant", "content": f"⏳ {render.esc_md(exc.message(lang))}"}
        yield history, gr.update(), text, history, recs
        return
    except MuangError as exc:
        history[-1] = {"role": "assistant", "content": render.error_markdown(str(exc), lang)}
        yield history, gr.update(), text, history, recs
        return
    except Exception as exc:  # never a traceback in the page; the log has it
        log.exception("answering failed")
        history[-1] = {"role": "assistant",
                       "content": render.error_markdown(f"internal error ({type(exc).__name__})", lang)}
        yield history, gr.update(), text, history, recs
        return
    assert result is not None
    full = result["answer"]
    if result.get("mode") != "llm":
        for step in range(1, STREAM_STEPS):
            history[-1] = {"role": "assistant", "content": render.answer_markdown(
                full[: len(full) * step // STREAM_STEPS], True, [], lang, result.get("short_answer", ""))}
            yield history, gr.update(), "", history, recs
            time.sleep(STREAM_DELAY)
    footer = render.answer_footer(result, lang, service.settings.llm_model or "")
    history[-1] = {"role": "assistant",
                   "content": render.answer_markdown(full, result["confident"], result["sources"], lang,
                                                      result.get("short_answer", "")) + footer}
    recs[-1] = {"question": text, "answer": full, "confident": result["confident"], "sources": result["sources"],
                "standalone": result.get("standalone"), "mode": result.get("mode"), "notice": result.get("notice")}
    panel = render.sources_html(result["sources"], result.get("standalone") or text, lang, result["confident"])
    yield history, panel, "", history, recs


def _streamed(service: Service, text: str, city, smart, source_lang, conversation, client) -> Iterator[Any]:
    """The LLM answer as it grows (str), then the result (dict); the answer runs in a worker thread."""
    updates: queue.Queue = queue.Queue()

    def work() -> None:
        try:
            updates.put(service.ask(text, city, smart, source_lang, history=conversation, on_text=updates.put,
                                    client=client))
        except BaseException as exc:  # handed to the generator, which reports it
            updates.put(exc)
        finally:
            updates.put(_DONE)

    threading.Thread(target=work, name="muang-answer", daemon=True).start()
    while True:
        item = updates.get()
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item
