"""The LINE Messaging API webhook (POST /line/webhook), with the official line-bot-sdk (v3).

The signature (X-Line-Signature, HMAC-SHA256 of the raw body with the channel secret) is checked before
anything else: wrong or missing -> 401. The webhook answers 200 at once and the replies follow from a
background task (LINE wants its webhook answered within seconds). Each text message is answered in its own
language: the short answer, then the numbered sources with links, within LINE's limits (5,000 characters a
text, 5 messages a reply). Follow-ups read that user's recent turns (ui/line_store.py). In a group or a room
the bot answers only messages that mention it, so it never talks over people. Stickers, images and other
non-text messages get a friendly "send a question as text". An event delivered twice is answered once.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse

from assistant.config import MAX_QUESTION_CHARS, Settings
from assistant.ingest.documents import detect_lang
from assistant.errors import MuangError
from assistant.serve.ratelimit import Limited
from ui import line_store

log = logging.getLogger("muang.line")
MAX_TEXT = 5000      # characters in one LINE text message
MAX_MESSAGES = 5     # messages in one reply

_TEXT = {
    "th": {
        "sources": "แหล่งข้อมูล",
        "not_text": "ขอบคุณค่ะ 😊 ตอนนี้ตอบได้เฉพาะคำถามที่พิมพ์เป็นข้อความ เช่น \"แม่เมาะอยู่จังหวัดไหน\"",
        "too_long": "คำถามยาว {n:,} ตัวอักษร เกินขีดจำกัด {limit:,} ตัวอักษร กรุณาย่อคำถามแล้วส่งใหม่",
        "empty": "กรุณาพิมพ์คำถามเป็นข้อความ",
        "error": "ขออภัย ตอบคำถามนี้ไม่ได้: {reason}",
        "welcome": "สวัสดีค่ะ ถามเรื่องเมืองอัจฉริยะของไทยเป็นภาษาไทยหรืออังกฤษได้เลย ทุกคำตอบบอกแหล่งที่มา",
    },
    "en": {
        "sources": "Sources",
        "not_text": "Thank you 😊 I can only answer questions sent as text, e.g. \"Which province is Mae Moh in?\"",
        "too_long": "The question has {n:,} characters; the limit is {limit:,}. Please shorten it and send it again.",
        "empty": "Please send your question as text.",
        "error": "Sorry, I cannot answer this: {reason}",
        "welcome": "Hello! Ask about Thailand's smart cities in Thai or English; every answer shows its sources.",
    },
}


def _both(key: str) -> str:
    """A message for someone whose language is unknown (a sticker says nothing): Thai, then English."""
    return f"{_TEXT['th'][key]}\n\n{_TEXT['en'][key]}"


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or a space where there is one.

    >>> split_text("aaa bbb ccc", 7)
    ['aaa bbb', 'ccc']
    """
    pieces: list[str] = []
    text = text.strip()
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit + 1), text.rfind(" ", 0, limit + 1))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def answer_messages(result: dict[str, Any]) -> list[str]:
    """The reply to one answered question: the answer, then its numbered sources with links, as at most
    MAX_MESSAGES texts of at most MAX_TEXT characters."""
    lang = result.get("language") if result.get("language") in _TEXT else "th"
    lines = [f"{_TEXT[lang]['sources']}:"]
    for source in result.get("sources", []):
        lines.append(f"[{source['n']}] {source.get('title') or source.get('doc_id')}"
                     + (f"\n{source['url']}" if source.get("url") else ""))
    texts = split_text(result["answer"]) + (split_text("\n".join(lines)) if len(lines) > 1 else [])
    if len(texts) > MAX_MESSAGES:
        texts = texts[:MAX_MESSAGES]
        texts[-1] = texts[-1][: MAX_TEXT - 1] + "…"
    return texts


def _conversation(event) -> tuple[str | None, str]:
    """(the conversation's key or None when the bot should stay silent, the rate-limit key)."""
    source = event.source
    kind = getattr(source, "type", None)
    user = getattr(source, "user_id", None) or "unknown"
    if kind == "user":
        return f"user:{user}", f"line:{user}"
    place = getattr(source, "group_id", None) or getattr(source, "room_id", None) or "unknown"
    return f"{kind}:{place}:{user}", f"line:{user}"


def _mentions_bot(message) -> bool:
    mention = getattr(message, "mention", None)
    return bool(mention and any(getattr(m, "is_self", False) for m in mention.mentionees or []))


