"""Version 3: fewer pages written per reservation and per committed session.

- ``edi_guard_sessions_claim`` (beneficiary, claim) is dropped: every statement that names a
  claim names its beneficiary too, and the primary key (beneficiary, day, claim) finds a
  beneficiary's few rows by its prefix. One B-tree less to update at each confirm.
- SQLite only: ``edi_guard_reservations.id`` loses AUTOINCREMENT, which rewrote the
  ``sqlite_sequence`` row (one more page in the write-ahead log) at every reservation. A
  plain ``INTEGER PRIMARY KEY`` is still larger than every row present when it is assigned,
  which is all the reservation order needs: ids are only compared between live rows (a run's
  void against the run's own earlier sessions). SQLite cannot drop AUTOINCREMENT in place,
  so the table is copied, rows and ids unchanged, in the migration's one transaction.
  (PostgreSQL's identity column has no such cost.)
"""

from __future__ import annotations

NAME = "lean writes"

_DROP_CLAIM_INDEX = "DROP INDEX IF EXISTS edi_guard_sessions_claim"

SQLITE: tuple[str, ...] = (
    _DROP_CLAIM_INDEX,
    """CREATE TABLE edi_guard_reservations_v3 (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES edi_guard_runs (run_id) ON DELETE CASCADE,
        set_index INTEGER NOT NULL,
        beneficiary TEXT NOT NULL,
        claim TEXT NOT NULL,
        day TEXT,
        action TEXT NOT NULL CHECK (action IN ('add', 'void')),
        created_at DOUBLE PRECISION NOT NULL,
        CHECK ((action = 'add') = (day IS NOT NULL))
    )""",
    "INSERT INTO edi_guard_reservations_v3"
    " (id, run_id, set_index, beneficiary, claim, day, action, created_at)"
    " SELECT id, run_id, set_index, beneficiary, claim, day, action, created_at"
    " FROM edi_guard_reservations",
    "DROP TABLE edi_guard_reservations",
    "ALTER TABLE edi_guard_reservations_v3 RENAME TO edi_guard_reservations",
    "CREATE INDEX edi_guard_reservations_beneficiary ON edi_guard_reservations (beneficiary)",
    "CREATE INDEX edi_guard_reservations_run ON edi_guard_reservations (run_id, set_index)",
)

POSTGRESQL: tuple[str, ...] = (_DROP_CLAIM_INDEX,)
