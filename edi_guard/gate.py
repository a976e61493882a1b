"""The structure validator, seen from the pipeline: was this set, group, interchange accepted?

The validator reports verdicts as the trailers (SE, GE, IEA) go by; the assembler hands the
trailer blocks to the pipeline a little later. The gate keeps the verdicts of the open
interchange until the pipeline asks for them, indexed by the position of the segment that
completed them: a verdict becomes visible once the pipeline has reached that segment
(``reach``), exactly as if every segment had been validated just before the assembler saw it.

The validator runs either here or, for a large regular file, in a worker process on another
CPU (``edi_guard.validate.worker``) that reads the same file. Then the gate only notes how far
the pipeline got, and waits for the worker's verdicts when the pipeline asks for one. When the
worker fails in any way, the gate validates in this process what the pipeline has fed so far
(re-read from the file) and goes on in process: the answers are the same either way.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Sequence
from typing import BinaryIO

import structlog

from edi_guard.errors import X12SyntaxError
from edi_guard.limits import Limits
from edi_guard.validate import StructureValidator, ValidationResult, ValidatorLimits
from edi_guard.validate.worker import (
    GROUP,
    MIN_BYTES,
    SET,
    STALL_SECONDS,
    Job,
    LightVerdict,
    ValidationWorker,
    WorkerError,
    light,
    regular_file,
    usable_cpus,
)
from edi_guard.x12.segment import Segment

log = structlog.get_logger("edi_guard")

_SETS_REMEMBERED = 64


class StructureGate:
    """Answers the pipeline's questions from a validator here or from a worker process."""

    def __init__(
        self,
        validator: StructureValidator | None = None,
        *,
        worker: ValidationWorker | None = None,
    ) -> None:
        self._validator = validator
        self._worker = worker
        self._set_status: dict[int, str] = {}
        self._sets_seen = 0
        self._group_sets: list[int] = []
        self._last_group_sets: list[int] = []
        self._group_status = "A"
        self._interchange_status = "A"
        self._pending: deque[LightVerdict] = deque()
        self._fed = 0  # position of the last segment fed
        self._horizon = 0  # worker: verdicts completed at or before it are visible
        self._taken = 0  # worker: the verdicts through this position have been taken
        self._result: ValidationResult | None = None
        self.fallback: str | None = None
        """Why the worker was given up for validation in this process (None: it was not)."""

    @property
    def validator(self) -> StructureValidator:
        """The validator in this process (the worker's replacement, if it had one)."""
        if self._validator is None:
            self._validator = StructureValidator()
        return self._validator

    @property
    def in_worker(self) -> bool:
        """Whether a worker process validates (so far)."""
        return self._worker is not None

    def read(self, length: int, digest: bytes) -> None:
        """The pipeline read its next chunk: ``length`` bytes; ``digest`` is the SHA-256 of
        all it read so far (a worker checks its own reading against them)."""
        if self._worker is not None:
            self._worker.note(length, digest)

    def feed(self, segment: Segment) -> None:
        position = segment.position
        self._fed = position
        if self._worker is not None:
            if position > self._horizon:
                self._horizon = position
            return
        if self._pending:
            self.reach(position)
        verdicts = self.validator.feed(segment)
        if verdicts:
            for verdict in verdicts:
                self._take(*light(verdict))

    def feed_many(self, segments: Sequence[Segment]) -> None:
        """Validate a run of segments (a tokenizer chunk) at once, ahead of the assembler.

        Each verdict waits until ``reach`` passes the segment that completed it, so the
        accessors answer exactly as if every segment had gone through ``feed`` just before
        the assembler saw it: call ``reach(segment.position)`` before handling what the
        assembler made of ``segment``. One call per chunk instead of one per segment: the
        validator's fast path then keeps its state in local variables.
        """
        if not segments:
            return
        self._fed = segments[-1].position
        if self._worker is not None:
            return  # the worker validates them
        found = self.validator.feed_many_at(segments)
        if found:
            self._pending.extend((position, *light(verdict)) for position, verdict in found)

    def reach(self, position: int) -> None:
        """The pipeline is at the segment at ``position``: take the verdicts completed by it
        and by the segments before it."""
        if self._worker is not None:
            if position > self._horizon:
                self._horizon = position  # taken when asked (``_sync``)
            return
        pending = self._pending
        while pending and pending[0][0] <= position:
            _, kind, status = pending.popleft()
            self._take(kind, status)

    def fail(self, error: X12SyntaxError) -> None:
        worker = self._worker
        if worker is not None:
            try:
                ending = worker.finish(self._fed)
                result = ending.result
                if result.fatal != str(error) or result.fatal_offset != error.offset:
                    raise WorkerError(
                        "the worker stopped for another reason than the caller", elsewhere=True
                    )
            except WorkerError as failure:
                # Elsewhere: the pipeline stopped reading before the end (the claims cap), the
                # worker did not; the validator's answer is then rebuilt here, as expected.
                self._fall_back(failure, expected=failure.elsewhere)
            else:
                self._finish_from_worker(worker, ending.closing, result)
                return
        self._take_pending()
        for verdict in self.validator.fail(error):
            self._take(*light(verdict))

    def close(self) -> None:
        worker = self._worker
        if worker is not None:
            try:
                ending = worker.finish(self._fed)
                if ending.result.fatal is not None:
                    raise WorkerError("the worker stopped on a syntax error, the caller did not")
            except WorkerError as failure:
                self._fall_back(failure)
            else:
                self._finish_from_worker(worker, ending.closing, ending.result)
                return
        self._take_pending()
        for verdict in self.validator.close():
            self._take(*light(verdict))

    def dispose(self) -> None:
        """Stop the worker, if one still runs (idempotent; also after a failure)."""
        if self._worker is not None:
            self._worker.stop()

    def _take_pending(self) -> None:
        pending = self._pending
        while pending:
            _, kind, status = pending.popleft()
            self._take(kind, status)

    @property
    def result(self) -> ValidationResult:
        if self._result is not None:
            return self._result
        if self._worker is not None:
            raise RuntimeError("the validation result is known after close() or fail()")
        return self.validator.result

    def set_accepted(self, set_index: int) -> bool:
        """IK5 A or E: the set's claims may go out (E: accepted with errors)."""
        if self._worker is not None:
            self._sync()
        return self._set_status.get(set_index, "R") != "R"

    def group_accepted(self, ge: Segment) -> bool:
        del ge
        if self._worker is not None:
            self._sync()
        return self._group_status != "R"

    def sets_of_last_group(self) -> list[int]:
        if self._worker is not None:
            self._sync()
        return list(self._last_group_sets)

    def interchange_accepted(self, iea: Segment) -> bool:
        del iea
        if self._worker is not None:
            self._sync()
        return self._interchange_status != "R"

    # The worker --------------------------------------------------------------------------

    def _sync(self) -> None:
        """Take the worker's verdicts through the pipeline's position, waiting for them."""
        worker = self._worker
        horizon = self._horizon
        if worker is None or horizon <= self._taken:
            return
        try:
            worker.advance(horizon)
        except WorkerError as failure:
            self._fall_back(failure)
            return
        verdicts = worker.verdicts
        while verdicts and verdicts[0][0] <= horizon:
            _, kind, status = verdicts.popleft()
            self._take(kind, status)
        self._taken = horizon

    def _finish_from_worker(
        self, worker: ValidationWorker, closing: list[tuple[int, str]], result: ValidationResult
    ) -> None:
        verdicts = worker.verdicts
        while verdicts:
            _, kind, status = verdicts.popleft()
            self._take(kind, status)
        for kind, status in closing:
            self._take(kind, status)
        self._result = result
        self._worker = None

    def _fall_back(self, failure: WorkerError, *, expected: bool = False) -> None:
        """Validate here what the pipeline fed so far, and go on here."""
        worker = self._worker
        assert worker is not None
        worker.stop()
        self._worker = None
        self.fallback = str(failure)
        if not expected:
            # The reason names the failure (exit code, exception type, timeout), no value.
            log.warning("validation_worker_failed", reason=str(failure), fed_through=self._fed)
        validator, found = worker.replay(self._fed)
        self._validator = validator
        taken = self._taken
        self._pending = deque(
            (position, *light(verdict)) for position, verdict in found if position > taken
        )
        self.reach(self._horizon)

    def _take(self, kind: int, status: str) -> None:
        if kind == SET:
            self._sets_seen += 1
            self._set_status[self._sets_seen] = status
            # The pipeline asks about a set right after its SE: older answers can go, so
            # a file of many sets holds a bounded number of them.
            self._set_status.pop(self._sets_seen - _SETS_REMEMBERED, None)
            self._group_sets.append(self._sets_seen)
        elif kind == GROUP:
            self._group_status = status
            self._last_group_sets = self._group_sets
            self._group_sets = []
        else:
            self._interchange_status = status


