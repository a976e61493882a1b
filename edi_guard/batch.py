"""Many files at once: ``edi_guard.process`` over a process pool (and, in spark.py, executors).

The adapters (``edi-guard batch``, :mod:`edi_guard.spark`) share what is here:

- :func:`discover` turns directories and glob patterns into a sorted list of input files;
  :func:`check_distinct_stems` refuses two inputs that would write the same ``NAME.*``.
- :class:`Worker` processes one file exactly as ``edi-guard fix`` does (same policy, PTP
  table and writers) and never raises: a file that cannot be read or that crashes the
  pipeline becomes a :class:`FileReport` with an error, so one bad file does not stop a batch.
- :func:`open_source` and :class:`Destination` read inputs and write outputs on the local
  filesystem (``file:`` URLs and NFS mounts included: outputs are renamed into place
  atomically) or, through the optional ``fsspec`` package, any other scheme it knows
  (``s3://``, ``gs://``, ``abfs://``, ``hdfs://``...): inputs are streamed in chunks, outputs
  are written to a local temporary directory and uploaded whole when the file is done.
- History: each worker opens the store ``history_url`` names once (``open_store``: SQLite at
  the per-user path when None, as ``edi-guard fix``) and decides every file it gets against
  it. ``memory:`` is per file here: a worker's memory holds whichever files the scheduler
  gave it, so anything wider would make results depend on timing.
- Control numbers: ``process()``'s own (from the history store) unless ``control_start`` is
  given; then file ``i`` of the batch takes its ISA13/GS06 from
  ``control_start + i * CONTROL_STRIDE`` on, so parallel files never repeat each other's
  numbers and a rerun with the same ``control_start`` and ``now`` writes the same bytes.

This module knows no click and no Spark: the progress bar and the table are the command's.
"""

from __future__ import annotations

import glob
import logging
import multiprocessing
import multiprocessing.util
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

import structlog

from edi_guard.acks.control import MAX_CONTROL_NUMBER, CounterControlNumbers
from edi_guard.api import process
from edi_guard.errors import EdiGuardError
from edi_guard.history.store import MEMORY_URL, HistoryStore, open_store
from edi_guard.outcome import ClaimOutcome, Summary
from edi_guard.pipeline import OutputPaths
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.ptp import load as load_ptp

log = structlog.get_logger("edi_guard")

CONTROL_STRIDE = 1000
"""Control numbers reserved per file: a file uses four (277 and 999 ISA13/GS06) plus one per
TA1, so 1000 leaves room for 996 broken interchanges in one file."""

USAGE_ERROR = 2
"""Exit code of a file that could not be processed (unreadable, not X12, internal error)."""

OUTPUT_SUFFIXES = (".837", ".277", ".999", ".ta1", ".report.json", ".report.xml", ".report.html")

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_GLOB_CHARS = frozenset("*?[")


# Options and results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """What every file of a batch is processed with (picklable: it goes to the workers)."""

    out_dir: str
    """A local directory, a ``file:`` URL, or an fsspec URL such as ``s3://bucket/out``."""
    policy_path: str | None = None
    """A policy file readable at this path wherever a worker runs; None: shipped defaults."""
    history_url: str | None = None
    """The history store (``open_store``); None: SQLite at the per-user data path."""
    now: datetime | None = None
    """The timestamp of the 277/999/TA1 envelopes and reports; None: each file's clock."""
    control_start: int | None = None
    """First control number of file 0 (reproducible runs); None: process()'s numbering."""
    log_format: str | None = None
    """``json`` or ``console``: workers in other processes configure structlog with it."""
    log_level: int | None = None
    parallel: bool | None = None
    """``process(parallel=)``: structure validation in a second process per file. None: when
    that pays, except in a pool of several jobs (``run_batch``), whose processes already
    take the CPUs."""

    def check(self) -> None:
        if self.control_start is not None and not 1 <= self.control_start <= MAX_CONTROL_NUMBER:
            raise EdiGuardError(
                f"control_start must be between 1 and {MAX_CONTROL_NUMBER}, "
                f"got {self.control_start}"
            )


@dataclass(frozen=True, slots=True)
class FileJob:
    index: int
    """Position in the sorted input list: chooses the file's control numbers."""
    source: str
    """The path or URL as discovered."""


