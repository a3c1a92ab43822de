"""The Gradio UI: safe rendering, the serve entry point, and a real browser (Debian's Chromium via Playwright)
driving the app on a copy of the indexed corpus: Thai and English questions, feedback, uploads, XSS, tabs.

Screenshots of each tab are written to docs/ (docs/chat.png, docs/documents.png, docs/precedents.png,
docs/criteria.png).
"""

from __future__ import annotations

import inspect
import os
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from assistant.config import Settings
from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT = 60_000  # ms; an answer takes about a second, indexing an upload a few

XSS_DOC = """# Quokkaville <img src=x onerror="window.__xss=1;alert('title')">

The xylophone garden of Quokkaville <script>window.__xss=2;alert('script')</script> has 88 glass bars.
<img src=x onerror="window.__xss=3;alert('img')"> [click](javascript:alert('md')) ![x](javascript:alert(4))
The xylophone garden of Quokkaville was built by the Quokkaville residents' club in 2019.
"""
NEW_DOC = """# Zorblat Village bamboo bridge

Zorblat Village has a bamboo bridge across the Kaffir river. The bamboo bridge of Zorblat Village is
417 metres long and was finished by volunteers in 2022.
"""


# -- no browser ---------------------------------------------------------------------------------------
def test_serve_entry_point_is_registered():
    from ui import app

    found = {ep.name: ep for ep in entry_points(group="muang.serve")}
    assert found["gradio"].value == "ui.app:launch"
    assert found["gradio"].load() is app.launch
    assert inspect.signature(app.launch).parameters["host"].default == "127.0.0.1"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"


def test_answer_markdown_escapes_document_text_and_keeps_citations():
    from ui import render

    text = 'Lampang <script>alert(1)</script> [x](javascript:alert(2)) ![i](y) [1]'
    sources = [{"n": 1, "title": "<img src=x onerror=alert(3)>", "url": "javascript:alert(4)"},
               {"n": 2, "title": "ok", "url": "https://example.org/?a=1&b=<2>"}]
    md = render.answer_markdown(text, False, sources, "en")
    assert "<script" not in md and "<img" not in md and "javascript:alert(4)" not in md
    assert "](javascript" not in md and "![" not in md
    assert '<b class="cite">&#91;1&#93;</b>' in md
    assert "Not confident" in md
    assert 'href="https://example.org/?a=1&amp;b=&lt;2&gt;"' not in md  # not a clean URL: shown as text
    html = render.sources_html([{"n": 1, "title": "<b>t</b>", "lang": "en", "city": "<i>c</i>", "doc_id": "d",
                                 "text": "x <script>alert(1)</script> Lampang", "quote": "", "url": "https://a.b/c"}],
                               "Lampang?", "th")
    assert "<script" not in html and "<b>t</b>" not in html and "<i>c</i>" not in html
    assert "<mark>Lampang</mark>" in html and 'href="https://a.b/c"' in html


def test_question_limits():
    from ui.service import check_question

    assert check_question("  ")[1][0] == "empty_question"
    assert check_question("ก" * 2001)[1] == ("too_long", {"n": 2001, "limit": 2000})
    assert check_question(" แม่เมาะ ") == ("แม่เมาะ", None)


# -- the running app ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ui_settings(corpus_index, tmp_path_factory) -> Settings:
    """A private copy of the indexed corpus: uploads in these tests must not change the shared index."""
    target = tmp_path_factory.mktemp("ui") / "index"
    shutil.copytree(corpus_index, target, ignore=shutil.ignore_patterns(".lock"))
    return Settings.load(index_dir=target)


