"""The precedents tab (cities catalog) and the criteria-check tab.

Both depend on modules that may not be in this build yet (`assistant.answer.catalog`, `assistant.answer.criteria`): a
missing module gives a clear "not available yet" notice instead of the tab's controls.
"""

from __future__ import annotations

import csv
import importlib
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from assistant.ingest.documents import SMARTS
from assistant.errors import MuangError
from ui import render
from ui.texts import ANY, DEFAULT_LANG, smart_name, t


def _module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


# -- precedents ---------------------------------------------------------------------------------------
def load_cities(service) -> list[Any]:
    catalog = _module("assistant.answer.catalog")
    index = service.try_index()
    if catalog is None or index is None:
        return []
    if hasattr(catalog, "load_catalog"):
        return list(catalog.load_catalog(index))
    return list(catalog.build_catalog(index.docs))


def _name(city: Any, lang: str) -> str:
    if hasattr(city, "name"):
        return city.name(lang)
    return (city.name_th or city.name_en) if lang == "th" else (city.name_en or city.name_th)


def _province(city: Any, lang: str) -> str:
    if hasattr(city, "province"):
        return city.province(lang)
    return (city.province_th or city.province_en) if lang == "th" else (city.province_en or city.province_th)


CITY_COLUMNS = ("city", "province", "batch", "smarts", "awarded")

# Labels of the dated-figures part of the tab, kept here so that it needs no change elsewhere.
PREC_TEXT = {
    "th": {"col_strength": "ความน่าเชื่อถือของแหล่ง", "official": "ทางการ", "news": "ข่าว", "blog": "บล็อก",
           "timeline": "จำนวนเมืองที่ได้รับตราตามช่วงเวลา", "timeline_date": "ณ วันที่", "timeline_total": "จำนวนเมือง",
           "tscci": "คะแนนดัชนี TSCCI", "tscci_year": "ปีของดัชนี", "tscci_city": "เมือง", "tscci_score": "คะแนน (%)",
           "no_figures": "ยังไม่มีตัวเลขพร้อมวันที่ในดัชนี", "source": "แหล่ง"},
    "en": {"col_strength": "Source strength", "official": "official", "news": "news", "blog": "blog",
           "timeline": "Certified smart cities over time", "timeline_date": "As of", "timeline_total": "Cities",
           "tscci": "TSCCI scores", "tscci_year": "Index year", "tscci_city": "City", "tscci_score": "Score (%)",
           "no_figures": "No dated figures in the index yet", "source": "source"},
}


def pt(lang: str, key: str) -> str:
    return PREC_TEXT.get(lang, PREC_TEXT["th"])[key]


def city_rows(cities: list[Any], lang: str) -> list[list[Any]]:
    unknown = t(lang, "unknown")
    rows = []
    for c in cities:
        smarts = unknown if c.smarts is None else ", ".join(smart_name(s, lang) for s in c.smarts)
        strength = getattr(c, "source_strength", None)
        rows.append([_name(c, lang), _province(c, lang), c.batch if c.batch is not None else unknown,
                     smarts, c.awarded or unknown, pt(lang, strength) if strength else unknown])
    return rows


def load_figures(service, what: str | None = None) -> list[Any]:
    catalog = _module("assistant.answer.catalog")
    index = service.try_index()
    if catalog is None or index is None or not hasattr(catalog, "figures"):
        return []
    return list(catalog.figures(index.docs, what=what))


def timeline_frame(figures: list[Any], lang: str) -> pd.DataFrame:
    """One point per dated total of certified cities; a month or a year is placed at its first day."""
    seen: dict[tuple[str, float], Any] = {}
    for f in figures:
        if f.what == "certified_cities_total":
            seen.setdefault((f.as_of, f.value), f)
    rows = [{pt(lang, "timeline_date"): _as_of_day(as_of),
             pt(lang, "timeline_total"): value, "as_of": as_of, pt(lang, "source"): f.source}
            for (as_of, value), f in sorted(seen.items())]
    return pd.DataFrame(rows, columns=[pt(lang, "timeline_date"), pt(lang, "timeline_total"), "as_of", pt(lang, "source")])


