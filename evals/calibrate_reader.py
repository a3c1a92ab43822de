"""Fit answerability over the neural reader on questions it never saw, and choose its settings.

    .venv/bin/python evals/calibrate_reader.py collect   # run retrieval + reader on every calibration question
    .venv/bin/python evals/calibrate_reader.py fit       # -> assistant/models/reader_answerability.json
    make train-reader                                    # train, then both

Questions: the calibration part (evals/splits.py) of evals/gold.jsonl, evals/unanswerable.jsonl, XQuAD (th,
en) and iapp-train: kept out of the reader's training and out of the held-out part. Each answerable question
is run twice: over its own retrieval, and with its gold documents removed (SQuAD 2.0 style: then the right
decision is to abstain). Indexes are the ones evals/bench_answers.py uses (index/bench-answers/).

`fit` reports, on those questions: top-1 of the reader among the feature model's best N units (for the N
tried), then fits a logistic model over reading.FEATURES (label: the unit the reader ranks first holds the
answer), with the threshold that keeps CONFIDENT of the answerable questions confident, and the span
probability above which short answers are right at least SHORT_PRECISION of the time.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(1, str(ROOT / "evals"))

import numpy as np  # noqa: E402

from assistant.answer import reader, reading, selection  # noqa: E402
from assistant.answer.analysis import analyze  # noqa: E402
from assistant.evaluation import contains_answer, expects_unknown, load_gold  # noqa: E402
from assistant.answer.retrieval import search  # noqa: E402
from bench_answers import SETS, index_for  # noqa: E402
from splits import part_of  # noqa: E402
from train_answers import fit_logistic  # noqa: E402

CALIBRATION = ROOT / "evals" / "train" / "reader-calibration.jsonl"
OUT = selection.MODELS / "reader_answerability.json"
SEED = 13
SHORTLIST = 16          # units read per question here; reading.READ_UNITS is chosen from these
TRIED = (4, 6, 8, 12, 16)  # 3 ties 4 on top-1 but answers worse end to end (gold .962 -> .948, fresh .768 -> .741)
TIE = 0.005           # top-1 within this of the best counts as as good
MAX_IAPP = 400
CONFIDENT = 0.95
SHORT_PRECISION = 0.85
CATALOG_MARGIN = 1.0  # log-odds below the lowest right catalog answer


def collect(out: Path = CALIBRATION, limit: int | None = None) -> None:
    model = reader.Reader()
    root = ROOT / "index" / "bench-answers"
    rng = random.Random(SEED)
    n = 0
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for name in ("gold", "unanswerable", "xquad-th", "xquad-en", "iapp"):
            documents, questions = SETS[name]
            index = index_for(documents, root)
            rows = [r for r in load_gold(questions) if part_of(r) == "calibration" and not r.get("turns")]
            if name == "iapp" and len(rows) > MAX_IAPP:
                rows = rng.sample(rows, MAX_IAPP)
            if limit:
                rows = rows[:limit]
            started = time.time()
            for k, row in enumerate(rows):
                groups = row.get("answer_contains") or []
                answerable = bool(groups) and not expects_unknown(groups)
                question = analyze(row["question"], index.catalog())
                hits = search(index, question.search_text, k=20)
                runs = [("own", hits)]
                if answerable and row.get("gold_docs"):
                    runs.append(("negative", [h for h in hits if h.doc_id not in set(row["gold_docs"])]))
                for run, run_hits in runs:
                    f.write(json.dumps(one(index, model, question, run_hits, groups, answerable and run == "own",
                                           name, run, row["id"]), ensure_ascii=False) + "\n")
                    n += 1
                if k % 50 == 0:
                    print(f"  {name} {k}/{len(rows)} ({time.time() - started:.0f} s)", file=sys.stderr)
    tmp.replace(out)
    print(f"wrote {out}: {n} runs", file=sys.stderr)


def one(index, model, question, hits, groups, answerable, name, run, qid) -> dict:
    from assistant.answer.answering import from_catalog

    cands = selection.candidates(index, hits)
    record = {"id": qid, "set": name, "run": run, "answerable": answerable, "units": []}
    if run == "own" and name in ("gold", "unanswerable"):
        exact = from_catalog(index, question)
        if exact is not None:
            main = exact.answer.split("[1]")[0]
            [r] = model.read(question.corrected or question.raw, [("", main)])
            record["catalog"] = {"relevance": r.relevance, "confident": exact.confident,
                                 "right": bool(groups) and contains_answer(exact.answer, groups)}
    if not cands or not question.content:
        return record
    x = selection.unit_features(index, question, cands)
    p = selection.load_model("selection").predict(x)
    p = np.where(selection.about(index, question, cands), p, 0.0)
    qrow = selection.question_features(index, question, cands, x, p)
    record["features_probability"] = float(selection.load_model("answerability").predict(qrow[None, :])[0])
    # kept for fitting richer answerability models offline (the question's and each read unit's features)
    record["question"], record["kind"] = question.raw, question.kind
    record["question_features"] = [round(float(v), 5) for v in qrow]
    chosen = reading.shortlist(p, SHORTLIST)
    after = reading.following(index, question, cands, chosen)
    windows = [reading.window(question, cands, i, after) for i in chosen]
    readings = model.read(question.corrected or question.raw,
                          [(cands[i].hit.doc.get("title", ""), w) for i, w in zip(chosen, windows)],
                          batch_size=1)  # as reading.read reads them
    for i, w, r in zip(chosen, windows, readings):
        # what the answer quotes: the unit, and the sentence after it when the reader's answer lies there
        text = (f"{cands[i].unit.text} {after[i].unit.text}" if reading.in_next(r, cands[i].unit.text)
                else cands[i].unit.text)
        short = r.short_answer(w)
        record["units"].append({
            "p": float(p[i]), "relevance": r.relevance, "span_probability": r.span_probability,
            "right": answerable and contains_answer(text, groups),
            "short_right": answerable and bool(short) and contains_answer(short, groups)
            and len(short) <= max(len(a) for g in groups for a in g) + 12,
            "same_lang": cands[i].hit.lang == question.lang, "short": short, "text": w,
            "x": [round(float(v), 5) for v in x[i]]})
    return record


def arrays(record: dict, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict]]:
    units = record["units"][:n]
    return (np.array([u["relevance"] for u in units]), np.array([u["p"] for u in units]),
            np.array([u["span_probability"] for u in units]), units)


def features(record: dict, n: int, ranker) -> tuple[np.ndarray, bool, dict] | None:
    """The FEATURES row of one run, whether its best unit holds the answer, and that unit's record."""
    relevance, p, span, units = arrays(record, n)
    if not units:
        return None
    z = reading.rank_scores(relevance, p, span, ranker)
    row, best = reading.question_row(z, relevance, span, p, record["features_probability"])
    return row, bool(units[best]["right"]), units[best]


