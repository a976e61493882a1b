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

Holding (:meth:`SqliteStore.hold`): the decisions made inside a hold share one write
transaction, each in a savepoint of its own (an error rolls back that decision only), so a
run of claims pays one commit instead of one per claim. The write lock is then held across
claims, so a hold gives way:

- to anyone else wanting the lock: a worker whose ``BEGIN IMMEDIATE`` waited
  :data:`WAIT_SLICE` seconds writes a token into the *waiting file* beside the database
  (``history.sqlite3-waiting``) and waits again, until its busy timeout; a holder reads the
  file after each decision and, when it changed, commits and decides claim by claim for
  :data:`YIELD_SECONDS`. A worker waiting behind a hold therefore waits a slice, the
  decision in progress and a commit, however many claims the holder has left. Every
  edi-guard that opens a database of schema version 3 or later does this (older ones refuse
  such a database), so no waiter goes unheard;
- to time: a hold commits after :data:`HOLD_SECONDS` even when nobody waits;
- to every other operation of this store (confirm, release, interchanges, control numbers,
  reads): it commits what the hold decided first, so a confirm is as durable as before.

What a hold has not yet committed is lost if the process dies, which is harmless: its run
is dead, its outputs never went out, and its committed reservations are released as before.
A commit that fails raises HistoryError from the call that attempted it (a later decide,
the end of the hold, or the next other operation), failing the run.

The database file, its WAL, the waiting file and the key file beside it are created with
mode 0600 in a directory created 0700.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
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
WAIT_SLICE = 0.02
"""Seconds a ``BEGIN IMMEDIATE`` waits before its worker signals a holder and waits again."""
HOLD_SECONDS = 0.25
"""Longest a hold keeps its write transaction open while nobody waits."""
YIELD_SECONDS = 1.0
"""After a waiter was heard, how long decisions inside a hold commit one by one."""
WAITING_SUFFIX = "-waiting"
_SAVEPOINT = "SAVEPOINT edi_guard_decision"
_ROLLBACK_TO = "ROLLBACK TO edi_guard_decision"
_RELEASE = "RELEASE edi_guard_decision"


class _SqliteTx:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        return self._connection.execute(sql, tuple(params)).fetchall()

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        return self._connection.execute(sql, tuple(params)).rowcount

    def many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        self._connection.executemany(sql, [tuple(row) for row in params])


class _WaitingFile:
    """A few bytes beside the database that a worker waiting for the write lock rewrites."""

    def __init__(self, descriptor: int) -> None:
        self._descriptor = descriptor
        self._signals = 0

    @classmethod
    def open(cls, path: Path) -> _WaitingFile:
        return cls(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))

    def signal(self) -> None:
        """Tell a holder that someone waits: a token no earlier signal wrote."""
        self._signals += 1
        token = f"{os.getpid()}:{self._signals}:{time.monotonic_ns()}".encode("ascii")
        os.pwrite(self._descriptor, token.ljust(64), 0)

    def token(self) -> bytes:
        return os.pread(self._descriptor, 64, 0)

    def close(self) -> None:
        os.close(self._descriptor)