def _as_of_day(as_of: str) -> pd.Timestamp:
    """A year or a month placed at its first day, for the time axis."""
    return pd.Timestamp({4: f"{as_of}-01-01", 7: f"{as_of}-01"}.get(len(as_of), as_of))


def timeline_html(figures: list[Any], lang: str) -> str:
    """The same points as text (date, total, source), so the numbers can be read and copied."""
    frame = timeline_frame(figures, lang)
    if frame.empty:
        return render.notice_html(pt(lang, "no_figures"))
    items = "".join(f'<li><span class="as-of">{render.esc(row["as_of"])}</span>: '
                    f'<strong class="total">{int(row[pt(lang, "timeline_total")])}</strong> '
                    f'<span class="link">({render.esc(row[pt(lang, "source")])})</span></li>'
                    for _, row in frame.iterrows())
    return f'<div class="muang-notice"><ul class="timeline-points">{items}</ul></div>'


def tscci_years(figures: list[Any]) -> list[str]:
    return sorted({f.as_of[:4] for f in figures if f.what == "tscci_score"}, reverse=True)


def tscci_frame(figures: list[Any], year: str | None, cities: list[Any], lang: str) -> pd.DataFrame:
    """TSCCI scores of one index year, one bar per city (the most precise figure when sources round)."""
    names = {c.slug: _name(c, lang) for c in cities}
    best: dict[str, Any] = {}
    for f in figures:
        if f.what != "tscci_score" or f.as_of[:4] != str(year) or not f.city:
            continue
        precision = len(repr(float(f.value)).split(".")[1])
        if f.city not in best or precision > len(repr(float(best[f.city].value)).split(".")[1]):
            best[f.city] = f
    rows = [{pt(lang, "tscci_city"): names.get(slug, slug), pt(lang, "tscci_score"): float(f.value),
             pt(lang, "source"): f.source} for slug, f in sorted(best.items(), key=lambda kv: -kv[1].value)]
    return pd.DataFrame(rows, columns=[pt(lang, "tscci_city"), pt(lang, "tscci_score"), pt(lang, "source")])


def smart_counts(cities: list[Any], lang: str) -> list[tuple[str, int]]:
    """How many cities address each Smart (cities whose Smarts are unknown are not counted)."""
    return [(smart_name(s, lang), sum(1 for c in cities if s in (c.smarts or []))) for s in SMARTS]


def precedents_tab(service, ui_lang: gr.State, lang_radio: gr.Radio, relabel: list) -> None:
    lang0 = DEFAULT_LANG
    catalog = _module("assistant.answer.catalog")
    if catalog is None:
        notice = gr.Markdown(t(lang0, "not_available", module="assistant.answer.catalog"), elem_id="precedents-missing")
        relabel.append((notice, lambda l: gr.update(value=t(l, "not_available", module="assistant.answer.catalog"))))
        return
    intro = gr.Markdown(t(lang0, "prec_intro"))
    with gr.Row():
        smart = gr.Dropdown(_smart_choices(lang0), value=ANY, label=t(lang0, "smart"), elem_id="prec-smart")
        batch = gr.Dropdown(_batch_choices(service, lang0), value=ANY, label=t(lang0, "batch"), elem_id="prec-batch")
        province = gr.Dropdown(_province_choices(service, lang0), value=ANY, label=t(lang0, "province"),
                               elem_id="prec-province")
    status = gr.HTML("", elem_id="prec-status")
    frame0, chart0, _ = _precedents(service, lang0, ANY, ANY, ANY)
    table = gr.Dataframe(frame0, label=t(lang0, "cities_table"), interactive=False, wrap=True,
                         elem_id="cities", column_widths=["27%", "13%", "7%", "32%", "11%", "10%"])
    download = gr.DownloadButton(t(lang0, "download_csv"), elem_id="cities-csv", size="sm")
    chart = gr.HTML(chart0, elem_id="smarts-chart")
    dated_figures(service, lang_radio, relabel)

    def update(lang, smart_value, batch_value, province_value):
        try:
            frame, chart_html, path = _precedents(service, lang, smart_value, batch_value, province_value)
        except MuangError as exc:
            return render.notice_html(str(exc), "error"), gr.update(), gr.update(), gr.update()
        return "", frame, chart_html, gr.update(value=path)

    outputs = [status, table, chart, download]
    for control in (smart, batch, province):
        control.change(update, [ui_lang, smart, batch, province], outputs, api_name=False)
    relabel += [
        (intro, lambda l: gr.update(value=t(l, "prec_intro"))),
        (smart, lambda l: gr.update(label=t(l, "smart"), choices=_smart_choices(l))),
        (batch, lambda l: gr.update(label=t(l, "batch"), choices=_batch_choices(service, l))),
        (province, lambda l: gr.update(label=t(l, "province"), choices=_province_choices(service, l))),
        (download, lambda l: gr.update(label=t(l, "download_csv"))),
    ]
    # The table and chart follow the language with the filters as they are set.
    lang_radio.change(update, [lang_radio, smart, batch, province], outputs, api_name=False)


