"""The structure validator in a worker process: the same outputs as in process, whatever
happens to the worker (killed, stopped, raising) and whatever the input (fixtures, the public
corpus, the bad-input catalogue, claim caps and syntax errors in a large file)."""

from __future__ import annotations

import hashlib
import io
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from bad_inputs_support import cases
from pipeline_support import identity_values
from x12_builders import CORPUS

from edi_guard.acks.control import CounterControlNumbers, SameForAll
from edi_guard.api import process
from edi_guard.batch import BatchOptions, FileJob, Worker
from edi_guard.errors import EdiGuardError
from edi_guard.gate import StructureGate, open_gate
from edi_guard.history import Hasher
from edi_guard.history.memory import MemoryStore
from edi_guard.history.store import MEMORY_URL
from edi_guard.limits import DEFAULT_LIMITS, Limits
from edi_guard.outcome import ClaimOutcome
from edi_guard.pipeline import CHUNK_SIZE
from edi_guard.validate import worker as worker_module
from edi_guard.validate.worker import MIN_BYTES, start_method, usable_cpus
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import Tokenizer

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402  (bench/ holds scripts, not a package)

NOW = datetime(2026, 1, 2, 3, 4, 5)
Observed = tuple[Any, ...]


def _all_children() -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            found.update(int(pid) for pid in (task / "children").read_text().split())
        except FileNotFoundError:
            continue  # a thread that ended since the listing (Spark's, the gate's)
    return found


_OTHERS: set[int] = set()


@pytest.fixture(autouse=True)
def _others() -> None:
    """Children that earlier tests of the session left (a JVM, a resource tracker)."""
    _OTHERS.clear()
    _OTHERS.update(_all_children())


def _children() -> set[int]:
    """This process's child processes started by the test, alive or not yet reaped."""
    return _all_children() - _OTHERS


def _run(
    path: Path,
    out: Path,
    *,
    parallel: bool,
    limits: Limits | None = None,
    on_claim: Callable[[ClaimOutcome], None] | None = None,
) -> Observed:
    """Everything process() tells and writes (or the error it raises)."""
    out.mkdir(parents=True)
    try:
        result = process(
            path,
            out_dir=out,
            parallel=parallel,
            limits=limits,
            on_claim=on_claim,
            control_numbers=SameForAll(CounterControlNumbers(1)),
            history=MemoryStore(Hasher(b"worker-test")),
            now=NOW,
        )
    except EdiGuardError as error:
        return ("error", type(error).__name__, str(error))
    written = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    return (
        result.summary,
        result.messages,
        result.exit_code,
        result.envelope_rejected,
        result.sha256,
        written,
    )


def _reaped_faults() -> int:
    """Page faults of this process's reaped children: any process that ran adds some."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt


def _compare(paths: list[Path], tmp: Path, limits: Limits | None = None) -> None:
    differing: list[str] = []
    for index, path in enumerate(paths):
        faults = _reaped_faults()
        expected = _run(path, tmp / f"{index}-here", parallel=False, limits=limits)
        assert _reaped_faults() == faults  # no worker
        with structlog.testing.capture_logs() as logged:
            found = _run(path, tmp / f"{index}-worker", parallel=True, limits=limits)
        assert _reaped_faults() > faults, path.name  # a worker ran, and was reaped
        if found != expected:
            differing.append(path.name)
        assert not [e for e in logged if e["event"].startswith("validation_worker")], path.name
    assert not differing
    assert not _children()  # every worker reaped


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 3 MB: 6,000 claims in three sets."""
    path = tmp_path_factory.mktemp("large") / "large.x12"
    with path.open("wb") as sink:
        generate.generate(sink, 6000, 3, 2000)
    return path


def test_fixtures_and_the_public_corpus(tmp_path: Path) -> None:
    # The inputs of the lead's golden check: every fixture and every 837 of the corpus.
    paths = sorted((REPO / "fixtures").glob("**/*.x12"))
    paths += sorted(p for p in CORPUS.glob("**/*837*") if p.is_file())
    assert len(paths) > 50
    _compare(paths, tmp_path)


def test_the_bad_input_catalogue(tmp_path: Path) -> None:
    paths = []
    for case in cases():
        if case.huge and case.size > 16 << 20:
            continue  # the 100 MB ones: covered by the bad-input tests in process
        paths.append(case.materialize(tmp_path / "inputs"))
    _compare(paths, tmp_path / "runs")


def test_a_large_file_whole_capped_and_broken(large: Path, tmp_path: Path) -> None:
    data = large.read_bytes()
    broken = tmp_path / "broken.x12"
    # A stray byte run in the third chunk: the tokenizer stops there, in both processes.
    cut = data.index(b"~", 2 * CHUNK_SIZE + 1000) + 1
    broken.write_bytes(data[:cut] + b"\x01\x02" * 40 + data[cut:])
    _compare([large, broken], tmp_path / "plain")
    # Reading stops at the 2,501st claim: the worker has read further, so the validator's
    # answer is rebuilt here for what the pipeline read.
    for cap in (2500, 5999):
        capped = Limits(max_claims_per_file=cap)
        _compare([large], tmp_path / f"capped-{cap}", limits=capped)


