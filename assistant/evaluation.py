"""Retrieval and answer metrics over a gold set (evals/*.jsonl, format in DESIGN.md).

A line may also be a scripted conversation (evals/conversations.jsonl):
  {"id": "...", "lang": "th", "turns": [{"question": "แม่เมาะอยู่ที่ไหน", "gold_docs": [...],
   "answer_contains": [["ลำปาง"]]}, {"question": "แล้วขอนแก่นล่ะ", ...}]}
Each turn is asked after the earlier turns and the answers Muang gave them, and scored like a gold
question (a turn may say "who": "out"); the report adds how many conversations had every turn right and
the accuracy over the follow-up turns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from assistant.ingest.chunking import normalize
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
        turns = row.get("turns") if isinstance(row, dict) else None
        if turns is not None and not (isinstance(turns, list) and turns and
                                      all(isinstance(t, dict) and t.get("question") for t in turns)):
            raise MuangError(f"{path}:{number}: \"turns\" must be a list of {{\"question\": ...}}")
        if not isinstance(row, dict) or not (row.get("question") or turns):
            raise MuangError(f"{path}:{number}: a gold line needs a \"question\" (or \"turns\")")
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


_UNKNOWN_ANSWERS = {"ไม่ปรากฏ", "ไม่ทราบ", "ไม่พบ", "ไม่ได้ระบุ", "ไม่ระบุ", "not known", "not found", "unknown",
                    "do not say", "does not say"}


def expects_unknown(groups: list[list[str]]) -> bool:
    """Whether a gold row's answer is that the documents do not know: a group of alternatives such as
    ["ไม่ปรากฏ", "not known"]."""
    from assistant.answer.questions import states_unknown

    return any(group and all(normalize(alt) in _UNKNOWN_ANSWERS or states_unknown(alt) for alt in group)
               for group in groups)


def score(rows: list[dict[str, Any]], results: list[dict[str, Any]]) -> dict[str, Any]:
    """Metrics for gold rows and their results ({"docs": ranked doc ids, "answer": str, "confident": bool})."""
    def summarise(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
        scoped = [(r, o) for r, o in pairs if r.get("who") != "out" and r.get("gold_docs")]
        answerable = [(r, o) for r, o in pairs if r.get("who") != "out" and r.get("answer_contains")]
        # A row whose right answer is "not known" is answered right by an unconfident answer saying so: it
        # does not count as a false abstention.
        known = [(r, o) for r, o in answerable if not expects_unknown(r["answer_contains"])]
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
            "confident_rate_in": share([1.0 if o["confident"] else 0.0 for _, o in known]),
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
    ask: Callable[[str, list[dict[str, str]]], dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run `ask(question, history)` on every question (every turn of every conversation, after the turns
    before it); return the metrics and the per-question results."""
    asked: list[dict[str, Any]] = []
    results = []
    for row in rows:
        history: list[dict[str, str]] = []
        turns = row.get("turns") or [row]
        for number, turn in enumerate(turns, start=1):
            turn = {"lang": row.get("lang"), "who": row.get("who"), **turn}
            result = ask(turn["question"], list(history))
            result["id"] = f"{row.get('id')}#{number}" if row.get("turns") else row.get("id")
            result["turn"] = number
            result["ok"] = (
                contains_answer(result["answer"], turn["answer_contains"]) if turn.get("answer_contains")
                else (not result["confident"]) if turn.get("who") == "out" else None
            )
            history += [{"role": "user", "content": turn["question"]},
                        {"role": "assistant", "content": result["answer"]}]
            asked.append(turn)
            results.append(result)
            if progress:
                progress(1)
    report = score(asked, results)
    conversations = [r for r in rows if r.get("turns")]
    if conversations:
        by_id: dict[str, list[dict[str, Any]]] = {}
        for result in results:
            by_id.setdefault(str(result["id"]).rsplit("#", 1)[0], []).append(result)
        whole = [all(r["ok"] is not False for r in by_id[str(c.get("id"))]) for c in conversations]
        followups = [r["ok"] for r in results if r["turn"] > 1 and r["ok"] is not None]
        report["conversations"] = len(conversations)
        report["conversation_accuracy"] = round(sum(whole) / len(whole), 4)
        report["followup_accuracy"] = round(sum(followups) / len(followups), 4) if followups else None
    return report, results