def dated_figures(service, lang_radio: gr.Radio, relabel: list) -> None:
    """The timeline of certified-city totals and the TSCCI scores of a chosen index year."""
    lang0 = DEFAULT_LANG
    figures = load_figures(service)
    frame = timeline_frame(figures, lang0)
    timeline = gr.LinePlot(frame, x=pt(lang0, "timeline_date"), y=pt(lang0, "timeline_total"),
                           title=pt(lang0, "timeline"), tooltip="all", elem_id="timeline-chart",
                           y_lim=[0, None], x_axis_format="%Y-%m")
    points = gr.HTML(timeline_html(figures, lang0), elem_id="timeline-points")
    years = tscci_years(figures)
    year = gr.Dropdown(years, value=years[0] if years else None, label=pt(lang0, "tscci_year"), elem_id="tscci-year")
    scores0 = tscci_frame(figures, years[0] if years else None, load_cities(service), lang0)
    scores = gr.BarPlot(scores0, x=pt(lang0, "tscci_city"), y=pt(lang0, "tscci_score"), title=pt(lang0, "tscci"),
                        tooltip="all", sort="-y", y_lim=[0, 100], x_label_angle=-30, elem_id="tscci-chart")
    table = gr.Dataframe(scores0, interactive=False, wrap=True, elem_id="tscci-table", show_label=False)

    def show_year(lang, chosen):
        found = load_figures(service)
        frame = tscci_frame(found, chosen, load_cities(service), lang)
        return (gr.update(value=frame, x=pt(lang, "tscci_city"), y=pt(lang, "tscci_score"), title=pt(lang, "tscci")),
                frame)

    def relabel_all(lang):
        found = load_figures(service)
        frame = timeline_frame(found, lang)
        return (gr.update(value=frame, x=pt(lang, "timeline_date"), y=pt(lang, "timeline_total"),
                          title=pt(lang, "timeline")), timeline_html(found, lang))

    year.change(show_year, [lang_radio, year], [scores, table], api_name=False)
    lang_radio.change(show_year, [lang_radio, year], [scores, table], api_name=False)
    lang_radio.change(relabel_all, [lang_radio], [timeline, points], api_name=False)
    relabel.append((year, lambda l: gr.update(label=pt(l, "tscci_year"))))


def _smart_choices(lang: str) -> list[tuple[str, str]]:
    return [(t(lang, "any"), ANY)] + [(smart_name(s, lang), s) for s in SMARTS]


def _batch_choices(service, lang: str) -> list[tuple[str, str]]:
    batches = sorted({c.batch for c in load_cities(service) if c.batch is not None})
    return [(t(lang, "any"), ANY)] + [(str(b), str(b)) for b in batches]


def _province_choices(service, lang: str) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for c in load_cities(service):
        if c.province_th or c.province_en:
            seen.setdefault(c.province_th or c.province_en, _province(c, lang))
    return [(t(lang, "any"), ANY)] + sorted(((label, value) for value, label in seen.items()))


def _precedents(service, lang: str, smart: str, batch: str, province: str):
    from assistant.answer.catalog import filter_cities

    cities = load_cities(service)
    chosen = filter_cities(
        cities,
        smart=None if smart in (None, "", ANY) else smart,
        batch=None if batch in (None, "", ANY) else int(batch),
        province=None if province in (None, "", ANY) else province,
    )
    headers = [t(lang, f"col_{k}") for k in CITY_COLUMNS] + [pt(lang, "col_strength")]
    rows = city_rows(chosen, lang)
    frame = pd.DataFrame(rows, columns=headers)
    chart_html = render.bar_chart_html(smart_counts(chosen, lang), t(lang, "chart"))
    folder = Path(tempfile.mkdtemp(prefix="muang-cities-"))
    path = folder / ("cities.csv" if lang == "en" else "cities-th.csv")
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["slug"] + headers)
        for city, row in zip(chosen, rows):
            writer.writerow([city.slug] + row)
    return frame, chart_html, str(path)


