"""What the SQLite and PostgreSQL stores share: every statement and the store logic.

The backends differ only in how a transaction is opened and locked (SQLite ``BEGIN
IMMEDIATE`` takes the database's one write lock; PostgreSQL takes a transaction-scoped
advisory lock per beneficiary), in placeholders, and in how a date is passed. Statements
here use ``?``; the PostgreSQL backend turns them into ``%s``. See
:mod:`edi_guard.history.store` for the semantics.
"""

from __future__ import annotations

import os
import socket
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from itertools import islice
from typing import Any, ClassVar, Protocol, TypeVar

from edi_guard.errors import HistoryError
from edi_guard.history import Hasher
from edi_guard.history.keys import key_check, verify_key_check
from edi_guard.history.migrations import CREATE_SCHEMA_TABLE, LATEST, SCHEMA_TABLE, Dialect
from edi_guard.history.migrations import pending as pending_migrations
from edi_guard.history.store import (
    ADD,
    VOID_ACTION,
    HistoryStats,
    ImportedSession,
    Pending,
    Reservation,
    Reserve,
    SnapshotView,
    as_reservation,
    compose_sessions,
    new_run_id,
    normalized_sets,
    plan_confirm,
    void_target,
)
from edi_guard.rules.base import HistoryView, Session

T = TypeVar("T")

MIGRATION_LOCK = "edi-guard:schema-migration"
MAX_CONTROL_NUMBER = 999_999_999
IMPORT_BATCH = 500
TOUCH_EVERY = 60.0
"""At most one sign of life a minute from decide (each is a write)."""

_VIEW = (
    "SELECT 0, 0, '', 0, claim, day, 'add' FROM edi_guard_sessions WHERE beneficiary = ?"
    " UNION ALL"
    " SELECT 1, id, run_id, set_index, claim, day, action FROM edi_guard_reservations"
    " WHERE beneficiary = ?"
)
"""One statement, so that a confirm running meanwhile is seen wholly or not at all."""
_INSERT_RESERVATION = (
    "INSERT INTO edi_guard_reservations"
    " (run_id, set_index, beneficiary, claim, day, action, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_SESSION = (
    "INSERT INTO edi_guard_sessions (beneficiary, claim, day, origin, recorded_at)"
    " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


class Tx(Protocol):
    """A statement runner inside one open transaction."""

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]: ...

    def run(self, sql: str, params: Sequence[object] = ()) -> int:
        """Execute; the number of rows changed."""
        ...

    def many(self, sql: str, params: Sequence[Sequence[object]]) -> None: ...


