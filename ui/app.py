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

import gradio as gr  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.errors import MuangError  # noqa: E402
from ui import extras, render  # noqa: E402
from ui.chat import chat_turn  # noqa: E402
from ui.service import Service  # noqa: E402
from ui.staff import documents_tab  # noqa: E402
from ui.texts import ANY, DEFAULT_LANG, EXAMPLES, LANG_CHOICES, WHO, Relabel, filter_choices, t  # noqa: E402

log = logging.getLogger("muang.ui")
ASK_CONCURRENCY = 8    # answers at once per event; they share the read-only Index (or the worker pool)


def build_app(settings: Settings, service: Service | None = None) -> gr.Blocks:
    """The whole UI over one shared Service (one open Index)."""
    service = service or Service(settings)
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
                documents_tab(service, ui_lang, relabel, city_dd, app)
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
                choices = filter_choices(service, lang0)
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
        (city, lambda l: gr.update(label=t(l, "city"), choices=filter_choices(service, l)["city"])),
        (smart, lambda l: gr.update(label=t(l, "smart"), choices=filter_choices(service, l)["smart"])),
        (source_lang, lambda l: gr.update(label=t(l, "lang"), choices=filter_choices(service, l)["lang"])),
        (examples_title, lambda l: gr.update(value=f"**{t(l, 'examples')}**")),
    ]

    def ask(question_text, city_value, smart_value, lang_value, lang, history, recs, request: gr.Request):
        """Answer one question after the earlier turns, streaming the answer into the conversation."""
        yield from chat_turn(service, question_text, _value(city_value), _value(smart_value), _value(lang_value),
                             lang, history, recs, client=client_key(request))

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
        from assistant.serve import feedback

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


def client_key(request: gr.Request | None) -> str | None:
    """Whom a question counts against in the rate limit: the client's address (shared with the REST API)."""
    host = request.client.host if request is not None and request.client else None
    return f"ip:{host}" if host else None


def _value(choice: str | None) -> str | None:
    return None if choice in (None, "", ANY) else choice


# -- launching ----------------------------------------------------------------------------------------
def create_app(settings: Settings, service: Service | None = None):
    """The whole server as one FastAPI app: the REST API (/api/v1, docs at /api/docs), the LINE webhook
    (/line/webhook) and the Gradio UI mounted at /."""
    from fastapi import FastAPI

    from ui import api, line

    service = service or Service(settings)
    app = FastAPI(title="Muang API", version="1", docs_url="/api/docs", openapi_url="/api/openapi.json",
                  redoc_url=None, description="Ask Thailand's smart-city documents in Thai or English, with sources.")
    api.install(app, service)
    line.install(app, service)
    blocks = build_app(settings, service)
    blocks.queue(default_concurrency_limit=ASK_CONCURRENCY, max_size=256)
    app = gr.mount_gradio_app(app, blocks, path="/", css=render.CSS, show_error=False, footer_links=[],
                              max_file_size=f"{int(settings.max_file_mb)}mb")
    from ui.limits import BodyLimit, limit_for

    app.add_middleware(BodyLimit, limit=limit_for(settings))
    app.state.service = service
    return app


class Server:
    """A running `muang serve` (uvicorn over create_app's FastAPI app); close() stops it."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        import uvicorn

        self.service = Service(settings)
        self.app = create_app(settings, self.service)
        config = uvicorn.Config(self.app, host=host, port=port, log_level="warning", access_log=False,
                                timeout_graceful_shutdown=5)
        self.server = uvicorn.Server(config)
        self.thread = None
        self.host, self.port, self.settings = host, port, settings
        self.announced: tuple | None = None

    def _announce(self) -> None:
        """Tell `muang ask` on this index where to ask (assistant/serve/running.py)."""
        from assistant.serve import running

        try:
            self.announced = running.announce(self.settings.index_dir, self.host, self.port)
            self.app.state.local_token = self.announced[1]
        except OSError:
            self.announced = None  # a read-only index folder: `muang ask` answers in-process

    def _withdraw(self) -> None:
        from assistant.serve import running

        if self.announced:
            running.withdraw(*self.announced)
            self.announced = None

    def run(self) -> None:
        self._announce()
        try:
            self.server.run()
        finally:
            self._withdraw()
            self.service.close()

    def start(self) -> "Server":
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, name="muang-serve", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise MuangError("the server did not start (is the port in use?)")
            time.sleep(0.05)
        self._announce()
        return self

    def close(self) -> None:
        self._withdraw()
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=15)
        self.service.close()


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> Server:
    """Serve the UI, the REST API and the LINE webhook on host:port (127.0.0.1 by default: only this machine).
    With block=False the server runs in a background thread and is returned (tests call close())."""
    server = Server(settings, host, port)
    if not block:
        return server.start()
    print(f"Muang is serving on http://{host}:{port}/ (API docs: /api/docs; Ctrl-C stops it)", flush=True)
    server.run()
    return server
