"""The persistent history store: TPI sessions per beneficiary across files, runs and workers.

TPI009 (at most 3 TPI sessions per beneficiary in any 365 days, Medicare) and TPI010 (one
TPI session per beneficiary and day across claims) need what earlier files contained. Claims
arrive over months, from several drop folders and workers at once; this module is the one
interface to what they left behind.

Backends (:func:`open_store`)
-----------------------------
- ``None``: SQLite at the per-user data path, ``$XDG_DATA_HOME/edi-guard/history.sqlite3``,
  else ``~/.local/share/edi-guard/history.sqlite3`` (key file ``history.key`` beside it);
- ``sqlite:///path/to/history.sqlite3`` (or a bare path): SQLite there;
- ``postgresql://user@host/db`` (or ``postgres://``): PostgreSQL, for shared deployments;
- ``memory:``: this process only (tests; one-off runs that must not remember).

Every backend holds the same data: keyed hashes of beneficiaries and claim ids
(:class:`edi_guard.history.Hasher`, key handling in :mod:`edi_guard.history.keys`), and
dates. No name, member id, birth date or claim id is stored in clear. SQL schemas are
versioned (:mod:`edi_guard.history.migrations`), applied on open, and a database whose
schema is newer than the code is refused with a clear error.

Reservations: deciding atomically without holding a lock for a whole interchange
-------------------------------------------------------------------------------
A claim's outcome is decided as soon as the claim is read, but becomes final only when its
transaction set and interchange are accepted, trailers later. So a run (one input file)
works like this::

    run_id = store.begin_run()
    # for each claim that needs history (needs_history(claim)):
    decision = store.decide(key, decide, reserve, run_id=run_id, set_index=n)
    # at a rejected transaction set:      store.release(run_id, [n])
    # at the interchange verdict:         store.confirm(run_id) or store.release(run_id)
    store.finish_run(run_id)

:meth:`HistoryStore.decide` takes the beneficiary's lock (SQLite ``BEGIN IMMEDIATE``,
PostgreSQL ``pg_advisory_xact_lock`` on the key's hash), reads the beneficiary's sessions,
calls ``decide(view)`` (the pure engine), and when ``reserve(result)`` returns a
:class:`Reservation` writes it, all in one transaction. The view holds:

- committed sessions (claims accepted in earlier interchanges, imported sessions);
- reservations of *every* live run, this one and others (counted conservatively: a
  reservation that is later released may have rejected a claim needlessly, never the
  reverse);
- the voids and replacements this run has reserved, applied (other runs' pending voids are
  not: conservative again).

:meth:`HistoryStore.confirm` turns a run's reservations into committed sessions (applying
its voids first, in the order they were reserved); :meth:`HistoryStore.release` drops them.
A run that dies leaves reservations behind: on open and at :meth:`HistoryStore.begin_run`
the store releases the runs of this host whose process is gone, and the runs of any host
not seen for ``ttl`` seconds. A run shows life at each decide (at most once a minute) and
each confirm or release; :meth:`HistoryStore.touch` exists for a run that holds
reservations while it reads a long stretch of claims without history. A run whose
reservations were released as dead cannot confirm them: confirm raises HistoryError.

Holding: fewer commits for a stretch of claims
----------------------------------------------
Each decide is a transaction of its own: for SQLite, whose one write lock covers the whole
database, that is a commit per TPI claim. A caller that decides many claims in a stretch of
CPU work (the pipeline, one input chunk at a time) can wrap it::

    with store.hold():
        ...  # decide, apply_void: may share one write transaction

Everything above holds unchanged: decisions stay atomic per beneficiary (SQLite keeps the
write lock across the grouped decisions), an error rolls back its own decision only, and
every other operation (confirm, release, interchanges, reads) commits the held decisions
first. The backend bounds how long it keeps the lock and gives way to waiting workers (see
:mod:`edi_guard.history.sqlite`); PostgreSQL and the in-memory store have nothing to gain
and run each decision on its own. Never hold across waiting for input: another worker may
be waiting for the lock.

Semantics (rules.md, issue 6)
-----------------------------
- Only accepted or corrected claims record sessions: ``reserve`` returns None for a rejected
  claim (see :func:`reservation_for`).
- The same claim again (same keyed CLM01, same days) never counts twice: a session is the
  triple (beneficiary, day, claim digest), stored once; TPI009/TPI010 ignore sessions of
  the claim being checked.
- CLM05-3 = 8 (void) takes back the sessions recorded for the claim it voids: the claim
  named by REF*F8 when sessions are recorded under that id, else the same CLM01. 7
  (replacement) does the same, then records its own sessions. Both are reserved like
  sessions and take effect at confirm; within the run they apply at once.

Importing prior sessions (``edi-guard history import CSV``)
------------------------------------------------------------
A CSV export from a practice-management system, header row first (names case-insensitive,
other columns ignored), one TPI session per row:

================== ======================================================================
member_id          required: the subscriber member id as sent in 2010BA NM109
patient_last_name  only when the patient is not the subscriber (the claims carry a 2000C
patient_first_name patient loop): the patient's names and birth date; leave the three
patient_birth_date empty otherwise
claim_id           the CLM01 the session was billed under; empty: keyed to the import
service_date       required: the date of the TPI session
================== ======================================================================

Dates are ``YYYY-MM-DD``, ``CCYYMMDD`` or ``MM/DD/YYYY``. Rows are hashed on reading: the
store never sees the values. Errors name the line and column, never the value.
"""

