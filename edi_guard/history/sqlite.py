"""The SQLite history store: the default, one file per user (or per drop-folder host).

WAL journal (readers never wait for the writer), ``BEGIN IMMEDIATE`` for every write (it
takes the database's single write lock at once, so check-then-record is atomic for every
beneficiary, across processes), and a 30-second busy timeout for workers that queue behind
it. Commits of reservations are not synced to disk (``synchronous=NORMAL``: a power cut may
lose the last ones, which is harmless: that run is dead anyway); a confirm is (``FULL``).

Page cache and checkpoints are sized for a history that outgrows SQLite's defaults (2 MiB of
cache, a checkpoint every 1,000 pages): a confirm inserts sessions at random places of the
beneficiary-ordered tables, so with the default cache most inserts read their page again
through a system call, and each checkpoint copies back pages that the next one copies again.
:data:`CACHE_KIB` of cache (taken only as pages are used) and a checkpoint every
:data:`CHECKPOINT_PAGES` pages (a WAL file of about 16 MB on disk) read and write less.

The database file, its WAL and the key file beside it are created with mode 0600 in a
directory created 0700.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from edi_guard.errors import HistoryError
from edi_guard.history import Hasher
from edi_guard.history.keys import key_file_for, resolve_key
from edi_guard.history.sql import SqlStore, Tx

BUSY_TIMEOUT = 30.0
"""Seconds a worker waits for another's write transaction before giving up."""
CACHE_KIB = 8192
"""Page cache per connection, in KiB (PRAGMA cache_size takes it negated)."""
CHECKPOINT_PAGES = 4000
"""Pages of write-ahead log after which a commit copies them into the database."""


class _SqliteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, tuple(params)).fetchall()

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        return self._connection.execute(sql, tuple(params)).rowcount

    def many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        self._connection.executemany(sql, [tuple(row) for row in params])


class SqliteStore(SqlStore):
    backend = "sqlite"
    dialect = "sqlite"

    def __init__(
        self, connection: sqlite3.Connection, hasher: Hasher, *, ttl: float, location: str
    ) -> None:
        super().__init__(hasher, ttl=ttl, location=location)
        self._connection = connection

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        key: bytes | None,
        ttl: float,
        environ: Mapping[str, str] | None = None,
    ) -> SqliteStore:
        path = path.absolute()
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as error:
            raise HistoryError(
                f"cannot create the history database {path}: {error.strerror}"
            ) from None
        resolved = resolve_key(key, key_file=key_file_for(path), environ=environ, backend="SQLite")
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            connection.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        except sqlite3.Error as error:
            raise HistoryError(f"cannot open the history database {path}: {error}") from None
        store = cls(connection, Hasher(resolved), ttl=ttl, location=str(path))
        try:
            store._prepare(resolved)
        except BaseException:
            store.close()
            raise
        return store

    @contextmanager
    def _transaction(self, locks: Sequence[str] = (), *, write: bool = True) -> Iterator[Tx]:
        # BEGIN IMMEDIATE locks the whole database for writing: every beneficiary at once.
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as error:
            raise self._error(error) from error
        try:
            yield _SqliteTx(connection)
        except BaseException as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise self._error(error) from error
            raise
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise self._error(error) from error

    def _error(self, error: sqlite3.Error) -> HistoryError:
        return HistoryError(f"history database {self.location}: {error}")

    def _day(self, day: date) -> object:
        return day.isoformat()

    def confirm(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        # What a confirm commits goes out as claims: make it durable before they do.
        self._connection.execute("PRAGMA synchronous = FULL")
        try:
            super().confirm(run_id, set_indexes)
        finally:
            self._connection.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        self._connection.close()