def fit_ranker(records: list[dict], n: int):
    rows, labels = [], []
    for r in records:
        relevance, p, span, units = arrays(r, n)
        if any(u["right"] for u in units):
            rows.append(np.column_stack([relevance, reading.logit(p), span]))
            labels += [u["right"] for u in units]
    x, y = np.vstack(rows), np.array(labels)
    return fit_logistic(x, y, np.ones(len(y)), reading.UNIT_FEATURES)


def top1(records: list[dict], n: int, ranker) -> float:
    return float(np.mean([bool(r["units"]) and features(r, n, ranker)[1] for r in records]))


def fit(path: Path = CALIBRATION, out: Path = OUT) -> dict:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    report: dict = {"runs": len(records)}
    own = [r for r in records if r["run"] == "own" and r["answerable"]]
    sets = sorted({r["set"] for r in own})
    for n in TRIED:
        report[f"top{n}"] = {name: {"reader_top1": round(top1([r for r in own if r["set"] == name], n, None), 3),
                                    "in_shortlist": round(float(np.mean([any(u["right"] for u in r["units"][:n])
                                                                         for r in own if r["set"] == name])), 3)}
                             for name in sets}
    # How many units to read, and whether to stack the feature model's probability into the ranking: the
    # choice with the best top-1 out of fold (2 folds by question) on the pooled calibration questions; within
    # TIE of the best, fewer units (each costs reader time) and no stacking.
    folds = [[r for k, r in enumerate(own) if k % 2 == f] for f in (0, 1)]
    choices = {}
    for n in TRIED:
        per = {"reader": {name: [] for name in sets}, "stacked": {name: [] for name in sets}}
        for f in (0, 1):
            fitted = fit_ranker(folds[1 - f], n)
            for r in folds[f]:
                if r["units"]:
                    per["stacked"][r["set"]].append(features(r, n, fitted)[1])
                    per["reader"][r["set"]].append(features(r, n, None)[1])
        for how, by_set in per.items():
            choices[(n, how)] = (float(np.mean([x for v in by_set.values() for x in v])),
                                 {name: round(float(np.mean(v)), 3) for name, v in by_set.items()})
    report["ranking_out_of_fold"] = {f"{how} top{n}": {"pooled": round(pooled, 3), **by_set}
                                     for (n, how), (pooled, by_set) in choices.items()}
    best = max(pooled for pooled, _ in choices.values())
    n, how = min((key for key, (pooled, _) in choices.items() if pooled >= best - TIE),
                 key=lambda key: (key[0], key[1] == "stacked"))
    ranker = fit_ranker(own, n) if how == "stacked" else None
    pooled_stacked, pooled_alone = choices[(n, "stacked")][0], choices[(n, "reader")][0]
    ranking_path = selection.MODELS / "reader_ranking.json"
    if ranker is not None:
        ranker = selection.Model(ranker.names, ranker.mean, ranker.scale, ranker.coef, ranker.intercept, 0.5,
                                 {"out_of_fold_top1": {"reader": round(pooled_alone, 4),
                                                      "stacked": round(pooled_stacked, 4)}})
        ranking_path.write_text(json.dumps(ranker.to_json(), indent=1) + "\n", encoding="utf-8")
    elif ranking_path.exists():
        ranking_path.unlink()
    report["ranking"] = f"{how}, {n} units read"
    xs, ys, ws, kinds = [], [], [], []
    weights = {"gold": 4.0, "unanswerable": 4.0}
    for r in records:
        found = features(r, n, ranker)
        if found is None:
            continue
        row, right, _ = found
        xs.append(row)
        ys.append(r["answerable"] and right)
        ws.append(weights.get(r["set"], 1.0))
        kinds.append((r["set"], r["run"], r["answerable"]))
    x, y, w = np.array(xs), np.array(ys), np.array(ws)
    model = fit_logistic(x, y, w, reading.FEATURES)
    p = model.predict(x)
    grid = np.round(np.arange(0.02, 0.96, 0.01), 2)
    # The highest threshold keeping CONFIDENT of each set's answerable questions confident on average over the
    # sets: pooled, iapp's 400 questions set it alone, and it moved between runs. Questions with no candidate
    # at all are unconfident whatever the threshold: they count against it.
    def confident_share(t: float) -> float:
        shares = []
        for name in sets:
            mine = np.array([s == name and run == "own" and a for s, run, a in kinds])
            missing = sum(1 for r in own if r["set"] == name and not r["units"])
            shares.append((p[mine] >= t).sum() / (mine.sum() + missing))
        return float(np.mean(shares))

    kept = [t for t in grid if confident_share(t) >= CONFIDENT]
    threshold = float(max(kept)) if kept else float(grid[0])
    by_kind: dict = {}
    for (name, run, ans), prob, label in zip(kinds, p, y):
        key = f"{name}:{run}" + ("" if ans or run == "negative" else ":out")
        d = by_kind.setdefault(key, {"n": 0, "confident": 0, "right_confident": 0})
        d["n"] += 1
        d["confident"] += int(prob >= threshold)
        d["right_confident"] += int(prob >= threshold and label)
    report["at_threshold"] = {k: {"n": v["n"], "confident": round(v["confident"] / v["n"], 3),
                                  "right_and_confident": round(v["right_confident"] / v["n"], 3)}
                              for k, v in sorted(by_kind.items())}
    # Short answers: the lowest span probability at which the right answers' short answers are right at least
    # SHORT_PRECISION of the time.
    spans = []
    for r in own:
        found = features(r, n, ranker)
        if found and found[1] and found[2]["same_lang"]:
            spans.append((found[2]["span_probability"], found[2]["short_right"]))
    short_min = 0.95
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        chosen = [ok for s, ok in spans if s >= t]
        if chosen and np.mean(chosen) >= SHORT_PRECISION:
            short_min = float(t)
            report["short_answer"] = {"min_span_probability": short_min, "precision": round(float(np.mean(chosen)), 3),
                                      "coverage": round(len(chosen) / max(len(spans), 1), 3)}
            break
    catalog = [r["catalog"] for r in records if r.get("catalog")]
    right = sorted(c["relevance"] for c in catalog if c["right"])
    wrong = sorted(c["relevance"] for c in catalog if not c["right"])
    # The reader reads the catalog's composed sentences poorly (right answers such as "approved at meeting
    # 1/2564" score as low as wrong ones), so the gate sits a margin below every right catalog answer of the
    # calibration part, and exists only if it then still refuses some of the wrong ones.
    catalog_min = min(right) - CATALOG_MARGIN if right else None
    if catalog_min is not None and not any(v < catalog_min for v in wrong):
        catalog_min = None
    report["catalog"] = {"n": len(catalog), "min_relevance": catalog_min,
                         "right": [round(v, 2) for v in right], "wrong": [round(v, 2) for v in wrong]}
    model = selection.Model(model.names, model.mean, model.scale, model.coef, model.intercept, threshold,
                            {"rows": int(len(x)), "read_units": n, "short_answer": short_min,
                             "catalog_relevance": catalog_min,
                             "threshold_rule": f"highest keeping {CONFIDENT:.0%} of each set's answerable calibration questions confident, on average over the sets",
                             "at_threshold": report["at_threshold"]})
    out.write_text(json.dumps(model.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    write_card_section(report, n, how, threshold, short_min)
    return report


def write_card_section(report: dict, n: int, how: str, threshold: float, short_min: float,
                       card: Path = reader.MODELS / "reader.md") -> None:
    """The model card's calibration section (replaced on each fit; training writes the rest of the card)."""
    oof = report["ranking_out_of_fold"]
    rows = "\n".join(f"| {name} | {oof[f'reader top{n}'][name]:.3f} | {oof[f'stacked top{n}'][name]:.3f} | "
                     f"{report['at_threshold'].get(f'{name}:own', {}).get('confident', float('nan')):.3f} | "
                     f"{report['at_threshold'].get(f'{name}:negative', {}).get('confident', float('nan')):.3f} |"
                     for name in sorted(k for k in oof[f"reader top{n}"] if k != "pooled"))
    section = f"""## Calibration (`evals/calibrate_reader.py all`, seed {SEED})

Fitted on the calibration part of each set (questions neither training nor the held-out measurements use):
{report['runs']} runs, each answerable question also asked with its gold documents removed (the right
decision then is to abstain). Each unit is read with the sentence after it in its chunk
(`reading.window`: a Thai clause often ends where its answer begins).
Chosen: {how} ranking of the best {n} units; answerability threshold {threshold:.2f} (keeps
{CONFIDENT:.0%} of each set's answerable calibration questions confident, on average over the sets); short answers at span probability
>= {short_min:.2f}; the catalog gate {'off: right catalog answers score as low as wrong ones' if report['catalog']['min_relevance'] is None else f"at relevance {report['catalog']['min_relevance']:.2f}"}.

| set | top-1 unit, reader alone | top-1, stacked | answerable: confident | gold documents removed: confident |
|---|---|---|---|---|
{rows}

Unanswerable in-domain questions (`evals/unanswerable.jsonl`, calibration part) left confident:
{report['at_threshold'].get('unanswerable:own:out', {}).get('confident', float('nan')):.3f}.
"""
    text = card.read_text(encoding="utf-8")
    text = text.split("## Calibration")[0].rstrip() + "\n\n" + section
    card.write_text(text, encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["collect", "fit", "all"])
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    if args.step in ("collect", "all"):
        collect(limit=args.limit)
    if args.step in ("fit", "all"):
        print(json.dumps(fit(), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
