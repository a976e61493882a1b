"""CLM001 claim-charge-total-mismatch: CLM02 is not the sum of the line charges.

## What it does
Compares the claim's total charge (2300 CLM02) with the sum of SV102 over its 2400 service
lines, as received (this rule runs first, before any correction drops a line).

## Why is this bad?
005010X222A1 requires CLM02 to equal the sum of all SV102 of the claim (2300 CLM02 note; X12
RFI 2168). A claim out of balance is rejected by every payer front end; guessing which side is
wrong would be changing money on the provider's behalf.

## Example
```
CLM*PCN1*240***11:B:1*Y*A*Y*Y~
SV1*HC:20553*180*UN*1***1~
SV1*HC:J3301*70*UN*4***1~
```
180 + 70 = 250, not 240.

## Fix safety
No fix: the submitter must say which amount is right.

## Outcome
Reject, 277CA STC A7:400 (claim out of balance) with A7:178 (submitted charges).

## References
- 005010X222A1, 2300 CLM02 note
- X12 RFI 2168
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import amount_text
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject a claim whose CLM02 differs from the sum of its SV102."""
    lines_total = claim.line_charge_total
    if claim.total_charge == lines_total:
        return NOTHING
    message = (
        f"CLM02 total charge {amount_text(claim.total_charge)} does not equal the sum of the "
        f"SV102 line charges ({amount_text(lines_total)} over {len(claim.lines)} lines); "
        "expected CLM02 to be the sum of SV102"
    )
    return RuleResult(findings=(RULE.finding(message),))


RULE: Final = Rule(
    code="CLM001",
    name="claim-charge-total-mismatch",
    outcome=Outcome.REJECT,
    stc=("A7:400", "A7:178"),
    source="005010X222A1 2300 CLM02 note; X12 RFI 2168",
    check=check,
    summary="CLM02 is not the sum of SV102 over the claim's lines (as received)",
)
