"""Claim decisions -> the outcomes every report writer receives (``edi_guard.outcome``).

The engine decides on the claim; the answers need more: the set it came in (BHT03, the
submitter), the patient the 277CA echoes, the lines a rejection names, and, when a
transaction set or interchange failed after the claim was decided, a structure finding.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Final

from edi_guard.assemble import Block, ClaimUnit
from edi_guard.engine import TPI_CODES, ClaimDecision
from edi_guard.model.claim import Claim, Party, PlainClaim
from edi_guard.outcome import ClaimOutcome, LineEcho, SetContext
from edi_guard.rules.base import Finding, Outcome
from edi_guard.x12.segment import Segment


def set_context(block: Block, isa: Segment | None) -> SetContext:
    st = block.first
    bht = next((s for s in block.segments if s.tag == "BHT"), None)
    submitter = next((s for s in block.segments if s.tag == "NM1" and s.element(1) == "41"), None)
    receiver = next((s for s in block.segments if s.tag == "NM1" and s.element(1) == "40"), None)
    return SetContext(
        st_control=st.element(2),
        bht_reference=bht.element(3) if bht else "",
        submitter=_party(submitter, "41"),
        receiver=_party(receiver, "40"),
        billing_provider=Party("85", ""),
        interchange_sender_qualifier=isa.element(5) if isa else "ZZ",
        interchange_sender_id=isa.element(6).strip() if isa else "",
        interchange_receiver_qualifier=isa.element(7) if isa else "ZZ",
        interchange_receiver_id=isa.element(8).strip() if isa else "",
        usage_indicator=isa.element(15) if isa else "P",
    )


def _party(segment: Segment | None, entity: str) -> Party:
    if segment is None:
        return Party(entity, "")
    return Party(
        segment.element(1),
        segment.element(3),
        segment.element(4),
        segment.element(8),
        segment.element(9),
    )


_NO_CONTEXT: Final = SetContext("", "", Party("41", ""), Party("40", ""), Party("85", ""))


def claim_outcome(
    unit: ClaimUnit, decision: ClaimDecision, context: SetContext | None
) -> ClaimOutcome:
    if decision.plain is not None:
        return _plain_outcome(unit, decision.plain, context)
    received = decision.received
    final = decision.final
    clm = unit.first
    set_context = context or _NO_CONTEXT
    if received is None:
        return ClaimOutcome(
            claim_id=clm.element(1),
            position=unit.position,
            status="rejected",
            findings=decision.findings,
            charge_in=_safe_amount(clm.element(2)),
            charge_out=Decimal(0),
            charge_dropped=Decimal(0),
            place_of_service=clm.get("CLM05-1"),
            is_tpi=False,
            context=set_context,
            patient=Party("QC", ""),
            member_id="",
            clearinghouse_trace="",
            first_service_date=None,
            last_service_date=None,
        )
    set_context = _with_billing_provider(set_context, received.billing_provider)
    first_day, last_day = _service_period(received)
    charge_out = final.total_charge if final is not None and not decision.rejected else Decimal(0)
    dropped = Decimal(0)
    if final is not None and not decision.rejected:
        kept = {line.lx_position for line in final.lines}
        dropped = sum(
            (line.charge for line in received.lines if line.lx_position not in kept), Decimal(0)
        )
    patient = received.patient or received.subscriber
    return ClaimOutcome(
        claim_id=received.claim_id,
        position=unit.position,
        status=decision.status,
        findings=decision.findings,
        charge_in=received.total_charge,
        charge_out=charge_out,
        charge_dropped=dropped,
        place_of_service=received.place_of_service,
        is_tpi=any(line.code in TPI_CODES for line in received.lines),
        context=set_context,
        patient=_patient_echo(patient, received.subscriber.identifier),
        member_id=received.subscriber.identifier,
        clearinghouse_trace=received.clearinghouse_trace,
        first_service_date=first_day,
        last_service_date=last_day,
        rejected_lines=_rejected_lines(received, decision.findings) if decision.rejected else (),
    )


def _plain_outcome(unit: ClaimUnit, plain: PlainClaim, context: SetContext | None) -> ClaimOutcome:
    """A claim the screen passed (``decide_plain``): accepted as received, nothing found.
    The same outcome the full path gives, from the few values the screen read (tests check
    the two agree claim for claim)."""
    return ClaimOutcome(
        claim_id=plain.claim_id,
        position=unit.position,
        status="accepted",
        findings=(),
        charge_in=plain.total_charge,
        charge_out=plain.total_charge,
        charge_dropped=Decimal(0),
        place_of_service=plain.place_of_service,
        is_tpi=False,
        context=_with_billing_provider(context or _NO_CONTEXT, plain.billing_provider),
        patient=_patient_echo(plain.patient, plain.subscriber_identifier),
        member_id=plain.subscriber_identifier,
        clearinghouse_trace=plain.clearinghouse_trace,
        first_service_date=plain.first_service_date,
        last_service_date=plain.last_service_date,
    )


def _with_billing_provider(context: SetContext, billing_provider: Party) -> SetContext:
    """The set's context naming the claim's billing provider (the same object while the
    billing provider stays, so reports can tell when it changes)."""
    if context.billing_provider == billing_provider:
        return context
    return replace(context, billing_provider=billing_provider)


def _patient_echo(patient: Party, member_id: str) -> Party:
    """The 277CA's NM1*QC: the patient (or the subscriber who is the patient), by member id."""
    return Party("QC", patient.last_name, patient.first_name, "MI", member_id)


