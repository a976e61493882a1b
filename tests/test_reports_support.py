"""Synthetic claim outcomes for the report tests, and pyx12 as the 277CA oracle.

All names, ids and amounts are fake. ``outcome`` builds a ClaimOutcome with sensible
defaults; the tests change only what they look at.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyx12.params
import pyx12.x12n_document

from edi_guard.model.claim import Party
from edi_guard.outcome import ClaimOutcome, LineEcho, SetContext, Status, Summary
from edi_guard.reports.ack277 import AckEnvelope
from edi_guard.rules.base import Finding, Outcome

SUBMITTER = Party("41", "EXAMPLE PAIN CLINIC", "", "46", "CLINIC01")
RECEIVER = Party("40", "EDI GUARD", "", "46", "EDIGUARD")
PROVIDER_A = Party("85", "EXAMPLE PAIN CLINIC", "", "XX", "1234567893")
PROVIDER_B = Party("85", "SECOND SPINE GROUP", "", "XX", "1999999984")
CREATED = datetime(2026, 1, 15, 10, 30)


def context(
    st_control: str = "0001", bht: str = "BATCH0042", provider: Party = PROVIDER_A
) -> SetContext:
    return SetContext(st_control, bht, SUBMITTER, RECEIVER, provider)


def envelope(**changes: Any) -> AckEnvelope:
    values: dict[str, Any] = {
        "sender_qualifier": "ZZ",
        "sender_id": "EDIGUARD",
        "receiver_qualifier": "ZZ",
        "receiver_id": "CLINIC01",
        "interchange_control": 101,
        "group_control": 101,
        "created": CREATED,
        "usage_indicator": "T",
        "our_id": "EDIGUARD",
    }
    values.update(changes)
    return AckEnvelope(**values)


def outcome(
    claim_id: str,
    position: int,
    status: Status = "accepted",
    findings: tuple[Finding, ...] = (),
    *,
    charge: str = "180.00",
    set_context: SetContext | None = None,
    rejected_lines: tuple[LineEcho, ...] = (),
    structure_rejected: bool = False,
    place_of_service: str = "11",
    is_tpi: bool = True,
    patient: Party | None = None,
    member_id: str = "1EG4TE5MK72",
    first: date | None = date(2026, 1, 10),
    last: date | None = date(2026, 1, 10),
    dropped: str = "0",
) -> ClaimOutcome:
    charge_in = Decimal(charge)
    return ClaimOutcome(
        claim_id=claim_id,
        position=position,
        status=status,
        findings=findings,
        charge_in=charge_in,
        charge_out=Decimal(0) if status == "rejected" else charge_in - Decimal(dropped),
        charge_dropped=Decimal(dropped),
        place_of_service=place_of_service,
        is_tpi=is_tpi,
        context=set_context or context(),
        patient=patient or Party("QC", "DOE", "JANE"),
        member_id=member_id,
        clearinghouse_trace="CHTRACE" + str(position),
        first_service_date=first,
        last_service_date=last,
        rejected_lines=rejected_lines,
        structure_rejected=structure_rejected,
    )


UNITS_CORRECTED = Finding(
    "TPI001",
    Outcome.CORRECT,
    "TPI line billed 3 units; set to 1",
    line="1",
    stc=("A7:476",),
    source="CPT descriptor; MUE 1 per day",
)
DUPLICATE_DROPPED = Finding(
    "TPI004",
    Outcome.CORRECT,
    "second 20553 on the same day dropped",
    line="2",
    stc=("A8:454",),
    source="A59480",
)
OUT_OF_BALANCE = Finding(
    "CLM001",
    Outcome.REJECT,
    "CLM02 232.00 is not the sum of the lines (180.00)",
    stc=("A7:400", "A7:178"),
    source="005010X222A1 2300 CLM02 note",
)
NOC_DRUG = Finding(
    "TPI013",
    Outcome.REJECT,
    "NOC drug line needs the drug name and dose in SV101-7",
    line="2",
    stc=("A6:217",),
    source="MAC instructions (CGS, Palmetto, WPS)",
)
IMAGING_WARNING = Finding(
    "TPI018", Outcome.WARN, "imaging guidance on the same day", line="3", source="L34211"
)
NOC_LINE = LineEcho(
    line_number="2",
    procedure_composite=("HC", "J3490"),
    charge=Decimal("52.00"),
    units=Decimal(1),
    line_control_number="LINE-0002",
    service_date=date(2026, 1, 12),
    service_date_end=None,
)


def mixed_outcomes() -> list[ClaimOutcome]:
    """Accepted, corrected, rejected (claim and line level), two providers, two sets, and
    a set rejected in the 999."""
    second_set = context("0002", "BATCH0043")
    failed_set = context("0003", "BATCH0044")
    return [
        outcome("PCN10001", 1),
        outcome("PCN10002", 2, "corrected", (UNITS_CORRECTED, DUPLICATE_DROPPED), dropped="40"),
        outcome("PCN10003", 3, "rejected", (OUT_OF_BALANCE,), charge="232.00"),
        outcome(
            "PCN10004",
            4,
            "rejected",
            (NOC_DRUG,),
            rejected_lines=(NOC_LINE,),
            set_context=context(provider=PROVIDER_B),
            first=date(2026, 1, 10),
            last=date(2026, 1, 12),
        ),
        outcome("PCN10005", 5, "accepted", (IMAGING_WARNING,), set_context=second_set),
        outcome("PCN10006", 6, "rejected", (), set_context=failed_set, structure_rejected=True),
    ]


def summary_of(outcomes: list[ClaimOutcome]) -> Summary:
    rejected = [o for o in outcomes if o.status == "rejected"]
    return Summary(
        claims_in=len(outcomes),
        claims_accepted=sum(o.status == "accepted" for o in outcomes),
        claims_corrected=sum(o.status == "corrected" for o in outcomes),
        claims_rejected=len(rejected),
        charge_in=sum((o.charge_in for o in outcomes), Decimal(0)),
        charge_out=sum((o.charge_out for o in outcomes), Decimal(0)),
        charge_rejected=sum((o.charge_in for o in rejected), Decimal(0)),
        charge_dropped=sum((o.charge_dropped for o in outcomes), Decimal(0)),
        sets_in=3,
        sets_rejected=1,
    )


@dataclass(frozen=True)
class Pyx12Verdict:
    """What pyx12's full validation said about a file."""

    valid: bool
    errors: tuple[str, ...]
    ack: str
    """The 999 pyx12 wrote for it."""

    @property
    def ok(self) -> bool:
        return self.valid and not self.errors and "IK5*A~" in self.ack


def pyx12_verdict(path: Path) -> Pyx12Verdict:
    """Validate ``path`` with pyx12.x12n_document: its return value, every error in its
    error tree (JSON visitor), errors it logged, and the 999 it generated."""
    ack, tree = io.StringIO(), io.StringIO()
    handler = _Collect()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        with path.open(encoding="ascii") as source:
            valid = pyx12.x12n_document.x12n_document(
                pyx12.params.params(), source, ack, None, None, tree
            )
    finally:
        logger.removeHandler(handler)
    errors = [*handler.messages, *_tree_errors(json.loads(tree.getvalue() or "{}"))]
    return Pyx12Verdict(bool(valid), tuple(errors), ack.getvalue())


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _tree_errors(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "errors" and isinstance(value, list):
                yield from (json.dumps(error) for error in value)
            elif key == "ack_code" and value not in ("A", None):
                yield f"ack_code {value}"
            else:
                yield from _tree_errors(value)
    elif isinstance(node, list):
        for item in node:
            yield from _tree_errors(item)
