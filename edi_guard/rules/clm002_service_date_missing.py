"""CLM002 service-date-missing: a service line has no DTP*472 service date.

## What it does
Finds 2400 service lines without a DTP*472 (date of service) segment.

## Why is this bad?
DTP*472 is required on every 2400 line of a 005010X222A1 claim. Without it a payer cannot
adjudicate the line, and none of the same-day or frequency edits of this catalog can be applied.

## Example
```
LX*1~
SV1*HC:20553*180*UN*1***1~
LX*2~
```
LX 1 carries no `DTP*472*D8*...`.

## Fix safety
No fix: only the provider knows the date.

## Outcome
Reject, 277CA STC A6:187 (date of service missing), one finding per line.

## References
- 005010X222A1, 2400 DTP*472 (required)
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import line_label
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject each 2400 line that carries no DTP*472."""
    findings = tuple(
        RULE.line_finding(
            line,
            f"{line_label(line)} has no DTP*472 service date; expected DTP*472*D8 or RD8 "
            "on every service line",
        )
        for line in claim.lines
        if line.service_date is None
    )
    return RuleResult(findings=findings) if findings else NOTHING


RULE: Final = Rule(
    code="CLM002",
    name="service-date-missing",
    outcome=Outcome.REJECT,
    stc=("A6:187",),
    source="005010X222A1 2400 DTP*472 (required)",
    check=check,
    summary="a 2400 service line has no DTP*472",
)