@dataclass(frozen=True, slots=True)
class FileReport:
    """What happened to one input: its summary, or the error that stopped it."""

    index: int
    source: str
    name: str
    exit_code: int
    """0 nothing rejected, 1 something rejected, 2 not processed (see ``error``)."""
    summary: Summary | None = None
    error: str | None = None
    messages: tuple[str, ...] = ()
    written: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass(frozen=True, slots=True)
class BatchTotals:
    files: int = 0
    failed: int = 0
    claims_in: int = 0
    claims_accepted: int = 0
    claims_corrected: int = 0
    claims_rejected: int = 0
    charge_in: Decimal = Decimal(0)
    charge_out: Decimal = Decimal(0)
    charge_rejected: Decimal = Decimal(0)
    charge_dropped: Decimal = Decimal(0)
    sets_rejected: int = 0
    interchanges_rejected: int = 0

    @classmethod
    def of(cls, reports: Iterable[FileReport]) -> BatchTotals:
        totals: dict[str, Any] = {name: getattr(cls(), name) for name in cls.__slots__}
        for report in reports:
            totals["files"] += 1
            if report.summary is None:
                totals["failed"] += 1
                continue
            for name in cls.__slots__:
                if name not in ("files", "failed"):
                    totals[name] += getattr(report.summary, name)
        return cls(**totals)


@dataclass(frozen=True, slots=True)
class BatchResult:
    reports: tuple[FileReport, ...]
    """In input order."""
    seconds: float
    jobs: int
    totals: BatchTotals = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", BatchTotals.of(self.reports))

    @property
    def exit_code(self) -> int:
        """2 when a file could not be processed, else 1 when anything was rejected, else 0."""
        return max((report.exit_code for report in self.reports), default=0)


# Discovering inputs ----------------------------------------------------------------------


def discover(specs: Iterable[str | Path]) -> list[str]:
    """Input files named by ``specs``, sorted and without duplicates.

    A directory gives its regular files (not recursive; names starting with ``.`` skipped:
    they are temporary files of writers in progress), a pattern with ``*``, ``?`` or ``[``
    gives the files it matches (``**`` recurses), any other path is taken as a file. Raises
    EdiGuardError when a spec matches nothing.
    """
    found: set[str] = set()
    for spec in specs:
        text = str(spec)
        path = Path(text)
        if path.is_dir():
            matches = [
                str(child)
                for child in path.iterdir()
                if child.is_file() and not child.name.startswith(".")
            ]
        elif _GLOB_CHARS.intersection(text):
            # Path.glob takes no absolute pattern.
            hits = glob.glob(text, recursive=True)  # noqa: PTH207
            matches = [hit for hit in hits if Path(hit).is_file()]
        elif path.is_file():
            matches = [text]
        else:
            raise EdiGuardError(f"{text}: no such file or directory")
        if not matches:
            raise EdiGuardError(f"{text}: no input files there")
        found.update(matches)
    return sorted(found)


def output_stem(source: str) -> str:
    """NAME of ``NAME.837``...: the input's file name without its last suffix."""
    name = source.rstrip("/").rsplit("/", 1)[-1]
    return Path(name).stem or "stream"


def check_distinct_stems(sources: Sequence[str]) -> None:
    """Refuse inputs that would overwrite each other's outputs (``a/x.x12`` and ``b/x.edi``)."""
    seen: dict[str, str] = {}
    for source in sources:
        stem = output_stem(source)
        other = seen.setdefault(stem, source)
        if other != source:
            raise EdiGuardError(
                f"{other} and {source} would both write {stem}.837 and its reports; "
                "rename one or process them into different output directories"
            )


def control_numbers_for(control_start: int, index: int) -> CounterControlNumbers:
    """File ``index``'s control numbers: a block of CONTROL_STRIDE from ``control_start``."""
    offset = (control_start - 1 + index * CONTROL_STRIDE) % MAX_CONTROL_NUMBER
    return CounterControlNumbers(offset + 1)


# Reading and writing anywhere ------------------------------------------------------------


def local_path(location: str) -> Path | None:
    """The local path of ``location`` (a plain path or a ``file:`` URL), else None."""
    match = _URL.match(location)
    if match is None:
        if location.startswith("file:"):
            return Path(unquote(location.removeprefix("file:")))
        return Path(location)
    if match.group(1).lower() == "file":
        return Path(unquote(urlparse(location).path))
    return None


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError:
        raise EdiGuardError(
            "paths other than local files and file: URLs need fsspec and the filesystem's "
            "package (s3fs, gcsfs, adlfs, pyarrow for hdfs): pip install 'edi-guard[spark]'"
        ) from None
    return fsspec


