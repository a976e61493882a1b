"""Issue 9, items 4 and 5: duplicate interchanges get a TA1 025 and are not processed again;
our own ISA13/GS06 are unique and increasing per receiver, across runs and workers."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from history_support import KEY, drop_database, store_url

from edi_guard.api import process
from edi_guard.history.store import HistoryStore, open_store
from edi_guard.pipeline import FileResult

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "tpi-batch.x12"
NOW = datetime(2026, 1, 15, 10, 30)


@pytest.fixture(params=("memory", "sqlite", "postgresql"))
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    chosen = store_url(request.param, tmp_path)
    yield chosen
    if request.param == "postgresql":
        drop_database(chosen)


@pytest.fixture
def store(url: str) -> Iterator[HistoryStore]:
    opened = open_store(url, key=KEY)
    yield opened
    opened.close()


def _isa13(path: Path) -> int:
    return int(path.read_text().split("*")[13])


def _run(source: Path, out: Path, store: HistoryStore, *, force: bool = False) -> FileResult:
    return process(source, out_dir=out, history=store, now=NOW, force=force)


def test_the_same_interchange_twice_is_processed_once(store: HistoryStore, tmp_path: Path) -> None:
    first = _run(DEMO, tmp_path / "first", store)
    assert first.summary.claims_rejected == 1
    assert not (tmp_path / "first" / "tpi-batch.ta1").exists()

    second = _run(DEMO, tmp_path / "second", store)
    assert second.summary.claims_in == 6
    assert second.summary.claims_rejected == 6  # reported, not lost
    assert second.summary.interchanges_rejected == 1
    assert second.exit_code == 1
    assert not (tmp_path / "second" / "tpi-batch.837").exists()
    assert not (tmp_path / "second" / "tpi-batch.999").exists()  # the TA1 is the answer
    ta1 = (tmp_path / "second" / "tpi-batch.ta1").read_text()
    assert "TA1*000000042*260115*0900*R*025~" in ta1
    assert any("duplicate" in message for message in second.messages)


def test_force_processes_a_duplicate_again(store: HistoryStore, tmp_path: Path) -> None:
    _run(DEMO, tmp_path / "first", store)
    forced = _run(DEMO, tmp_path / "forced", store, force=True)
    assert forced.summary.claims_accepted + forced.summary.claims_corrected == 5
    assert (tmp_path / "forced" / "tpi-batch.837").exists()
    assert not (tmp_path / "forced" / "tpi-batch.ta1").exists()


def test_a_rejected_interchange_is_not_remembered(store: HistoryStore, tmp_path: Path) -> None:
    broken = tmp_path / "broken.x12"
    broken.write_bytes(DEMO.read_bytes().replace(b"IEA*1*000000042", b"IEA*2*000000042"))
    rejected = _run(broken, tmp_path / "broken", store)
    assert rejected.summary.interchanges_rejected == 1
    assert "TA1*000000042" in (tmp_path / "broken" / "broken.ta1").read_text()
    # The sender fixes the count and sends the same ISA13 again: it is processed.
    again = _run(DEMO, tmp_path / "fixed", store)
    assert again.summary.interchanges_rejected == 0
    assert (tmp_path / "fixed" / "tpi-batch.837").exists()


def test_control_numbers_increase_across_runs(store: HistoryStore, tmp_path: Path) -> None:
    numbers = []
    for index in range(3):
        out = tmp_path / f"run{index}"
        _run(DEMO, out, store, force=True)
        # The 277CA is numbered when its first claim arrives, the 999 at the end.
        numbers += [_isa13(out / "tpi-batch.277"), _isa13(out / "tpi-batch.999")]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == len(numbers)


def _worker(url: str, source: str, out: str, barrier: object) -> tuple[int, bool]:
    barrier.wait()  # type: ignore[attr-defined]
    store = open_store(url, key=KEY)
    try:
        result = process(Path(source), out_dir=out, history=store, now=NOW)
    finally:
        store.close()
    return result.summary.claims_rejected, (Path(out) / "tpi-batch.ta1").exists()


def _numbers(url: str, count: int, barrier: object) -> list[int]:
    barrier.wait()  # type: ignore[attr-defined]
    store = open_store(url, key=KEY)
    try:
        return [store.next_control_number("ZZ:RACE") for _ in range(count)]
    finally:
        store.close()


@pytest.fixture(params=("sqlite", "postgresql"))
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    chosen = store_url(request.param, tmp_path)
    open_store(chosen, key=KEY).close()  # migrate once before the race
    yield chosen
    if request.param == "postgresql":
        drop_database(chosen)


def test_two_concurrent_workers_process_one_interchange_once(
    shared_url: str, tmp_path: Path
) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(2)
        with context.Pool(2) as pool:
            results = pool.starmap(
                _worker,
                [(shared_url, str(DEMO), str(tmp_path / name), barrier) for name in ("a", "b")],
            )
    duplicates = [result for result in results if result[1]]
    processed = [result for result in results if not result[1]]
    assert len(duplicates) == 1 and len(processed) == 1
    assert duplicates[0][0] == 6  # every claim of the duplicate reported
    assert processed[0][0] == 1  # the demo's one rejected claim


def test_concurrent_workers_never_share_a_control_number(shared_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        barrier = manager.Barrier(2)
        with context.Pool(2) as pool:
            first, second = pool.starmap(_numbers, [(shared_url, 50, barrier)] * 2)
    assert first == sorted(first) and second == sorted(second)
    assert len(set(first) | set(second)) == 100
