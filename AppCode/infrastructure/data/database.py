"""Opening the database: engine creation, SQLite pragmas, and errors in the user's terms."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy.exc
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from AppCode.core.domain.errors import ConfigurationError, DatabaseError

log = logging.getLogger(__name__)

_RESTORE_HINT = (
    "Restore a backup: 'scriptbatch backup list' shows them, 'scriptbatch backup restore ID' "
    "puts one in place and keeps the damaged file beside it. Or move the file aside to start "
    "with an empty database. ScriptBatch has not changed the file."
)
# What SQLite says about a file that is not a database or is corrupt.
_DAMAGE_WORDS = ("not a database", "malformed", "corrupt")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def create_database_engine(url: str) -> Engine:
    """Create the engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and a
    Unicode ``lower()``.

    A URL that cannot be parsed, or names a database or driver SQLAlchemy does not know or
    cannot load here, is a ``ConfigurationError`` (nothing has been connected to yet); whether
    the server answers is only found out when the engine first connects."""
    try:
        parsed = make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as exc:  # ValueError: a port not a number
        raise ConfigurationError(
            f"[database] url {_without_password(url)!r} is not a valid database URL ({exc})",
            hint=_URL_HINT,
        ) from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    try:
        engine = create_engine(url, **kwargs)
    except (sqlalchemy.exc.ArgumentError, ImportError, ValueError) as exc:
        # ArgumentError: an unknown database or driver; ImportError: a driver that is not
        # installed; ValueError: a query parameter the driver cannot read.
        raise ConfigurationError(
            f"[database] url {parsed.render_as_string(hide_password=True)!r} cannot be used: {exc}",
            hint="Install the database driver the URL names, or fix the URL. " + _URL_HINT,
        ) from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_connection)
    return engine


_URL_HINT = (
    "Set [database] url in the config file (or SCRIPTBATCH_DATABASE__URL) to a SQLAlchemy URL "
    "such as postgresql+psycopg://user@host/db, or leave it empty for the built-in SQLite file."
)


def _without_password(url: str) -> str:
    """``url`` with its user and password hidden, for a URL SQLAlchemy could not parse (and so
    cannot hide the password of): everything from ``//`` to the last ``@``."""
    return re.sub(r"//.*@", "//***@", url)


def _sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # SQLite's own lower() (which ILIKE compiles to) and LIKE fold ASCII letters only, so a
    # search for "ünï" would miss "Ünï.py"; Python's str.lower folds every letter, as
    # PostgreSQL's lower() does in a UTF-8 locale.
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    try:
        # WAL + synchronous=NORMAL: readers never block the writer and a commit costs ~60 us
        # instead of ~600 us, while a crash can lose at most the last transactions, never corrupt.
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
    finally:
        cursor.close()


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def describe(engine: Engine) -> str:
    """The database in words: the SQLite file's path, or the URL without its password."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return f"database file {url.database}"
    return f"database {url.render_as_string(hide_password=True)}"


@contextmanager
def translate_errors(engine: Engine, doing: str) -> Iterator[None]:
    """Turn a driver error raised in the block into a ``DatabaseError`` (see ``database_error``)."""
    try:
        yield
    except sqlalchemy.exc.DatabaseError as exc:
        raise database_error(engine, exc, doing) from None


def database_error(engine: Engine, exc: sqlalchemy.exc.DatabaseError, doing: str) -> DatabaseError:
    """A ``DatabaseError`` that names the database, what failed and what to do; logs the cause."""
    log.error("database error while %s", doing, exc_info=exc)
    original = str(getattr(exc, "orig", exc))
    if isinstance(exc, sqlalchemy.exc.OperationalError) and "locked" in original:
        return DatabaseError(
            f"the {describe(engine)} is locked by another program while {doing}",
            hint="Close other programs using it and try again.",
        )
    if _says_damaged(original):
        return DatabaseError(
            f"the {describe(engine)} is damaged or is not a ScriptBatch database ({original})",
            hint=_RESTORE_HINT,
        )
    if "readonly" in original or "read-only" in original or "unable to open" in original:
        return DatabaseError(
            f"cannot write the {describe(engine)} while {doing} ({original})",
            hint="Check that the data directory is writable, or choose another with --data-dir.",
        )
    return DatabaseError(
        f"the {describe(engine)} failed while {doing}: {original}",
        hint="See the app log for details.",
    )


def sqlite_damage(engine: Engine) -> str | None:
    """What is wrong with the engine's SQLite file (SQLite's words), or None when it passes
    SQLite's quick check, is missing, cannot be opened for another reason (locked, no access),
    or the database is not a SQLite file. Only the main file is checked, opened read-only and
    ``immutable`` so that SQLite neither changes it nor makes -wal and -shm files beside it."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    path = Path(url.database)
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            found = [str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc) if _says_damaged(str(exc)) else None
    return None if found == ["ok"] else "; ".join(found[:3])


def _says_damaged(message: str) -> bool:
    return any(word in message for word in _DAMAGE_WORDS)
