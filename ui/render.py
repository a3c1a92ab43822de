"""Pure functions that turn answers and documents into safe HTML or chat Markdown.

Every piece of document text, title, link and question is escaped here before it reaches the page:
`<script>` or `<img onerror=...>` in a document is shown as text and never runs.
"""

from __future__ import annotations

import html
import re
from typing import Any, Iterable

from assistant.index.provenance import describe
from ui.texts import t

# Characters that Markdown (and the chatbot's LaTeX) would interpret; replaced by numeric entities so a
# document's "[x](javascript:...)" or "![](...)" stays plain text.
_MARKDOWN_SPECIALS = {c: f"&#{ord(c)};" for c in "\\`*_[](){}#!|~$+-"}
_MD_TABLE = str.maketrans(_MARKDOWN_SPECIALS)
_CITATION = re.compile(r"\[(\d{1,3})\]")


def esc(text: Any) -> str:
    """HTML-escape any value (None becomes "").

    >>> esc('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if text is None else str(text), quote=True)


def esc_md(text: Any) -> str:
    """Escape text for a Markdown message: HTML escaped, and Markdown syntax turned into entities.

    >>> esc_md("[1] <b>x</b>")
    '&#91;1&#93; &lt;b&gt;x&lt;/b&gt;'
    """
    return esc(text).translate(_MD_TABLE)


def safe_url(url: Any) -> str | None:
    """The URL if it is an http(s) link, else None (no javascript:, data: ...).

    >>> safe_url("https://depa.or.th/x"), safe_url("javascript:alert(1)")
    ('https://depa.or.th/x', None)
    """
    url = ("" if url is None else str(url)).strip()
    return url if re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE) else None


def link(url: Any, label: Any | None = None) -> str:
    """An escaped <a> to an http(s) URL, or the escaped text when the URL is not a web link."""
    good = safe_url(url)
    shown = esc(label if label is not None else url)
    if not good:
        return shown
    return f'<a href="{esc(good)}" target="_blank" rel="noopener noreferrer nofollow">{shown}</a>'


def highlight(text: str, words: Iterable[str]) -> str:
    """Escaped `text` with each occurrence of `words` (case-insensitive) wrapped in <mark>.

    >>> highlight("Mae Moh <b> is in Lampang", ["lampang", "<b>"])
    'Mae Moh <mark>&lt;b&gt;</mark> is in <mark>Lampang</mark>'
    """
    words = sorted({w for w in words if w and w.strip() and len(w.strip()) > 1}, key=len, reverse=True)
    if not words:
        return esc(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out.append(esc(text[last:match.start()]))
        out.append(f"<mark>{esc(match.group(0))}</mark>")
        last = match.end()
    out.append(esc(text[last:]))
    return "".join(out)


def excerpt(text: str, words: Iterable[str], width: int = 320) -> str:
    """At most `width` characters of `text`, around the first of `words` found (… marks cuts).

    >>> excerpt("a" * 50 + " Lampang " + "b" * 50, ["lampang"], width=20)
    '…aaaaa Lampang bbbbbb…'
    """
    if len(text) <= width:
        return text
    lowered = text.lower()
    found = [i for i in (lowered.find(w.lower()) for w in words if w and len(w.strip()) > 1) if i >= 0]
    start = max(0, min(found) - width // 3) if found else 0
    end = min(len(text), start + width)
    start = max(0, end - width)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


def question_words(question: str) -> list[str]:
    """The question's content words (PyThaiNLP tokens without stopwords), used for highlighting."""
    from assistant.index.lexical import content_tokens

    return content_tokens(question)


def answer_markdown(answer_text: str, confident: bool, sources: list[dict[str, Any]], lang: str,
                    short_answer: str = "") -> str:
    """The chat message of one answer: the short answer in bold, escaped text with citations [n] in bold, a
    mark when not confident, and a short list of the sources."""
    pieces = []
    last = 0
    lead = f"{short_answer} — "
    if short_answer and answer_text.startswith(lead):
        pieces.append(f"**{esc_md(short_answer)}** — ")
        answer_text = answer_text[len(lead):]
    for match in _CITATION.finditer(answer_text):
        pieces.append(esc_md(answer_text[last:match.start()]))
        pieces.append(f'<b class="cite">&#91;{match.group(1)}&#93;</b>')
        last = match.end()
    pieces.append(esc_md(answer_text[last:]))
    body = "".join(pieces)
    parts = []
    if not confident:
        parts.append(f"⚠️ **{esc_md(t(lang, 'not_confident'))}**\n\n")
    parts.append(body)
    if sources:
        items = " · ".join(f"&#91;{int(s['n'])}&#93; {_md_link(s.get('url'), s.get('title', ''))}" for s in sources)
        parts.append(f"\n\n<small>📚 {esc_md(t(lang, 'sources'))}: {items}</small>")
    return "".join(parts)


def answer_footer(result: dict[str, Any], lang: str, model: str = "") -> str:
    """How an answer was made, under it: the follow-up as understood, the mode and any fallback notice.

    >>> answer_footer({"question": "มีกี่ด้าน", "standalone": "ขอนแก่น มีกี่ด้าน", "mode": "extractive",
    ...                "notice": None}, "th")
    '\\n\\n<small>↪️ เข้าใจคำถามว่า: ขอนแก่น มีกี่ด้าน · 🔎 คัดข้อความจากเอกสาร</small>'
    """
    parts = []
    standalone = result.get("standalone")
    if standalone and standalone != result.get("question"):
        parts.append(f"↪️ {esc_md(t(lang, 'understood_as'))}: {esc_md(standalone)}")
    mode = result.get("mode") or "extractive"
    icon = {"llm": "🤖", "catalog": "📋"}.get(mode, "🔎")
    parts.append(f"{icon} {esc_md(t(lang, 'mode_' + mode, model=model or 'LLM'))}")
    footer = f"\n\n<small>{' · '.join(parts)}</small>"
    if result.get("notice"):
        footer += f'\n\n<small class="llm-notice">ℹ️ {esc_md(result["notice"])}</small>'
    return footer


