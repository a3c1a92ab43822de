"""Calibrate the confidence thresholds (MUANG_MIN_DENSE, MUANG_MIN_COVERAGE) on a gold set.

Runs every question with the thresholds off, then picks the pair that keeps every out-of-scope question
unconfident and the most in-scope questions confident; within that plateau it takes the middle, so the
thresholds sit as far as possible from the examples on either side.

    .venv/bin/python evals/calibrate.py [--set evals/gold.jsonl]      (uses MUANG_INDEX_DIR, default ./index)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from assistant.answering import answer  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.evaluation import load_gold  # noqa: E402
from assistant.retrieval import Index  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="gold", type=Path, default=ROOT / "evals" / "gold.jsonl")
    args = parser.parse_args()
    index = Index(Settings.load(min_dense=0.0, min_coverage=0.0))
    rows = load_gold(args.gold)
    features = []
    for row in rows:
        result = answer(index, row["question"])
        if result.mode != "extractive":
            continue  # catalog answers are exact lists; the thresholds only govern retrieved answers
        features.append((result.evidence["dense"], result.evidence["coverage"], row.get("who") == "out"))
    dense = np.array([f[0] for f in features])
    coverage = np.array([f[1] for f in features])
    out = np.array([f[2] for f in features])

    grid_d = np.round(np.arange(0.70, 0.95, 0.005), 3)
    grid_c = np.round(np.arange(0.0, 1.0, 0.01), 2)
    best, plateau = -1, []
    for d in grid_d:
        for c in grid_c:
            confident = (dense >= d) & (coverage >= c)
            if confident[out].any():
                continue
            kept = int(confident[~out].sum())
            if kept > best:
                best, plateau = kept, [(d, c)]
            elif kept == best:
                plateau.append((d, c))
    if not plateau:
        print("no thresholds keep every out-of-scope question unconfident", file=sys.stderr)
        return 1
    ds = sorted({d for d, _ in plateau})
    cs = sorted({c for _, c in plateau})
    mid_d, mid_c = ds[len(ds) // 2], cs[len(cs) // 2]
    if (mid_d, mid_c) not in plateau:  # the plateau is not a rectangle: take its most central member
        mid_d, mid_c = min(plateau, key=lambda p: abs(p[0] - mid_d) + abs(p[1] - mid_c))
    print(json.dumps({
        "questions": len(features), "out_of_scope": int(out.sum()),
        "in_scope_confident": best, "in_scope": int((~out).sum()),
        "min_dense": float(mid_d), "min_coverage": float(mid_c),
        "dense_range": [float(ds[0]), float(ds[-1])], "coverage_range": [float(cs[0]), float(cs[-1])],
    }, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
