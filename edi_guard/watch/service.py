"""``edi-guard watch``: a durable drop-folder service around ``edi_guard.process``.

The main process watches the inbox (watchdog events as hints, a periodic rescan as the
truth), decides when each file is complete (``readiness``), claims it by atomic rename
(``claim``) and hands it to a worker process. A worker hashes the claimed file, asks the
ledger whether that content was processed already (``ledger``), runs ``process`` (outputs
go atomically into OUT, as ``edi-guard fix`` writes them) and moves the original to the
archive, or to the error folder with a reason file. The main process logs one
``file_handled`` event per file and keeps the status file (``status``).

Crash safety, step by step, for one file::

    inbox/NAME --rename--> work/OWNER/TOKEN/NAME      claimed (exactly one watcher wins)
    hash; ledger: processing (attempts + 1)           a crash here: adopted and redone
    process() -> OUT/STEM.* (each atomic)             a crash here: redone, outputs replaced
    ledger: done                                      a crash here: adoption only archives
    link into ARCHIVE, unlink the work copy           a crash here: the link is recognised

SIGTERM (or SIGINT) stops claiming, lets the workers finish the files in hand, and exits 0;
a second signal exits at once (the claims are recovered by the next start). Workers ignore
those signals and are killed with the main process if it dies (Linux ``PR_SET_PDEATHSIG``),
so no orphan writes outputs after a restart.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import glob
import hashlib
import json
import multiprocessing
import os
import queue
import signal
import stat
import time
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any, Literal

import structlog
from watchdog.events import (
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
    FileSystemMovedEvent,
)
from watchdog.observers import Observer

from edi_guard import logs
from edi_guard.errors import EdiGuardError
from edi_guard.watch import status as status_file
from edi_guard.watch.claim import Claimed, Workspace, move_no_clobber, owner_alive
from edi_guard.watch.ledger import Decision, Ledger
from edi_guard.watch.readiness import Verdict, check_complete, is_temporary_name

log = structlog.get_logger("edi_guard.watch")

HASH_CHUNK = 1 << 20
LEDGER_NAME = "ledger.sqlite3"
STATUS_INTERVAL = 1.0
TICK = 0.1

Outcome = Literal["processed", "duplicate", "failed", "deferred"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the service and its workers need (pickled into each worker)."""

    inbox: Path
    out_dir: Path
    state_dir: Path
    archive_dir: Path
    error_dir: Path
    workers: int = 1
    policy_path: Path | None = None
    history_url: str | None = None
    marker: str | None = None
    """Marker mode: ``NAME`` is ready when ``NAME`` + marker (e.g. ``.done``) exists."""
    quiet_seconds: float = 10.0
    rescan_seconds: float = 30.0
    incomplete_timeout: float = 3600.0
    max_attempts: int = 3
    log_format: Literal["json", "console"] = "json"

    @property
    def ledger_path(self) -> Path:
        return self.state_dir / LEDGER_NAME


@dataclass(frozen=True, slots=True)
class Handled:
    """What a worker did with one claimed file (pickled back to the main process)."""

    name: str
    token: str
    outcome: Outcome
    sha256: str = ""
    moved_to: str = ""
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    exit_code: int | None = None
    outputs: int = 0
    seconds_hashing: float = 0.0
    seconds_processing: float = 0.0


# Workers ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _WorkerState:
    settings: Settings
    ledger: Ledger
    policy: Any
    ptp: Any
    history: Any


_state: _WorkerState | None = None


