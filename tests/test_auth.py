"""Staff accounts and sessions (SQLite + argon2) through `muang user` and assistant.serve.auth; the rate limit's
shared counter."""

from __future__ import annotations

import io
import sqlite3
import subprocess
import sys
import time

import pytest

from assistant.serve import auth, ratelimit
from assistant.config import Settings


@pytest.fixture()
def settings(tmp_path) -> Settings:
    return Settings.load(index_dir=tmp_path / "index")


def test_user_add_reads_the_password_from_stdin_and_stores_only_a_hash(settings, monkeypatch, capsys):
    from assistant.cli import main

    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert main(["user", "add", "somchai", "--index-dir", str(settings.index_dir)]) == 0
    assert main(["user", "list", "--index-dir", str(settings.index_dir)]) == 0
    assert "somchai" in capsys.readouterr().out
    stored = sqlite3.connect(auth.path(settings)).execute("SELECT hash FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    token = auth.sign_in(settings, "somchai", "correct horse battery")
    assert auth.session_user(settings, token) == "somchai"
    auth.sign_out(settings, token)
    assert auth.session_user(settings, token) is None


def test_the_password_is_never_a_flag(settings, capsys):
    from assistant.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["user", "add", "somchai", "--password", "x", "--index-dir", str(settings.index_dir)])
    assert exited.value.code == 2 and "unrecognized arguments" in capsys.readouterr().err
    assert not auth.has_users(settings)


def test_user_add_as_a_real_process_with_piped_password(settings):
    run = subprocess.run([sys.executable, "-m", "assistant", "user", "add", "ops@city", "--index-dir",
                          str(settings.index_dir)], input="short\n", text=True, capture_output=True)
    assert run.returncode == 2 and "at least 8" in run.stderr
    run = subprocess.run([sys.executable, "-m", "assistant", "user", "add", "ops@city", "--index-dir",
                          str(settings.index_dir)], input="long enough pw\n", text=True, capture_output=True)
    assert run.returncode == 0, run.stderr
    assert auth.has_users(settings)


def test_failed_sign_ins_are_slow_then_refused(settings, monkeypatch):
    auth.add_user(settings, "somchai", "correct horse battery")
    monkeypatch.setattr(auth, "FAIL_DELAY", 0.2)
    started = time.monotonic()
    with pytest.raises(auth.SignInError) as wrong:
        auth.sign_in(settings, "somchai", "guess", client="ip:10.0.0.9")
    assert time.monotonic() - started >= 0.2 and not wrong.value.locked
    with pytest.raises(auth.SignInError):
        auth.sign_in(settings, "nobody", "guess", client="ip:10.0.0.9")  # unknown names fail the same way
    for _ in range(auth.MAX_FAILURES - 2):
        with pytest.raises(auth.SignInError):
            auth.sign_in(settings, "somchai", "guess", client="ip:10.0.0.9")
    with pytest.raises(auth.SignInError) as locked:  # now even the right password is refused
        auth.sign_in(settings, "somchai", "correct horse battery", client="ip:10.0.0.9")
    assert locked.value.locked


def test_sessions_expire_and_end_with_the_account(settings):
    auth.add_user(settings, "somchai", "correct horse battery")
    short = Settings.load(index_dir=settings.index_dir, session_hours=3 / 3600)
    token = auth.sign_in(short, "somchai", "correct horse battery")
    assert auth.session_user(short, token) == "somchai"
    time.sleep(3.2)
    assert auth.session_user(short, token) is None
    token = auth.sign_in(settings, "somchai", "correct horse battery")
    auth.remove_user(settings, "somchai")
    assert auth.session_user(settings, token) is None
    assert auth.session_user(settings, "made-up") is None


def test_rate_limit_counts_per_client_in_a_sliding_minute(tmp_path):
    settings = Settings.load(index_dir=tmp_path, rate_limit=3)
    now = 1000.0
    assert [ratelimit.take(settings, "ip:a", now + i) for i in range(3)] == [0.0, 0.0, 0.0]
    assert ratelimit.take(settings, "ip:a", now + 3) == pytest.approx(57.0)
    assert ratelimit.take(settings, "ip:b", now + 3) == 0.0          # another client has its own count
    assert ratelimit.take(settings, "ip:a", now + 60.5) == 0.0       # the first question left the window
    assert ratelimit.take(Settings.load(index_dir=tmp_path, rate_limit=0), "ip:a", now) == 0.0


def test_rate_limit_is_shared_between_processes(tmp_path):
    settings = Settings.load(index_dir=tmp_path, rate_limit=4)
    code = ("import sys; from assistant.serve import ratelimit; from assistant.config import Settings; "
            "s = Settings.load(index_dir=sys.argv[1], rate_limit=4); "
            "print(sum(ratelimit.take(s, 'ip:x') == 0 for _ in range(3)))")
    other = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == "3"
    assert ratelimit.take(settings, "ip:x") == 0.0
    assert ratelimit.take(settings, "ip:x") > 0