from __future__ import annotations

import csv
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from edi_guard.errors import HistoryError
from edi_guard.history import Hasher
from edi_guard.rules.base import HistoryView, Session

if TYPE_CHECKING:
    from edi_guard.model.claim import Claim

T = TypeVar("T")

TPI_CODES = frozenset({"20552", "20553"})
REPLACEMENT = "7"
VOID = "8"
DEFAULT_TTL = 3600.0
"""Seconds without a sign of life after which another process releases a run's reservations."""
MEMORY_URL = "memory:"
IMPORT_CLAIM = "import"

ADD: Literal["add"] = "add"
VOID_ACTION: Literal["void"] = "void"
Action = Literal["add", "void"]


@dataclass(frozen=True, slots=True)
class Reservation:
    """What an accepted or corrected claim records, reserved until its interchange's verdict."""

    claim_digest: str
    days: tuple[date, ...] = ()
    """TPI session days of the claim (none for a void)."""
    voids: tuple[str, ...] = ()
    """For a void (8) or replacement (7): claim digests whose sessions this claim takes back,
    in preference order (REF*F8 first, then CLM01). The first under which the beneficiary has
    sessions is taken; when none has, the last."""


Reserve = Callable[[T], Reservation | tuple[str, Sequence[date]] | None]
"""Given the decision, what to reserve: a Reservation, (claim digest, days), or None."""


@dataclass(frozen=True, slots=True)
class HistoryStats:
    """What ``edi-guard history stats`` shows: counts only, no identities."""

    backend: str
    location: str
    schema_version: int
    sessions: int
    beneficiaries: int
    claims: int
    imported: int
    first_day: date | None
    last_day: date | None
    reservations: int
    live_runs: int

    def lines(self) -> list[str]:
        span = (
            f"{self.first_day.isoformat()} .. {self.last_day.isoformat()}"
            if self.first_day and self.last_day
            else "-"
        )
        return [
            f"backend: {self.backend}",
            f"location: {self.location}",
            f"schema version: {self.schema_version}",
            f"sessions: {self.sessions} ({self.imported} imported)",
            f"beneficiaries: {self.beneficiaries}",
            f"claims: {self.claims}",
            f"service dates: {span}",
            f"reservations pending: {self.reservations} (live runs: {self.live_runs})",
        ]


@dataclass(frozen=True, slots=True)
class ImportedSession:
    """One prior session, already hashed."""

    beneficiary: str
    claim: str
    day: date


