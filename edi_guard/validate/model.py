"""What the validator reports: errors, per-set/group/interchange verdicts, the whole result.

Errors carry pyx12's own codes (``code``); ``ik3_code``/``ik4_code`` say how pyx12's 999
writer maps them. ``bad_value`` is the offending element value, kept only so that the 999
can copy it into IK404; it is excluded from ``repr``, from ``message`` and from JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["interchange", "group", "set", "segment", "element"]
Status = Literal["A", "E", "R"]

IK3_CODES = frozenset({"1", "2", "3", "4", "5", "6", "7", "8", "I4", "I6", "I7", "I8", "I9"})
IK4_CODES = frozenset(
    {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "12", "13", "I10", "I11", "I12", "I13",
     "I6", "I9"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ValidatorLimits:
    """Bounds that keep memory flat whatever the input."""

    max_errors_per_set: int = 100
    max_findings_per_set: int = 100
    max_envelope_errors: int = 100
    max_segments_per_set: int | None = None
    """The segments-per-set cap of ``edi_guard.limits.Limits``: a longer set is rejected."""


@dataclass(frozen=True, slots=True)
class StructureError:
    """One implementation-guide error, located the way IK3/IK4 locate it.

    ``position`` is the segment's ordinal in the file, ``position_in_set`` its ordinal in
    the transaction set (ST = 1; IK302). For a missing segment both name the segment at
    which pyx12 noticed the absence, and ``segment_id`` names the missing one. ``group``
    numbers pyx12's error-segment nodes within a set: errors with the same group share
    an IK3 line.
    """

    level: Level
    code: str
    message: str
    position: int
    position_in_set: int = 0
    segment_id: str = ""
    loop_id: str | None = None
    element: str | None = None
    element_position: int | None = None
    component_position: int | None = None
    repetition: int | None = None
    data_element: str | None = None
    group: int = 0
    bad_value: str | None = field(default=None, repr=False, compare=False)

    @property
    def ik3_code(self) -> str | None:
        """The IK304 this error produces (element errors give IK3 code 8 on their segment)."""
        if self.level == "element":
            return "8"
        if self.level != "segment":
            return None
        code = "8" if self.code == "SEG1" else self.code
        return code if code in IK3_CODES else None

    @property
    def ik4_code(self) -> str | None:
        if self.level != "element":
            return None
        return self.code if self.code in IK4_CODES else None


@dataclass(frozen=True, slots=True)
class Finding:
    """A check beyond pyx12 (HL04, SV107 pointers, NPI check digit). Never changes a verdict."""

    check: str
    message: str
    position: int
    position_in_set: int
    segment_id: str
    element: str | None = None


@dataclass(frozen=True, slots=True)
class SetVerdict:
    """The verdict on one transaction set, final when its SE (or what replaces it) is seen."""

    st_control: str
    status: Status
    errors: tuple[StructureError, ...]
    first_position: int
    last_position: int
    transaction_set_id: str = "837"
    implementation_reference: str = ""
    error_count: int = 0  # all errors, including those beyond the kept ones
    ik5_codes: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    finding_count: int = 0
    closed: bool = True

    @property
    def truncated(self) -> int:
        return self.error_count - len(self.errors)


@dataclass(frozen=True, slots=True)
class GroupVerdict:
    gs_control: str
    functional_id: str
    version: str
    status: Status  # AK901 (A, E, P or R; pyx12 gives A or R)
    sets: tuple[SetVerdict, ...]
    st_count_declared: int
    st_count_received: int
    st_count_accepted: int
    ak9_codes: tuple[str, ...]
    errors: tuple[StructureError, ...]
    first_position: int
    sender: str = ""
    receiver: str = ""
    closed: bool = True


@dataclass(frozen=True, slots=True)
class InterchangeVerdict:
    """An interchange. ``ta1_note`` is the TA105 code when the envelope is broken."""

    isa_control: str
    status: Status  # TA104
    ta1_note: str
    ta1_requested: bool
    groups: tuple[GroupVerdict, ...]
    errors: tuple[StructureError, ...]
    first_position: int
    isa_date: str = ""
    isa_time: str = ""
    sender_qualifier: str = ""
    sender_id: str = ""
    receiver_qualifier: str = ""
    receiver_id: str = ""
    usage: str = "P"
    version: str = "00501"
    closed: bool = True

    @property
    def needs_ta1(self) -> bool:
        return self.ta1_requested or self.status != "A"


Verdict = SetVerdict | GroupVerdict | InterchangeVerdict


@dataclass(slots=True)
class ValidationResult:
    """Everything needed to write the 999 and the TA1s, plus a fatal syntax error if any."""

    interchanges: list[InterchangeVerdict] = field(default_factory=list)
    fatal: str | None = None  # a message (no patient data) when the bytes stopped being X12
    fatal_offset: int | None = None
    segments: int = 0

    @property
    def sets(self) -> list[SetVerdict]:
        return [s for i in self.interchanges for g in i.groups for s in g.sets]

    @property
    def accepted(self) -> bool:
        """True when every interchange, group and set is accepted and nothing was fatal."""
        if self.fatal is not None or not self.interchanges:
            return False
        return all(
            i.status == "A" and all(g.status == "A" for g in i.groups) for i in self.interchanges
        ) and all(s.status == "A" for s in self.sets)

    @property
    def rejected(self) -> bool:
        if self.fatal is not None or not self.interchanges:
            return True
        return (
            any(i.status == "R" for i in self.interchanges)
            or any(s.status == "R" for s in self.sets)
            or any(g.status == "R" for i in self.interchanges for g in i.groups)
        )