# -- criteria check -----------------------------------------------------------------------------------
STATUS_ICON = {"covered": "✅", "weak": "🟡", "missing": "❌"}


def criteria_tab(service, ui_lang: gr.State, lang_radio: gr.Radio, relabel: list) -> None:
    lang0 = DEFAULT_LANG
    criteria = _module("assistant.answer.criteria")
    if criteria is None or not hasattr(criteria, "check_text"):
        notice = gr.Markdown(t(lang0, "not_available", module="assistant.answer.criteria"), elem_id="criteria-missing")
        relabel.append((notice, lambda l: gr.update(value=t(l, "not_available", module="assistant.answer.criteria"))))
        return
    intro = gr.Markdown(t(lang0, "crit_intro"))
    text = gr.Textbox(label=t(lang0, "proposal"), lines=8, max_lines=20, elem_id="proposal")
    upload = gr.File(label=t(lang0, "proposal_file"), file_count="single", elem_id="proposal-file")
    check = gr.Button(t(lang0, "check"), variant="primary", elem_id="check")
    status = gr.HTML("", elem_id="criteria-status")
    table = gr.Dataframe(_coverage_frame([], lang0), label=t(lang0, "coverage"), interactive=False, wrap=True,
                         elem_id="coverage", column_widths=["22%", "12%", "36%", "30%"])
    smarts = gr.HTML("", elem_id="criteria-smarts")
    relabel += [
        (intro, lambda l: gr.update(value=t(l, "crit_intro"))),
        (text, lambda l: gr.update(label=t(l, "proposal"))),
        (upload, lambda l: gr.update(label=t(l, "proposal_file"))),
        (check, lambda l: gr.update(value=t(l, "check"))),
    ]

    def run(lang, pasted, file):
        try:
            body = _proposal_text(pasted, file)
            if not body.strip():
                return render.notice_html(t(lang, "empty_proposal"), "error"), _coverage_frame([], lang), ""
            index = service.index()
            report = criteria.check_text(index, body)
        except MuangError as exc:
            return render.notice_html(str(exc), "error"), _coverage_frame([], lang), ""
        addressed = ", ".join(smart_name(s, lang) for s in report.smarts) or "–"
        smarts_html = f'<div class="muang-notice"><strong>{render.esc(t(lang, "smarts_addressed"))}:</strong> ' \
                      f"{render.esc(addressed)}</div>"
        return "", _coverage_frame(report.results, lang), smarts_html

    check.click(run, [ui_lang, text, upload], [status, table, smarts], api_name="check", concurrency_limit=2)
    lang_radio.change(lambda l: _coverage_frame([], l), lang_radio, table, api_name=False, queue=False)


def _proposal_text(pasted: str | None, file: str | None) -> str:
    if file:
        criteria = _module("assistant.answer.criteria")
        if criteria is not None and hasattr(criteria, "read_proposal"):
            return criteria.read_proposal(Path(file))
        documents = _module("assistant.ingest.documents")
        path = Path(file)
        if documents is not None and hasattr(documents, "load_file"):
            return documents.load_file(path, path.parent).text
        return path.read_text(encoding="utf-8", errors="replace")
    return pasted or ""


def _coverage_frame(results: list[Any], lang: str) -> pd.DataFrame:
    headers = [t(lang, k) for k in ("col_criterion", "col_status", "col_evidence", "col_suggestion")]
    rows = []
    for r in results:
        name = r.name_th if lang == "th" else r.name_en
        status = f"{STATUS_ICON.get(r.status, '')} {t(lang, 'status_' + r.status) if r.status in STATUS_ICON else r.status}"
        rows.append([name or r.criterion_id, status, " … ".join(r.quotes[:2]), r.suggestion or ""])
    return pd.DataFrame(rows, columns=headers)
