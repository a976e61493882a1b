"""The structure validator, seen from the pipeline: was this set, group, interchange accepted?

The validator reports verdicts as the trailers (SE, GE, IEA) go by; the assembler hands the
trailer blocks to the pipeline a little later. The gate keeps the verdicts of the open
interchange until the pipeline asks for them, indexed by order of appearance.
"""

from __future__ import annotations

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


@dataclass(slots=True)
class StructureGate:
    validator: StructureValidator = field(default_factory=StructureValidator)
    _set_status: dict[int, str] = field(default_factory=dict)
    _sets_seen: int = 0
    _group_sets: list[int] = field(default_factory=list)
    _last_group_sets: list[int] = field(default_factory=list)
    _group_status: str = "A"
    _interchange_status: str = "A"

    def feed(self, segment: Segment) -> None:
        verdicts = self.validator.feed(segment)
        if verdicts:
            self._take(verdicts)

    def fail(self, error: X12SyntaxError) -> None:
        self._take(self.validator.fail(error))

    def close(self) -> None:
        self._take(self.validator.close())

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
                self._group_sets.append(self._sets_seen)
            elif isinstance(verdict, GroupVerdict):
                self._group_status = verdict.status
                self._last_group_sets = self._group_sets
                self._group_sets = []
            elif isinstance(verdict, InterchangeVerdict):
                self._interchange_status = verdict.status
