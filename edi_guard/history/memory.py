"""The in-memory history store (``memory:``): the store API over :class:`MemoryHistory`.

Same semantics as the SQL stores (reservations, voids, runs), within one process: a lock
serialises decisions across threads. Committed sessions live in the MemoryHistory it
extends, whose ``record``/``forget_claim``/``sessions`` keep working for callers that use
them directly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from edi_guard.errors import HistoryError
from edi_guard.history import Hasher, MemoryHistory
from edi_guard.history.store import (
    ADD,
    DEFAULT_TTL,
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


@dataclass(frozen=True, slots=True)
class _Row:
    beneficiary: str
    pending: Pending


class MemoryStore(MemoryHistory):
    backend = "memory"

    def __init__(self, hasher: Hasher, *, ttl: float = DEFAULT_TTL) -> None:
        super().__init__(hasher)
        self._ttl = ttl
        self._lock = threading.RLock()
        self._runs: dict[str, float] = {}
        self._reserved: list[_Row] = []
        # Rows by beneficiary: a decision reads one beneficiary's rows, never all of them.
        self._by_beneficiary: dict[str, list[_Row]] = {}
        self._next_id = 1
        self._imported: set[tuple[str, date, str]] = set()
        # (sender, control) -> the run processing it, or "" once accepted.
        self._interchanges: dict[tuple[str, str], str] = {}
        self._control_numbers: dict[str, int] = {}

    def sessions(self, beneficiary_key: str) -> Sequence[Session]:
        """Committed sessions, by date (as the SQL stores answer)."""
        bucket = self._sessions.get(beneficiary_key)
        if not bucket:  # most beneficiaries: TPI009 and TPI010 ask for every TPI claim
            return ()
        return tuple(sorted(bucket.values(), key=lambda s: (s.service_date, s.claim_id_digest)))

    def hold(self) -> AbstractContextManager[None]:
        """Nothing to share: a decision here costs no commit."""
        return nullcontext()

    # Runs ---------------------------------------------------------------------------------

    def begin_run(self) -> str:
        with self._lock:
            self.release_dead_runs()
            run_id = new_run_id()
            self._runs[run_id] = time.time()
            return run_id

    def touch(self, run_id: str) -> None:
        with self._lock:
            if run_id in self._runs:
                self._runs[run_id] = time.time()

    def finish_run(self, run_id: str) -> None:
        with self._lock:
            self.release(run_id)
            self._runs.pop(run_id, None)

    def release_dead_runs(self) -> int:
        with self._lock:
            threshold = time.time() - self._ttl
            dead = {run_id for run_id, seen in self._runs.items() if seen < threshold}
            before = len(self._reserved)
            self._keep([row for row in self._reserved if row.pending.run_id not in dead])
            for run_id in dead:
                del self._runs[run_id]
            return before - len(self._reserved)

    def claim_interchange(
        self, sender: str, control: str, *, run_id: str, force: bool = False
    ) -> bool:
        with self._lock:
            self._require_run(run_id)
            holder = self._interchanges.get((sender, control))
            if holder is not None and (holder == "" or holder in self._runs) and not force:
                return False
            self._interchanges[(sender, control)] = run_id
            return True

    def settle_interchange(self, sender: str, control: str, *, run_id: str, accepted: bool) -> None:
        with self._lock:
            if self._interchanges.get((sender, control)) != run_id:
                return
            if accepted:
                self._interchanges[(sender, control)] = ""
            else:
                del self._interchanges[(sender, control)]

    def next_control_number(self, receiver: str) -> int:
        with self._lock:
            last = self._control_numbers.get(receiver, 0)
            number = 1 if last >= 999_999_999 else last + 1
            self._control_numbers[receiver] = number
            return number

    def _keep(self, rows: list[_Row]) -> None:
        self._reserved = rows
        self._by_beneficiary = {}
        for row in rows:
            self._by_beneficiary.setdefault(row.beneficiary, []).append(row)

    def _require_run(self, run_id: str) -> None:
        if run_id not in self._runs:
            raise HistoryError(
                f"history run {run_id} is not live: start it with begin_run(); a run that "
                f"showed no life for {self._ttl:.0f} s has had its reservations released"
            )
        self._runs[run_id] = time.time()

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
        with self._lock:
            self._require_run(run_id)
            sessions = self._view(beneficiary_key, run_id)
            result = decide(SnapshotView(self.hasher, beneficiary_key, sessions))
            reservation = as_reservation(reserve(result))
            if reservation is not None:
                self._reserve(beneficiary_key, reservation, sessions, run_id, set_index)
            return result

    def apply_void(
        self, beneficiary_key: str, voided: str | Sequence[str], *, run_id: str, set_index: int
    ) -> None:
        candidates = (voided,) if isinstance(voided, str) else tuple(voided)
        if not candidates:
            return
        with self._lock:
            self._require_run(run_id)
            sessions = self._view(beneficiary_key, run_id)
            reservation = Reservation(candidates[-1], (), candidates)
            self._reserve(beneficiary_key, reservation, sessions, run_id, set_index)

    def _view(self, beneficiary_key: str, run_id: str) -> tuple[Session, ...]:
        committed = [
            (session.claim_id_digest, session.service_date)
            for session in self.sessions(beneficiary_key)
        ]
        pending = [row.pending for row in self._by_beneficiary.get(beneficiary_key, ())]
        return compose_sessions(committed, pending, run_id)

    def _reserve(
        self,
        beneficiary_key: str,
        reservation: Reservation,
        sessions: Sequence[Session],
        run_id: str,
        set_index: int,
    ) -> None:
        entries: list[tuple[str, date | None, str]] = []
        if reservation.voids:
            entries.append((void_target(reservation.voids, sessions), None, VOID_ACTION))
        entries += [(reservation.claim_digest, day, ADD) for day in reservation.days]
        for claim, day, action in entries:
            pending = Pending(
                self._next_id,
                run_id,
                set_index,
                claim,
                day,
                VOID_ACTION if action == VOID_ACTION else ADD,
            )
            self._next_id += 1
            row = _Row(beneficiary_key, pending)
            self._reserved.append(row)
            self._by_beneficiary.setdefault(beneficiary_key, []).append(row)

    # Verdicts -----------------------------------------------------------------------------

    def confirm(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        sets = normalized_sets(set_indexes)
        with self._lock:
            self._require_run(run_id)
            chosen = [row for row in self._reserved if _matches(row, run_id, sets)]
            voids, adds = plan_confirm((row.beneficiary, row.pending) for row in chosen)
            for beneficiary, claim in voids:
                self.forget_claim(beneficiary, claim)
            for beneficiary, claim, day in adds:
                self.record(beneficiary, claim, [day])
            self._keep([row for row in self._reserved if not _matches(row, run_id, sets)])

    def release(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        sets = normalized_sets(set_indexes)
        with self._lock:
            self._keep([row for row in self._reserved if not _matches(row, run_id, sets)])
            if run_id in self._runs:
                self._runs[run_id] = time.time()

    # Maintenance --------------------------------------------------------------------------

    def forget_claim(self, beneficiary_key: str, claim_digest: str) -> None:
        with self._lock:
            super().forget_claim(beneficiary_key, claim_digest)
            self._imported = {
                entry
                for entry in self._imported
                if entry[0] != beneficiary_key or entry[2] != claim_digest
            }

    def stats(self) -> HistoryStats:
        with self._lock:
            everything = [
                (key, session) for key in list(self._sessions) for session in self.sessions(key)
            ]
            days = [session.service_date for _, session in everything]
            return HistoryStats(
                backend=self.backend,
                location="memory",
                schema_version=0,
                sessions=len(everything),
                beneficiaries=len({key for key, _ in everything}),
                claims=len({(key, session.claim_id_digest) for key, session in everything}),
                imported=len(self._imported),
                first_day=min(days, default=None),
                last_day=max(days, default=None),
                reservations=len(self._reserved),
                live_runs=len(self._runs),
            )

    def import_sessions(self, rows: Iterable[ImportedSession]) -> int:
        added = 0
        with self._lock:
            for row in rows:
                known = {
                    (s.service_date, s.claim_id_digest) for s in self.sessions(row.beneficiary)
                }
                if (row.day, row.claim) in known:
                    continue
                self.record(row.beneficiary, row.claim, [row.day])
                self._imported.add((row.beneficiary, row.day, row.claim))
                added += 1
        return added

    def forget_before(self, day: date) -> int:
        with self._lock:
            forgotten = 0
            for bucket in self._sessions.values():
                old = [key for key in bucket if key[0] < day]
                for key in old:
                    del bucket[key]
                forgotten += len(old)
            self._imported = {entry for entry in self._imported if entry[1] >= day}
            return forgotten

    def close(self) -> None:
        """Nothing to close: the history ends with the process."""


def _matches(row: _Row, run_id: str, sets: tuple[int, ...] | None) -> bool:
    pending = row.pending
    return pending.run_id == run_id and (sets is None or pending.set_index in sets)
