"""Claim outcomes and the summary as plain records, shared by the JSON, XML and HTML reports.

Records hold no patient data: CLM01 (the submitter's own claim id) is the only identity. Money
is a decimal string with at least two places, never a float.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TypedDict

from edi_guard.outcome import ClaimOutcome, LineEcho, Summary
from edi_guard.reports._common import (
    AmountAtStake,
    is_at_stake,
    money,
    primary_stc,
    report_findings,
    report_status,
)
from edi_guard.rules.base import Finding
from edi_guard.vocab import Fee

SCHEMA_VERSION = 1


class FindingRecord(TypedDict):
    rule: str
    outcome: str
    line: str | None
    stc: str | None
    stc_codes: list[str]
    message: str
    source: str


class LineRecord(TypedDict):
    line: str
    procedure: list[str]
    charge: str
    units: str | None
    line_control_number: str
    service_date: str | None
    service_date_end: str | None


class ClaimRecord(TypedDict):
    claim_id: str
    st_control: str
    position: int
    status: str
    charge_in: str
    charge_out: str
    charge_dropped: str
    place_of_service: str
    is_tpi: bool
    structure_rejected: bool
    amount_at_stake: str | None
    findings: list[FindingRecord]
    rejected_lines: list[LineRecord]


class SummaryRecord(TypedDict):
    claims_in: int
    claims_accepted: int
    claims_corrected: int
    claims_rejected: int
    charge_in: str
    charge_out: str
    charge_rejected: str
    charge_dropped: str
    sets_in: int
    sets_rejected: int
    interchanges_rejected: int


class StakeRecord(TypedDict):
    place_of_service: str
    setting: str
    claims: int
    rate: str | None
    """The fee table's amount for one claim; None when the table has no rate there."""
    amount: str
    basis: str
    verified: bool | None


def finding_record(finding: Finding) -> FindingRecord:
    return {
        "rule": finding.rule,
        "outcome": finding.outcome.value,
        "line": finding.line,
        "stc": primary_stc(finding),
        "stc_codes": list(finding.stc),
        "message": finding.message,
        "source": finding.source,
    }


def line_record(line: LineEcho) -> LineRecord:
    return {
        "line": line.line_number,
        "procedure": list(line.procedure_composite),
        "charge": money(line.charge),
        "units": str(line.units) if line.units is not None else None,
        "line_control_number": line.line_control_number,
        "service_date": line.service_date.isoformat() if line.service_date else None,
        "service_date_end": line.service_date_end.isoformat() if line.service_date_end else None,
    }


def claim_record(outcome: ClaimOutcome, stake: Fee | None) -> ClaimRecord:
    return {
        "claim_id": outcome.claim_id,
        "st_control": outcome.context.st_control,
        "position": outcome.position,
        "status": report_status(outcome),
        "charge_in": money(outcome.charge_in),
        "charge_out": money(outcome.charge_out),
        "charge_dropped": money(outcome.charge_dropped),
        "place_of_service": outcome.place_of_service,
        "is_tpi": outcome.is_tpi,
        "structure_rejected": outcome.structure_rejected,
        "amount_at_stake": money(stake.amount) if stake is not None else None,
        "findings": [finding_record(f) for f in report_findings(outcome)],
        "rejected_lines": [line_record(line) for line in outcome.rejected_lines],
    }


@dataclass(frozen=True, slots=True)
class ClaimEntry:
    """One claim as the JSON, XML and HTML writers take it: built once, shared by all three.

    ``fee`` is the fee-table amount when the claim is at stake and priced (the record's
    ``amount_at_stake``); ``at_stake`` alone counts the claim under its place of service.
    """

    record: ClaimRecord
    place_of_service: str
    at_stake: bool
    fee: Fee | None


def claim_entry(outcome: ClaimOutcome, fees: AmountAtStake) -> ClaimEntry:
    stake = is_at_stake(outcome)
    fee = fees(outcome.place_of_service) if stake else None
    return ClaimEntry(claim_record(outcome, fee), outcome.place_of_service, stake, fee)


def summary_record(summary: Summary) -> SummaryRecord:
    return {
        "claims_in": summary.claims_in,
        "claims_accepted": summary.claims_accepted,
        "claims_corrected": summary.claims_corrected,
        "claims_rejected": summary.claims_rejected,
        "charge_in": money(summary.charge_in),
        "charge_out": money(summary.charge_out),
        "charge_rejected": money(summary.charge_rejected),
        "charge_dropped": money(summary.charge_dropped),
        "sets_in": summary.sets_in,
        "sets_rejected": summary.sets_rejected,
        "interchanges_rejected": summary.interchanges_rejected,
    }


@dataclass(slots=True)
class _StakeRow:
    claims: int = 0
    fee: Fee | None = None


@dataclass(slots=True)
class StakeTotals:
    """Money at stake by place of service for rejected or warned TPI claims (rules.md).

    Memory is bounded by the number of distinct places of service, not of claims.
    """

    fees: AmountAtStake
    rows: dict[str, _StakeRow] = field(default_factory=dict)

    def add(self, outcome: ClaimOutcome) -> Fee | None:
        """Count the claim if it is at stake; return its fee (None if not at stake/priced)."""
        if not is_at_stake(outcome):
            return None
        fee = self.fees(outcome.place_of_service)
        self._count(outcome.place_of_service, fee)
        return fee

    def count(self, entry: ClaimEntry) -> None:
        """Count a claim whose stake :func:`claim_entry` already looked up."""
        if entry.at_stake:
            self._count(entry.place_of_service, entry.fee)

    def _count(self, place_of_service: str, fee: Fee | None) -> None:
        row = self.rows.setdefault(place_of_service, _StakeRow())
        row.claims += 1
        row.fee = fee

    def records(self) -> list[StakeRecord]:
        records: list[StakeRecord] = []
        for place, row in sorted(self.rows.items()):
            fee = row.fee
            total = fee.amount * row.claims if fee is not None else Decimal(0)
            records.append(
                {
                    "place_of_service": place,
                    "setting": fee.setting if fee is not None else "",
                    "claims": row.claims,
                    "rate": money(fee.amount) if fee is not None else None,
                    "amount": money(total),
                    "basis": fee.basis if fee is not None else "no rate in the fee table",
                    "verified": fee.verified if fee is not None else None,
                }
            )
        return records

    def total(self) -> Decimal:
        return sum(
            (row.fee.amount * row.claims for row in self.rows.values() if row.fee is not None),
            Decimal(0),
        )
