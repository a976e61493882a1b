"""SQLite's hold keeps the database's one write lock across claims; it gives way to waiters.

A worker waiting for the lock is let in within a fraction of a second, however long the
holder goes on deciding, and a write still waits up to the busy timeout for a lock held
elsewhere. (What a hold keeps of the store's guarantees, on every backend, is tested in
test_history_store.py.)
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from datetime import date, timedelta
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path

from history_support import KEY, store_url

from edi_guard.history.store import HistoryStore, Reservation, open_store
from edi_guard.rules.base import HistoryView

D1 = date(2026, 1, 12)


def _days(view: HistoryView, key: str = "b1") -> list[date]:
    return sorted(session.service_date for session in view.sessions(key))


def _decide(store: HistoryStore, run: str, claim: str, day: date, key: str = "b1") -> list[date]:
    return store.decide(
        key,
        lambda view: _days(view, key),
        lambda _: Reservation(claim, (day,)),
        run_id=run,
        set_index=1,
    )


# SQLite: a holder gives way to a waiting worker -------------------------------------------

HOLDER_SECONDS = 4.0
"""How long the holder goes on deciding, in holds of HOLD_CLAIMS claims."""
HOLD_CLAIMS = 2000
WORK_BETWEEN = 0.0003
"""Seconds of work without the lock between two decisions, as the pipeline's other claims."""


def _hold_and_decide(url: str, started: Event, results: Queue[tuple[str, float]]) -> None:
    store = open_store(url, key=KEY)
    run = store.begin_run()
    end = time.monotonic() + HOLDER_SECONDS
    count = 0
    while time.monotonic() < end:
        with store.hold():
            for _ in range(HOLD_CLAIMS):
                count += 1
                day = D1 + timedelta(days=count % 300)
                _decide(store, run, f"c{count}", day, key=f"b{count % 997}")
                started.set()
                pause = time.perf_counter() + WORK_BETWEEN
                while time.perf_counter() < pause:
                    pass
    results.put(("holder", float(count)))
    store.finish_run(run)
    store.close()


def _wait_for_the_lock(
    url: str, barrier: Barrier, started: Event, results: Queue[tuple[str, float]]
) -> None:
    store = open_store(url, key=KEY)
    barrier.wait(timeout=60)
    started.wait(timeout=60)
    time.sleep(0.5)  # well inside the holder's stretch
    waits = []
    for _ in range(5):
        began = time.monotonic()
        run = store.begin_run()
        _decide(store, run, "w1", D1, key="waiter")
        store.finish_run(run)
        waits.append(time.monotonic() - began)
        time.sleep(0.2)
    results.put(("waiter", max(waits)))
    store.close()


def test_a_worker_waiting_for_the_lock_is_let_in_while_another_holds(tmp_path: Path) -> None:
    url = store_url("sqlite", tmp_path)
    open_store(url, key=KEY).close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    started = context.Event()
    results: Queue[tuple[str, float]] = context.Queue()
    holder = context.Process(target=_hold_and_decide, args=(url, started, results))
    waiter = context.Process(target=_wait_for_the_lock, args=(url, barrier, started, results))
    waiter.start()
    holder.start()
    barrier.wait(timeout=60)
    for process in (holder, waiter):
        process.join(120)
    assert [holder.exitcode, waiter.exitcode] == [0, 0]
    outcome = dict(results.get(timeout=10) for _ in range(2))
    # Five write transactions of the waiter, each let in within a fraction of a second (a
    # waiter that is not heard waits for the end of the holder's stretch: seconds).
    assert outcome["waiter"] < 1.0, outcome
    assert outcome["holder"] > 1000, "the holder kept deciding meanwhile"


def test_a_write_waits_past_its_slices_for_a_lock_held_elsewhere_and_says_so(
    tmp_path: Path,
) -> None:
    url = store_url("sqlite", tmp_path)
    store = open_store(url, key=KEY)
    path = Path(url.removeprefix("sqlite://"))
    waiting = path.with_name(path.name + "-waiting")
    before = waiting.read_bytes()
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # as another process's long write transaction
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    try:
        began = time.monotonic()
        release.start()
        run = store.begin_run()  # waits many slices, not the first one only
        assert time.monotonic() - began >= 0.4
        assert waiting.read_bytes() != before, "the waiter signalled a possible holder"
        assert _decide(store, run, "c1", D1) == []
    finally:
        release.join()
        other.close()
        store.close()
