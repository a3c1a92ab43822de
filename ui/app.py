"""The Gradio web UI: chat with sources, documents and uploads, precedents, criteria check.

`muang serve` finds `launch` through the `muang.serve` entry point, so nothing in `assistant/` imports `ui`.
"""

from __future__ import annotations

import os

# Before gradio is imported: no analytics (it would look up a remote host), no model downloads.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import logging  # noqa: E402
from typing import Any, Callable  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.documents import SMARTS, SUFFIXES  # noqa: E402
from assistant.errors import MuangError  # noqa: E402
from ui import extras, render  # noqa: E402
from ui.chat import chat_turn  # noqa: E402
from ui.service import Service  # noqa: E402
from ui.texts import ANY, DEFAULT_LANG, EXAMPLES, LANG_CHOICES, WHO, city_name, smart_name, t  # noqa: E402

log = logging.getLogger("muang.ui")
ASK_CONCURRENCY = 4    # answers themselves run one at a time (Service lock); streaming overlaps

Relabel = list[tuple[Any, Callable[[str], Any]]]


def build_app(settings: Settings) -> gr.Blocks:
    """The whole UI over one shared Service (one open Index)."""
    service = Service(settings)
    service.try_index()
    relabel: Relabel = []

    with gr.Blocks(title="Muang · เมือง", analytics_enabled=False) as app:
        ui_lang = gr.State(DEFAULT_LANG)
        with gr.Row():
            title = gr.Markdown(t(DEFAULT_LANG, "title"))
            lang_radio = gr.Radio(LANG_CHOICES, value=DEFAULT_LANG, label=t(DEFAULT_LANG, "ui_lang"),
                                  elem_id="ui-lang", scale=0, min_width=220)
        subtitle = gr.Markdown(t(DEFAULT_LANG, "subtitle"))
        relabel += [(title, lambda l: gr.update(value=t(l, "title"))),
                    (lang_radio, lambda l: gr.update(label=t(l, "ui_lang"))),
                    (subtitle, lambda l: gr.update(value=t(l, "subtitle")))]

        with gr.Tabs():
            with gr.Tab(t(DEFAULT_LANG, "tab_chat"), id="chat", elem_id="tab-chat") as tab:
                relabel.append((tab, lambda l: gr.update(label=t(l, "tab_chat"))))
                city_dd = _chat_tab(service, ui_lang, lang_radio, relabel)
            with gr.Tab(t(DEFAULT_LANG, "tab_docs"), id="docs", elem_id="tab-docs") as tab:
                relabel.append((tab, lambda l: gr.update(label=t(l, "tab_docs"))))
                _documents_tab(service, ui_lang, relabel, city_dd)
            with gr.Tab(t(DEFAULT_LANG, "tab_precedents"), id="precedents", elem_id="tab-precedents") as tab:
                relabel.append((tab, lambda l: gr.update(label=t(l, "tab_precedents"))))
                extras.precedents_tab(service, ui_lang, lang_radio, relabel)
            with gr.Tab(t(DEFAULT_LANG, "tab_criteria"), id="criteria", elem_id="tab-criteria") as tab:
                relabel.append((tab, lambda l: gr.update(label=t(l, "tab_criteria"))))
                extras.criteria_tab(service, ui_lang, lang_radio, relabel)

        outputs = [component for component, _ in relabel]

        def switch(lang: str):
            lang = lang if lang in ("th", "en") else DEFAULT_LANG
            return [lang] + [update(lang) for _, update in relabel]

        lang_radio.change(switch, lang_radio, [ui_lang] + outputs, api_name=False, queue=False)
    return app


# -- chat ---------------------------------------------------------------------------------------------
def _filter_choices(service: Service, lang: str) -> dict[str, list[tuple[str, str]]]:
    any_ = (t(lang, "any"), ANY)
    return {
        "city": [any_] + [(city_name(c), c) for c in service.cities()],
        "smart": [any_] + [(smart_name(s, lang), s) for s in SMARTS],
        "lang": [any_, (t(lang, "lang_th"), "th"), (t(lang, "lang_en"), "en")],
    }