def _without_mentions(message) -> str:
    """The text with the bot's own @mention cut out."""
    text = message.text
    mention = getattr(message, "mention", None)
    for m in sorted((m for m in (mention.mentionees if mention else []) if getattr(m, "is_self", False)),
                    key=lambda m: m.index, reverse=True):
        text = text[: m.index] + text[m.index + m.length:]
    return text.strip()


class LineBot:
    """Answers LINE events through the shared Service and replies through the Messaging API."""

    def __init__(self, settings: Settings, service) -> None:
        from linebot.v3 import WebhookParser
        from linebot.v3.messaging import ApiClient, Configuration

        self.settings = settings
        self.service = service
        self.parser = WebhookParser(settings.line_channel_secret)
        configuration = Configuration(host=settings.line_api_url.rstrip("/"),
                                      access_token=settings.line_channel_token or "")
        self.client = ApiClient(configuration)

    def parse(self, body: str, signature: str):
        """The events of a webhook body; InvalidSignatureError when the signature does not match."""
        return self.parser.parse(body, signature)

    def handle(self, events: list) -> None:
        for event in events:
            try:
                if line_store.first_delivery(self.settings, event.webhook_event_id):
                    self._handle(event)
            except Exception:  # one bad event must not stop the others; the log has it
                log.exception("LINE event %s failed", getattr(event, "webhook_event_id", "?"))

    def _handle(self, event) -> None:
        from linebot.v3.webhooks import FollowEvent, MessageEvent, TextMessageContent

        if isinstance(event, FollowEvent):
            self.reply(event.reply_token, [_both("welcome")])
            return
        if not isinstance(event, MessageEvent) or not event.reply_token:
            return
        in_group = getattr(event.source, "type", None) in ("group", "room")
        if not isinstance(event.message, TextMessageContent):
            if not in_group:  # in a group a photo is for the people there, not for the bot
                self.reply(event.reply_token, [_both("not_text")])
            return
        if in_group and not _mentions_bot(event.message):
            return
        self.reply(event.reply_token, self.answer(event))

    def answer(self, event) -> list[str]:
        conversation, client = _conversation(event)
        text = _without_mentions(event.message)
        lang = detect_lang(text) if text else "th"
        if not text:
            return [_TEXT[lang]["empty"]]
        if len(text) > MAX_QUESTION_CHARS:
            return [_TEXT[lang]["too_long"].format(n=len(text), limit=MAX_QUESTION_CHARS)]
        try:
            result = self.service.ask(text, history=line_store.history(self.settings, conversation) or None,
                                      client=client)
        except Limited as exc:
            return [exc.message(lang)]
        except MuangError as exc:
            return [_TEXT[lang]["error"].format(reason=exc)]
        line_store.remember(self.settings, conversation, text, result["answer"])
        return answer_messages(result)

    def reply(self, token: str, texts: list[str]) -> None:
        from linebot.v3.messaging import MessagingApi, ReplyMessageRequest, TextMessage

        messages = [TextMessage(text=t) for t in texts[:MAX_MESSAGES]]
        MessagingApi(self.client).reply_message(ReplyMessageRequest(reply_token=token, messages=messages))


def install(app: FastAPI, service) -> None:
    """Add POST /line/webhook to `app` (it answers 503 while MUANG_LINE_CHANNEL_SECRET is not set)."""
    settings = service.settings
    bot = LineBot(settings, service) if settings.line_channel_secret else None

    @app.post("/line/webhook", tags=["LINE"], summary="LINE Messaging API webhook",
              description="Verified with X-Line-Signature; answers 200 and replies through the Messaging API.")
    async def webhook(request: Request, background: BackgroundTasks) -> Any:
        from linebot.v3.exceptions import InvalidSignatureError

        if bot is None:
            return JSONResponse({"error": "LINE is not set up: set MUANG_LINE_CHANNEL_SECRET and "
                                          "MUANG_LINE_CHANNEL_TOKEN"}, status_code=503)
        signature = request.headers.get("x-line-signature")
        if not signature:
            return JSONResponse({"error": "missing X-Line-Signature"}, status_code=401)
        body = (await request.body()).decode("utf-8", errors="replace")
        try:
            events = bot.parse(body, signature)
        except InvalidSignatureError:
            return JSONResponse({"error": "wrong X-Line-Signature"}, status_code=401)
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "not a LINE webhook body"}, status_code=400)
        background.add_task(bot.handle, events)
        return {"status": "ok"}
