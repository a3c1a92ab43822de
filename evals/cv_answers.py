"""Cross-validated answer selection and answerability on the training features, per set, in seconds.

    .venv/bin/python evals/cv_answers.py                       # evals/train/features.npz
    .venv/bin/python evals/cv_answers.py --drop soft_predicate,soft_before
    .venv/bin/python evals/cv_answers.py --features OTHER.npz  # e.g. after `train_answers.py extract`

For trying a feature before shipping it: 5 folds by question (a question's units and rows stay together),
the same fitting code as `make train`. Selection: the share of questions (with the answer among the
candidates) whose best-rated unit holds it, and whose best two do. Answerability: the gold 95% threshold
rule on out-of-fold predictions, then abstention on our unanswerable questions and false abstention on the
answerable ones of each set. Held-out parts of the benchmarks are not in the file, so nothing here tunes on them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_answers as ta  # noqa: E402

FOLDS = 5


def selection_cv(data, drop: set[str]) -> dict[str, tuple[float, float, int]]:
    names = [str(n) for n in data["unit_names"]]
    keep = [i for i, n in enumerate(names) if n not in drop]
    x = data["units"].astype(np.float64)[:, keep]
    y, w, groups = data["unit_labels"], data["unit_weights"], data["unit_groups"]
    own = np.array([str(s).split(":")[0] for s in data["question_sets"] if str(s).endswith(":own")])
    p = np.zeros(len(y))
    for fold in range(FOLDS):
        out = groups % FOLDS == fold
        model = ta.boost(ta.fit_logistic(x[~out], y[~out], w[~out], [names[i] for i in keep]),
                         x[~out], y[~out], w[~out], ta.BOOST_ROUNDS)
        p[out] = model.predict(x[out])
    right: dict[str, list[tuple[bool, bool]]] = {}
    for group in np.unique(groups):
        rows = np.flatnonzero(groups == group)
        if not y[rows].any():
            continue
        order = rows[np.argsort(-p[rows], kind="stable")]
        right.setdefault(own[group], []).append((bool(y[order[0]]), bool(y[order[:2]].any())))
    return {s: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v])), len(v))
            for s, v in sorted(right.items())}


def answerability_cv(data, drop: set[str]) -> tuple[float, dict[str, float]]:
    names = [str(n) for n in data["question_names"]]
    keep = [i for i, n in enumerate(names) if n not in drop]
    x = data["questions"].astype(np.float64)[:, keep]
    y, w, sets = data["question_answerable"], data["question_weights"], data["question_sets"].astype(str)
    p = ta.cross_fitted(x, y, w, ta.question_groups(sets), FOLDS, [names[i] for i in keep])
    threshold = ta.best_threshold(p[(sets == "gold:own") & y], p[sets == "unanswerable:own"])
    rates = {"unanswerable abstained": float((p[sets == "unanswerable:own"] < threshold).mean())}
    for name in sorted({s.split(":")[0] for s in sets} - {"unanswerable"}):
        rows = (sets == f"{name}:own") & y
        rates[f"{name} false abstention"] = float((p[rows] < threshold).mean())
    return threshold, rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=ta.FEATURES)
    parser.add_argument("--drop", default="", help="comma-separated feature names to leave out")
    args = parser.parse_args()
    data = np.load(args.features)
    drop = {d for d in args.drop.split(",") if d}
    print("selection (cross-fitted): set, top-1 unit right, top-2, questions")
    for name, (top1, top2, n) in selection_cv(data, drop).items():
        print(f"  {name:12s} {top1:.3f} {top2:.3f} {n}")
    threshold, rates = answerability_cv(data, drop)
    print(f"answerability (cross-fitted, threshold {threshold:.2f}):")
    for name, rate in rates.items():
        print(f"  {name:32s} {rate:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