def test_an_element_over_the_cap_early_in_a_chunk_stops_both_readings_alike(
    large: Path, tmp_path: Path
) -> None:
    """The pipeline feeds its tokenizer a chunk in pieces; so must the worker. An element over
    the cap whose segment ends in the same chunk is refused while still open by a reader fed
    in pieces, but only once complete, with the segments before it kept and the refusal put
    off to the next chunk, by a reader fed whole chunks: the worker would then stop one
    chunk later than the pipeline and be taken for one that read other bytes."""
    data = large.read_bytes()
    broken = tmp_path / "long-element.x12"
    cut = data.index(b"~", 2 * CHUNK_SIZE + 1000) + 1
    broken.write_bytes(data[:cut] + b"NTE*ADD*" + b"N" * 30_000 + b"~" + data[cut:])
    _compare([broken], tmp_path / "runs", limits=Limits(max_element_bytes=20_000))


def test_a_killed_worker_is_replaced_in_process(large: Path) -> None:
    here = StructureGate()
    expected = _gate_answers(here, large)
    with large.open("rb") as stream, structlog.testing.capture_logs() as logged:
        gate = _open(stream)
        (pid,) = _children()
        # At once, not after a delay: the compiled worker can finish this file in a third of
        # a second, and a worker that already answered has nothing left to lose.
        os.kill(pid, signal.SIGKILL)
        found = _gate_answers(gate, large)
    assert found == expected
    assert gate.result == here.result
    assert gate.fallback == "the worker exited (code -9)"
    (failure,) = [e for e in logged if e["event"] == "validation_worker_failed"]
    assert failure["reason"] == "the worker exited (code -9)"
    assert not _children()
    text = repr(logged)
    assert not [value for value in identity_values(large) if value and value in text]


def _gate_answers(gate: StructureGate, path: Path) -> list[tuple[bool, ...]]:
    """What the pipeline asks at every trailer, fed as the pipeline feeds."""
    answers: list[tuple[bool, ...]] = []
    tokenizer = Tokenizer.from_limits(DEFAULT_LIMITS)
    sets = 0

    def handle(segments: list[Segment]) -> None:
        nonlocal sets
        gate.feed_many(segments)
        for segment in segments:
            gate.reach(segment.position)
            if segment.tag == "SE":
                sets += 1
                answers.append((gate.set_accepted(sets),))
            elif segment.tag == "GE":
                last = gate.sets_of_last_group()
                answers.append((gate.group_accepted(segment), *map(bool, last)))
            elif segment.tag == "IEA":
                answers.append((gate.interchange_accepted(segment),))

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK_SIZE):
            digest.update(chunk)
            gate.read(len(chunk), digest.copy().digest())
            handle(tokenizer.feed(chunk))
        handle(tokenizer.close())
    gate.close()
    return answers


def _open(stream: io.BufferedReader, stall: float = 30.0) -> StructureGate:
    return open_gate(
        stream, limits=DEFAULT_LIMITS, chunk_size=CHUNK_SIZE, parallel=True, stall_seconds=stall
    )


def test_a_stopped_worker_is_taken_as_hung(large: Path) -> None:
    here = StructureGate()
    expected = _gate_answers(here, large)
    with large.open("rb") as stream:
        gate = _open(stream, stall=0.5)
        (pid,) = _children()
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        found = _gate_answers(gate, large)
    assert found == expected
    assert gate.result == here.result
    assert gate.fallback is not None and "sent nothing" in gate.fallback
    assert time.monotonic() - started < 20
    assert not _children()  # the stopped worker was killed and reaped


