"""What processing a file produced, as values: per-claim outcomes and the file summary.

These are the inputs of every report writer (277CA, JSON, XML, HTML). ``ClaimOutcome``
carries the few identity fields the 277CA must echo (its 2000D NM1 and TRN): reports meant
for the submitter may carry them, logs never do, so its repr shows none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from edi_guard.model.claim import Party
from edi_guard.rules.base import Finding

Status = Literal["accepted", "corrected", "rejected"]


@dataclass(frozen=True, slots=True)
class LineEcho:
    """A rejected service line as the 277CA 2220D echoes it (SVC, REF*FJ, DTP*472)."""

    line_number: str
    procedure_composite: tuple[str, ...]
    """SV101 components as received: HC, code, modifiers..."""
    charge: Decimal
    units: Decimal | None
    line_control_number: str
    service_date: date | None
    service_date_end: date | None


@dataclass(frozen=True, slots=True)
class SetContext:
    """The 837 transaction set a claim came in: what the 277CA 2000B/2000C echo."""

    st_control: str
    bht_reference: str
    """BHT03: the 277CA's 2200B TRN*2."""
    submitter: Party
    """1000A NM1*41."""
    receiver: Party
    """1000B NM1*40."""
    billing_provider: Party
    """2010AA NM1*85."""
    interchange_sender_qualifier: str = "ZZ"
    """ISA05 of the 837: our acknowledgements go back to this sender (ISA07/ISA08)."""
    interchange_sender_id: str = ""
    """ISA06 of the 837, trailing padding removed."""
    interchange_receiver_qualifier: str = "ZZ"
    interchange_receiver_id: str = ""
    """ISA08 of the 837: who the submitter sent it to (us, or the clearinghouse we front)."""
    usage_indicator: str = "P"
    """ISA15: P production, T test; our answers carry the same."""
    set_index: int = 0
    """1-based order of the transaction set in its file: tells identical sets apart."""


@dataclass(frozen=True, slots=True, repr=False)
class ClaimOutcome:
    claim_id: str
    """CLM01: for the submitter's reports only."""
    position: int
    status: Status
    findings: tuple[Finding, ...]
    charge_in: Decimal
    """CLM02 as received."""
    charge_out: Decimal
    """CLM02 as sent (0 when rejected)."""
    charge_dropped: Decimal
    """Charges of lines that corrections dropped."""
    place_of_service: str
    is_tpi: bool
    context: SetContext
    patient: Party
    """The patient: 2010CA when present, else the subscriber (the 277CA always uses NM1*QC)."""
    member_id: str
    """2010BA NM109: the 277CA 2000D NM109."""
    clearinghouse_trace: str
    first_service_date: date | None
    last_service_date: date | None
    rejected_lines: tuple[LineEcho, ...] = ()
    """Lines named by line-level rejecting findings, for 2220D."""
    structure_rejected: bool = False
    """True when the claim's transaction set failed structure (answered by the 999)."""
    extra: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<ClaimOutcome #{self.position} {self.status}>"


@dataclass(frozen=True, slots=True)
class Summary:
    claims_in: int
    claims_accepted: int
    claims_corrected: int
    claims_rejected: int
    charge_in: Decimal
    charge_out: Decimal
    charge_rejected: Decimal
    charge_dropped: Decimal
    """Charges of lines dropped by corrections on claims that went out."""
    sets_in: int = 0
    sets_rejected: int = 0
    interchanges_rejected: int = 0
