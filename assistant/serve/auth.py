"""Staff accounts and sign-in sessions, in SQLite beside the index (`<index_dir>/staff.sqlite3`).

Passwords are stored only as argon2id hashes (argon2-cffi). A sign-in returns a random session token; the
database keeps only the token's SHA-256, so a copy of the file signs nobody in. Sessions expire after
`Settings.session_hours`. Failed sign-ins are slowed down: each one waits FAIL_DELAY seconds, and after
MAX_FAILURES failures for one name or one client within FAIL_WINDOW seconds further tries are refused until the
window has passed, without looking at the password.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.errors import MuangError

FILENAME = "staff.sqlite3"
FAIL_DELAY = 1.0       # seconds every failed sign-in waits before it answers
MAX_FAILURES = 5       # failures per name or per client within FAIL_WINDOW before sign-in is refused
FAIL_WINDOW = 15 * 60  # seconds
MIN_PASSWORD = 8
_NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, hash TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, name TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS failures (name TEXT NOT NULL, client TEXT NOT NULL, time REAL NOT NULL);
"""


class SignInError(MuangError):
    """A refused sign-in; `locked` is true when it was refused for too many failures."""

    def __init__(self, message: str, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked


@dataclass(frozen=True)
class User:
    name: str
    created: float


def path(settings: Settings) -> Path:
    return Path(settings.index_dir) / FILENAME


def _connect(settings: Settings) -> sqlite3.Connection:
    from assistant.index.store import sqlite

    return sqlite(path(settings), _SCHEMA)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """A valid account name (letters, digits, . _ @ -), or MuangError.

    >>> check_name("somchai.k")
    'somchai.k'
    """
    name = (name or "").strip()
    if not _NAME.match(name):
        raise MuangError(f"bad account name {name!r}: use 1-64 letters, digits, '.', '_', '@' or '-'")
    return name


def add_user(settings: Settings, name: str, password: str) -> None:
    """Create a staff account, or set a new password for an existing one."""
    name = check_name(name)
    if len(password) < MIN_PASSWORD:
        raise MuangError(f"the password must have at least {MIN_PASSWORD} characters")
    hashed = _hasher().hash(password)
    with closing(_connect(settings)) as connection, connection:
        connection.execute("INSERT INTO users (name, hash, created) VALUES (?, ?, ?) "
                           "ON CONFLICT(name) DO UPDATE SET hash = excluded.hash", (name, hashed, time.time()))
        connection.execute("DELETE FROM sessions WHERE name = ?", (name,))


def remove_user(settings: Settings, name: str) -> None:
    """Delete an account and end its sessions; MuangError when there is no such account."""
    with closing(_connect(settings)) as connection, connection:
        if connection.execute("DELETE FROM users WHERE name = ?", (name,)).rowcount == 0:
            raise MuangError(f"no staff account named {name!r}")
        connection.execute("DELETE FROM sessions WHERE name = ?", (name,))


def users(settings: Settings) -> list[User]:
    if not path(settings).exists():
        return []
    with closing(_connect(settings)) as connection:
        rows = connection.execute("SELECT name, created FROM users ORDER BY name").fetchall()
    return [User(name, created) for name, created in rows]


def has_users(settings: Settings) -> bool:
    return bool(users(settings))


def sign_in(settings: Settings, name: str, password: str, client: str = "") -> str:
    """A new session token for a right name and password; SignInError otherwise (after FAIL_DELAY)."""
    name = (name or "").strip()
    now = time.time()
    with closing(_connect(settings)) as connection:
        with connection:
            connection.execute("DELETE FROM failures WHERE time < ?", (now - FAIL_WINDOW,))
            recent = connection.execute("SELECT COUNT(*) FROM failures WHERE name = ? OR client = ?",
                                        (name, client)).fetchone()[0]
        if recent >= MAX_FAILURES:
            time.sleep(FAIL_DELAY)
            raise SignInError(f"too many failed sign-ins; try again in {FAIL_WINDOW // 60} minutes", locked=True)
        row = connection.execute("SELECT hash FROM users WHERE name = ?", (name,)).fetchone()
        if not _verify(row[0] if row else None, password or ""):
            with connection:
                connection.execute("INSERT INTO failures (name, client, time) VALUES (?, ?, ?)", (name, client, now))
            time.sleep(FAIL_DELAY)
            raise SignInError("wrong name or password")
        token = secrets.token_urlsafe(32)
        with connection:
            connection.execute("DELETE FROM sessions WHERE expires < ?", (now,))
            connection.execute("INSERT INTO sessions (token, name, expires) VALUES (?, ?, ?)",
                               (_digest(token), name, now + settings.session_hours * 3600))
            connection.execute("DELETE FROM failures WHERE name = ?", (name,))
    return token


def _verify(hashed: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    if hashed is None:
        # An unknown name costs the same time as a wrong password, so names cannot be probed.
        hasher.hash(password)
        return False
    try:
        return hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def session_user(settings: Settings, token: str | None) -> str | None:
    """The account name of a valid, unexpired session whose account still exists; None otherwise."""
    if not token or not isinstance(token, str) or not path(settings).exists():
        return None
    with closing(_connect(settings)) as connection:
        row = connection.execute(
            "SELECT s.name FROM sessions s JOIN users u ON u.name = s.name WHERE s.token = ? AND s.expires > ?",
            (_digest(token), time.time())).fetchone()
    return row[0] if row else None


def sign_out(settings: Settings, token: str | None) -> None:
    if token and path(settings).exists():
        with closing(_connect(settings)) as connection, connection:
            connection.execute("DELETE FROM sessions WHERE token = ?", (_digest(token),))
