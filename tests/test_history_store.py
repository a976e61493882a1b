"""The history store API on every backend: reservations, verdicts, voids, runs, maintenance."""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from history_support import KEY, drop_database, store_url

from edi_guard.errors import HistoryError
from edi_guard.history.migrations import LATEST
from edi_guard.history.store import (
    ADD,
    VOID_ACTION,
    HistoryStore,
    ImportedSession,
    Pending,
    Reservation,
    open_store,
    plan_confirm,
)
from edi_guard.rules.base import HistoryView, Session

BACKENDS = ("memory", "sqlite", "postgresql")
SQL_BACKENDS = ("sqlite", "postgresql")
D1, D2, D3 = date(2026, 1, 12), date(2026, 3, 10), date(2026, 5, 5)


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    chosen = store_url(request.param, tmp_path)
    yield chosen
    if request.param == "postgresql":
        drop_database(chosen)


@pytest.fixture(params=SQL_BACKENDS)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    chosen = store_url(request.param, tmp_path)
    yield chosen
    if request.param == "postgresql":
        drop_database(chosen)


@pytest.fixture
def store(url: str) -> Iterator[HistoryStore]:
    opened = open_store(url, key=KEY)
    yield opened
    opened.close()


def _days(view: HistoryView, key: str = "b1") -> list[date]:
    return sorted(session.service_date for session in view.sessions(key))


def _reserve(
    store: HistoryStore,
    run_id: str,
    reservation: Reservation | None,
    *,
    key: str = "b1",
    set_index: int = 1,
) -> list[date]:
    """Decide with a callback that returns what it saw; reserve ``reservation``."""
    return store.decide(
        key, _days_of(key), lambda _: reservation, run_id=run_id, set_index=set_index
    )


def _days_of(key: str) -> Callable[[HistoryView], list[date]]:
    return lambda view: _days(view, key)


def test_a_reservation_is_seen_at_once_and_committed_by_confirm(store: HistoryStore) -> None:
    run = store.begin_run()
    other = store.begin_run()
    assert _reserve(store, run, Reservation("c1", (D1, D2))) == []
    assert _reserve(store, other, None) == [D1, D2], "other runs count it (conservatively)"
    assert store.sessions("b1") == (), "not committed before the verdict"
    store.confirm(run)
    assert _days(store) == [D1, D2]
    assert store.stats().reservations == 0


def test_release_drops_what_was_reserved(store: HistoryStore) -> None:
    run = store.begin_run()
    _reserve(store, run, Reservation("c1", (D1,)), set_index=1)
    _reserve(store, run, Reservation("c2", (D2,)), set_index=2)
    store.release(run, [2])
    assert _reserve(store, run, None) == [D1]
    store.release(run)
    assert _reserve(store, run, None) == []
    store.confirm(run)
    assert store.sessions("b1") == ()


def test_confirm_of_some_sets_keeps_the_others_reserved(store: HistoryStore) -> None:
    run = store.begin_run()
    _reserve(store, run, Reservation("c1", (D1,)), set_index=1)
    _reserve(store, run, Reservation("c2", (D2,)), set_index=2)
    store.confirm(run, [1])
    assert _days(store) == [D1]
    assert store.stats().reservations == 1
    store.finish_run(run)
    assert _days(store) == [D1]
    assert store.stats().reservations == 0


def test_the_same_claim_again_counts_once(store: HistoryStore) -> None:
    for _ in range(2):
        run = store.begin_run()
        _reserve(store, run, Reservation("c1", (D1, D2)))
        store.confirm(run)
        store.finish_run(run)
    assert _days(store) == [D1, D2]
    assert store.stats().sessions == 2


def test_tuple_reservations_are_accepted(store: HistoryStore) -> None:
    run = store.begin_run()
    store.decide("b1", _days_of("b1"), lambda _: ("c1", [D2, D1, D1]), run_id=run, set_index=1)
    store.confirm(run)
    assert _days(store) == [D1, D2]


def test_a_void_applies_within_its_run_and_at_confirm(store: HistoryStore) -> None:
    first = store.begin_run()
    _reserve(store, first, Reservation("c1", (D1,)))
    _reserve(store, first, Reservation("c2", (D2,)))
    store.confirm(first)
    run = store.begin_run()
    other = store.begin_run()
    _reserve(store, run, Reservation("c1", (), voids=("f8-unknown", "c1")))
    assert _reserve(store, run, None) == [D2], "the voiding run sees the void at once"
    assert _reserve(store, other, None) == [D1, D2], "others ignore an unconfirmed void"
    store.confirm(run)
    assert _days(store) == [D2]


def test_a_released_void_takes_nothing_back(store: HistoryStore) -> None:
    run = store.begin_run()
    _reserve(store, run, Reservation("c1", (D1,)))
    store.confirm(run)
    _reserve(store, run, Reservation("c1", (), voids=("c1",)))
    store.release(run)
    assert _days(store) == [D1]


