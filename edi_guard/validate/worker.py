"""The structure validator in a second process, overlapped with the rest of the pipeline.

The validator is a pure function of the input's bytes, so a worker process can read the same
regular file (the caller's descriptor, with ``pread``, in the caller's chunks) and validate
it on another CPU while the caller assembles, decides and writes claims. Per chunk, the
worker sends back its length, the SHA-256 of everything read so far, the position of the
last segment validated and the verdicts completed in the chunk (their kind and status: all
the pipeline asks before the end); at the end, the whole ``ValidationResult``.

The caller (``edi_guard.gate.StructureGate``) compares each chunk's length and digest with
what it read itself before trusting a verdict, waits for the worker only where it needs a
verdict, and validates in its own process instead (``replay``) when the worker dies, hangs,
raises or read other bytes.

Nothing here logs or sends values of the input: messages carry positions, statuses, digests
and the validator's result (whose messages name segments and codes, never values).
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import gc
import hashlib
import json
import multiprocessing
import os
import pickle
import signal
import stat
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, BinaryIO

from edi_guard.errors import EdiGuardError, X12SyntaxError
from edi_guard.limits import Limits
from edi_guard.validate.model import (
    GroupVerdict,
    SetVerdict,
    ValidationResult,
    ValidatorLimits,
    Verdict,
)
from edi_guard.validate.validator import StructureValidator
from edi_guard.x12.tokenizer import Tokenizer

SET, GROUP, INTERCHANGE = 0, 1, 2
"""Kinds of a light verdict (kind, status): what the pipeline asks of a verdict."""

LightVerdict = tuple[int, int, str]
"""(position of the segment that completed it, kind, status)."""

MIN_BYTES = 2 << 20
"""Smaller inputs stay in process: the worker's start (up to ~0.4 s of CPU to import and load
the compiled map when spawned) would not be repaid by the ~0.16 s/MB of validation it takes
off the caller."""

STALL_SECONDS = 30.0
"""How long the caller waits for a worker that sends nothing before it takes it as hung (a
worker validates a 1 MiB chunk in about a quarter of a second)."""

_PR_SET_PDEATHSIG = 1


def light(verdict: Verdict) -> tuple[int, str]:
    if isinstance(verdict, SetVerdict):
        return SET, verdict.status
    if isinstance(verdict, GroupVerdict):
        return GROUP, verdict.status
    return INTERCHANGE, verdict.status


def _lights(found: list[tuple[int, Verdict]]) -> list[LightVerdict]:
    return [(position, *light(verdict)) for position, verdict in found]


def read_at(fd: int, size: int, offset: int) -> bytes:
    """``size`` bytes at ``offset`` (fewer only at the end of the file), as a buffered
    ``read(size)`` of the caller's stream returns them; the descriptor's offset is untouched."""
    data = os.pread(fd, size, offset)
    if len(data) == size or not data:
        return data
    parts = [data]
    got = len(data)
    while got < size:
        more = os.pread(fd, size - got, offset + got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker validates: the file behind ``fd`` from ``start``, read as the caller
    reads it (``chunk_size``, the caller's input caps), under the caller's validator limits."""

    fd: int
    start: int
    chunk_size: int
    input_limits: Limits
    validator_limits: ValidatorLimits


# The worker process ---------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """Linux: the kernel kills this worker when the caller dies (even by SIGKILL): no orphan."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the caller died before the line above took effect
        os._exit(1)


def serve(conn: Connection, job: Job, parent: int) -> None:
    """The worker's entry point (a multiprocessing target)."""
    _die_with_parent(parent)
    # Forked: the caller's objects stay shared only while no collection writes their headers.
    gc.freeze()
    # Ctrl-C reaches the whole process group: the caller decides, and kills this worker.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _validate(conn, job)
    except BaseException as error:  # reported by type only: no input values
        with contextlib.suppress(Exception):
            conn.send(("error", type(error).__name__))
    finally:
        os.close(job.fd)
        conn.close()


def _validate(conn: Connection, job: Job) -> None:
    tokenizer = Tokenizer.from_limits(job.input_limits)
    validator = StructureValidator(limits=job.validator_limits)
    send = conn.send
    offset = job.start
    through = 0
    read = hashlib.sha256()
    while chunk := read_at(job.fd, job.chunk_size, offset):
        offset += len(chunk)
        read.update(chunk)
        check = read.digest()
        found: list[tuple[int, Verdict]] = []
        try:
            # In the caller's pieces, not whole: a refusal then comes in the same chunk in
            # both processes (an element over the cap is refused while still open by one fed
            # in pieces, only once its segment is complete by one fed the whole chunk).
            for segments in tokenizer.feed_pieces(chunk):
                found += validator.feed_many_at(segments)
                if segments:
                    through = segments[-1].position
        except X12SyntaxError as error:
            send(("chunk", len(chunk), check, through, _lights(found)))
            _end_broken(send, validator, error, through)
            return
        send(("chunk", len(chunk), check, through, _lights(found)))
    try:
        segments = tokenizer.close()
    except X12SyntaxError as error:
        _end_broken(send, validator, error, through)
        return
    found = validator.feed_many_at(segments)
    if segments:
        through = segments[-1].position
    closing = validator.close()
    send(("end", through, _lights(found), [light(v) for v in closing], validator.result))