def open_gate(
    stream: BinaryIO,
    *,
    limits: Limits,
    chunk_size: int,
    parallel: bool | None = None,
    stall_seconds: float | None = None,
) -> StructureGate:
    """The gate for one input: validated in a worker process when that pays, else here.

    ``parallel`` None: in a worker when ``stream`` reads a regular file of at least
    ``MIN_BYTES`` and this process may use two CPUs; True: in a worker whenever ``stream``
    reads a regular file; False: here. The worker reads the file in ``chunk_size`` chunks,
    as the pipeline does.
    """
    validator_limits = ValidatorLimits(max_segments_per_set=limits.max_segments_per_set)
    worker = None if parallel is False else _worker_for(stream, parallel is True)
    if worker is not None:
        fd, start = worker
        started = ValidationWorker(
            Job(fd, start, chunk_size, limits, validator_limits),
            stall_seconds=STALL_SECONDS if stall_seconds is None else stall_seconds,
        )
        try:
            started.launch()
        except Exception as error:  # validating here instead is always right
            log.warning("validation_worker_not_started", reason=type(error).__name__)
            started.stop()
        else:
            return StructureGate(worker=started)
    return StructureGate(StructureValidator(limits=validator_limits))


def _worker_for(stream: BinaryIO, forced: bool) -> tuple[int, int] | None:
    """(descriptor, offset) of the input when a worker should validate it."""
    found = regular_file(stream)
    if found is None:
        return None
    fd, start, size = found
    if not forced and (size < MIN_BYTES or usable_cpus() < 2):
        return None
    if multiprocessing.current_process().daemon:
        return None  # a daemonic process may not start processes
    return fd, start