def remote_filesystem(location: str) -> tuple[Any, str]:
    """The fsspec filesystem of a URL and the path within it."""
    fs, path = _fsspec().core.url_to_fs(location)
    return fs, path


@contextmanager
def open_source(location: str) -> Iterator[BinaryIO]:
    """Open an input for streaming reads: directly when local, else through fsspec."""
    path = local_path(location)
    if path is not None:
        try:
            stream = path.open("rb")
        except OSError as error:
            raise EdiGuardError(f"{path.name}: cannot read the input ({error.strerror})") from None
        with stream:
            yield stream
        return
    fs, remote = remote_filesystem(location)
    try:
        opened = fs.open(remote, "rb")
    except OSError as error:
        raise EdiGuardError(f"{location}: cannot read the input ({error})") from None
    with opened:
        yield opened


class Destination:
    """The output directory: local (written in place, atomically) or remote (uploaded)."""

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir.rstrip("/") or "/"
        self._local = local_path(out_dir)

    @property
    def is_local(self) -> bool:
        return self._local is not None

    @contextmanager
    def outputs(self, stem: str) -> Iterator[tuple[OutputPaths, list[str]]]:
        """OutputPaths for ``process()``; on exit the list names what was delivered."""
        delivered: list[str] = []
        if self._local is not None:
            yield OutputPaths.in_directory(self._local, stem), delivered
            return
        staging = Path(tempfile.mkdtemp(prefix="edi-guard-out-"))
        try:
            yield OutputPaths.in_directory(staging, stem), delivered
            delivered.extend(self._upload(staging, stem))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _upload(self, staging: Path, stem: str) -> list[str]:
        """Put each output under a hidden name, then move it into place; outputs this run
        did not write are removed, as process() does locally, so none is stale."""
        fs, root = remote_filesystem(self.out_dir)
        fs.makedirs(root, exist_ok=True)
        uploaded: list[str] = []
        for suffix in OUTPUT_SUFFIXES:
            name = f"{stem}{suffix}"
            local = staging / name
            target = f"{root}/{name}"
            if local.exists():
                hidden = f"{root}/.{name}.uploading"
                fs.put_file(str(local), hidden)
                fs.mv(hidden, target)
                uploaded.append(f"{self.out_dir}/{name}")
            elif fs.exists(target):
                fs.rm(target)
        return uploaded


# Processing one file ---------------------------------------------------------------------


class Worker:
    """Processes files one at a time with what every file shares (policy, PTP table, history).

    Holds the history store open (a database connection): :meth:`close` it, or use the
    worker as a context manager.
    """

    def __init__(self, options: BatchOptions) -> None:
        options.check()
        self.options = options
        policy_path = Path(options.policy_path) if options.policy_path else None
        self.policy = Policy.load(policy_path)
        self.ptp: PtpTable = load_ptp(self.policy.ptp_table)
        self.destination = Destination(options.out_dir)
        self._per_file_history = (options.history_url or "").strip() == MEMORY_URL
        self.history: HistoryStore | None = (
            None if self._per_file_history else open_store(options.history_url)
        )

    def close(self) -> None:
        if self.history is not None:
            self.history.close()
            self.history = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(
        self, job: FileJob, on_claim: Callable[[ClaimOutcome], None] | None = None
    ) -> FileReport:
        """Process one file; never raises for a bad file (the report carries the error)."""
        started = time.monotonic()
        name = job.source.rstrip("/").rsplit("/", 1)[-1]
        try:
            return self._run(job, name, started, on_claim)
        except EdiGuardError as error:
            message = str(error)
        except Exception as error:  # one bad file must not stop the batch
            # The type only: an unexpected exception's text may quote the input.
            message = f"internal error ({type(error).__name__}); see the log"
            # Where it broke, not what it said: no exception text (and no traceback, which
            # carries it) reaches the log.
            frames = traceback.extract_tb(error.__traceback__)
            where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            log.error("file_failed", file=name, error_type=type(error).__name__, where=where)
        return FileReport(
            index=job.index,
            source=job.source,
            name=name,
            exit_code=USAGE_ERROR,
            error=message,
            seconds=time.monotonic() - started,
        )

    def _run(
        self,
        job: FileJob,
        name: str,
        started: float,
        on_claim: Callable[[ClaimOutcome], None] | None,
    ) -> FileReport:
        extra: dict[str, Any] = {}
        if self.options.control_start is not None:
            extra["control_numbers"] = control_numbers_for(self.options.control_start, job.index)
        with ExitStack() as stack:
            history = self.history
            if self._per_file_history:
                history = open_store(MEMORY_URL)
                stack.callback(history.close)
            elif history is None:
                raise EdiGuardError("this batch worker is closed")
            stream = stack.enter_context(open_source(job.source))
            outputs, delivered = stack.enter_context(
                self.destination.outputs(output_stem(job.source))
            )
            result = process(
                stream,
                outputs=outputs,
                name=name,
                policy=self.policy,
                ptp=self.ptp,
                history=history,
                now=self.options.now,
                on_claim=on_claim,
                parallel=self.options.parallel,
                **extra,
            )
        if self.destination.is_local:
            written = tuple(str(path) for path in result.written)
        else:
            written = tuple(delivered)
        return FileReport(
            index=job.index,
            source=job.source,
            name=name,
            exit_code=result.exit_code,
            summary=result.summary,
            messages=result.messages,
            written=written,
            seconds=time.monotonic() - started,
        )