def _end_broken(
    send: Callable[[object], None],
    validator: StructureValidator,
    error: X12SyntaxError,
    through: int,
) -> None:
    """The input broke the tokenizer: the validator's closing verdicts end the stream."""
    closing = validator.fail(error)
    send(("end", through, [], [light(v) for v in closing], validator.result))


class _Forked:
    """A worker forked from this (single-threaded) process: nothing to import or load again
    (the compiled map too, when this process has it)."""

    def __init__(self, conn: Connection, job: Job) -> None:
        context = multiprocessing.get_context("fork")
        process: BaseProcess = context.Process(
            target=serve,
            args=(conn, job, os.getpid()),
            name="edi-guard-validator",
            daemon=True,
        )
        process.start()
        self._process = process
        self.pid = process.pid

    def wait(self, timeout: float) -> int | None:
        self._process.join(timeout)
        return self._process.exitcode

    def kill(self) -> None:
        """Kill it if it runs, and reap it."""
        process = self._process
        if process.exitcode is None:
            process.kill()
        process.join()
        process.close()


class _Spawned:
    """A worker started as a new interpreter: forking a threaded process could copy a lock
    another thread holds. (Not multiprocessing's spawn: that also starts its resource
    tracker, a process that outlives the call, and re-imports the caller's main module.)"""

    def __init__(self, conn: Connection, job: Job) -> None:
        arguments = (conn.fileno(), job, os.getpid())
        payload = base64.b64encode(pickle.dumps(arguments)).decode()
        self._popen = subprocess.Popen(
            [sys.executable, "-c", _SPAWN, json.dumps(sys.path), payload],
            stdin=subprocess.DEVNULL,
            pass_fds=(conn.fileno(), job.fd),
        )
        self.pid = self._popen.pid

    def wait(self, timeout: float) -> int | None:
        try:
            return self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Kill it if it runs, and reap it."""
        if self._popen.poll() is None:
            self._popen.kill()
        self._popen.wait()


# The caller's sys.path first (an executor may have added the package at run time), then the
# arguments, which name the package's classes.
_SPAWN = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from edi_guard.validate.worker import spawned; spawned(sys.argv[2])"
)


def spawned(payload: str) -> None:
    """The entry point of a spawned worker."""
    conn_fd, job, parent = pickle.loads(base64.b64decode(payload))  # from our parent
    serve(Connection(conn_fd, readable=False), job, parent)


# The caller's side ----------------------------------------------------------------------------


def regular_file(stream: BinaryIO) -> tuple[int, int, int] | None:
    """(descriptor, offset, bytes left) when ``stream`` reads a regular file, else None."""
    try:
        fd = stream.fileno()
        offset = stream.tell()
        info = os.fstat(fd)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return fd, offset, max(0, info.st_size - offset)


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def start_method() -> str:
    """fork when this process has one thread (cheap, and the compiled map is shared if it is
    loaded); else spawn: forking a threaded process copies locks other threads may hold."""
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return "fork"
    return "spawn"


class WorkerError(Exception):
    """The worker cannot be used any more: it died, hung, raised or read other bytes; or
    (``elsewhere``) it validated another extent of the input than the caller fed, as when
    the caller stops reading at the claims per file cap."""

    def __init__(self, message: str, *, elsewhere: bool = False) -> None:
        super().__init__(message)
        self.elsewhere = elsewhere


@dataclass(frozen=True, slots=True)
class Ending:
    """The worker's last message: where it stopped, the verdicts ``close`` or ``fail`` added
    (those of the last segments go to ``verdicts`` with the others), and the result."""

    through: int
    closing: list[tuple[int, str]]
    result: ValidationResult


class ValidationWorker:
    """The caller's handle on one worker: start it, take its verdicts, stop it."""

    def __init__(
        self, job: Job, *, stall_seconds: float = STALL_SECONDS, method: str | None = None
    ) -> None:
        self.job = job
        self.stall_seconds = stall_seconds
        self.method = method or start_method()
        self.read: list[tuple[int, bytes]] = []
        """(length, SHA-256 of everything read so far) at every chunk the caller read."""
        self.through = 0
        """Position of the last segment the worker validated (as confirmed chunk by chunk)."""
        self.verdicts: deque[LightVerdict] = deque()
        self._confirmed = 0  # chunks whose length and digest matched the caller's
        self._ending: Ending | None = None
        self._child: _Forked | _Spawned | None = None
        self._conn: Connection | None = None

    def launch(self) -> None:
        reader, writer = multiprocessing.Pipe(duplex=False)
        try:
            if self.method == "fork":
                self._child = _Forked(writer, self.job)
            else:
                self._child = _Spawned(writer, self.job)
        finally:
            writer.close()  # the worker's end: its exit closes the pipe (EOF here)
        self._conn = reader

    @property
    def pid(self) -> int | None:
        return None if self._child is None else self._child.pid

    def note(self, length: int, digest: bytes) -> None:
        """The caller read its next chunk: ``length`` bytes, and ``digest`` is the SHA-256
        of all it read (which the caller computes anyway, for the report)."""
        self.read.append((length, digest))

    def advance(self, position: int) -> None:
        """Wait until the worker has validated through ``position`` (a segment the caller
        has read); its verdicts so far are then in ``verdicts``. Raises WorkerError."""
        while self.through < position:
            if self._ending is not None:
                # The worker ended before a segment the caller has: it read other bytes.
                raise WorkerError("the worker ended before the caller's position")
            self._take(self._receive())

    def finish(self, through: int) -> Ending:
        """The worker's ending, once it has validated exactly the segments the caller fed
        (through ``through``) from exactly the chunks the caller read. Raises WorkerError."""
        while self._ending is None:
            self._take(self._receive())
            if self.through > through:
                raise WorkerError(
                    "the worker validated beyond the caller's last segment", elsewhere=True
                )
        if self.through != through or self._confirmed != len(self.read):
            raise WorkerError("the worker ended elsewhere than the caller", elsewhere=True)
        self._reap()
        return self._ending

    def _take(self, message: tuple[Any, ...]) -> None:
        if message[0] == "end":
            _, through, verdicts, closing, result = message
            self.through = through
            self.verdicts.extend(verdicts)
            self._ending = Ending(through, closing, result)
            return
        _, length, check, through, verdicts = message
        index = self._confirmed
        if index >= len(self.read) or self.read[index] != (length, check):
            raise WorkerError("the worker read other bytes than the caller")
        self._confirmed = index + 1
        self.through = through
        self.verdicts.extend(verdicts)

    def _receive(self) -> tuple[Any, ...]:
        conn, child = self._conn, self._child
        if conn is None or child is None:
            raise WorkerError("the worker is not running")
        try:
            if not conn.poll(self.stall_seconds):
                raise WorkerError(f"the worker sent nothing for {self.stall_seconds:g} s")
            message: tuple[Any, ...] = conn.recv()
        except (EOFError, OSError) as error:
            # Its end of the pipe closed: it exited (killed, out of memory, crashed).
            raise WorkerError(f"the worker exited (code {child.wait(1.0)})") from error
        if message[0] == "error":
            raise WorkerError(f"the worker raised {message[1]}")
        return message

    def _reap(self) -> None:
        if self._child is not None:
            self._child.wait(5.0)
        self.stop()

    def stop(self) -> None:
        """Kill the worker if it still runs, and reap it (idempotent)."""
        child, self._child = self._child, None
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if child is not None:
            child.kill()

    # Validating in the caller instead -------------------------------------------------------

    def replay(self, through: int) -> tuple[StructureValidator, list[tuple[int, Verdict]]]:
        """A validator in this process fed what the caller fed (segments through
        ``through``, from the chunks it read), re-read from the file; and its verdicts."""
        job = self.job
        tokenizer = Tokenizer.from_limits(job.input_limits)
        validator = StructureValidator(limits=job.validator_limits)
        found: list[tuple[int, Verdict]] = []
        offset = job.start
        last = 0
        digest = hashlib.sha256()
        for length, check in self.read:
            chunk = read_at(job.fd, length, offset)  # the caller's chunks, as it read them
            offset += len(chunk)
            digest.update(chunk)
            if len(chunk) != length or digest.digest() != check:
                raise EdiGuardError(
                    "the input changed while it was being read; nothing was written"
                )
            try:
                segments = tokenizer.feed(chunk)
            except X12SyntaxError:
                return validator, found  # the caller's tokenizer stopped here too
            if segments and segments[-1].position > through:
                segments = [segment for segment in segments if segment.position <= through]
                found += validator.feed_many_at(segments)
                return validator, found
            found += validator.feed_many_at(segments)
            if segments:
                last = segments[-1].position
        if last < through:
            try:
                segments = tokenizer.close()
            except X12SyntaxError:
                return validator, found
            found += validator.feed_many_at([s for s in segments if s.position <= through])
        return validator, found