def _service_period(claim: Claim) -> tuple[date | None, date | None]:
    """The first and last day any line covers (its ``service_days``), None when none does."""
    first: date | None = None
    last: date | None = None
    for line in claim.lines:
        start = line.service_date
        if start is None:
            continue
        end = start
        if line.service_date_end is not None and line.service_date_end != start:
            # Only a range needs spelling out day by day: a D8 line covers its one day.
            days = line.service_days()
            if not days:
                continue
            start, end = days[0], days[-1]
        if first is None or start < first:
            first = start
        if last is None or end > last:
            last = end
    return first, last


def _rejected_lines(claim: Claim, findings: tuple[Finding, ...]) -> tuple[LineEcho, ...]:
    wanted = {f.sv1_position for f in findings if f.outcome is Outcome.REJECT and f.sv1_position}
    echoes = []
    for line in claim.lines:
        if line.sv1_position in wanted:
            procedure = line.procedure
            composite = (procedure.qualifier, procedure.code, *procedure.modifiers)
            echoes.append(
                LineEcho(
                    line_number=line.line_number,
                    procedure_composite=composite,
                    charge=line.charge,
                    units=line.units,
                    line_control_number=line.line_control_number,
                    service_date=line.service_date,
                    service_date_end=line.service_date_end,
                )
            )
    return tuple(echoes)


_STRUCTURE_MESSAGES: Final = {
    "set": "the claim's transaction set failed 005010X222A1 structure (see the 999); "
    "nothing of it went out",
    "interchange": "the claim's interchange envelope failed (see the TA1); nothing of it went out",
    "duplicate": "the claim's interchange (sender and ISA13) was already processed: a duplicate "
    "(see the TA1, note 025); nothing of it was processed again",
}


def structure_rejected(outcome: ClaimOutcome, *, reason: str) -> ClaimOutcome:
    finding = Finding(
        rule="X12",
        outcome=Outcome.REJECT,
        message=_STRUCTURE_MESSAGES[reason],
        source="005010X222A1; 005010X231A1",
    )
    return replace(
        outcome,
        status="rejected",
        findings=(finding, *outcome.findings),
        charge_out=Decimal(0),
        charge_dropped=Decimal(0),
        structure_rejected=True,
    )


def _safe_amount(value: str) -> Decimal:
    try:
        return Decimal(value)
    except ArithmeticError:
        return Decimal(0)