# The pool --------------------------------------------------------------------------------

_WORKER: Worker | None = None


def _start_worker(options: BatchOptions) -> None:
    global _WORKER  # one Worker per pool process, built by the initializer
    if options.log_format is not None:
        from edi_guard import logs

        logs.configure(
            "json" if options.log_format == "json" else "console",
            level=options.log_level or logging.INFO,
        )
    _WORKER = Worker(options)
    # Pool workers leave through multiprocessing's exit path, which skips atexit.
    multiprocessing.util.Finalize(None, _WORKER.close, exitpriority=10)


def _run_in_worker(job: FileJob) -> FileReport:
    if _WORKER is None:  # pragma: no cover - the initializer always runs first
        raise RuntimeError("batch worker used before its initializer ran")
    return _WORKER.run(job)


def run_batch(
    sources: Sequence[str],
    options: BatchOptions,
    *,
    jobs: int = 1,
    on_report: Callable[[FileReport], None] | None = None,
) -> BatchResult:
    """Process ``sources`` with ``jobs`` processes (1: in this process, in order).

    ``on_report`` is called in this process as each file finishes (completion order).
    Raises EdiGuardError before processing anything for bad options (policy, history URL,
    colliding output names); afterwards, failures are per file.
    """
    if jobs < 1:
        raise EdiGuardError(f"jobs must be at least 1, got {jobs}")
    check_distinct_stems(sources)
    # Built here first even with a pool, so bad options (policy, history URL) fail once,
    # clearly, before any work.
    worker = Worker(options)
    started = time.monotonic()
    queue = [FileJob(index, source) for index, source in enumerate(sources)]
    reports: list[FileReport] = []

    def done(report: FileReport) -> None:
        reports.append(report)
        if on_report is not None:
            on_report(report)

    with worker:
        if jobs == 1 or len(queue) <= 1:
            for job in queue:
                done(worker.run(job))
    if jobs > 1 and len(queue) > 1:
        if options.parallel is None:
            options = replace(options, parallel=False)
        _run_pool(queue, options, min(jobs, len(queue)), done)
    reports.sort(key=lambda report: report.index)
    return BatchResult(tuple(reports), time.monotonic() - started, jobs)


def _run_pool(
    queue: list[FileJob], options: BatchOptions, jobs: int, done: Callable[[FileReport], None]
) -> None:
    # spawn: workers start clean (no copied locks, logger state or open connections).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=context, initializer=_start_worker, initargs=(options,)
    ) as pool:
        # At most a few jobs per worker in flight: memory stays flat for 100,000 files.
        pending: dict[Future[FileReport], FileJob] = {}
        backlog = iter(queue)
        while True:
            while len(pending) < 4 * jobs and (job := next(backlog, None)) is not None:
                pending[pool.submit(_run_in_worker, job)] = job
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in finished:
                job = pending.pop(future)
                try:
                    done(future.result())
                except BrokenProcessPool:
                    # A worker died (killed, out of memory): the pool is gone with it.
                    broken = True
                    done(_died(job))
            if broken:
                for future, job in pending.items():
                    try:
                        done(future.result())
                    except BrokenProcessPool:
                        done(_died(job))
                for job in backlog:
                    done(_died(job))
                return


def _died(job: FileJob) -> FileReport:
    return FileReport(
        index=job.index,
        source=job.source,
        name=job.source.rsplit("/", 1)[-1],
        exit_code=USAGE_ERROR,
        error="not processed: a worker process died (out of memory or killed)",
    )
