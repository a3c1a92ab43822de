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
from assistant.ingest.documents import SMARTS, SUFFIXES  # noqa: E402
from assistant.errors import MuangError  # noqa: E402
from ui import extras, render  # noqa: E402
from ui.chat import chat_turn  # noqa: E402
from ui.service import Service  # noqa: E402
from ui.texts import ANY, DEFAULT_LANG, EXAMPLES, LANG_CHOICES, WHO, city_name, smart_name, t  # noqa: E402

log = logging.getLogger("muang.ui")
ASK_CONCURRENCY = 8    # answers at once per event; they share the read-only Index (or the worker pool)

Relabel = list[tuple[Any, Callable[[str], Any]]]


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
                _documents_tab(service, ui_lang, relabel, city_dd, app)
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


# -- documents (staff) --------------------------------------------------------------------------------
DOC_KEYS = ("doc_id", "title", "lang", "kind", "chunks", "origin")
FEEDBACK_KEYS = ("time", "vote", "question", "answer")


def _documents_frame(rows: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    from assistant.index.provenance import describe

    data = [[describe(row[k], lang) if k == "origin" else row[k] for k in DOC_KEYS] for row in rows]
    return pd.DataFrame(data, columns=[t(lang, f"col_{k}") for k in DOC_KEYS])


def _feedback_frame(rows: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    data = [[row["time"], "👍" if row["vote"] == "up" else "👎", row["question"], row["answer"]] for row in rows]
    return pd.DataFrame(data, columns=[t(lang, f"col_{k}") for k in FEEDBACK_KEYS])


def _documents_tab(service: Service, ui_lang: gr.State, relabel: Relabel, city_dd, app: gr.Blocks) -> None:
    """Sign-in, then documents and feedback. Nothing staff-only is in the page config (tables start empty) and
    every handler checks the session server-side: a hidden button is not a lock."""
    from assistant.serve import auth

    lang0 = DEFAULT_LANG
    suffixes = ", ".join(SUFFIXES)
    token = gr.State(None)   # this browser session's staff session token (kept on the server by Gradio)
    with gr.Group(visible=True, elem_id="sign-in") as sign_in_box:
        staff_intro = gr.Markdown(t(lang0, "staff_intro"), elem_id="staff-intro")
        with gr.Row(visible=True) as form:
            name = gr.Textbox(label=t(lang0, "staff_name"), elem_id="staff-name", max_lines=1)
            password = gr.Textbox(label=t(lang0, "password"), type="password", elem_id="staff-password", max_lines=1)
            sign_in = gr.Button(t(lang0, "sign_in"), variant="primary", elem_id="sign-in-button")
        sign_in_status = gr.HTML("", elem_id="sign-in-status")
    with gr.Column(visible=False, elem_id="staff") as staff_box:
        with gr.Row():
            who = gr.Markdown("", elem_id="signed-in-as")
            sign_out = gr.Button(t(lang0, "sign_out"), size="sm", elem_id="sign-out", scale=0, min_width=120)
        intro = gr.Markdown(t(lang0, "docs_intro", suffixes=suffixes))
        with gr.Row():
            upload = gr.File(label=t(lang0, "upload"), file_count="multiple", file_types=list(SUFFIXES),
                             elem_id="upload", scale=3)
            with gr.Column(scale=1):
                index_button = gr.Button(t(lang0, "index_button"), variant="primary", elem_id="index-button")
                reindex_button = gr.Button(t(lang0, "reindex_button"), size="sm", elem_id="reindex-button")
                refresh = gr.Button(t(lang0, "refresh"), size="sm", elem_id="refresh-docs")
        with gr.Row():
            remove_id = gr.Textbox(label=t(lang0, "remove_id"), elem_id="remove-id", max_lines=1, scale=3)
            remove_button = gr.Button(t(lang0, "remove_button"), variant="stop", elem_id="remove-button", scale=1)
        status = gr.HTML("", elem_id="upload-status")
        failures = gr.HTML("", elem_id="upload-failures")
        table = gr.Dataframe(_documents_frame([], lang0), label=t(lang0, "docs_table"), interactive=False,
                             elem_id="documents", wrap=True, max_height=520)
        with gr.Accordion(t(lang0, "feedback_box"), open=False, elem_id="feedback-box") as feedback_box:
            with gr.Row():
                feedback_refresh = gr.Button(t(lang0, "feedback_refresh"), size="sm", elem_id="feedback-refresh")
                feedback_export = gr.DownloadButton(t(lang0, "feedback_export"), size="sm", elem_id="feedback-csv")
            feedback_table = gr.Dataframe(_feedback_frame([], lang0), interactive=False, wrap=True,
                                          elem_id="feedback-table")
    relabel += [
        (staff_intro, lambda l: gr.update(value=t(l, "staff_intro"))),
        (name, lambda l: gr.update(label=t(l, "staff_name"))),
        (password, lambda l: gr.update(label=t(l, "password"))),
        (sign_in, lambda l: gr.update(value=t(l, "sign_in"))),
        (sign_out, lambda l: gr.update(value=t(l, "sign_out"))),
        (intro, lambda l: gr.update(value=t(l, "docs_intro", suffixes=suffixes))),
        (upload, lambda l: gr.update(label=t(l, "upload"))),
        (index_button, lambda l: gr.update(value=t(l, "index_button"))),
        (reindex_button, lambda l: gr.update(value=t(l, "reindex_button"))),
        (refresh, lambda l: gr.update(value=t(l, "refresh"))),
        (remove_id, lambda l: gr.update(label=t(l, "remove_id"))),
        (remove_button, lambda l: gr.update(value=t(l, "remove_button"))),
        (table, lambda l: gr.update(label=t(l, "docs_table"))),
        (feedback_box, lambda l: gr.update(label=t(l, "feedback_box"))),
        (feedback_refresh, lambda l: gr.update(value=t(l, "feedback_refresh"))),
        (feedback_export, lambda l: gr.update(label=t(l, "feedback_export"))),
    ]

    def signed_out_view(lang: str, message: str = "", kind: str = "info"):
        """The signed-out page: the form, or how to create the first account when there is none."""
        accounts = auth.has_users(service.settings)
        notice = t(lang, "staff_intro") if accounts else t(lang, "no_staff")
        return (None, gr.update(visible=True), gr.update(value=notice), gr.update(visible=accounts),
                render.notice_html(message, kind) if message else "", gr.update(visible=False), "",
                _documents_frame([], lang), _feedback_frame([], lang), "", "")

    view = [token, sign_in_box, staff_intro, form, sign_in_status, staff_box, who, table, feedback_table,
            status, failures]

    def load(lang):
        return signed_out_view(lang)

    def do_sign_in(user, secret, lang, request: gr.Request):
        client = request.client.host if request and request.client else ""
        try:
            new_token = auth.sign_in(service.settings, user, secret, client=f"ip:{client}")
        except auth.SignInError as exc:
            return signed_out_view(lang, t(lang, "locked" if exc.locked else "wrong_password"), "error")[:-2] + \
                (gr.update(), gr.update())
        staff_name = service.staff(new_token)
        return (new_token, gr.update(visible=False), gr.update(), gr.update(), "", gr.update(visible=True),
                t(lang, "signed_in_as", name=staff_name), _documents_frame(service.documents(new_token), lang),
                _feedback_frame([], lang), "", "")

    def do_sign_out(current, lang):
        auth.sign_out(service.settings, current)
        return signed_out_view(lang, t(lang, "signed_out"))

    app.load(load, ui_lang, view, api_name=False, queue=False)
    sign_in.click(do_sign_in, [name, password, ui_lang], view, api_name=False, concurrency_limit=4).then(
        lambda: "", None, password, api_name=False, queue=False)
    password.submit(do_sign_in, [name, password, ui_lang], view, api_name=False, concurrency_limit=4).then(
        lambda: "", None, password, api_name=False, queue=False)
    sign_out.click(do_sign_out, [token, ui_lang], view, api_name=False, queue=False)

    def staff_view(current, lang, action):
        """Run a staff action and show its outcome; a missing or expired session shows the sign-in form again."""
        if service.staff(current) is None:
            return signed_out_view(lang, t(lang, "session_expired"), "error")
        try:
            status_html, failures_html = action()
        except MuangError as exc:
            status_html, failures_html = render.notice_html(str(exc), "error"), ""
        rows = service.documents(current)
        return (current, gr.update(), gr.update(), gr.update(), gr.update(), gr.update(), gr.update(),
                _documents_frame(rows, lang), gr.update(), status_html, failures_html)

    def add(current, lang, files, progress=gr.Progress()):
        steps = {"copy": t(lang, "copying"), "index": t(lang, "indexing"), "reopen": t(lang, "reopening")}

        def run():
            if not files:
                return render.notice_html(t(lang, "no_files"), "error"), ""
            progress(0.05, desc=steps["copy"])
            report, failed = service.add_files(current, files, lambda f, key: progress(f, desc=steps[key]))
            progress(1.0)
            if report is None:
                return render.notice_html(t(lang, "failed_heading"), "error"), render.failures_html(failed, lang)
            return render.notice_html(t(lang, "upload_done", added=len(report.added), updated=len(report.updated),
                                        unchanged=len(report.unchanged), failed=len(failed),
                                        documents=report.documents, chunks=report.chunks)), \
                render.failures_html(failed, lang)

        return staff_view(current, lang, run)

    def reindex(current, lang, progress=gr.Progress()):
        def run():
            progress(0.1, desc=t(lang, "indexing"))
            report = service.reindex(current)
            return render.notice_html(t(lang, "reindex_done", added=len(report.added), updated=len(report.updated),
                                        removed=len(report.removed), documents=report.documents,
                                        chunks=report.chunks)), render.failures_html(report.failed, lang)

        return staff_view(current, lang, run)

    def remove(current, lang, doc_id):
        def run():
            service.remove(current, doc_id)
            return render.notice_html(t(lang, "removed", doc_id=(doc_id or "").strip())), ""

        return staff_view(current, lang, run)

    def refreshed(current, lang):
        return staff_view(current, lang, lambda: (gr.update(), gr.update()))

    def after_change(lang):
        return gr.update(choices=_filter_choices(service, lang)["city"])

    index_button.click(add, [token, ui_lang, upload], view, api_name=False, concurrency_limit=1).then(
        after_change, ui_lang, city_dd, api_name=False, queue=False).then(
        lambda: None, None, upload, api_name=False, queue=False)
    reindex_button.click(reindex, [token, ui_lang], view, api_name=False, concurrency_limit=1).then(
        after_change, ui_lang, city_dd, api_name=False, queue=False)
    remove_button.click(remove, [token, ui_lang, remove_id], view, api_name=False,
                        concurrency_limit=1).then(after_change, ui_lang, city_dd, api_name=False, queue=False)
    refresh.click(refreshed, [token, ui_lang], view, api_name=False)

    def show_feedback(current, lang):
        if service.staff(current) is None:
            return gr.update(), None
        import tempfile
        from pathlib import Path

        rows = service.feedback(current)
        target = Path(tempfile.mkdtemp(prefix="muang-feedback-")) / "feedback.csv"
        service.export_feedback(current, target)
        return _feedback_frame(rows, lang), str(target)

    feedback_refresh.click(show_feedback, [token, ui_lang], [feedback_table, feedback_export], api_name=False)


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
