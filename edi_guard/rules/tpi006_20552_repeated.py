"""TPI006 tpi-20552-repeated-same-day: two or more 20552 lines on the same day, no 20553.

## What it does
Finds dates of service with two or more 20552 lines in one claim (and no 20553, which TPI005
already resolved). Each 20552 line after the first of its day is reported.

## Why is this bad?
One session is one code, chosen by the total number of muscles: two 20552 lines mean 2 to 4
muscles in all, which is either one 20552 (2 muscles) or one 20553 (3 or 4). Only the provider
knows which, so the claim cannot be fixed mechanically: dropping a line could undercode, and
turning it into 20553 would be upcoding.

## Example
```
LX*1~  SV1*HC:20552:RT*120*UN*1***1~  DTP*472*D8*20260112~
LX*2~  SV1*HC:20552:LT*120*UN*1***1~  DTP*472*D8*20260112~
```

## Fix safety
No fix: the muscle total decides the code.

## Outcome
Reject, 277CA STC A8:454 (procedure code), one finding per repeated line.

## References
- CMS Billing and Coding Article A59480; payer notices: one of 20552/20553 per date of service
"""

from __future__ import annotations

from datetime import date
from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import CODE_20552, CODE_20553, line_label, tpi_view
from edi_guard.rules.base import NOTHING, Finding, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject each 20552 line that repeats 20552 on a day without 20553."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    lines = [line for line in view.tpi_lines if line.procedure.code == CODE_20552]
    if len(lines) < 2:
        return NOTHING
    days_20553 = {
        day
        for line in view.tpi_lines
        if line.procedure.code == CODE_20553
        for day in line.service_days()
    }
    first_on: dict[date, str] = {}
    findings: list[Finding] = []
    for line in lines:
        days = line.service_days()
        if days_20553.intersection(days):
            continue
        first = next((first_on[day] for day in days if day in first_on), None)
        if first is None:
            first_on.update(dict.fromkeys(days, line.line_number))
            continue
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} repeats 20552 on the same day as LX {first}: bill one "
                "code for the session, 20552 for 1-2 muscles in all or 20553 for 3 or more; "
                "only the provider can choose",
            )
        )
    return RuleResult(findings=tuple(findings)) if findings else NOTHING


RULE: Final = Rule(
    code="TPI006",
    name="tpi-20552-repeated-same-day",
    outcome=Outcome.REJECT,
    stc=("A8:454",),
    source="CMS Article A59480; payer notices: one of 20552/20553 per date of service",
    check=check,
    summary="two or more 20552 lines on the same day, no 20553",
)
