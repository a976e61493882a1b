"""Two processes racing to record TPI sessions for the same beneficiaries.

Each worker holds three claims per beneficiary (six session dates per beneficiary within a
year between them), decided by the real engine and rules under the store's per-beneficiary
lock, in the same order, starting together at a barrier. Each decision lingers while it
holds the lock, so that without the lock both workers would read the same history at their
second claim for a beneficiary (two sessions: room for one more) and both let theirs
through. Whatever the interleaving, no beneficiary may end up with a fourth session in a
365-day window: exactly three of the six go through.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Iterator
from datetime import date, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from history_support import (
    KEY,
    Spec,
    build_interchange,
    claim_units,
    decide_unit,
    drop_database,
    store_url,
)

from edi_guard.history.store import open_store

BENEFICIARIES = 4
MEMBERS = [
    (f"RACER{index}", "PAT", f"9RACE{index:06d}", "19450101") for index in range(BENEFICIARIES)
]
DAYS = {0: ("20260105", "20260305", "20260505"), 1: ("20260205", "20260405", "20260605")}
LIMIT = 3
PAUSE = 0.03
"""Seconds each decision holds the lock: long enough for the other worker to overlap."""


def _specs(worker: int) -> list[Spec]:
    # Interleaved by beneficiary, so that both workers reach a beneficiary together.
    return [
        Spec(f"RACE-{worker}-{beneficiary}-{turn}", day, member=MEMBERS[beneficiary])
        for turn, day in enumerate(DAYS[worker])
        for beneficiary in range(BENEFICIARIES)
    ]


def _worker(
    url: str, worker: int, barrier: Barrier, results: Queue[tuple[int, list[str]]], held: bool
) -> None:
    store = open_store(url, key=KEY)
    units = claim_units(build_interchange(300 + worker, _specs(worker)))
    run_id = store.begin_run()
    barrier.wait(timeout=60)
    accepted: list[str] = []
    # Held: the decisions share write transactions, as the pipeline's within an input chunk.
    with store.hold() if held else contextlib.nullcontext():
        for number, unit in enumerate(units, start=1):
            decision = decide_unit(store, unit, run_id=run_id, pause=lambda: time.sleep(PAUSE))
            if not decision.rejected:
                accepted.append(unit.first.element(1))
            if number % BENEFICIARIES == 0:
                store.confirm(run_id)  # an interchange per turn: committed and reserved mix
    store.confirm(run_id)
    store.finish_run(run_id)
    store.close()
    results.put((worker, accepted))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    chosen = store_url(request.param, tmp_path)
    yield chosen
    if request.param == "postgresql":
        drop_database(chosen)


@pytest.mark.parametrize("held", [False, True], ids=["single", "held"])
def test_racing_processes_never_let_a_fourth_session_through(url: str, held: bool) -> None:
    open_store(url, key=KEY).close()  # create the schema before the race
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results: Queue[tuple[int, list[str]]] = context.Queue()
    workers = [
        context.Process(target=_worker, args=(url, worker, barrier, results, held))
        for worker in (0, 1)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    assert [process.exitcode for process in workers] == [0, 0]
    outcome = dict(results.get(timeout=10) for _ in workers)
    store = open_store(url, key=KEY)
    try:
        for index, (_, _, member_id, _) in enumerate(MEMBERS):
            key = store.hasher.beneficiary_of(member_id)
            days = sorted({session.service_date for session in store.sessions(key)})
            assert _most_in_a_window(days) <= LIMIT, f"beneficiary {index}: {days}"
            assert len(days) == LIMIT, "three of the six sessions go through"
            through = [
                claim
                for claims in outcome.values()
                for claim in claims
                if claim.split("-")[2] == str(index)
            ]
            assert len(through) == LIMIT
        stats = store.stats()
        assert (stats.reservations, stats.live_runs) == (0, 0)
    finally:
        store.close()


def _most_in_a_window(days: list[date]) -> int:
    return max(
        (
            sum(1 for other in days if start <= other <= start + timedelta(days=364))
            for start in days
        ),
        default=0,
    )
