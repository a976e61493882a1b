"""Schema migrations upgrade a database written by an older edi-guard, keeping its data."""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import pytest
from history_support import KEY, drop_database, store_url

from edi_guard.history.migrations import (
    CREATE_SCHEMA_TABLE,
    LATEST,
    MIGRATIONS,
    SCHEMA_TABLE,
    Dialect,
)
from edi_guard.history.store import Reservation, open_store
from edi_guard.rules.base import HistoryView, Session

D0, D1, D2 = date(2025, 11, 3), date(2026, 1, 12), date(2026, 3, 10)
RUN = "0123456789abcdef0123456789abcdef"


@pytest.fixture(params=("sqlite", "postgresql"))
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    chosen = store_url(request.param, tmp_path)
    yield chosen
    if request.param == "postgresql":
        drop_database(chosen)


def _run_statements(url: str, statements: Sequence[tuple[str, tuple[object, ...]]]) -> list[str]:
    """Execute in one transaction; the rows of the last statement, first column as text."""
    if url.startswith("sqlite://"):
        database = sqlite3.connect(url.removeprefix("sqlite://"))
        try:
            with database:
                rows: list[str] = []
                for sql, params in statements:
                    rows = [str(row[0]) for row in database.execute(sql, params).fetchall()]
            return rows
        finally:
            database.close()
    import psycopg

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        rows = []
        for sql, params in statements:
            cursor.execute(sql.replace("?", "%s"), params or None)
            rows = [str(row[0]) for row in cursor.fetchall()] if cursor.description else []
        return rows


def _database_at(url: str, version: int) -> None:
    """A database as an edi-guard knowing migrations 1..version left it, holding a live run
    with a reserved session and a reserved void, and a committed session."""
    dialect: Dialect = "sqlite" if url.startswith("sqlite://") else "postgresql"
    statements: list[tuple[str, tuple[object, ...]]] = [(CREATE_SCHEMA_TABLE, ())]
    for migration in MIGRATIONS[:version]:
        statements += [(sql, ()) for sql in migration.statements(dialect)]
        statements.append(
            (
                f"INSERT INTO {SCHEMA_TABLE} (version, name, applied_at) VALUES (?, ?, 0)",
                (migration.version, migration.name),
            )
        )
    now = time.time()
    statements += [
        (
            "INSERT INTO edi_guard_runs (run_id, host, pid, started_at, seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (RUN, socket.gethostname(), os.getpid(), now, now),
        ),
        (
            "INSERT INTO edi_guard_sessions (beneficiary, claim, day, origin, recorded_at)"
            " VALUES ('b1', 'c0', ?, 'claim', 0)",
            (D0.isoformat(),),
        ),
        (
            "INSERT INTO edi_guard_reservations"
            " (run_id, set_index, beneficiary, claim, day, action, created_at)"
            " VALUES (?, 1, 'b1', 'c1', ?, 'add', 0)",
            (RUN, D1.isoformat()),
        ),
        (
            "INSERT INTO edi_guard_reservations"
            " (run_id, set_index, beneficiary, claim, day, action, created_at)"
            " VALUES (?, 1, 'b1', 'c0', NULL, 'void', 0)",
            (RUN,),
        ),
    ]
    _run_statements(url, statements)


def _sessions(view: HistoryView) -> list[Session]:
    return sorted(view.sessions("b1"), key=lambda session: session.service_date)


@pytest.mark.parametrize("version", range(1, LATEST))
def test_an_older_database_is_upgraded_with_its_runs_and_reservations(
    sql_url: str, version: int
) -> None:
    _database_at(sql_url, version)
    store = open_store(sql_url, key=KEY)
    try:
        assert store.stats().schema_version == LATEST
        assert (store.stats().reservations, store.stats().live_runs) == (2, 1)
        # The run's void hides the committed c0; its reservation of c1 shows.
        seen = store.decide(
            "b1", _sessions, lambda _: Reservation("c2", (D2,)), run_id=RUN, set_index=1
        )
        assert seen == [Session(D1, "c1")]
        # A reservation made after the upgrade comes after the old ones: a void of c2
        # reserved now takes back the c2 session reserved just before it, and nothing else.
        store.apply_void("b1", "c2", run_id=RUN, set_index=1)
        store.confirm(RUN)
        assert list(store.sessions("b1")) == [Session(D1, "c1")]
        store.finish_run(RUN)
    finally:
        store.close()


def test_the_upgraded_schema_writes_no_sequence_and_no_claim_index(sql_url: str) -> None:
    _database_at(sql_url, 2)
    open_store(sql_url, key=KEY).close()
    if sql_url.startswith("sqlite://"):
        indexes = _run_statements(
            sql_url, [("SELECT name FROM sqlite_master WHERE type = 'index'", ())]
        )
        table = _run_statements(
            sql_url,
            [("SELECT sql FROM sqlite_master WHERE name = 'edi_guard_reservations'", ())],
        )
        assert "AUTOINCREMENT" not in table[0].upper()
    else:
        indexes = _run_statements(
            sql_url, [("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'", ())]
        )
    assert "edi_guard_sessions_claim" not in indexes
    assert {"edi_guard_reservations_beneficiary", "edi_guard_reservations_run"} <= set(indexes)