class SqliteStore(SqlStore):
    backend = "sqlite"
    dialect = "sqlite"

    def __init__(
        self,
        connection: sqlite3.Connection,
        hasher: Hasher,
        *,
        ttl: float,
        location: str,
        waiting: _WaitingFile,
    ) -> None:
        super().__init__(hasher, ttl=ttl, location=location)
        self._connection = connection
        self._waiting = waiting
        self._holds = 0
        """Depth of nested holds; decisions are grouped while it is positive."""
        self._group_since = -1.0
        """monotonic() when the open group (a hold's write transaction) began; -1: none."""
        self._group_token = b""
        """The waiting file's token when the group began: another one means a waiter."""
        self._solo_until = 0.0
        """monotonic() until which decisions commit one by one (a waiter was heard)."""
        self._group_runs: set[str] = set()
        """Runs found live in the open group: nobody else can end them while it holds the
        write lock, so their later decisions need not look again."""

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
            waiting = _WaitingFile.open(path.with_name(path.name + WAITING_SUFFIX))
        except OSError as error:
            raise HistoryError(
                f"cannot create the history database {path}: {error.strerror}"
            ) from None
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            connection.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
            # From here on, lock waits are sliced by _begin (see the module docstring).
            connection.execute(f"PRAGMA busy_timeout = {int(WAIT_SLICE * 1000)}")
        except sqlite3.Error as error:
            waiting.close()
            raise HistoryError(f"cannot open the history database {path}: {error}") from None
        store = cls(connection, Hasher(resolved), ttl=ttl, location=str(path), waiting=waiting)
        try:
            store._prepare(resolved)
        except BaseException:
            store.close()
            raise
        return store

    # Transactions ---------------------------------------------------------------------------

    @contextmanager
    def hold(self) -> Iterator[None]:
        self._holds += 1
        try:
            yield
        except BaseException:
            self._holds -= 1
            if not self._holds:
                # The error that ends the hold is the one to report, not a failed commit.
                with contextlib.suppress(HistoryError):
                    self._end_group()
            raise
        self._holds -= 1
        if not self._holds:
            self._end_group()

    @contextmanager
    def _transaction(
        self, locks: Sequence[str] = (), *, write: bool = True, group: bool = False
    ) -> Iterator[Tx]:
        if group and self._holds and time.monotonic() >= self._solo_until:
            with self._grouped() as tx:
                yield tx
            return
        self._end_group()
        # BEGIN IMMEDIATE locks the whole database for writing: every beneficiary at once.
        connection = self._connection
        try:
            self._begin(write)
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
        self._commit()

    @contextmanager
    def _grouped(self) -> Iterator[Tx]:
        """One decision inside the hold's write transaction (opened here when none is)."""
        connection = self._connection
        if self._group_since < 0:
            try:
                self._begin(True)
            except sqlite3.Error as error:
                raise self._error(error) from error
            self._group_since = time.monotonic()
            self._group_token = self._waiting.token()
            self._group_runs.clear()
        try:
            connection.execute(_SAVEPOINT)
            try:
                yield _SqliteTx(connection)
            except BaseException:
                connection.execute(_ROLLBACK_TO)
                raise
            finally:
                connection.execute(_RELEASE)
        except sqlite3.Error as error:
            raise self._error(error) from error
        now = time.monotonic()
        if self._waiting.token() != self._group_token:
            self._solo_until = now + YIELD_SECONDS
            self._end_group()
        elif now - self._group_since >= HOLD_SECONDS:
            self._end_group()

    def _end_group(self) -> None:
        """Commit what the hold decided so far (nothing to do when no group is open)."""
        if self._group_since < 0:
            return
        self._group_since = -1.0
        self._commit()

    def _commit(self) -> None:
        connection = self._connection
        try:
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise self._error(error) from error

    def _begin(self, write: bool) -> None:
        """BEGIN (IMMEDIATE), waiting for the lock a slice at a time up to the busy timeout.

        A write signals the waiting file after each slice, so that a hold gives way. A read
        takes its snapshot at once, which can wait only while another connection recovers the
        WAL.
        """
        connection = self._connection
        deadline = time.monotonic() + BUSY_TIMEOUT
        while True:
            try:
                if write:
                    connection.execute("BEGIN IMMEDIATE")
                else:
                    connection.execute("BEGIN")
                    connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
                return
            except sqlite3.OperationalError as error:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # any BUSY_*
                if not busy or time.monotonic() > deadline:
                    raise
            if write:
                self._waiting.signal()

    def _require_run(self, tx: Tx, run_id: str, clause: str) -> None:
        grouped = self._group_since >= 0
        if grouped and run_id in self._group_runs:
            return
        super()._require_run(tx, run_id, clause)
        if grouped:
            self._group_runs.add(run_id)

    def _error(self, error: sqlite3.Error) -> HistoryError:
        return HistoryError(f"history database {self.location}: {error}")

    def _day(self, day: date) -> object:
        return day.isoformat()

    def confirm(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        # What a confirm commits goes out as claims: make it durable before they do.
        self._end_group()
        self._connection.execute("PRAGMA synchronous = FULL")
        try:
            super().confirm(run_id, set_indexes)
        finally:
            self._connection.execute("PRAGMA synchronous = NORMAL")

    def close(self) -> None:
        try:
            self._end_group()
        finally:
            self._waiting.close()
            self._connection.close()
