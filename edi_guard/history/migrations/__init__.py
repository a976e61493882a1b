"""Versioned schema migrations of the SQL history stores, applied in order on open.

One schema, two dialects: each migration carries its statements for SQLite and for
PostgreSQL, which differ only in types (dates are ISO text in SQLite, DATE in PostgreSQL) and
identity columns. ``edi_guard_schema`` holds one row per applied version. A migration runs in
one transaction under the store's migration lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL an
advisory lock), so workers starting together apply it once. A database whose version is
higher than :data:`LATEST` was written by a newer edi-guard and is refused.

To change the schema, add ``vNNNN_name.py`` with ``NAME``, ``SQLITE`` and ``POSTGRESQL`` and
append it to :data:`MIGRATIONS`; never edit a shipped one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edi_guard.history.migrations import v0001_initial, v0002_interchanges, v0003_lean_writes

Dialect = Literal["sqlite", "postgresql"]

SCHEMA_TABLE = "edi_guard_schema"

CREATE_SCHEMA_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {SCHEMA_TABLE} ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at DOUBLE PRECISION NOT NULL)"
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]

    def statements(self, dialect: Dialect) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgresql


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, v0001_initial.NAME, v0001_initial.SQLITE, v0001_initial.POSTGRESQL),
    Migration(2, v0002_interchanges.NAME, v0002_interchanges.SQLITE, v0002_interchanges.POSTGRESQL),
    Migration(3, v0003_lean_writes.NAME, v0003_lean_writes.SQLITE, v0003_lean_writes.POSTGRESQL),
)
LATEST = MIGRATIONS[-1].version

assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1)), "versions run 1, 2, 3..."


def pending(current: int) -> tuple[Migration, ...]:
    """The migrations to apply to a database at version ``current`` (0: empty)."""
    return MIGRATIONS[current:]