class HistoryStore(Protocol):
    """The history store. ``sessions``/``claim_digest`` make it a (lock-free) HistoryView of
    committed sessions; rules get a locked snapshot through :meth:`decide`."""

    @property
    def hasher(self) -> Hasher: ...

    def sessions(self, beneficiary_key: str) -> Sequence[Session]:
        """Committed sessions of the beneficiary (no lock, no reservations)."""
        ...

    def claim_digest(self, claim_id: str) -> str: ...

    def begin_run(self) -> str:
        """Register a run (one input) and return its id; releases dead runs first."""
        ...

    def decide(
        self,
        beneficiary_key: str,
        decide: Callable[[HistoryView], T],
        reserve: Reserve[T],
        *,
        run_id: str,
        set_index: int,
    ) -> T:
        """Lock the beneficiary, read, ``decide(view)``, reserve what ``reserve`` says, unlock."""
        ...

    def hold(self) -> AbstractContextManager[None]:
        """While held, decisions may share write transactions (see "Holding" above)."""
        ...

    def apply_void(
        self, beneficiary_key: str, voided: str | Sequence[str], *, run_id: str, set_index: int
    ) -> None:
        """Reserve taking back the sessions of a voided claim (candidate digests in preference
        order), without a decision; :meth:`decide` with ``Reservation.voids`` does the same
        atomically with the check."""
        ...

    def confirm(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        """Commit the run's reservations (of the given transaction sets, or all)."""
        ...

    def release(self, run_id: str, set_indexes: Iterable[int] | None = None) -> None:
        """Drop the run's reservations (of the given transaction sets, or all)."""
        ...

    def touch(self, run_id: str) -> None:
        """Show the run is alive (so that its reservations are not released as dead)."""
        ...

    def finish_run(self, run_id: str) -> None:
        """Release what the run still reserves and unregister it."""
        ...

    def release_dead_runs(self) -> int:
        """Release the reservations of dead runs; the number of reservations released."""
        ...

    def claim_interchange(
        self, sender: str, control: str, *, run_id: str, force: bool = False
    ) -> bool:
        """Take an interchange (sender and ISA13) for processing; False when it was already
        accepted, or is being processed by a live run: a duplicate. ``force`` takes it anyway.
        """
        ...

    def settle_interchange(self, sender: str, control: str, *, run_id: str, accepted: bool) -> None:
        """The interchange's verdict: accepted ones are remembered, rejected ones forgotten."""
        ...

    def next_control_number(self, receiver: str) -> int:
        """The next ISA13/GS06 for what we send to ``receiver``: unique and increasing,
        1 to 999,999,999 and round again."""
        ...

    def stats(self) -> HistoryStats: ...

    def import_sessions(self, rows: Iterable[ImportedSession]) -> int:
        """Record prior sessions as committed; the number new to the store."""
        ...

    def forget_before(self, day: date) -> int:
        """Forget committed sessions dated before ``day`` (retention); the number forgotten."""
        ...

    def close(self) -> None: ...


# What claims record ----------------------------------------------------------------------


def needs_history(claim: Claim) -> bool:
    """Whether deciding the claim reads or writes the history (TPI lines, void, replacement).

    Other claims can be evaluated without the store's lock: TPI009/TPI010 ignore them and
    they record nothing.
    """
    return claim.frequency_code in (VOID, REPLACEMENT) or any(
        line.code in TPI_CODES for line in claim.lines
    )


def reservation_for(claim: Claim | None, hasher: Hasher) -> Reservation | None:
    """What an accepted or corrected claim records; pass None for a rejected claim.

    ``claim`` is the claim as it goes out (after corrections): its TPI lines' days, under its
    keyed CLM01. A void records no session and takes back the voided claim's; a replacement
    takes them back and records its own.
    """
    if claim is None:
        return None
    digest = hasher.claim(claim.claim_id)
    voids: tuple[str, ...] = ()
    if claim.frequency_code in (VOID, REPLACEMENT):
        candidates = [digest]
        if claim.payer_claim_control:
            candidates.insert(0, hasher.claim(claim.payer_claim_control))
        voids = tuple(dict.fromkeys(candidates))
    days: tuple[date, ...] = ()
    if claim.frequency_code != VOID:
        tpi_lines = [line for line in claim.lines if line.code in TPI_CODES]
        days = tuple(sorted({day for line in tpi_lines for day in line.service_days()}))
    if not days and not voids:
        return None
    return Reservation(digest, days, voids)


def as_reservation(value: Reservation | tuple[str, Sequence[date]] | None) -> Reservation | None:
    if value is None or isinstance(value, Reservation):
        return value
    digest, days = value
    return Reservation(digest, tuple(sorted(set(days))))


# Shared by the backends: the view a decision sees, and what a confirm does -------------------


@dataclass(frozen=True, slots=True)
class Pending:
    """A reservation row: an added session or a void, by a run, in reservation order."""

    id: int
    run_id: str
    set_index: int
    claim: str
    day: date | None
    action: Action


def compose_sessions(
    committed: Iterable[tuple[str, date]], pending: Iterable[Pending], run_id: str
) -> tuple[Session, ...]:
    """The sessions a decision of ``run_id`` sees (see the module docstring)."""
    pending = sorted(pending, key=lambda row: row.id)
    voided: dict[str, int] = {}
    for row in pending:
        if row.run_id == run_id and row.action == VOID_ACTION:
            voided[row.claim] = row.id
    seen: set[tuple[date, str]] = set()
    for claim, day in committed:
        if claim not in voided:
            seen.add((day, claim))
    for row in pending:
        if row.action != ADD or row.day is None:
            continue
        if row.run_id == run_id and row.id < voided.get(row.claim, -1):
            continue
        seen.add((row.day, row.claim))
    return tuple(Session(day, claim) for day, claim in sorted(seen))


def void_target(candidates: Sequence[str], sessions: Sequence[Session]) -> str:
    """The first candidate digest with sessions recorded, else the last candidate."""
    recorded = {session.claim_id_digest for session in sessions}
    return next((digest for digest in candidates if digest in recorded), candidates[-1])


def plan_confirm(
    rows: Iterable[tuple[str, Pending]],
) -> tuple[list[tuple[str, str]], list[tuple[str, str, date]]]:
    """(beneficiary, pending) rows of one run -> (voids to apply, sessions to add).

    Applied in that order, the result is as if each row took effect in reservation order: a
    void removes what was committed and what the run added before it, not what it added after
    (a replacement under the same CLM01 keeps its new sessions).
    """
    # Days added, by (beneficiary, claim): a void drops its claim's days in one step, so a set
    # with many voids stays linear (scanning every add per void was quadratic).
    adds: dict[tuple[str, str], dict[date, None]] = {}
    voids: dict[tuple[str, str], None] = {}
    for beneficiary, row in sorted(rows, key=lambda item: item[1].id):
        claim = (beneficiary, row.claim)
        if row.action == VOID_ACTION:
            voids[claim] = None
            adds.pop(claim, None)
        elif row.day is not None:
            adds.setdefault(claim, {})[row.day] = None
    added = [
        (beneficiary, claim, day) for (beneficiary, claim), days in adds.items() for day in days
    ]
    return sorted(voids), sorted(added)


class SnapshotView:
    """The HistoryView a decision sees: one beneficiary's sessions, read under its lock."""

    def __init__(self, hasher: Hasher, beneficiary_key: str, sessions: Sequence[Session]):
        self._hasher = hasher
        self._key = beneficiary_key
        self._sessions = tuple(sessions)

    def sessions(self, beneficiary_key: str) -> Sequence[Session]:
        if beneficiary_key != self._key:
            raise HistoryError("a history snapshot answers only for the beneficiary it locked")
        return self._sessions

    def claim_digest(self, claim_id: str) -> str:
        return self._hasher.claim(claim_id)


def new_run_id() -> str:
    return secrets.token_hex(16)


def normalized_sets(set_indexes: Iterable[int] | None) -> tuple[int, ...] | None:
    return None if set_indexes is None else tuple(sorted(set(set_indexes)))


# Opening ---------------------------------------------------------------------------------


def default_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/edi-guard/history.sqlite3``, else ``~/.local/share/edi-guard/...``."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "share"
    return root / "edi-guard" / "history.sqlite3"


def open_store(
    url: str | None,
    *,
    key: bytes | None = None,
    ttl: float = DEFAULT_TTL,
    environ: Mapping[str, str] | None = None,
) -> HistoryStore:
    """Open (creating and migrating as needed) the history store that ``url`` names."""
    url = (url or "").strip()
    if url == MEMORY_URL:
        from edi_guard.history.keys import key_from_environment
        from edi_guard.history.memory import MemoryStore

        chosen = key if key is not None else key_from_environment(environ)
        return MemoryStore(Hasher(chosen or secrets.token_bytes(32)), ttl=ttl)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from edi_guard.history.postgres import PostgresStore
        except ImportError:
            raise HistoryError(
                "a PostgreSQL history needs psycopg 3: pip install 'psycopg[binary]'"
            ) from None
        return PostgresStore.open(url, key=key, ttl=ttl, environ=environ)
    if not url:
        path = default_path(environ)
    elif url.startswith("sqlite://"):
        path = Path(url.removeprefix("sqlite://"))
    elif re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url):
        raise HistoryError(
            f"unknown history URL scheme {url.split(':', 1)[0]!r}; expected sqlite:///PATH, "
            "postgresql://USER@HOST/DATABASE or memory:"
        )
    else:
        path = Path(url)
    if not str(path):
        raise HistoryError("the sqlite history URL names no file; expected sqlite:///PATH")
    from edi_guard.history.sqlite import SqliteStore

    return SqliteStore.open(path.expanduser(), key=key, ttl=ttl, environ=environ)


