"""Files arriving one after another against one history (fixtures/history/).

file1 holds three Medicare TPI sessions for Jane Doe (and one for a dependent, Riley Roe);
file2 a fourth session within 365 days; file3 a void of file1's second claim; file4 a fourth
session with GA; file5 a fourth session billed to a commercial payer; file6 another claim
for a day file1 already holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from history_support import (
    FILES,
    FIXTURES,
    JANE,
    KEY,
    RICHARD,
    RILEY,
    Spec,
    build_interchange,
    drop_database,
    fixture_text,
    rule_outcomes,
    run_file,
    run_text,
    store_url,
)

from edi_guard.history.store import HistoryStore, open_store


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HistoryStore]:
    url = store_url(request.param, tmp_path)
    opened = open_store(url, key=KEY)
    yield opened
    opened.close()
    if request.param == "postgresql":
        drop_database(url)


def _statuses(store: HistoryStore, name: str) -> list[str]:
    return [decision.status for decision in run_file(store, name)]


def test_the_fixtures_are_what_the_generator_writes() -> None:
    for name in FILES:
        assert (FIXTURES / name).read_text(encoding="ascii") == fixture_text(name), name


def test_a_fourth_session_is_rejected_until_a_void_makes_room(store: HistoryStore) -> None:
    assert _statuses(store, "file1-three-sessions.x12") == ["accepted"] * 4
    recorded = store.stats()
    assert recorded.sessions == 4

    (fourth,) = run_file(store, "file2-fourth-session.x12")
    assert fourth.rejected
    assert rule_outcomes(fourth) == [("TPI009", "reject")]
    assert fourth.findings[0].stc == ("A3:779", "A3:259")
    assert store.stats() == recorded, "a rejected claim records nothing"

    assert _statuses(store, "file1-three-sessions.x12") == ["accepted"] * 4
    assert store.stats() == recorded, "re-running file 1 changes nothing"

    assert _statuses(store, "file3-void-second.x12") == ["accepted"]
    assert store.stats().sessions == 3, "the void took back the second session"

    (again,) = run_file(store, "file2-fourth-session.x12")
    assert again.status == "accepted", rule_outcomes(again)
    assert store.stats().sessions == 4


def test_a_fourth_session_with_ga_is_warned_and_goes_out(store: HistoryStore) -> None:
    run_file(store, "file1-three-sessions.x12")
    (claim,) = run_file(store, "file4-fourth-with-ga.x12")
    assert claim.status == "accepted"
    assert rule_outcomes(claim) == [("TPI009", "warn")]
    assert store.stats().sessions == 5, "it went out, so it counts"


def test_a_non_medicare_payer_is_not_limited(store: HistoryStore) -> None:
    run_file(store, "file1-three-sessions.x12")
    (claim,) = run_file(store, "file5-fourth-commercial.x12")
    assert claim.status == "accepted"
    assert rule_outcomes(claim) == []


def test_another_claim_for_a_recorded_day_is_a_duplicate(store: HistoryStore) -> None:
    run_file(store, "file1-three-sessions.x12")
    (claim,) = run_file(store, "file6-duplicate-day.x12")
    assert claim.rejected
    assert ("TPI010", "reject") in rule_outcomes(claim)


def test_a_replacement_replaces_the_sessions_of_its_claim(store: HistoryStore) -> None:
    run_file(store, "file1-three-sessions.x12")
    replacement = Spec("HIST-A-2", "20260320", frequency="7", payer_control="PAYERICN000222")
    (claim,) = run_text(store, build_interchange(110, [replacement]))
    assert claim.status == "accepted", rule_outcomes(claim)
    jane = store.hasher.beneficiary_of(JANE[2])
    assert [s.service_date for s in store.sessions(jane)] == [
        date(2026, 1, 12),
        date(2026, 3, 20),
        date(2026, 5, 5),
    ]


def test_a_void_naming_a_recorded_claim_in_ref_f8_takes_that_claim_back(
    store: HistoryStore,
) -> None:
    run_file(store, "file1-three-sessions.x12")
    void = Spec("VOID-OF-A-1", "20260112", frequency="8", payer_control="HIST-A-1")
    (claim,) = run_text(store, build_interchange(111, [void]))
    assert claim.status == "accepted"
    jane = store.hasher.beneficiary_of(JANE[2])
    assert [s.service_date for s in store.sessions(jane)] == [date(2026, 3, 10), date(2026, 5, 5)]


def test_a_rejected_interchange_records_nothing(store: HistoryStore) -> None:
    run_file(store, "file1-three-sessions.x12", accepted=False)
    assert store.stats().sessions == 0
    assert _statuses(store, "file1-three-sessions.x12") == ["accepted"] * 4
    assert store.stats().sessions == 4


def test_the_sqlite_database_holds_no_clear_identity(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path / 'h' / 'history.sqlite3'}", key=KEY)
    try:
        for name in FILES:
            run_file(store, name)
        assert store.stats().sessions >= 4
    finally:
        store.close()
    secrets = _identities()
    written = list((tmp_path / "h").iterdir())
    assert any(path.name == "history.sqlite3" for path in written)
    for path in written:  # the database, and its -wal/-shm if any remain
        data = path.read_bytes().upper()
        for secret in secrets:
            assert secret.upper().encode() not in data, f"{secret!r} in {path.name}"


def test_the_postgresql_database_holds_no_clear_identity(tmp_path: Path) -> None:
    url = store_url("postgresql", tmp_path)
    store = open_store(url, key=KEY)
    try:
        for name in FILES:
            run_file(store, name)
    finally:
        store.close()
    import psycopg

    with psycopg.connect(url) as connection:
        dump = " ".join(
            str(row)
            for table in ("edi_guard_sessions", "edi_guard_reservations", "edi_guard_meta")
            for row in connection.execute(f"SELECT * FROM {table}")
        ).upper()
    drop_database(url)
    for secret in _identities():
        assert secret.upper() not in dump, secret


def _identities() -> list[str]:
    """Names, member ids, birth dates (both forms) and claim ids of the fixtures."""
    values: list[str] = []
    for last, first, member_id, birth in (JANE, RICHARD):
        values += [last, first, member_id, birth, f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"]
    last, first, birth = RILEY
    values += [last, first, birth, f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"]
    values += [spec.claim_id for _, specs in FILES.values() for spec in specs]
    values += ["PAYERICN000222"]
    return values
