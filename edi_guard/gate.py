"""The structure validator, seen from the pipeline: was this set, group, interchange accepted?

The validator reports verdicts as the trailers (SE, GE, IEA) go by; the assembler hands the
trailer blocks to the pipeline a little later. The gate keeps the verdicts of the open
interchange until the pipeline asks for them, indexed by order of appearance.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from edi_guard.errors import X12SyntaxError
from edi_guard.validate import (
    GroupVerdict,
    InterchangeVerdict,
    SetVerdict,
    StructureValidator,
    ValidationResult,
    Verdict,
)
from edi_guard.x12.segment import Segment

_SETS_REMEMBERED = 64


@dataclass(slots=True)
class StructureGate:
    validator: StructureValidator = field(default_factory=StructureValidator)
    _set_status: dict[int, str] = field(default_factory=dict)
    _sets_seen: int = 0
    _group_sets: list[int] = field(default_factory=list)
    _last_group_sets: list[int] = field(default_factory=list)
    _group_status: str = "A"
    _interchange_status: str = "A"

    _pending: deque[tuple[int, Verdict]] = field(default_factory=deque)

    def feed(self, segment: Segment) -> None:
        if self._pending:
            self.reach(segment.position)
        verdicts = self.validator.feed(segment)
        if verdicts:
            self._take(verdicts)

    def feed_many(self, segments: Iterable[Segment]) -> None:
        """Validate a run of segments (a tokenizer chunk) at once, ahead of the assembler.

        Each verdict waits until ``reach`` passes the segment that completed it, so the
        accessors answer exactly as if every segment had gone through ``feed`` just before
        the assembler saw it: call ``reach(segment.position)`` before handling what the
        assembler made of ``segment``. One call per chunk instead of one per segment: the
        validator's fast path then keeps its state in local variables.
        """
        found = self.validator.feed_many_at(segments)
        if found:
            self._pending.extend(found)

    def reach(self, position: int) -> None:
        """The pipeline is at the segment at ``position``: take the verdicts completed by it
        and by the segments before it."""
        pending = self._pending
        while pending and pending[0][0] <= position:
            self._take([pending.popleft()[1]])

    def fail(self, error: X12SyntaxError) -> None:
        self._take_pending()
        self._take(self.validator.fail(error))

    def close(self) -> None:
        self._take_pending()
        self._take(self.validator.close())

    def _take_pending(self) -> None:
        pending = self._pending
        while pending:
            self._take([pending.popleft()[1]])

    @property
    def result(self) -> ValidationResult:
        return self.validator.result

    def set_accepted(self, set_index: int) -> bool:
        """IK5 A or E: the set's claims may go out (E: accepted with errors)."""
        return self._set_status.get(set_index, "R") != "R"

    def group_accepted(self, ge: Segment) -> bool:
        del ge
        return self._group_status != "R"

    def sets_of_last_group(self) -> list[int]:
        return list(self._last_group_sets)

    def interchange_accepted(self, iea: Segment) -> bool:
        del iea
        return self._interchange_status != "R"

    def _take(self, verdicts: list[Verdict]) -> None:
        for verdict in verdicts:
            if isinstance(verdict, SetVerdict):
                self._sets_seen += 1
                self._set_status[self._sets_seen] = verdict.status
                # The pipeline asks about a set right after its SE: older answers can go, so
                # a file of many sets holds a bounded number of them.
                self._set_status.pop(self._sets_seen - _SETS_REMEMBERED, None)
                self._group_sets.append(self._sets_seen)
            elif isinstance(verdict, GroupVerdict):
                self._group_status = verdict.status
                self._last_group_sets = self._group_sets
                self._group_sets = []
            elif isinstance(verdict, InterchangeVerdict):
                self._interchange_status = verdict.status
