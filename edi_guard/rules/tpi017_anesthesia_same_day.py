"""TPI017 anesthesia-with-tpi: an anesthesia service on the day of a trigger point injection.

## What it does
Finds lines with an anesthesia code (00100-01999) on the same day as a TPI line of the claim.

## Why is this bad?
Trigger point injections are done under local anesthesia, which is part of the procedure.
The Medicare billing articles list anesthesia for 20552/20553 as not reasonable and necessary;
the line is denied.

## Example
```
SV1*HC:20553*180*UN*1***1~   DTP*472*D8*20260112~
SV1*HC:01992*300*MJ*30***1~  DTP*472*D8*20260112~
```

## Fix safety
No fix: dropping a service line is the provider's call.

## Outcome
Reject, 277CA STC A8:454 (procedure code), on the anesthesia line.

## References
- CMS Billing and Coding Articles A59480 and A59553
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import line_label, lines_text, tpi_view
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject each anesthesia line on the same day as a TPI line."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    findings = tuple(
        RULE.line_finding(
            line,
            f"{line_label(line)} is an anesthesia service on the same day as the trigger point "
            f"injection on {lines_text(same_day)}; anesthesia is not separately payable with "
            "20552/20553",
        )
        for line in view.anesthesia_lines
        if (same_day := view.tpi_lines_on(line))
    )
    return RuleResult(findings=findings) if findings else NOTHING


RULE: Final = Rule(
    code="TPI017",
    name="anesthesia-with-tpi",
    outcome=Outcome.REJECT,
    stc=("A8:454",),
    source="CMS Articles A59480 / A59553: anesthesia not payable with 20552/20553",
    check=check,
    summary="anesthesia code 00100-01999 on the same day as a TPI line",
)
