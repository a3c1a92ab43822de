"""The staff tab of the web UI: sign-in, then the documents (list, upload, remove, re-index) and the feedback
users gave. Every handler checks the session on the server."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from assistant.ingest.documents import SUFFIXES
from assistant.errors import MuangError
from ui import render
from ui.service import Service
from ui.texts import DEFAULT_LANG, Relabel, filter_choices, t

DOC_KEYS = ("doc_id", "title", "lang", "kind", "chunks", "origin")
FEEDBACK_KEYS = ("time", "vote", "question", "answer")


def _documents_frame(rows: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    from assistant.index.provenance import describe

    data = [[describe(row[k], lang) if k == "origin" else row[k] for k in DOC_KEYS] for row in rows]
    return pd.DataFrame(data, columns=[t(lang, f"col_{k}") for k in DOC_KEYS])


def _feedback_frame(rows: list[dict[str, Any]], lang: str) -> pd.DataFrame:
    data = [[row["time"], "👍" if row["vote"] == "up" else "👎", row["question"], row["answer"]] for row in rows]
    return pd.DataFrame(data, columns=[t(lang, f"col_{k}") for k in FEEDBACK_KEYS])


def documents_tab(service: Service, ui_lang: gr.State, relabel: Relabel, city_dd, app: gr.Blocks) -> None:
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
        return gr.update(choices=filter_choices(service, lang)["city"])

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