class SqlStore(ABC):
    """The history store over a SQL database (see :class:`edi_guard.history.store.HistoryStore`)."""

    backend: ClassVar[str]
    dialect: ClassVar[Dialect]
    run_lock_clause: ClassVar[str] = ""
    """Appended to the run look-up that guards a decide (PostgreSQL: FOR KEY SHARE)."""
    run_update_clause: ClassVar[str] = ""
    """Appended to the run look-up that guards a confirm (PostgreSQL: FOR UPDATE)."""

    def __init__(self, hasher: Hasher, *, ttl: float, location: str) -> None:
        self._hasher = hasher
        self._ttl = ttl
        self.location = location
        self._touched: dict[str, float] = {}
        self._host = socket.gethostname()
        self._schema_version = 0

    # Backend hooks ------------------------------------------------------------------------

    @abstractmethod
    def _transaction(
        self, locks: Sequence[str] = (), *, write: bool = True, group: bool = False
    ) -> AbstractContextManager[Tx]:
        """Open a transaction holding the locks of ``locks`` (beneficiary keys).

        ``group``: a decision, which a backend may run inside the transaction of a hold.
        """

    def hold(self) -> AbstractContextManager[None]:
        """Decisions inside may share transactions; here each still has its own (a backend
        with one write lock for the whole database overrides this)."""
        return nullcontext()

    @abstractmethod
    def _day(self, day: date) -> object:
        """A date as the driver takes it."""

    @abstractmethod
    def close(self) -> None: ...

    def _retrying(self, action: Callable[[], T]) -> T:
        return action()

    @staticmethod
    def _read_day(value: object) -> date:
        if isinstance(value, date):
            return value
        return date.fromisoformat(str(value))

    # Opening ------------------------------------------------------------------------------

    def _prepare(self, key: bytes) -> None:
        """Apply pending migrations, check the key, release dead runs."""
        with self._transaction([MIGRATION_LOCK]) as tx:
            tx.run(CREATE_SCHEMA_TABLE)
            current = int(tx.rows(f"SELECT coalesce(max(version), 0) FROM {SCHEMA_TABLE}")[0][0])
            if current > LATEST:
                raise HistoryError(
                    f"the history database {self.location} has schema version {current}, "
                    f"newer than this edi-guard knows (up to {LATEST}); upgrade edi-guard "
                    "(every worker sharing the history must run a version that knows it)"
                )
            for migration in pending_migrations(current):
                for statement in migration.statements(self.dialect):
                    tx.run(statement)
                tx.run(
                    f"INSERT INTO {SCHEMA_TABLE} (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, time.time()),
                )
            stored = tx.rows("SELECT value FROM edi_guard_meta WHERE name = 'key_check'")
            if stored:
                verify_key_check(key, str(stored[0][0]), where=self.location)
            else:
                tx.run(
                    "INSERT INTO edi_guard_meta (name, value) VALUES ('key_check', ?)",
                    (key_check(key),),
                )
        self._schema_version = max(current, LATEST)
        self.release_dead_runs()

    # HistoryView (committed sessions, no lock) ---------------------------------------------

    @property
    def hasher(self) -> Hasher:
        return self._hasher

    def claim_digest(self, claim_id: str) -> str:
        return self._hasher.claim(claim_id)

    def sessions(self, beneficiary_key: str) -> Sequence[Session]:
        with self._transaction(write=False) as tx:
            rows = tx.rows(
                "SELECT day, claim FROM edi_guard_sessions WHERE beneficiary = ?"
                " ORDER BY day, claim",
                (beneficiary_key,),
            )
        return tuple(Session(self._read_day(day), claim) for day, claim in rows)

    # Runs ---------------------------------------------------------------------------------

    def begin_run(self) -> str:
        self.release_dead_runs()
        run_id = new_run_id()
        now = time.time()
        with self._transaction() as tx:
            tx.run(
                "INSERT INTO edi_guard_runs (run_id, host, pid, started_at, seen_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (run_id, self._host, os.getpid(), now, now),
            )
        self._touched[run_id] = now
        return run_id

    def touch(self, run_id: str) -> None:
        with self._transaction() as tx:
            self._touch(tx, run_id)

    def finish_run(self, run_id: str) -> None:
        with self._transaction() as tx:
            tx.run("DELETE FROM edi_guard_reservations WHERE run_id = ?", (run_id,))
            tx.run("DELETE FROM edi_guard_runs WHERE run_id = ?", (run_id,))
        self._touched.pop(run_id, None)

    def release_dead_runs(self) -> int:
        threshold = time.time() - self._ttl
        released = 0
        with self._transaction() as tx:
            runs = tx.rows("SELECT run_id, host, pid, seen_at FROM edi_guard_runs")
            for run_id, host, pid, seen_at in runs:
                dead = seen_at < threshold or (host == self._host and not _process_alive(pid))
                if not dead:
                    continue
                count = tx.rows(
                    "SELECT count(*) FROM edi_guard_reservations WHERE run_id = ?", (run_id,)
                )[0][0]
                # seen_at guards against a run that showed life since it was read.
                if tx.run(
                    "DELETE FROM edi_guard_runs WHERE run_id = ? AND seen_at <= ?",
                    (run_id, seen_at),
                ):
                    released += int(count)
        return released

    def _require_run(self, tx: Tx, run_id: str, clause: str) -> None:
        if not tx.rows(f"SELECT run_id FROM edi_guard_runs WHERE run_id = ?{clause}", (run_id,)):
            raise HistoryError(
                f"history run {run_id} is not live: start it with begin_run(); a run that "
                f"showed no life for {self._ttl:.0f} s, or whose process is gone, has had "
                "its reservations released"
            )

    def _touch(self, tx: Tx, run_id: str) -> None:
        now = time.time()
        tx.run("UPDATE edi_guard_runs SET seen_at = ? WHERE run_id = ?", (now, run_id))
        self._touched[run_id] = now

    def _maybe_touch(self, tx: Tx, run_id: str) -> None:
        if time.time() - self._touched.get(run_id, 0.0) >= min(TOUCH_EVERY, self._ttl / 4):
            self._touch(tx, run_id)

    # Deciding -----------------------------------------------------------------------------

    def decide(
        self,
        beneficiary_key: str,
        decide: Callable[[HistoryView], T],
        reserve: Reserve[T],
        *,
        run_id: str,
        set_index: int,
    ) -> T:
        with self._transaction([beneficiary_key], group=True) as tx:
            self._require_run(tx, run_id, self.run_lock_clause)
            sessions = self._view(tx, beneficiary_key, run_id)
            result = decide(SnapshotView(self._hasher, beneficiary_key, sessions))
            reservation = as_reservation(reserve(result))
            if reservation is not None:
                self._reserve(tx, beneficiary_key, reservation, sessions, run_id, set_index)
            self._maybe_touch(tx, run_id)
        return result

    def apply_void(
        self, beneficiary_key: str, voided: str | Sequence[str], *, run_id: str, set_index: int
    ) -> None:
        candidates = (voided,) if isinstance(voided, str) else tuple(voided)
        if not candidates:
            return
        with self._transaction([beneficiary_key], group=True) as tx:
            self._require_run(tx, run_id, self.run_lock_clause)
            sessions = self._view(tx, beneficiary_key, run_id)
            reservation = Reservation(candidates[-1], (), candidates)
            self._reserve(tx, beneficiary_key, reservation, sessions, run_id, set_index)
            self._maybe_touch(tx, run_id)

    def _view(self, tx: Tx, beneficiary_key: str, run_id: str) -> tuple[Session, ...]:
        committed: list[tuple[str, date]] = []
        pending: list[Pending] = []
        for kind, row_id, run, set_index, claim, day, action in tx.rows(
            _VIEW, (beneficiary_key, beneficiary_key)
        ):
            if kind == 0:
                committed.append((claim, self._read_day(day)))
            else:
                when = None if day is None else self._read_day(day)
                pending.append(Pending(int(row_id), run, int(set_index), claim, when, action))
        return compose_sessions(committed, pending, run_id)

    def _reserve(
        self,
        tx: Tx,
        beneficiary_key: str,
        reservation: Reservation,
        sessions: Sequence[Session],
        run_id: str,
        set_index: int,
    ) -> None:
        now = time.time()
        rows: list[tuple[object, ...]] = []
        if reservation.voids:
            target = void_target(reservation.voids, sessions)
            rows.append((run_id, set_index, beneficiary_key, target, None, VOID_ACTION, now))
        for day in reservation.days:
            claim = reservation.claim_digest
            rows.append((run_id, set_index, beneficiary_key, claim, self._day(day), ADD, now))
        for row in rows:
            tx.run(_INSERT_RESERVATION, row)

    # Verdicts -----------------------------------------------------------------------------

    def confirm(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        sets = normalized_sets(set_indexes)
        if sets == ():
            return
        self._retrying(lambda: self._confirm(run_id, sets))

    def _confirm(self, run_id: str, sets: tuple[int, ...] | None) -> None:
        where, params = _run_filter(run_id, sets)
        with self._transaction() as tx:
            self._require_run(tx, run_id, self.run_update_clause)
            rows = tx.rows(
                "SELECT id, set_index, beneficiary, claim, day, action"
                f" FROM edi_guard_reservations WHERE {where} ORDER BY id",
                params,
            )
            pending = [
                (
                    beneficiary,
                    Pending(
                        int(row_id),
                        run_id,
                        int(set_index),
                        claim,
                        None if day is None else self._read_day(day),
                        action,
                    ),
                )
                for row_id, set_index, beneficiary, claim, day, action in rows
            ]
            voids, adds = plan_confirm(pending)
            for beneficiary, claim in voids:
                tx.run(
                    "DELETE FROM edi_guard_sessions WHERE beneficiary = ? AND claim = ?",
                    (beneficiary, claim),
                )
            now = time.time()
            if adds:
                tx.many(
                    _INSERT_SESSION,
                    [(b, c, self._day(d), "claim", now) for b, c, d in adds],
                )
            tx.run(f"DELETE FROM edi_guard_reservations WHERE {where}", params)
            self._touch(tx, run_id)

    def release(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        sets = normalized_sets(set_indexes)
        if sets == ():
            return
        where, params = _run_filter(run_id, sets)
        with self._transaction() as tx:
            tx.run(f"DELETE FROM edi_guard_reservations WHERE {where}", params)
            self._touch(tx, run_id)

    # Interchanges and control numbers ------------------------------------------------------

    def claim_interchange(
        self, sender: str, control: str, *, run_id: str, force: bool = False
    ) -> bool:
        with self._transaction([f"interchange:{sender}:{control}"]) as tx:
            self._require_run(tx, run_id, self.run_lock_clause)
            seen = tx.rows(
                "SELECT state FROM edi_guard_interchanges WHERE sender = ? AND control = ?",
                (sender, control),
            )
            if seen and not force:
                return False
            tx.run(
                "DELETE FROM edi_guard_interchanges WHERE sender = ? AND control = ?",
                (sender, control),
            )
            tx.run(
                "INSERT INTO edi_guard_interchanges (sender, control, state, run_id, seen_at)"
                " VALUES (?, ?, 'processing', ?, ?)",
                (sender, control, run_id, time.time()),
            )
            return True

    def settle_interchange(self, sender: str, control: str, *, run_id: str, accepted: bool) -> None:
        with self._transaction([f"interchange:{sender}:{control}"]) as tx:
            where = "sender = ? AND control = ? AND run_id = ?"
            if accepted:
                tx.run(
                    "UPDATE edi_guard_interchanges SET state = 'accepted', run_id = NULL,"
                    f" seen_at = ? WHERE {where}",
                    (time.time(), sender, control, run_id),
                )
            else:
                tx.run(
                    f"DELETE FROM edi_guard_interchanges WHERE {where}", (sender, control, run_id)
                )

    def next_control_number(self, receiver: str) -> int:
        with self._transaction([f"control:{receiver}"]) as tx:
            tx.run(
                "INSERT INTO edi_guard_control_numbers (receiver, last) VALUES (?, 0)"
                " ON CONFLICT (receiver) DO NOTHING",
                (receiver,),
            )
            tx.run(
                "UPDATE edi_guard_control_numbers"
                f" SET last = CASE WHEN last >= {MAX_CONTROL_NUMBER} THEN 1 ELSE last + 1 END"
                " WHERE receiver = ?",
                (receiver,),
            )
            return int(
                tx.rows(
                    "SELECT last FROM edi_guard_control_numbers WHERE receiver = ?", (receiver,)
                )[0][0]
            )

    # Maintenance --------------------------------------------------------------------------

    def stats(self) -> HistoryStats:
        with self._transaction(write=False) as tx:
            sessions, beneficiaries, first, last, imported = tx.rows(
                "SELECT count(*), count(DISTINCT beneficiary), min(day), max(day),"
                " coalesce(sum(CASE WHEN origin = 'import' THEN 1 ELSE 0 END), 0)"
                " FROM edi_guard_sessions"
            )[0]
            claims = tx.rows(
                "SELECT count(*) FROM"
                " (SELECT DISTINCT beneficiary, claim FROM edi_guard_sessions) AS claims"
            )[0][0]
            reservations = tx.rows("SELECT count(*) FROM edi_guard_reservations")[0][0]
            runs = tx.rows("SELECT count(*) FROM edi_guard_runs")[0][0]
        return HistoryStats(
            backend=self.backend,
            location=self.location,
            schema_version=self._schema_version,
            sessions=int(sessions),
            beneficiaries=int(beneficiaries),
            claims=int(claims),
            imported=int(imported),
            first_day=None if first is None else self._read_day(first),
            last_day=None if last is None else self._read_day(last),
            reservations=int(reservations),
            live_runs=int(runs),
        )

    def import_sessions(self, rows: Iterable[ImportedSession]) -> int:
        added = 0
        for batch in _batches(rows, IMPORT_BATCH):
            now = time.time()
            with self._transaction(sorted({row.beneficiary for row in batch})) as tx:
                for row in batch:
                    added += tx.run(
                        _INSERT_SESSION,
                        (row.beneficiary, row.claim, self._day(row.day), "import", now),
                    )
        return added

    def forget_before(self, day: date) -> int:
        with self._transaction() as tx:
            return tx.run("DELETE FROM edi_guard_sessions WHERE day < ?", (self._day(day),))


def _run_filter(run_id: str, sets: tuple[int, ...] | None) -> tuple[str, tuple[object, ...]]:
    if sets is None:
        return "run_id = ?", (run_id,)
    marks = ", ".join("?" for _ in sets)
    return f"run_id = ? AND set_index IN ({marks})", (run_id, *sets)


def _batches(rows: Iterable[ImportedSession], size: int) -> Iterator[list[ImportedSession]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _process_alive(pid: int) -> bool:
    """Whether a process of this host still runs (a dead run's reservations are released)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
