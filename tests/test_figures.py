"""Dated figures: front-matter validation and the catalog's figures()/latest()."""

import pytest

from assistant.answer.catalog import figures, latest
from assistant.ingest.documents import load_file
from assistant.errors import MuangError
from conftest import CORPUS


def doc(tmp_path, front: str, name: str = "n.md"):
    path = tmp_path / name
    path.write_text(f"---\n{front}\n---\nText.", encoding="utf-8")
    return load_file(path, tmp_path)


def test_figures_are_checked_and_dates_come_back_as_sortable_text(tmp_path):
    meta = doc(tmp_path, "id: n-en\nfigures:\n"
                         "  - {what: certified_cities_total, value: 30, as_of: 2022-11-09, source: 'https://a'}\n"
                         "  - {what: certified_cities_total, value: 36, as_of: 2023-07, source: 'https://b'}\n"
                         "  - {what: tscci_score, value: 83.55, as_of: 2023, city: x, unit: percent, source: s}").metadata
    assert [f["as_of"] for f in meta["figures"]] == ["2022-11-09", "2023-07", "2023"]


@pytest.mark.parametrize("front, reason", [
    ("figures: {what: x}", "`figures` must be a list of mappings"),
    ("figures: [total]", r"`figures\[0\]` must be a mapping"),
    ("figures: [{what: x, value: 1, as_of: 2023}]", r"`figures\[0\].source` is missing"),
    ("figures: [{what: x, value: thirty, as_of: 2023, source: s}]", r"`figures\[0\].value` must be a number"),
    ("figures: [{what: x, value: true, as_of: 2023, source: s}]", r"`figures\[0\].value` must be a number"),
    ("figures: [{what: x, value: 1, as_of: 2023, source: s}, {what: x, value: 2, as_of: last year, source: s}]",
     r"`figures\[1\].as_of` must be a date"),
    ("figures: [{what: x, value: 1, as_of: 2023, source: s, city: [a, b]}]", r"`figures\[0\].city` must be text"),
])
def test_a_bad_figure_is_refused_with_the_field_named(tmp_path, front, reason):
    with pytest.raises(MuangError, match=reason):
        doc(tmp_path, front)


def test_figures_merge_languages_sort_by_date_and_latest_is_the_newest():
    docs = {}
    for path in sorted(CORPUS.glob("*.md")):
        d = load_file(path, CORPUS)
        docs[d.doc_id] = d.metadata
    totals = figures(docs, what="certified_cities_total", lang="en")
    assert [f.as_of for f in totals] == sorted(f.as_of for f in totals)
    assert len({(f.as_of, f.value, f.source) for f in totals}) == len(totals)
    newest = latest(totals)
    assert newest and all(f.as_of == max(t.as_of for t in totals) for f in newest)
    assert all(f.doc_id.endswith("-en") or not any(i.endswith("-en") for i in f.doc_ids) for f in totals)
    scores = figures(docs, what="tscci_score", city="wangchan-valley")
    assert {f.year for f in scores} >= {2023, 2024}
    assert {f.programme for f in figures(docs, what="dla_prize")} == {"dla-liveable"}
