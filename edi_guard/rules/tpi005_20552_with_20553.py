"""TPI005 tpi-20552-with-20553-same-day: 20552 and 20553 on the same day in one claim.

## What it does
Drops every 20552 line that shares a date of service with a 20553 line of the same claim. The
claim total (CLM02) is recomputed from the remaining lines and LX renumbered.

## Why is this bad?
The two codes are alternatives for one session: 20552 for 1 or 2 muscles, 20553 for 3 or more.
Muscles of the same day add up into one code, so billing both double counts; payers deny the
20552 (or the pair).

## Example
```
LX*1~  SV1*HC:20553*180*UN*1***1~  DTP*472*D8*20260112~
LX*2~  SV1*HC:20552*120*UN*1***1~  DTP*472*D8*20260112~
```
After the fix: LX 2 is gone and CLM02 no longer counts its 120.

## Fix safety
The 20553 line keeps its charge; the 20552 line's charge leaves the claim. Dropping 20552 never
upcodes: the 20553 was billed by the provider.

## Outcome
Correct, 277CA STC A8:454 (procedure code), one finding per dropped line.

## References
- CMS Billing and Coding Article A59480; payer notices: one of 20552/20553 per date of service
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import CODE_20552, CODE_20553, line_label, same_day, tpi_view
from edi_guard.rules.base import (
    NOTHING,
    DropLine,
    Outcome,
    Rule,
    RuleContext,
    RuleResult,
)


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Drop each 20552 line that shares a day with a 20553 line."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    lines_20553 = [line for line in view.tpi_lines if line.procedure.code == CODE_20553]
    if not lines_20553:
        return NOTHING
    findings = []
    drops = []
    for line in view.tpi_lines:
        if line.procedure.code != CODE_20552:
            continue
        partner = next((other for other in lines_20553 if same_day(other, line)), None)
        if partner is None:
            continue
        drops.append(DropLine(line.lx_position))
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} is billed on the same day as 20553 on LX "
                f"{partner.line_number}: muscles of one day add up into one code; "
                f"LX {line.line_number} dropped, the 20553 line kept with its charge",
            )
        )
    if not drops:
        return NOTHING
    return RuleResult(findings=tuple(findings), edits=tuple(drops))


RULE: Final = Rule(
    code="TPI005",
    name="tpi-20552-with-20553-same-day",
    outcome=Outcome.CORRECT,
    stc=("A8:454",),
    source="CMS Article A59480; payer notices: one of 20552/20553 per date of service",
    check=check,
    summary="20552 and 20553 on the same day in one claim",
)