def test_a_raising_worker_is_replaced_in_process(
    large: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if start_method() != "fork":
        # Threads left by earlier tests (Spark's JVM bridge) rule out fork here, and the
        # stand-in reaches the worker only through fork: run this test in a fresh interpreter.
        name = f"{Path(__file__).resolve()}::test_a_raising_worker_is_replaced_in_process"
        repo = Path(__file__).resolve().parents[1]
        options = ["-q", "-p", "no:cacheprovider", "--rootdir", str(repo)]
        fresh = subprocess.run(
            [sys.executable, "-m", "pytest", *options, "-c", str(repo / "pyproject.toml"), name],
            cwd=tmp_path,  # not the checkout: a compiled run must import what it installed
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert fresh.returncode == 0, fresh.stdout[-3000:]
        assert "1 passed" in fresh.stdout
        return

    def broken(*args: object) -> None:
        raise RuntimeError("a value that must not be logged")

    monkeypatch.setattr(worker_module, "_validate", broken)
    expected = _run(large, tmp_path / "here", parallel=False)
    with structlog.testing.capture_logs() as logged:
        found = _run(large, tmp_path / "raised", parallel=True)
    assert found == expected
    (failure,) = [e for e in logged if e["event"] == "validation_worker_failed"]
    assert failure["reason"] == "the worker raised RuntimeError"
    assert "must not" not in repr(logged)
    assert not _children()


def test_input_changed_under_the_worker_fails_clearly(large: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.x12"
    copy.write_bytes(large.read_bytes())
    with copy.open("rb") as stream:
        gate = _open(stream)
        (pid,) = _children()
        os.kill(pid, signal.SIGKILL)
        tokenizer = Tokenizer()
        chunk = stream.read(CHUNK_SIZE)
        gate.read(len(chunk), hashlib.sha256(chunk).digest())
        segments = tokenizer.feed(chunk)
        gate.feed_many(segments)
        gate.reach(segments[-1].position)
        with copy.open("r+b") as writer:  # another program rewrites the file meanwhile
            writer.seek(100)
            writer.write(b"Z")
        with pytest.raises(EdiGuardError, match="changed while it was being read"):
            gate.set_accepted(1)
    assert not _children()


def test_a_threaded_caller_gets_a_spawned_worker(large: Path, tmp_path: Path) -> None:
    expected = _run(large, tmp_path / "here", parallel=False)
    seen: dict[str, Any] = {}

    def in_thread() -> None:
        seen["method"] = start_method()
        seen["found"] = _run(large, tmp_path / "thread", parallel=True)

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert seen["method"] == "spawn"
    assert seen["found"] == expected
    assert not _children()


def test_when_a_worker_is_used(large: Path, tmp_path: Path) -> None:
    small = tmp_path / "small.x12"
    small.write_bytes(large.read_bytes()[: MIN_BYTES // 2])
    with large.open("rb") as stream:
        auto = open_gate(stream, limits=DEFAULT_LIMITS, chunk_size=CHUNK_SIZE)
        assert auto.in_worker == (usable_cpus() >= 2)
        auto.dispose()
        off = open_gate(stream, limits=DEFAULT_LIMITS, chunk_size=CHUNK_SIZE, parallel=False)
        assert not off.in_worker
    with small.open("rb") as stream:
        assert not open_gate(stream, limits=DEFAULT_LIMITS, chunk_size=CHUNK_SIZE).in_worker
        forced = open_gate(stream, limits=DEFAULT_LIMITS, chunk_size=CHUNK_SIZE, parallel=True)
        assert forced.in_worker
        forced.dispose()
    memory = io.BytesIO(large.read_bytes())
    gate = open_gate(memory, limits=DEFAULT_LIMITS, chunk_size=CHUNK_SIZE, parallel=True)
    assert not gate.in_worker  # no file to read: validated in process
    assert not _children()


def test_the_batch_worker_passes_its_choice(large: Path, tmp_path: Path) -> None:
    used: dict[bool, bool] = {}
    for parallel in (False, True):
        options = BatchOptions(out_dir=str(tmp_path / str(parallel)), history_url=MEMORY_URL)
        faults = _reaped_faults()
        with Worker(replace(options, parallel=parallel)) as worker:
            report = worker.run(FileJob(0, str(large)))
        assert report.exit_code in (0, 1)
        used[parallel] = _reaped_faults() > faults
    assert used == {False: False, True: True}


def _state(pid: int) -> str:
    """The process's state letter (R, S, Z...), or '' once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def _read_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def test_the_worker_dies_with_its_caller(large: Path, tmp_path: Path) -> None:
    code = (
        "import sys; from edi_guard.api import process; "
        "process(sys.argv[1], out_dir=sys.argv[2], parallel=True)"
    )
    caller = subprocess.Popen(
        [sys.executable, "-c", code, str(large), str(tmp_path)], stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        workers: set[int] = set()
        while not workers and time.monotonic() < deadline:
            time.sleep(0.05)
            for task in Path(f"/proc/{caller.pid}/task").iterdir():
                workers.update(int(pid) for pid in (task / "children").read_text().split())
        (worker,) = workers
        # Forked, it reads nothing before it has asked the kernel to end it with its caller.
        while _read_bytes(worker) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        # Stopped, it cannot notice by itself that its pipe broke: only the kernel ends it.
        os.kill(worker, signal.SIGSTOP)
    finally:
        caller.kill()  # SIGKILL: no cleanup of its own runs
        caller.wait()
    deadline = time.monotonic() + 10
    while _state(worker) not in ("", "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    left = _state(worker)
    if left not in ("", "Z"):
        os.kill(worker, signal.SIGKILL)
    assert left in ("", "Z")  # killed with its caller, not left behind as an orphan