@pytest.fixture(scope="module")
def server(ui_settings):
    from ui.app import launch

    port = free_port()
    server = launch(ui_settings, port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    server.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-thai-tlwg (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="th-TH")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(server)
    page.locator("#question textarea").wait_for()
    yield page
    context.close()


def ask(page, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def last_answer(page, expected: str) -> str:
    """Wait until the last bot message holds `expected` and the sources panel is filled; return its text."""
    message = page.locator("#chatbot .bot").last
    message.get_by_text(expected).first.wait_for()
    page.locator("#sources .source-card").first.wait_for()
    return message.inner_text()


def shot(page, name: str) -> None:
    """A screenshot; it replaces the README's copy in docs/ only with MUANG_UPDATE_SCREENSHOTS=1, so that a test
    run leaves the working tree clean."""
    import tempfile

    folder = DOCS if os.environ.get("MUANG_UPDATE_SCREENSHOTS") == "1" else Path(tempfile.gettempdir())
    folder.mkdir(exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def test_thai_question_shows_answer_citation_sources_and_feedback(page, ui_settings):
    from assistant.serve import feedback

    ask(page, "แม่เมาะอยู่จังหวัดไหน")
    text = last_answer(page, "ลำปาง")
    assert "[1]" in text
    assert page.locator("#chatbot .bot .cite").count() >= 1
    card = page.locator("#sources .source-card").first
    assert "[1]" in card.inner_text()
    assert card.locator("mark").count() >= 1            # the question's words are highlighted
    assert card.locator("a[href^='http']").count() == 1  # the source link
    # Gradio labels its own buttons in the browser's language (th-TH here).
    page.locator("#chatbot button[aria-label='ถูกใจ'], #chatbot button[aria-label='Like']").last.click()
    page.get_by_text("ขอบคุณสำหรับความคิดเห็น").first.wait_for()
    votes = feedback.entries(ui_settings)
    assert votes[-1]["vote"] == "up" and votes[-1]["question"] == "แม่เมาะอยู่จังหวัดไหน"
    assert votes[-1]["sources"][0]["n"] == 1
    shot(page, "chat.png")


def test_english_interface_and_question(page):
    page.locator("#ui-lang").get_by_text("English").click()
    page.locator("#send").get_by_text("Send").wait_for()
    page.get_by_role("tab", name="Documents").wait_for()
    page.get_by_text("Example questions").wait_for()
    page.locator("#sources").get_by_text("The sources of an answer appear here.").wait_for()
    ask(page, "Which province is Mae Moh Smart City in?")
    assert "[1]" in last_answer(page, "Lampang")
    assert "Language" in page.locator("#sources .source-card").first.inner_text()


def test_unanswerable_question_is_marked_and_long_question_refused(page):
    ask(page, "วิธีทำต้มยำกุ้งน้ำข้นทำยังไง")
    page.locator("#chatbot .bot").last.get_by_text("ไม่มั่นใจ").first.wait_for()
    ask(page, "ก" * 2001)
    page.locator("#chatbot .bot").last.get_by_text("เกินขีดจำกัด").first.wait_for()
    assert page.locator("#question textarea").input_value() == "ก" * 2001  # kept, to be shortened


STAFF, PASSWORD = "somchai", "correct horse battery"


def test_a_citizen_sees_no_staff_controls_and_how_to_create_an_account(page, ui_settings):
    from assistant.serve import auth

    assert not auth.has_users(ui_settings)
    page.get_by_role("tab", name="เอกสาร").click()
    page.locator("#staff-intro").get_by_text("muang user add").wait_for()
    for control in ("#upload", "#index-button", "#reindex-button", "#remove-button", "#documents",
                    "#feedback-table", "#sign-out"):
        assert not page.locator(control).is_visible(), control
    assert not page.locator("#staff-password").is_visible()  # no account: nothing to sign in to
    auth.add_user(ui_settings, STAFF, PASSWORD)
    page.reload()
    page.get_by_role("tab", name="เอกสาร").click()
    page.locator("#staff-password").wait_for()
    assert not page.locator("#upload").is_visible()
    page.locator("#staff-name input").fill(STAFF)
    page.locator("#staff-password input").fill("wrong password")
    page.locator("#sign-in-button").click()
    page.locator("#sign-in-status").get_by_text("ชื่อหรือรหัสผ่านไม่ถูกต้อง").wait_for()
    assert not page.locator("#upload").is_visible()


def sign_in(page) -> None:
    page.get_by_role("tab", name="เอกสาร").click()
    page.locator("#staff-name input").fill(STAFF)
    page.locator("#staff-password input").fill(PASSWORD)
    page.locator("#sign-in-button").click()
    page.locator("#signed-in-as").get_by_text(STAFF).wait_for()


def test_upload_is_answerable_at_once_and_xss_never_runs(page, tmp_path, ui_settings):
    from playwright.sync_api import expect

    from assistant.serve import auth

    auth.add_user(ui_settings, STAFF, PASSWORD)
    page.reload()  # the sign-in form is shown to pages loaded once a staff account exists
    files = {"zorblat.md": NEW_DOC, "quokkaville.md": XSS_DOC, "empty.md": "   \n"}
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    sign_in(page)
    page.locator("#upload input[type=file]").set_input_files([str(tmp_path / n) for n in files])
    page.locator("#upload").get_by_text("zorblat.md").first.wait_for()
    page.locator("#index-button").click()
    page.locator("#upload-status").get_by_text("เพิ่มแล้ว 2").wait_for()
    assert "empty.md" in page.locator("#upload-failures").inner_text()
    page.locator("#documents").get_by_text("zorblat").first.wait_for()
    expect(page.locator("#documents")).to_contain_text(f"อัปโหลดโดย {STAFF}")  # the origin column
    shot(page, "documents.png")

    page.get_by_role("tab", name="ถามตอบ").click()
    ask(page, "How long is the bamboo bridge of Zorblat Village?")
    assert "417" in last_answer(page, "417")
    ask(page, "<img src=x onerror=\"window.__xss=5;alert('q')\"> What does the xylophone garden of Quokkaville have?")
    last_answer(page, "88")
    # The panel may still show the previous answer's sources for a moment: wait for this answer's.
    expect(page.locator("#sources")).to_contain_text("Quokkaville")
    sources = page.locator("#sources").inner_text()
    assert "<script>" in sources or "<img" in sources  # shown as text
    assert f"อัปโหลดโดย {STAFF}" in sources             # the sources panel says where the passage came from
    page.get_by_role("tab", name="เอกสาร").click()
    page.locator("#documents").get_by_text("Quokkaville").first.wait_for()
    page.wait_for_timeout(500)
    assert page.dialogs == []
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("#chatbot script, #sources script, #documents script").count() == 0

    page.locator("#feedback-box").get_by_text("ความคิดเห็นของผู้ใช้").first.click()
    page.locator("#feedback-refresh").click()
    expect(page.locator("#feedback-table")).to_contain_text("แม่เมาะอยู่จังหวัดไหน")  # the vote of the first test
    page.locator("#sign-out").click()
    page.locator("#sign-in-status").get_by_text("ออกจากระบบแล้ว").wait_for()
    assert not page.locator("#upload").is_visible() and not page.locator("#documents").is_visible()


def test_precedents_tab(page):
    page.get_by_role("tab", name="เมืองตัวอย่าง").click()
    if page.locator("#precedents-missing").count():
        pytest.skip("assistant.answer.catalog is not available yet")
    table = page.locator("#cities")
    table.get_by_text("ภูเก็ต").first.wait_for()
    assert page.locator("#smarts-chart .bar-row").count() == 7
    shot(page, "precedents.png")
    page.locator("#prec-smart input").click()
    page.get_by_role("option", name="ขนส่งอัจฉริยะ", exact=True).click()
    page.wait_for_timeout(1000)
    assert page.locator("#cities").get_by_text("ภูเก็ต").count() >= 1


def test_criteria_tab(page):
    page.get_by_role("tab", name="ตรวจเกณฑ์").click()
    if page.locator("#criteria-missing").count():
        pytest.skip("assistant.answer.criteria is not available yet")
    proposal = ("เทศบาลของเราเสนอแผนเมืองอัจฉริยะด้านพลังงานอัจฉริยะ ติดตั้งโซลาร์เซลล์บนอาคารราชการ "
                "และด้านการเดินทางและขนส่งอัจฉริยะ มีแพลตฟอร์มข้อมูลเมืองเชื่อมโยงข้อมูลทุกหน่วยงาน")
    page.locator("#proposal textarea").fill(proposal)
    page.locator("#check").click()
    page.locator("#criteria-smarts").get_by_text("พลังงานอัจฉริยะ").wait_for()
    assert page.locator("#coverage tbody tr").count() >= 1
    shot(page, "criteria.png")


def test_ui_doctests():
    """The examples in ui/ docstrings (assistant/'s are collected through testpaths)."""
    import doctest

    from ui import chat, render, service, texts

    for module in (chat, render, service, texts):
        assert doctest.testmod(module).failed == 0


def test_precedents_dated_figures_and_source_strength(page, ui_settings):
    """The timeline of certified-city totals, the TSCCI chart by year and the source-strength column,
    checked against the figures and cities the index holds."""
    from assistant.answer.catalog import build_catalog, figures
    from assistant.answer.retrieval import Index

    index = Index(ui_settings)
    totals = sorted({(f.as_of, f.value) for f in figures(index.docs, what="certified_cities_total")})
    years = sorted({f.as_of[:4] for f in figures(index.docs, what="tscci_score")})
    blog_city = next(c for c in build_catalog(index.docs) if c.source_strength == "blog")
    page.get_by_role("tab", name="เมืองตัวอย่าง").click()
    page.locator("#timeline-chart").wait_for()
    points = page.locator("#timeline-points li")
    assert points.count() == len(totals)
    for (as_of, value), item in zip(totals, points.all_inner_texts()):
        assert as_of in item and str(int(value)) in item
    assert page.locator("#timeline-chart canvas, #timeline-chart svg").count() >= 1
    assert page.locator("#cities").get_by_text("ความน่าเชื่อถือของแหล่ง").count() >= 1
    assert page.locator("#cities").get_by_text(blog_city.name_th).count() >= 1
    assert page.locator("#cities").get_by_text("บล็อก").count() >= 1
    first = page.locator("#tscci-table").inner_text()
    page.locator("#tscci-year input").click()
    page.get_by_role("option", name=years[0], exact=True).click()
    page.wait_for_timeout(1500)
    older = page.locator("#tscci-table").inner_text()
    assert older != first  # another index year shows other scores
    shot(page, "precedents-figures.png")
