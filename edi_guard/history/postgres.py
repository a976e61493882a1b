"""The PostgreSQL history store, for deployments where several hosts share one history.

psycopg 3, one connection per store, each operation its own transaction. Check-then-record
is atomic per beneficiary: :meth:`PostgresStore.decide` takes
``pg_advisory_xact_lock(<64 bits of a hash of the beneficiary key>)`` first, so two workers
deciding for one beneficiary queue, and workers deciding for different ones do not (a hash
collision only makes two beneficiaries queue together). Reads run in READ COMMITTED: the
view is one statement, taken after the lock, so it sees every session and reservation that
an earlier holder of the lock committed.

The key must come from configuration or ``EDI_GUARD_HISTORY_KEY``: workers on several hosts
must hash with the same key, and the database is no place for it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors

from edi_guard.errors import HistoryError
from edi_guard.history import Hasher
from edi_guard.history.keys import resolve_key
from edi_guard.history.sql import SqlStore, Tx
from edi_guard.history.store import redact_url

T = TypeVar("T")

CONNECT_TIMEOUT = 10
DEADLOCK_RETRIES = 3


def lock_id(text: str) -> int:
    """A signed 64-bit advisory lock id for a beneficiary key (or another lock name)."""
    digest = hashlib.sha256(b"edi-guard history lock\x1f" + text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class _PostgresTx:
    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self._cursor = cursor

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        self._cursor.execute(_placeholders(sql), tuple(params) or None)
        return self._cursor.fetchall()

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        self._cursor.execute(_placeholders(sql), tuple(params) or None)
        return max(self._cursor.rowcount, 0)

    def many(self, sql: str, params: Sequence[Sequence[object]]) -> None:
        self._cursor.executemany(_placeholders(sql), [tuple(row) for row in params])


def _placeholders(sql: str) -> Any:
    # Our statements hold no literal '?' or '%': each '?' is a parameter.
    return sql.replace("?", "%s")


class PostgresStore(SqlStore):
    backend = "postgresql"
    dialect = "postgresql"
    run_lock_clause = " FOR KEY SHARE"
    run_update_clause = " FOR UPDATE"

    def __init__(
        self, connection: psycopg.Connection[Any], hasher: Hasher, *, ttl: float, location: str
    ) -> None:
        super().__init__(hasher, ttl=ttl, location=location)
        self._connection = connection

    @classmethod
    def open(
        cls,
        url: str,
        *,
        key: bytes | None,
        ttl: float,
        environ: Mapping[str, str] | None = None,
    ) -> PostgresStore:
        location = redact_url(url)
        resolved = resolve_key(key, key_file=None, environ=environ, backend="PostgreSQL")
        try:
            connection = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as error:
            raise HistoryError(
                f"cannot connect to the PostgreSQL history at {location}: {error}"
            ) from None
        store = cls(connection, Hasher(resolved), ttl=ttl, location=location)
        try:
            store._prepare(resolved)
        except BaseException:
            store.close()
            raise
        return store

    @contextmanager
    def _transaction(
        self, locks: Sequence[str] = (), *, write: bool = True, group: bool = False
    ) -> Iterator[Tx]:
        # Decisions are never grouped: a transaction deciding for several beneficiaries would
        # hold several advisory locks, taken in claim order, and could deadlock another
        # worker's; and each beneficiary has its own lock, so nobody waits for a commit.
        try:
            with self._connection.transaction():
                cursor = self._connection.cursor()
                # Sorted, so that transactions taking several locks never wait in a cycle.
                for lock in sorted({lock_id(name) for name in locks}):
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", (lock,))
                yield _PostgresTx(cursor)
        except psycopg.Error as error:
            raise HistoryError(f"PostgreSQL history at {self.location}: {error}") from error

    def _retrying(self, action: Callable[[], T]) -> T:
        for attempt in range(DEADLOCK_RETRIES):
            try:
                return action()
            except HistoryError as error:
                deadlock = isinstance(error.__cause__, pg_errors.DeadlockDetected)
                if not deadlock or attempt == DEADLOCK_RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _day(self, day: date) -> object:
        return day

    def close(self) -> None:
        self._connection.close()
