"""The corpus against the fact sheet (a copy in tests/data): every entry reachable, every city listed."""

import json
import re

import pytest
import yaml

from assistant.cli import main
from assistant.ingest.documents import load_file
from conftest import CORPUS, DATA

FACTS = yaml.safe_load((DATA / "facts.yaml").read_text(encoding="utf-8"))
DOCS = [load_file(path, CORPUS) for path in sorted(CORPUS.glob("*.md"))]


def test_the_fact_sheet_copy_is_the_extended_sheet():
    assert len(FACTS) == 82 and len({e["id"] for e in FACTS}) == 82


@pytest.mark.parametrize("fact", FACTS, ids=[e["id"] for e in FACTS])
def test_every_source_of_every_entry_is_in_some_document_front_matter(fact):
    cited = {source for doc in DOCS for source in doc.metadata["sources"]}
    assert [s for s in fact["sources"] if s not in cited] == []


def test_documents_come_in_thai_english_pairs_with_strength_and_programme():
    by_stem: dict[str, set[str]] = {}
    for doc in DOCS:
        by_stem.setdefault(re.sub(r"-(th|en)$", "", doc.doc_id), set()).add(doc.lang)
        assert doc.metadata.get("source_strength") in ("official", "news", "blog"), doc.doc_id
        assert doc.metadata.get("programme"), doc.doc_id
    assert {stem: langs for stem, langs in by_stem.items() if langs != {"th", "en"}} == {}


def test_every_figure_cites_a_source_of_its_document():
    for doc in DOCS:
        for figure in doc.metadata.get("figures") or []:
            assert figure["source"] in doc.metadata["sources"], (doc.doc_id, figure["what"])


def test_weak_sources_are_named_in_the_text():
    """A city whose Smarts rest on a blog or a local news site says so where the Smarts are given."""
    for doc in DOCS:
        for weak in doc.metadata.get("weak_sources") or []:
            words = ("blog", "บล็อก") if "blog" in weak else ("local news", "ข่าวท้องถิ่น")
            assert any(w in doc.text for w in words), doc.doc_id


@pytest.mark.slow
def test_cities_json_lists_every_city_the_fact_sheet_names(capsys, corpus_index):
    assert main(["cities", "--json", "--index-dir", str(corpus_index)]) == 0
    table = {c["slug"]: c for c in json.loads(capsys.readouterr().out)}
    named = {e["city"]: e for e in FACTS if e.get("city")}
    assert set(named) <= set(table)
    for slug, fact in named.items():
        if "batch" in fact:  # unknown stays unknown, never guessed
            assert table[slug]["batch"] == fact["batch"], slug
        if "smarts" in fact:
            assert (table[slug]["smarts"] is None) == (fact["smarts"] is None), slug
    strength = {slug: table[slug]["source_strength"] for slug in ("cmu", "korat")}
    assert strength == {"cmu": "blog", "korat": "news"}
