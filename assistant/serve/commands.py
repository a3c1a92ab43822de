"""`muang` commands that serve or change what others are told: `serve` (web UI or terminal), `user` (staff
accounts), `documents` (list, remove) and `feedback` (read what users said)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from assistant.config import Settings
from assistant.errors import MuangError
from assistant.output import format_answer, text_table


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if args.terminal:
        return _serve_terminal(settings)
    # The web UI is a plugin found through the "muang.serve" entry point, so assistant/ never imports ui/.
    from importlib.metadata import entry_points

    found = list(entry_points(group="muang.serve"))
    if not found:
        raise MuangError("no web UI is installed (entry point group muang.serve); try `muang serve --terminal`")
    launch = found[0].load()
    from assistant.serve.auth import has_users
    from assistant.index.background import build_in_background
    from assistant.answer.retrieval import Index

    # First run: answerable in seconds (BM25 + the fast embedder); the full index follows in the background.
    build_in_background(settings)
    Index(settings)  # fail early, with the usual message, when there is no index
    if settings.workers < 1:
        raise MuangError("--workers must be at least 1")
    if not _loopback(args.host) and not has_users(settings):
        print(f"muang: warning: serving on {args.host} (reachable from other machines) with no staff account: "
              "uploads are off until you create one with `muang user add NAME`", file=sys.stderr)
    launch(settings, host=args.host, port=args.port)
    return 0


def _loopback(host: str) -> bool:
    """Whether an address to bind is reachable only from this machine.

    >>> _loopback("127.0.0.1"), _loopback("localhost"), _loopback("0.0.0.0"), _loopback("::1")
    (True, True, False, True)
    """
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _serve_terminal(settings: Settings) -> int:
    from assistant.answer.answering import answer
    from assistant.answer.retrieval import Index

    index = Index(settings)
    history: list[dict[str, str]] = []
    print("Muang: ask a question in Thai or English (empty line or Ctrl-D to quit).", file=sys.stderr)
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            return 0
        if not question:
            return 0
        try:
            result = answer(index, question, history=history)
        except MuangError as exc:
            print(f"muang: {exc}", file=sys.stderr)
            continue
        print(format_answer(result.to_json()) + "\n")
        history += [{"role": "user", "content": question}, {"role": "assistant", "content": result.answer}]


def cmd_feedback(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.serve import feedback

    if args.export:
        count = feedback.export_csv(settings, args.export)
        print(f"{count} feedback entries written to {args.export}")
        return 0
    rows = feedback.entries(settings)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    for row in rows:
        print(f"{row.get('time', '')}  {row.get('vote', ''):>4}  {row.get('question', '')}")
    print(f"{len(rows)} entries")
    return 0


def cmd_user(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.serve import auth

    if args.action == "list":
        for user in auth.users(settings):
            print(f"{user.name}  (created {time.strftime('%Y-%m-%d %H:%M', time.localtime(user.created))})")
        return 0
    if not args.name:
        raise MuangError(f"muang user {args.action} needs a NAME")
    if args.action == "remove":
        auth.remove_user(settings, args.name)
        print(f"removed staff account {args.name}")
        return 0
    auth.check_name(args.name)
    auth.add_user(settings, args.name, _read_password())
    print(f"staff account {args.name} can now sign in (documents tab of the web UI)")
    return 0


def _read_password() -> str:
    """The new password: typed twice at a terminal (not shown), or the first line of standard input."""
    if sys.stdin.isatty():
        import getpass

        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise MuangError("the two passwords differ")
        return first
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise MuangError("no password on standard input")
    return line


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.index import provenance
    from assistant.answer.retrieval import Index

    if args.action == "remove":
        if not args.doc_id:
            raise MuangError("muang documents remove needs a DOC_ID (see `muang documents`)")
        build = provenance.remove_document(settings, args.doc_id)
        print(f"removed {args.doc_id}: build {build} committed")
        return 0
    rows = provenance.documents(settings, Index(settings))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False))
        return 0
    table = [("doc_id", "lang", "chunks", "origin", "title")]
    table += [(r["doc_id"], r["lang"], str(r["chunks"]), provenance.describe(r["origin"]), r["title"]) for r in rows]
    print(text_table(table))
    print(f"{len(rows)} documents")
    return 0