def test_a_void_prefers_the_claim_named_by_ref_f8(store: HistoryStore) -> None:
    run = store.begin_run()
    _reserve(store, run, Reservation("original", (D1,)))
    _reserve(store, run, Reservation("same-clm01", (D2,)))
    store.confirm(run)
    store.apply_void("b1", ("original", "same-clm01"), run_id=run, set_index=1)
    store.confirm(run)
    assert _days(store) == [D2]


def test_a_replacement_under_the_same_clm01_replaces_its_days(store: HistoryStore) -> None:
    run = store.begin_run()
    _reserve(store, run, Reservation("c1", (D1,)))
    store.confirm(run)
    # Within one run too: the replacement's own new days survive its void.
    _reserve(store, run, Reservation("c1", (D2,), voids=("c1",)))
    assert _reserve(store, run, None) == [D2]
    store.confirm(run)
    assert _days(store) == [D2]


def test_a_void_in_the_same_run_takes_back_what_the_run_added_before(
    store: HistoryStore,
) -> None:
    run = store.begin_run()
    _reserve(store, run, Reservation("c1", (D1,)))
    _reserve(store, run, Reservation("c1", (), voids=("c1",)))
    _reserve(store, run, Reservation("c2", (D3,)))
    assert _reserve(store, run, None) == [D3]
    store.confirm(run)
    assert _days(store) == [D3]


def test_a_snapshot_answers_only_for_its_beneficiary(store: HistoryStore) -> None:
    run = store.begin_run()
    with pytest.raises(HistoryError, match="only for the beneficiary"):
        store.decide(
            "b1", lambda view: view.sessions("b2"), lambda _: None, run_id=run, set_index=1
        )


def test_an_unknown_run_cannot_decide_or_confirm(store: HistoryStore) -> None:
    with pytest.raises(HistoryError, match="not live"):
        _reserve(store, "no-such-run", Reservation("c1", (D1,)))
    with pytest.raises(HistoryError, match="not live"):
        store.confirm("no-such-run")


def test_an_error_while_deciding_reserves_nothing(store: HistoryStore) -> None:
    run = store.begin_run()

    def explode(view: HistoryView) -> None:
        raise RuntimeError("rule bug")

    with pytest.raises(RuntimeError):
        store.decide("b1", explode, lambda _: Reservation("c1", (D1,)), run_id=run, set_index=1)
    assert _reserve(store, run, None) == []


def test_runs_not_seen_for_the_ttl_are_released(url: str) -> None:
    store = open_store(url, key=KEY, ttl=0.0)
    try:
        run = store.begin_run()
        _reserve(store, run, Reservation("c1", (D1,)))
        assert store.release_dead_runs() == 1
        with pytest.raises(HistoryError, match="not live"):
            store.confirm(run)
        assert store.sessions("b1") == ()
    finally:
        store.close()


def _die_holding_a_reservation(url: str) -> None:
    store = open_store(url, key=KEY)
    run = store.begin_run()
    _reserve(store, run, Reservation("c1", (D1,)))
    os._exit(0)  # no confirm, no release, no finish: as if killed