def _chat_tab(service: Service, ui_lang: gr.State, lang_radio: gr.Radio, relabel: Relabel):
    lang0 = DEFAULT_LANG
    conversation = gr.State([])   # the chat messages, as shown
    records = gr.State([])        # per message: None, or the answer record that feedback refers to
    with gr.Row():
        with gr.Column(scale=3):
            chatbot = gr.Chatbot(label=t(lang0, "chat"), elem_id="chatbot", height=460,
                                 placeholder=t(lang0, "chat_placeholder"), group_consecutive_messages=False,
                                 feedback_options=("Like", "Dislike"), buttons=["copy"])
            with gr.Row():
                question = gr.Textbox(label=t(lang0, "question"), placeholder=t(lang0, "question_placeholder"),
                                      elem_id="question", scale=5, lines=1, max_lines=6, autofocus=True)
                send = gr.Button(t(lang0, "send"), variant="primary", elem_id="send", scale=1, min_width=80)
            clear = gr.Button(t(lang0, "clear"), size="sm", elem_id="clear")
            with gr.Accordion(t(lang0, "filters"), open=False, elem_id="filters") as filters_box:
                choices = _filter_choices(service, lang0)
                with gr.Row():
                    city = gr.Dropdown(choices["city"], value=ANY, label=t(lang0, "city"), elem_id="filter-city")
                    smart = gr.Dropdown(choices["smart"], value=ANY, label=t(lang0, "smart"),
                                        elem_id="filter-smart")
                    source_lang = gr.Dropdown(choices["lang"], value=ANY, label=t(lang0, "lang"),
                                              elem_id="filter-lang")
            examples_title = gr.Markdown(f"**{t(lang0, 'examples')}**")
            example_buttons = []
            for who in WHO:
                with gr.Row(elem_classes=["examples-row"]):
                    who_md = gr.Markdown(f"*{t(lang0, 'who_' + who)}*", min_height=0)
                    relabel.append((who_md, lambda l, w=who: gr.update(value=f"*{t(l, 'who_' + w)}*")))
                    for i, text in enumerate(EXAMPLES[lang0][who]):
                        button = gr.Button(text, size="sm", variant="secondary", elem_classes=["example"])
                        relabel.append((button, lambda l, w=who, i=i: gr.update(value=EXAMPLES[l][w][i])))
                        example_buttons.append(button)
        with gr.Column(scale=2):
            sources = gr.HTML(render.sources_html([], "", lang0), elem_id="sources")

    relabel += [
        (chatbot, lambda l: gr.update(label=t(l, "chat"), placeholder=t(l, "chat_placeholder"))),
        (question, lambda l: gr.update(label=t(l, "question"), placeholder=t(l, "question_placeholder"))),
        (send, lambda l: gr.update(value=t(l, "send"))),
        (clear, lambda l: gr.update(value=t(l, "clear"))),
        (filters_box, lambda l: gr.update(label=t(l, "filters"))),
        (city, lambda l: gr.update(label=t(l, "city"), choices=_filter_choices(service, l)["city"])),
        (smart, lambda l: gr.update(label=t(l, "smart"), choices=_filter_choices(service, l)["smart"])),
        (source_lang, lambda l: gr.update(label=t(l, "lang"), choices=_filter_choices(service, l)["lang"])),
        (examples_title, lambda l: gr.update(value=f"**{t(l, 'examples')}**")),
    ]

    def ask(question_text, city_value, smart_value, lang_value, lang, history, recs):
        """Answer one question after the earlier turns, streaming the answer into the conversation."""
        yield from chat_turn(service, question_text, _value(city_value), _value(smart_value), _value(lang_value),
                             lang, history, recs)

    inputs = [question, city, smart, source_lang, ui_lang, conversation, records]
    outputs = [chatbot, sources, question, conversation, records]
    question.submit(ask, inputs, outputs, api_name="ask", concurrency_limit=ASK_CONCURRENCY)
    send.click(ask, inputs, outputs, api_name=False, concurrency_limit=ASK_CONCURRENCY)
    for button in example_buttons:
        button.click(lambda value: value, button, question, api_name=False, queue=False).then(
            ask, inputs, outputs, api_name=False, concurrency_limit=ASK_CONCURRENCY)

    def reset(lang):
        return [], render.sources_html([], "", lang), [], []

    clear.click(reset, ui_lang, [chatbot, sources, conversation, records], api_name=False, queue=False)
    chatbot.clear(reset, ui_lang, [chatbot, sources, conversation, records], api_name=False, queue=False)

    def vote(recs, lang, data: gr.LikeData):
        position = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        record = recs[position] if isinstance(position, int) and 0 <= position < len(recs or []) else None
        if not record:
            return
        from assistant import feedback

        liked = data.liked
        if isinstance(liked, str):
            liked = liked.lower() not in ("dislike", "false")
        feedback.record(service.settings, record["question"], record["answer"], record["sources"],
                        "up" if liked else "down")
        gr.Info(t(lang, "feedback_thanks"))

    chatbot.like(vote, [records, ui_lang], None, api_name=False)

    def show_sources(recs, lang, data: gr.SelectData):
        position = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        record = recs[position] if isinstance(position, int) and 0 <= position < len(recs or []) else None
        if not record:
            return gr.update()
        return render.sources_html(record["sources"], record["question"], lang, record["confident"])

    chatbot.select(show_sources, [records, ui_lang], sources, api_name=False)

    def relabel_sources(recs, lang):
        last = next((r for r in reversed(recs or []) if r), None)
        if not last:
            return render.sources_html([], "", lang)
        return render.sources_html(last["sources"], last["question"], lang, last["confident"])

    # gr.State.change does not fire for backend updates: follow the language radio itself.
    lang_radio.change(relabel_sources, [records, lang_radio], sources, api_name=False, queue=False)
    return city


