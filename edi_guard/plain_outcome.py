"""The outcome of a claim that passed the screen: accepted as received, nothing to report.

``claim_outcome`` builds the same outcome from the fully mapped claim; this builds it from the
``PlainClaim`` the screen read (tests check the two agree claim for claim).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from edi_guard.assemble import ClaimUnit
from edi_guard.model.claim import Party, PlainClaim
from edi_guard.outcome import ClaimOutcome, SetContext

_NO_CONTEXT = SetContext("", "", Party("41", ""), Party("40", ""), Party("85", ""))
_ZERO = Decimal(0)


def plain_outcome(unit: ClaimUnit, plain: PlainClaim, context: SetContext | None) -> ClaimOutcome:
    set_context = context or _NO_CONTEXT
    if set_context.billing_provider != plain.billing_provider:
        set_context = replace(set_context, billing_provider=plain.billing_provider)
    patient = plain.patient
    return ClaimOutcome(
        claim_id=plain.claim_id,
        position=unit.position,
        status="accepted",
        findings=(),
        charge_in=plain.total_charge,
        charge_out=plain.total_charge,
        charge_dropped=_ZERO,
        place_of_service=plain.place_of_service,
        is_tpi=False,
        context=set_context,
        patient=Party(
            "QC", patient.last_name, patient.first_name, "MI", plain.subscriber_identifier
        ),
        member_id=plain.subscriber_identifier,
        clearinghouse_trace=plain.clearinghouse_trace,
        first_service_date=plain.first_service_date,
        last_service_date=plain.last_service_date,
    )