def test_reservations_of_a_dead_process_are_released_on_open(sql_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    child = context.Process(target=_die_holding_a_reservation, args=(sql_url,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    store = open_store(sql_url, key=KEY)
    try:
        stats = store.stats()
        assert (stats.reservations, stats.live_runs) == (0, 0)
        run = store.begin_run()
        assert _reserve(store, run, None) == []
    finally:
        store.close()


def test_stats_import_and_forget(store: HistoryStore) -> None:
    rows = [
        ImportedSession("b1", "c1", D1),
        ImportedSession("b1", "c1", D2),
        ImportedSession("b2", "c9", D3),
        ImportedSession("b1", "c1", D1),
    ]
    assert store.import_sessions(rows) == 3
    assert store.import_sessions(rows) == 0, "importing again adds nothing"
    stats = store.stats()
    assert (stats.sessions, stats.beneficiaries, stats.claims, stats.imported) == (3, 2, 2, 3)
    assert (stats.first_day, stats.last_day) == (D1, D3)
    assert store.forget_before(D2) == 1
    assert _days(store) == [D2]
    assert store.stats().sessions == 2
    assert "sessions: 2 (2 imported)" in store.stats().lines()


def test_data_survives_reopening(sql_url: str) -> None:
    first = open_store(sql_url, key=KEY)
    run = first.begin_run()
    _reserve(first, run, Reservation("c1", (D1,)))
    first.confirm(run)
    first.finish_run(run)
    first.close()
    again = open_store(sql_url, key=KEY)
    try:
        assert _days(again) == [D1]
        assert again.stats().schema_version == LATEST
    finally:
        again.close()


def test_a_database_newer_than_the_code_is_refused(sql_url: str) -> None:
    open_store(sql_url, key=KEY).close()
    _execute(
        sql_url, "INSERT INTO edi_guard_schema (version, name, applied_at) VALUES (99, 'x', 0)"
    )
    with pytest.raises(HistoryError, match=r"schema version 99, newer than this edi-guard"):
        open_store(sql_url, key=KEY)


def test_another_key_is_refused(sql_url: str) -> None:
    open_store(sql_url, key=KEY).close()
    with pytest.raises(HistoryError, match="does not match"):
        open_store(sql_url, key=b"another-history-key-of-enough-length")


def _execute(url: str, sql: str) -> None:
    if url.startswith("sqlite://"):
        database = sqlite3.connect(url.removeprefix("sqlite://"))
        with database:
            database.execute(sql)
        database.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)


def test_sessions_of_the_view_are_session_values(store: HistoryStore) -> None:
    run = store.begin_run()
    _reserve(store, run, Reservation("c1", (D1,)))
    store.confirm(run)
    assert tuple(store.sessions("b1")) == (Session(D1, "c1"),)


# Holds: decisions sharing write transactions keep every guarantee of single ones --------


def test_held_decisions_see_each_other_and_an_error_undoes_only_its_own(
    store: HistoryStore,
) -> None:
    run = store.begin_run()

    def explode(view: HistoryView) -> None:
        raise RuntimeError("rule bug")

    with store.hold():
        assert _reserve(store, run, Reservation("c1", (D1,))) == []
        with pytest.raises(RuntimeError):
            store.decide("b1", explode, lambda _: Reservation("cx", (D3,)), run_id=run, set_index=1)
        assert _reserve(store, run, Reservation("c2", (D2,))) == [D1]
        store.apply_void("b1", "c1", run_id=run, set_index=1)
        assert _reserve(store, run, Reservation("c3", (D3,))) == [D2]
    store.confirm(run)
    assert _days(store) == [D2, D3]
    store.finish_run(run)


def test_what_a_hold_decided_is_committed_by_a_confirm_inside_it_and_at_its_end(
    sql_url: str,
) -> None:
    store = open_store(sql_url, key=KEY)
    other = open_store(sql_url, key=KEY)
    try:
        run = store.begin_run()
        with store.hold():
            _reserve(store, run, Reservation("c1", (D1,)))
            store.confirm(run)
            # Durable and visible to another worker at once, inside the hold.
            assert _days(other) == [D1]
            _reserve(store, run, Reservation("c2", (D2,)))
        assert other.stats().reservations == 1
        other_run = other.begin_run()
        assert _reserve(other, other_run, Reservation("c9", (D3,))) == [D1, D2]
    finally:
        other.close()
        store.close()


def test_a_hold_that_fails_reports_its_own_error_and_leaves_the_store_usable(
    store: HistoryStore,
) -> None:
    run = store.begin_run()
    with pytest.raises(ValueError, match="pipeline"), store.hold():
        _reserve(store, run, Reservation("c1", (D1,)))
        raise ValueError("pipeline failed")
    assert _reserve(store, run, Reservation("c2", (D2,))) == [D1]
    with pytest.raises(HistoryError, match="not live"), store.hold():
        _reserve(store, run, Reservation("c3", (D3,)), key="b2")
        _reserve(store, "no-such-run", Reservation("c4", (D3,)), key="b2")
    store.confirm(run)
    assert _days(store, "b2") == [D3]


def _plan_one_row_at_a_time(
    rows: list[tuple[str, Pending]],
) -> tuple[list[tuple[str, str]], list[tuple[str, str, date]]]:
    """plan_confirm's contract spelled out naively: rows in reservation order, a void taking
    back every day its claim was given before it."""
    days: list[tuple[str, str, date]] = []
    voids: set[tuple[str, str]] = set()
    for beneficiary, row in sorted(rows, key=lambda item: item[1].id):
        if row.action == VOID_ACTION:
            voids.add((beneficiary, row.claim))
            days = [day for day in days if day[:2] != (beneficiary, row.claim)]
        elif row.day is not None and (beneficiary, row.claim, row.day) not in days:
            days.append((beneficiary, row.claim, row.day))
    return sorted(voids), sorted(days)


@pytest.mark.parametrize("seed", range(40))
def test_plan_confirm_applies_rows_in_reservation_order(seed: int) -> None:
    chance = random.Random(seed)
    rows = [
        (
            chance.choice(("b1", "b2", "b3")),
            Pending(
                id=number,
                run_id="run",
                set_index=0,
                claim=chance.choice(("c1", "c2", "c3", "c4")),
                day=None if chance.random() < 0.1 else date(2026, 1, chance.randint(1, 4)),
                action=VOID_ACTION if chance.random() < 0.2 else ADD,
            ),
        )
        for number in chance.sample(range(1, 1000), 30)
    ]
    assert plan_confirm(rows) == _plan_one_row_at_a_time(rows)


def test_plan_confirm_keeps_days_added_after_a_void_of_the_same_claim() -> None:
    day = date(2026, 3, 2)
    rows = [
        ("b", Pending(3, "run", 0, "c", day, ADD)),
        ("b", Pending(1, "run", 0, "c", date(2026, 3, 1), ADD)),
        ("b", Pending(2, "run", 0, "c", None, VOID_ACTION)),
        ("other", Pending(4, "run", 0, "c", day, ADD)),
    ]
    assert plan_confirm(rows) == ([("b", "c")], [("b", "c", day), ("other", "c", day)])
