"""Retrieval and answer metrics over a gold set (evals/*.jsonl, format in DESIGN.md)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from assistant.chunking import normalize
from assistant.errors import MuangError


def load_gold(path: Path) -> list[dict[str, Any]]:
    path = Path(path)
    if not path.is_file():
        raise MuangError(f"{path}: no such gold set")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise MuangError(f"{path}:{number}: not JSON ({exc.msg})") from None
        if not isinstance(row, dict) or not row.get("question"):
            raise MuangError(f"{path}:{number}: a gold line needs a \"question\"")
        rows.append(row)
    if not rows:
        raise MuangError(f"{path}: the gold set is empty")
    return rows


def ranked_docs(doc_ids: Iterable[str]) -> list[str]:
    """Documents in rank order, each once (chunks of one document count once)."""
    seen: list[str] = []
    for doc_id in doc_ids:
        if doc_id not in seen:
            seen.append(doc_id)
    return seen


def contains_answer(answer: str, groups: list[list[str]]) -> bool:
    """Every group matched by at least one alternative (normalized: Thai digits, case).

    >>> contains_answer("แม่เมาะอยู่จังหวัดลำปาง [1]", [["ลำปาง", "Lampang"]])
    True
    """
    text = normalize(answer)
    return all(any(normalize(alt) in text for alt in group) for group in groups)


def score(rows: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics for gold rows and their results ({"docs": ranked doc ids, "answer": str, "confident": bool})."""
    def summarise(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
        scoped = [(r, o) for r, o in pairs if r.get("who") != "out" and r.get("gold_docs")]
        answerable = [(r, o) for r, o in pairs if r.get("who") != "out" and r.get("answer_contains")]
        out = [(r, o) for r, o in pairs if r.get("who") == "out"]

        def share(values: list[float]) -> float | None:
            return round(sum(values) / len(values), 4) if values else None

        def rank(r, o):
            hits = [i for i, d in enumerate(o["docs"][:10]) if d in r["gold_docs"]]
            return hits[0] + 1 if hits else None

        ranks = [rank(r, o) for r, o in scoped]
        return {
            "n": len(pairs),
            "recall@1": share([1.0 if x == 1 else 0.0 for x in ranks]),
            "recall@5": share([1.0 if x and x <= 5 else 0.0 for x in ranks]),
            "mrr@10": share([1.0 / x if x else 0.0 for x in ranks]),
            "answer_accuracy": share([
                1.0 if contains_answer(o["answer"], r["answer_contains"]) else 0.0 for r, o in answerable
            ]),
            "abstain_rate_out": share([0.0 if o["confident"] else 1.0 for _, o in out]),
            "confident_rate_in": share([1.0 if o["confident"] else 0.0 for _, o in answerable]),
        }

    pairs = list(zip(rows, results))
    report = summarise(pairs)
    report["by_lang"] = {
        lang: summarise([(r, o) for r, o in pairs if r.get("lang") == lang])
        for lang in sorted({r.get("lang", "?") for r in rows})
    }
    return report


def evaluate(
    rows: list[dict[str, Any]],
    ask: Callable[[str], dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `ask` on every question; return the metrics and the per-question results."""
    results = []
    for row in rows:
        result = ask(row["question"])
        result["id"] = row.get("id")
        result["ok"] = (
            contains_answer(result["answer"], row["answer_contains"]) if row.get("answer_contains")
            else (not result["confident"]) if row.get("who") == "out" else None
        )
        results.append(result)
        if progress:
            progress(1)
    return score(rows, results), results