def _dump_stacks_on_sigusr1() -> None:
    """``kill -USR1 PID`` writes every thread's stack to stderr: how an operator (or a test)
    sees where a watcher that does not stop is waiting. Frames only, never values."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)


def _die_with_parent() -> None:
    """Linux: the kernel kills this worker when the main process dies (even by SIGKILL)."""
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def open_history(url: str | None) -> Any:
    """The persistent history for ``--history URL``, through ``edi_guard.api.open_history``.

    None means ``process`` uses a fresh in-memory history per file, so that processing a
    file again after a crash gives the same answers."""
    if url is None:
        return None
    from edi_guard import api

    opener: Callable[[str], Any] | None = getattr(api, "open_history", None)
    if opener is None:
        raise EdiGuardError("--history needs edi_guard.api.open_history, which this build lacks")
    return opener(url)


def _init_worker(settings: Settings) -> None:
    global _state
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _dump_stacks_on_sigusr1()
    _die_with_parent()
    logs.configure(settings.log_format)
    from edi_guard.policy import Policy
    from edi_guard.ptp import load as load_ptp

    policy = Policy.load(settings.policy_path)
    _state = _WorkerState(
        settings=settings,
        ledger=Ledger(settings.ledger_path),
        policy=policy,
        ptp=load_ptp(policy.ptp_table),
        history=open_history(settings.history_url),
    )


def _nothing() -> None:
    """A task that only makes the pool start a worker."""


def handle(claimed: Claimed, owner: str) -> Handled:
    """Process one claimed file in a worker: hash, ledger, ``process``, archive or error."""
    state = _state
    if state is None:
        raise RuntimeError("handle() runs in a worker started with _init_worker")
    settings = state.settings
    started = time.monotonic()
    sha256 = file_sha256(claimed.path)
    hashing = round(time.monotonic() - started, 3)
    entry = state.ledger.begin(
        sha256,
        claim=claimed.token,
        owner=owner,
        name=claimed.name,
        owner_alive=lambda other: owner_alive(settings.state_dir / "work", other),
        max_attempts=settings.max_attempts,
    )

    def handled(outcome: Outcome, moved_to: Path | None = None, reason: str = "") -> Handled:
        return Handled(
            name=claimed.name,
            token=claimed.token,
            outcome=outcome,
            sha256=sha256,
            moved_to=str(moved_to or ""),
            reason=reason,
            seconds_hashing=hashing,
        )

    decision = entry.decision
    if decision is Decision.DEFER:
        return handled("deferred")
    if decision is Decision.PROCESS:
        return replace(_process(state, claimed, sha256), seconds_hashing=hashing)
    if decision is Decision.POISON:
        recorded = entry.result or {}
        reason = str(
            recorded.get("reason")
            or f"processing started {entry.attempts - 1} times and never finished"
        )
        if entry.result is None:
            state.ledger.finish(sha256, claim=claimed.token, ok=False, result={"reason": reason})
        target = to_error(claimed, settings.error_dir, reason, str(recorded.get("detail", "")))
        return handled("failed", target, reason)
    target = move_no_clobber(claimed.path, settings.archive_dir, claimed.name, claimed.token)
    if decision is Decision.FINISH:  # processed before a crash; only archiving was left
        counts = dict((entry.result or {}).get("counts", {}))
        return replace(handled("processed", target), counts=counts)
    _write_json(
        target.with_name(target.name + ".duplicate.json"),
        {"duplicate_of": entry.first_name, "sha256": sha256, "first_processed_at": entry.updated},
    )
    state.ledger.duplicate(sha256, claim=claimed.token, name=claimed.name)
    return handled("duplicate", target, f"same content as {entry.first_name}, processed before")


def _process(state: _WorkerState, claimed: Claimed, sha256: str) -> Handled:
    from edi_guard.api import process

    settings = state.settings
    started = time.monotonic()
    try:
        result = process(
            claimed.path,
            out_dir=settings.out_dir,
            name=claimed.name,
            policy=state.policy,
            ptp=state.ptp,
            history=state.history,
            # Several workers already take the CPUs: no second process per file then.
            parallel=None if settings.workers == 1 else False,
        )
    except Exception as error:  # a poison file must not stop the service
        # EdiGuardError messages carry no patient data; anything else is named by type only.
        reason = (
            str(error)
            if isinstance(error, EdiGuardError)
            else f"internal error {type(error).__name__} while processing"
        )
        detail = "".join(traceback.format_exception(error))
        state.ledger.finish(
            sha256, claim=claimed.token, ok=False, result={"reason": reason, "detail": detail}
        )
        target = to_error(claimed, settings.error_dir, reason, detail)
        return Handled(
            name=claimed.name,
            token=claimed.token,
            outcome="failed",
            sha256=sha256,
            moved_to=str(target),
            reason=reason,
        )
    seconds = round(time.monotonic() - started, 3)
    summary = result.summary
    counts = {
        "claims_in": summary.claims_in,
        "claims_accepted": summary.claims_accepted,
        "claims_corrected": summary.claims_corrected,
        "claims_rejected": summary.claims_rejected,
        "sets_rejected": summary.sets_rejected,
        "interchanges_rejected": summary.interchanges_rejected,
    }
    state.ledger.finish(
        sha256,
        claim=claimed.token,
        ok=True,
        result={"counts": counts, "exit_code": result.exit_code, "outputs": len(result.written)},
    )
    target = move_no_clobber(claimed.path, settings.archive_dir, claimed.name, claimed.token)
    return Handled(
        name=claimed.name,
        token=claimed.token,
        outcome="processed",
        sha256=sha256,
        moved_to=str(target),
        counts=counts,
        exit_code=result.exit_code,
        outputs=len(result.written),
        seconds_processing=seconds,
    )


def remove_unfinished_outputs(out_dir: Path, name: str) -> int:
    """Delete the temporary outputs a killed worker left for the input ``name``.

    Outputs are written to hidden temporary files and renamed when complete (AtomicFile);
    a worker killed in between leaves them behind. The file is adopted by this watcher alone,
    so nobody else is writing them. Returns how many were removed.
    """
    from edi_guard.pipeline import OutputPaths

    paths = OutputPaths.in_directory(out_dir, Path(name).stem)
    removed = 0
    for output in (getattr(paths, attribute) for attribute in paths.__dataclass_fields__):
        for leftover in out_dir.glob(f".{glob.escape(output.name)}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
                removed += 1
    return removed


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def to_error(claimed: Claimed, error_dir: Path, reason: str, detail: str = "") -> Path:
    """Move a claimed file to the error folder, with ``NAME.reason.txt`` beside it."""
    target = move_no_clobber(claimed.path, error_dir, claimed.name, claimed.token)
    text = f"{reason}\n"
    if detail:
        text += f"\n{detail}"
    reason_path = target.with_name(target.name + ".reason.txt")
    temporary = reason_path.with_name(f".{reason_path.name}.tmp")
    temporary.write_text(text)
    temporary.replace(reason_path)
    return target


def _write_json(path: Path, data: dict[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    temporary.replace(path)


# The main process ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Candidate:
    """A file in the inbox that is not yet handed on."""

    size: int
    mtime_ns: int
    changed: float
    """Monotonic time of the last change seen (or of first sight)."""
    check_at: float
    closed: bool = False
    verdict: tuple[int, int, Verdict, str] | None = None
    """The last completeness check, for this (size, mtime)."""


class _Events(FileSystemEventHandler):
    """watchdog thread -> main loop: the names that changed (hints only)."""

    def __init__(self, inbox: Path, sink: queue.Queue[tuple[str, bool]]) -> None:
        self._inbox = inbox
        self._sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileOpenedEvent | FileClosedNoWriteEvent):
            return  # readers, including our own completeness check: nothing changed
        paths = [event.src_path]
        if isinstance(event, FileSystemMovedEvent):
            paths.append(event.dest_path)
        for raw in paths:
            path = Path(os.fsdecode(raw))
            if path.parent == self._inbox:
                self._sink.put((path.name, isinstance(event, FileClosedEvent)))


class Service:
    """One watcher. ``run`` returns when stopped by SIGTERM or SIGINT."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workspace = Workspace(settings.inbox, settings.state_dir, marker=settings.marker)
        self.status = status_file.Status(
            owner=self.workspace.owner,
            pid=os.getpid(),
            inbox=str(settings.inbox),
            started=time.time(),
        )
        # Not queue.SimpleQueue: on CPython 3.11 its get(timeout=...) waits forever when a
        # signal handler outlasts the remaining timeout (the recomputed timeout goes negative,
        # which the lock reads as "no timeout"), so a SIGTERM arriving near the end of a tick
        # left the loop asleep until the next file event. queue.Queue waits on threading
        # locks, which clamp the timeout.
        self._events: queue.Queue[tuple[str, bool]] = queue.Queue()
        self._candidates: dict[str, _Candidate] = {}
        self._ready: deque[str] = deque()
        self._claimed: deque[tuple[Claimed, float]] = deque()
        """Claimed files waiting for a worker, with the earliest time to dispatch them."""
        self._in_hand: dict[Future[Handled], tuple[Claimed, float]] = {}
        self._signals = 0
        self._pool: ProcessPoolExecutor | None = None
        self._status_written = 0.0

    # Life cycle ----------------------------------------------------------------------

    def run(self) -> int:
        settings = self.settings
        for directory in (settings.out_dir, settings.archive_dir, settings.error_dir):
            directory.mkdir(parents=True, exist_ok=True)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        if settings.state_dir.stat().st_dev != settings.inbox.stat().st_dev:
            raise EdiGuardError(
                f"the state directory {settings.state_dir} must be on the inbox's file system "
                "(claims are renames)"
            )
        Ledger(settings.ledger_path).close()  # create the schema once, before the workers
        self.workspace.open()
        previous = status_file.report(settings.state_dir)
        if previous["last_error"]:
            self.status.last_error = status_file.LastError(**previous["last_error"])
        for watcher in previous["watchers"]:
            if not watcher["alive"]:
                status_file.remove(settings.state_dir, str(watcher.get("owner")))
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        _dump_stacks_on_sigusr1()
        observer = Observer()
        observer.schedule(_Events(settings.inbox, self._events), str(settings.inbox))
        observer.start()
        self._pool = self._new_pool()
        self._warm_up()
        log.info(
            "watch_started",
            owner=self.workspace.owner,
            inbox=str(settings.inbox),
            workers=settings.workers,
            marker=settings.marker,
        )
        try:
            self._recover()
            self._scan()
            self.status.state = "running"
            self._loop()
            self.status.state = "stopping"
            self._write_status(force=True)
            self._drain()
        finally:
            observer.stop()
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self.workspace.close()
            self.status.state = "stopped"
            self._write_status(force=True)
            with contextlib.suppress(RuntimeError):
                observer.join(timeout=5)
        log.info("watch_stopped", owner=self.workspace.owner, done=self.status.done)
        return 0

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1
        if self._signals > 1:
            os._exit(128 + signum)  # the claims in hand are recovered by the next start

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.settings.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.settings,),
        )

    def _warm_up(self) -> None:
        """Start the workers now, not when the first file is ready."""
        assert self._pool is not None
        for _ in range(self.settings.workers):
            self._pool.submit(_nothing)

    def _loop(self) -> None:
        next_rescan = time.monotonic() + self.settings.rescan_seconds
        while not self._signals:
            self._take_events(timeout=TICK)
            now = time.monotonic()
            if now >= next_rescan:
                self._recover()
                self._scan()
                next_rescan = now + self.settings.rescan_seconds
            self._evaluate(now)
            self._dispatch(now)
            self._collect(timeout=0)
            self._write_status()

    def _drain(self) -> None:
        """Finish the files in hand (SIGTERM); claimed files not started stay for recovery."""
        while self._in_hand:
            self._collect(timeout=TICK)
            self._write_status()

    # Watching ------------------------------------------------------------------------

    def _take_events(self, *, timeout: float) -> None:
        with contextlib.suppress(queue.Empty):
            name, closed = self._events.get(timeout=timeout)
            self._touch(name, closed=closed)
            while True:
                name, closed = self._events.get_nowait()
                self._touch(name, closed=closed)

    def _scan(self) -> None:
        """The truth, whatever events were missed: every name in the inbox."""
        present = set()
        with os.scandir(self.settings.inbox) as entries:
            for entry in entries:
                present.add(entry.name)
                self._touch(entry.name)
        for name in set(self._candidates) - present:
            self._forget(name)

    def _touch(self, name: str, *, closed: bool = False) -> None:
        marker = self.settings.marker
        if marker is not None and name.endswith(marker):
            name = name[: -len(marker)]
        if is_temporary_name(name):
            return
        candidate = self._candidates.get(name)
        if candidate is None:
            try:
                info = (self.settings.inbox / name).lstat()
            except FileNotFoundError:
                return
            if not stat.S_ISREG(info.st_mode):
                return
            now = time.monotonic()
            self._candidates[name] = _Candidate(
                info.st_size, info.st_mtime_ns, now, now + self.settings.quiet_seconds
            )
            self.status.waiting = len(self._candidates)
            return
        # Look again soon: a close-write is a hint, the quiet period still applies.
        candidate.closed = candidate.closed or closed
        candidate.check_at = min(candidate.check_at, time.monotonic())

    def _forget(self, name: str) -> None:
        self._candidates.pop(name, None)
        with contextlib.suppress(ValueError):
            self._ready.remove(name)

    def _evaluate(self, now: float) -> None:
        settings = self.settings
        for name, candidate in list(self._candidates.items()):
            if name in self._ready or candidate.check_at > now:
                continue
            path = settings.inbox / name
            try:
                info = path.lstat()
            except FileNotFoundError:
                self._forget(name)
                continue
            if (info.st_size, info.st_mtime_ns) != (candidate.size, candidate.mtime_ns):
                candidate.size, candidate.mtime_ns = info.st_size, info.st_mtime_ns
                candidate.changed = now
                candidate.closed = False
                candidate.check_at = now + settings.quiet_seconds
                continue
            quiet_for = now - candidate.changed
            if settings.marker is not None:
                if (settings.inbox / (name + settings.marker)).exists():
                    self._ready.append(name)
                elif quiet_for >= settings.incomplete_timeout:
                    self._reject(name, f"no {settings.marker} marker arrived")
                else:
                    candidate.check_at = now + min(settings.quiet_seconds, 1.0)
                continue
            if quiet_for < settings.quiet_seconds:
                candidate.check_at = candidate.changed + settings.quiet_seconds
                continue
            verdict, reason = self._completeness(path, candidate)
            if verdict is Verdict.COMPLETE:
                self._ready.append(name)
            elif verdict is Verdict.NOT_X12:
                self._reject(name, f"not X12: {reason}")
            elif quiet_for >= settings.incomplete_timeout:
                self._reject(
                    name,
                    f"incomplete for {settings.incomplete_timeout:g} seconds: {reason}",
                )
            else:
                candidate.check_at = min(
                    now + settings.quiet_seconds, candidate.changed + settings.incomplete_timeout
                )
        self.status.waiting = len(self._candidates) - len(self._ready)
        self.status.ready = len(self._ready)

    def _completeness(self, path: Path, candidate: _Candidate) -> tuple[Verdict, str]:
        cached = candidate.verdict
        if cached is not None and cached[:2] == (candidate.size, candidate.mtime_ns):
            return cached[2], cached[3]
        try:
            found = check_complete(path)
        except FileNotFoundError:
            return Verdict.INCOMPLETE, "the file went away"
        candidate.verdict = (candidate.size, candidate.mtime_ns, found.verdict, found.reason)
        return found.verdict, found.reason

    def _reject(self, name: str, reason: str) -> None:
        """A file that will never be complete: to the error folder, without processing."""
        self._forget(name)
        claimed = self.workspace.claim(name)
        if claimed is None:
            return
        target = to_error(claimed, self.settings.error_dir, reason)
        self.workspace.release(claimed)
        self._finished(
            Handled(
                name=name,
                token=claimed.token,
                outcome="failed",
                moved_to=str(target),
                reason=reason,
            ),
            claimed_at=time.monotonic(),
        )

    # Claiming and workers ------------------------------------------------------------

    def _recover(self) -> None:
        for claimed in self.workspace.adopt():
            removed = remove_unfinished_outputs(self.settings.out_dir, claimed.name)
            log.info(
                "file_recovered",
                file=claimed.name,
                token=claimed.token,
                unfinished_outputs_removed=removed,
            )
            self._claimed.append((claimed, 0.0))

    def _dispatch(self, now: float) -> None:
        free = self.settings.workers - len(self._in_hand)
        waiting: list[tuple[Claimed, float]] = []
        while free > 0 and self._claimed:
            claimed, not_before = self._claimed.popleft()
            if not_before > now:
                waiting.append((claimed, not_before))
                continue
            self._submit(claimed, now)
            free -= 1
        self._claimed.extend(waiting)
        while free > 0 and self._ready and not self._signals:
            name = self._ready.popleft()
            self._candidates.pop(name, None)
            fresh = self.workspace.claim(name)
            if fresh is None:
                continue  # another watcher took it
            log.info("file_claimed", file=name, token=fresh.token)
            self._submit(fresh, now)
            free -= 1
        self.status.in_hand = len(self._in_hand) + len(self._claimed)
        self.status.ready = len(self._ready)

    def _submit(self, claimed: Claimed, now: float) -> None:
        assert self._pool is not None
        future = self._pool.submit(handle, claimed, self.workspace.owner)
        self._in_hand[future] = (claimed, now)

    def _collect(self, *, timeout: float) -> None:
        if not self._in_hand:
            return
        done, _ = wait(list(self._in_hand), timeout=timeout, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            claimed, claimed_at = self._in_hand.pop(future)
            try:
                handled = future.result()
            except BrokenProcessPool:
                broken = True
                log.warning("worker_died", file=claimed.name, token=claimed.token)
                self._claimed.append((claimed, time.monotonic() + 1.0))
                continue
            except Exception as error:  # a bug in handle() itself: keep the claim, go on
                log.error(
                    "file_handling_crashed",
                    file=claimed.name,
                    token=claimed.token,
                    error=type(error).__name__,
                )
                self._note_error(claimed.name, f"internal error {type(error).__name__}")
                self._claimed.append((claimed, time.monotonic() + self.settings.quiet_seconds))
                continue
            if handled.outcome == "deferred":
                self._claimed.append((claimed, time.monotonic() + 1.0))
                continue
            self.workspace.release(claimed)
            self._finished(handled, claimed_at)
        if broken:
            assert self._pool is not None
            self._pool.shutdown(wait=False, cancel_futures=True)
            for future in list(self._in_hand):
                self._claimed.append(self._in_hand.pop(future))
            self._pool = self._new_pool()

    def _finished(self, handled: Handled, claimed_at: float) -> None:
        status = self.status
        if handled.outcome == "processed":
            status.done += 1
        elif handled.outcome == "duplicate":
            status.duplicates += 1
        else:
            status.failed += 1
            self._note_error(handled.name, handled.reason)
        log.info(
            "file_handled",
            file=handled.name,
            token=handled.token,
            outcome=handled.outcome,
            reason=handled.reason or None,
            moved_to=handled.moved_to,
            sha256=handled.sha256[:16] or None,
            exit_code=handled.exit_code,
            outputs=handled.outputs,
            seconds_hashing=handled.seconds_hashing,
            seconds_processing=handled.seconds_processing,
            seconds_in_hand=round(time.monotonic() - claimed_at, 3),
            **handled.counts,
        )
        self._write_status(force=True)

    def _note_error(self, name: str, reason: str) -> None:
        self.status.last_error = status_file.LastError(at=time.time(), file=name, reason=reason)

    def _write_status(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._status_written < STATUS_INTERVAL:
            return
        self._status_written = now
        self.status.in_hand = len(self._in_hand) + len(self._claimed)
        with contextlib.suppress(OSError):
            status_file.write(self.settings.state_dir, self.status)