def redact_url(url: str) -> str:
    """A database URL without its password, fit for messages and stats."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


# Importing -------------------------------------------------------------------------------

IMPORT_COLUMNS = (
    "member_id",
    "patient_last_name",
    "patient_first_name",
    "patient_birth_date",
    "claim_id",
    "service_date",
)
_REQUIRED = ("member_id", "service_date")


def read_sessions_csv(lines: Iterable[str], hasher: Hasher) -> Iterator[ImportedSession]:
    """Prior sessions from a practice-management CSV export, hashed as they are read.

    Raises HistoryError naming the line and column of the first bad row (never its value).
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise HistoryError("the CSV is empty; expected a header row naming its columns")
    names = [name.strip().lower() for name in header]
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise HistoryError(
            f"the CSV header lacks {', '.join(missing)}; expected columns "
            f"{', '.join(IMPORT_COLUMNS)}"
        )
    index = {name: names.index(name) for name in IMPORT_COLUMNS if name in names}
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num

        def cell(name: str, row: list[str] = row) -> str:
            position = index.get(name)
            return row[position].strip() if position is not None and position < len(row) else ""

        member_id = cell("member_id")
        if not member_id:
            raise HistoryError(f"CSV line {line}: member_id is empty; expected the member id")
        day = _parse_date(cell("service_date"), line=line, column="service_date")
        names_given = (cell("patient_last_name"), cell("patient_first_name"))
        birth_text = cell("patient_birth_date")
        patient = None
        if any(names_given) or birth_text:
            birth = None
            if birth_text:
                birth = _parse_date(birth_text, line=line, column="patient_birth_date")
            patient = (names_given[0], names_given[1], birth)
        beneficiary = hasher.beneficiary_of(member_id, patient)
        claim_id = cell("claim_id")
        claim = hasher.claim(claim_id) if claim_id else hasher.digest(IMPORT_CLAIM, beneficiary)
        yield ImportedSession(beneficiary, claim, day)


_DATE_FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")


def _parse_date(text: str, *, line: int, column: str) -> date:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    what = "is empty" if not text else "is not a date"
    raise HistoryError(
        f"CSV line {line}: {column} {what}; expected YYYY-MM-DD, CCYYMMDD or MM/DD/YYYY"
    )