def _value(choice: str | None) -> str | None:
    return None if choice in (None, "", ANY) else choice


# -- documents ----------------------------------------------------------------------------------------
def _documents_frame(service: Service, lang: str) -> pd.DataFrame:
    keys = ("doc_id", "title", "lang", "kind", "chunks")
    rows = service.documents()
    return pd.DataFrame([[row[k] for k in keys] for row in rows], columns=[t(lang, f"col_{k}") for k in keys])


def _documents_tab(service: Service, ui_lang: gr.State, relabel: Relabel, city_dd) -> None:
    lang0 = DEFAULT_LANG
    suffixes = ", ".join(SUFFIXES)
    intro = gr.Markdown(t(lang0, "docs_intro", suffixes=suffixes))
    status0 = "" if service.try_index() is not None else render.notice_html(t(lang0, "no_index"), "error")
    with gr.Row():
        upload = gr.File(label=t(lang0, "upload"), file_count="multiple", file_types=list(SUFFIXES),
                         elem_id="upload", scale=3)
        with gr.Column(scale=1):
            index_button = gr.Button(t(lang0, "index_button"), variant="primary", elem_id="index-button")
            refresh = gr.Button(t(lang0, "refresh"), size="sm", elem_id="refresh-docs")
    status = gr.HTML(status0, elem_id="upload-status")
    failures = gr.HTML("", elem_id="upload-failures")
    table = gr.Dataframe(_documents_frame(service, lang0), label=t(lang0, "docs_table"), interactive=False,
                         elem_id="documents", wrap=True, max_height=520)
    relabel += [
        (intro, lambda l: gr.update(value=t(l, "docs_intro", suffixes=suffixes))),
        (upload, lambda l: gr.update(label=t(l, "upload"))),
        (index_button, lambda l: gr.update(value=t(l, "index_button"))),
        (refresh, lambda l: gr.update(value=t(l, "refresh"))),
        (table, lambda l: gr.update(value=_documents_frame(service, l), label=t(l, "docs_table"))),
    ]

    def add(files, lang, progress=gr.Progress()):
        steps = {"copy": t(lang, "copying"), "index": t(lang, "indexing"), "reopen": t(lang, "reopening")}
        if not files:
            return render.notice_html(t(lang, "no_files"), "error"), "", gr.update(), gr.update(), None
        progress(0.05, desc=steps["copy"])
        try:
            report, failed = service.add_files(files, lambda f, key: progress(f, desc=steps[key]))
        except MuangError as exc:
            return render.notice_html(str(exc), "error"), "", gr.update(), gr.update(), None
        progress(1.0)
        if report is None:
            message = render.notice_html(t(lang, "failed_heading"), "error")
        else:
            message = render.notice_html(t(lang, "upload_done", added=len(report.added), updated=len(report.updated),
                                           unchanged=len(report.unchanged), failed=len(failed),
                                           documents=report.documents, chunks=report.chunks))
        cities = gr.update(choices=_filter_choices(service, lang)["city"])
        return message, render.failures_html(failed, lang), _documents_frame(service, lang), cities, None

    index_button.click(add, [upload, ui_lang], [status, failures, table, city_dd, upload], api_name="add_documents",
                       concurrency_limit=1)
    refresh.click(lambda lang: _documents_frame(service, lang), ui_lang, table, api_name=False)


# -- launching ----------------------------------------------------------------------------------------
def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> gr.Blocks:
    """Serve the UI on host:port (127.0.0.1 by default: only this machine). With block=False the server
    runs in a background thread and the app is returned (tests call app.close())."""
    app = build_app(settings)
    app.queue(default_concurrency_limit=1, max_size=256)
    app.launch(server_name=host, server_port=port, prevent_thread_lock=not block, css=render.CSS,
               quiet=not block, show_error=False, footer_links=[], inbrowser=False)
    return app