def _md_link(url: Any, title: Any) -> str:
    good = safe_url(url)
    if not good:
        return esc_md(title)
    return f'<a href="{esc(good)}" target="_blank" rel="noopener noreferrer nofollow">{esc_md(title)}</a>'


def error_markdown(message: str, lang: str) -> str:
    return f"⛔ **{esc_md(t(lang, 'error'))}:** {esc_md(message)}"


def sources_html(sources: list[dict[str, Any]], question: str, lang: str, confident: bool = True) -> str:
    """The sources panel: one card per source with title, language, city, the passage with the question's
    words highlighted and the source link."""
    if not sources:
        return f'<div class="muang-sources empty">{esc(t(lang, "sources_empty"))}</div>'
    words = question_words(question)
    cards = []
    for s in sources:
        passage = s.get("quote") or excerpt(s.get("text", ""), words)
        full = s.get("text", "")
        url = safe_url(s.get("url"))
        city = s.get("city") or "–"
        lang_name = t(lang, "lang_th") if s.get("lang") == "th" else t(lang, "lang_en")
        details = ""
        if full and full != passage:
            details = (f'<details><summary>{esc(t(lang, "full_passage"))}</summary>'
                       f'<div class="passage">{highlight(full, words)}</div></details>')
        cards.append(
            f'<article class="source-card" data-n="{int(s["n"])}">'
            f'<header><span class="cite">[{int(s["n"])}]</span> <strong class="source-title">{esc(s.get("title"))}</strong></header>'
            f'<div class="meta">{esc(t(lang, "source_lang"))}: {esc(lang_name)} · {esc(t(lang, "source_city"))}: '
            f'{esc(city)} · <code>{esc(s.get("doc_id"))}</code>'
            + (f' · <span class="ocr">{esc(t(lang, "source_ocr"))}</span>' if s.get("ocr") else "")
            + (f' · <span class="origin">{esc(t(lang, "col_origin"))}: {esc(describe(s["origin"], lang))}</span>'
               if isinstance(s.get("origin"), dict) else "")
            + '</div>'
            f'<blockquote class="passage">{highlight(passage, words)}</blockquote>{details}'
            + (f'<div class="link">🔗 {link(url)}</div>' if url else "")
            + "</article>"
        )
    flag = "" if confident else f'<div class="not-confident">⚠️ {esc(t(lang, "not_confident"))}</div>'
    return (f'<div class="muang-sources"><h3>{esc(t(lang, "sources"))}</h3>{flag}' + "".join(cards) + "</div>")


def notice_html(message: str, kind: str = "info") -> str:
    return f'<div class="muang-notice {esc(kind)}">{esc(message)}</div>'


def failures_html(failed: list[tuple[str, str]], lang: str) -> str:
    if not failed:
        return ""
    items = "".join(f"<li><code>{esc(path)}</code>: {esc(reason)}</li>" for path, reason in failed)
    return f'<div class="muang-failures"><strong>{esc(t(lang, "failed_heading"))}</strong><ul>{items}</ul></div>'


def bar_chart_html(counts: list[tuple[str, int]], title: str) -> str:
    """A plain HTML bar chart (no JavaScript): one labelled bar per row."""
    top = max((c for _, c in counts), default=0) or 1
    rows = "".join(
        f'<div class="bar-row"><span class="bar-label">{esc(label)}</span>'
        f'<span class="bar" style="width:{int(300 * count / top)}px"></span><span class="bar-value">{int(count)}</span></div>'
        for label, count in counts
    )
    return f'<div class="muang-chart"><h4>{esc(title)}</h4>{rows}</div>'


CSS = """
.muang-sources .source-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 8px 12px; margin: 8px 0; }
.muang-sources .cite { font-weight: 700; color: var(--color-accent); }
.muang-sources .meta { font-size: 0.85em; opacity: 0.8; margin: 2px 0 6px; }
.muang-sources blockquote { margin: 4px 0; padding-left: 8px; border-left: 3px solid var(--color-accent); }
.muang-sources mark { background: #fde68a; color: inherit; padding: 0 1px; }
.muang-sources .link { font-size: 0.85em; word-break: break-all; }
.not-confident { background: #fef3c7; color: #92400e; border-radius: 6px; padding: 6px 10px; margin: 6px 0; }
.muang-notice { padding: 6px 10px; border-radius: 6px; background: var(--background-fill-secondary); }
.muang-notice.error { background: #fee2e2; color: #991b1b; }
.muang-failures { background: #fee2e2; color: #991b1b; border-radius: 6px; padding: 6px 10px; margin-top: 6px; }
.muang-chart .bar-row { display: flex; align-items: center; gap: 8px; margin: 3px 0; }
.muang-chart .bar-label { width: 220px; text-align: right; font-size: 0.9em; }
.muang-chart .bar { display: inline-block; height: 14px; background: var(--color-accent); border-radius: 3px; }
"""
