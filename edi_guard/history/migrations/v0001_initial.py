"""Version 1: committed sessions, runs, reservations, and the key check.

- ``edi_guard_sessions``: one row per (beneficiary, day, claim): keyed hashes and a date.
  ``origin`` says whether a claim or an import recorded it.
- ``edi_guard_runs``: live runs (one per input being processed), with host, process id and
  last sign of life, so that the reservations of a dead run can be released.
- ``edi_guard_reservations``: sessions (``add``, with a day) and voids (``void``, no day) a
  run has reserved, in reservation order (``id``), until its interchange's verdict.
- ``edi_guard_meta``: ``key_check``, to refuse a wrong key.
"""

from __future__ import annotations

NAME = "initial"

SQLITE: tuple[str, ...] = (
    "CREATE TABLE edi_guard_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE edi_guard_sessions (
        beneficiary TEXT NOT NULL,
        claim TEXT NOT NULL,
        day TEXT NOT NULL CHECK (day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        origin TEXT NOT NULL CHECK (origin IN ('claim', 'import')),
        recorded_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (beneficiary, day, claim)
    ) WITHOUT ROWID""",
    "CREATE INDEX edi_guard_sessions_claim ON edi_guard_sessions (beneficiary, claim)",
    "CREATE INDEX edi_guard_sessions_day ON edi_guard_sessions (day)",
    """CREATE TABLE edi_guard_runs (
        run_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        seen_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE edi_guard_reservations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES edi_guard_runs (run_id) ON DELETE CASCADE,
        set_index INTEGER NOT NULL,
        beneficiary TEXT NOT NULL,
        claim TEXT NOT NULL,
        day TEXT,
        action TEXT NOT NULL CHECK (action IN ('add', 'void')),
        created_at DOUBLE PRECISION NOT NULL,
        CHECK ((action = 'add') = (day IS NOT NULL))
    )""",
    "CREATE INDEX edi_guard_reservations_beneficiary ON edi_guard_reservations (beneficiary)",
    "CREATE INDEX edi_guard_reservations_run ON edi_guard_reservations (run_id, set_index)",
)

POSTGRESQL: tuple[str, ...] = (
    "CREATE TABLE edi_guard_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE edi_guard_sessions (
        beneficiary TEXT NOT NULL,
        claim TEXT NOT NULL,
        day DATE NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('claim', 'import')),
        recorded_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (beneficiary, day, claim)
    )""",
    "CREATE INDEX edi_guard_sessions_claim ON edi_guard_sessions (beneficiary, claim)",
    "CREATE INDEX edi_guard_sessions_day ON edi_guard_sessions (day)",
    """CREATE TABLE edi_guard_runs (
        run_id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started_at DOUBLE PRECISION NOT NULL,
        seen_at DOUBLE PRECISION NOT NULL
    )""",
    """CREATE TABLE edi_guard_reservations (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES edi_guard_runs (run_id) ON DELETE CASCADE,
        set_index INTEGER NOT NULL,
        beneficiary TEXT NOT NULL,
        claim TEXT NOT NULL,
        day DATE,
        action TEXT NOT NULL CHECK (action IN ('add', 'void')),
        created_at DOUBLE PRECISION NOT NULL,
        CHECK ((action = 'add') = (day IS NOT NULL))
    )""",
    "CREATE INDEX edi_guard_reservations_beneficiary ON edi_guard_reservations (beneficiary)",
    "CREATE INDEX edi_guard_reservations_run ON edi_guard_reservations (run_id, set_index)",
)
