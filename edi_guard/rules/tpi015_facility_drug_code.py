"""TPI015 facility-drug-code-on-837p: C9399 on a professional claim.

## What it does
On a claim with a TPI line, finds lines billing C9399 (unclassified drugs or biologicals).

## Why is this bad?
C9399 is a hospital outpatient (OPPS) code, billed on the institutional claim (837I). On a
professional claim it is invalid; the professional NOC drug codes are J3490 and J3590.

## Example
```
SV1*HC:C9399*45*UN*1***1~
```

## Fix safety
No fix: recoding to J3490/J3590 needs the SV101-7 description only the provider has.

## Outcome
Reject, 277CA STC A7:507 (HCPCS).

## References
- CMS Billing and Coding Article A59553: C9399 is for facility claims
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import drugs, line_label, tpi_view
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject each line billing a facility-only drug code (C9399)."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    facility_only = drugs(context).facility_only_codes
    if facility_only.isdisjoint(view.codes):
        return NOTHING
    findings = tuple(
        RULE.line_finding(
            line,
            f"{line_label(line)}: {line.procedure.code} is a facility (837I) code, not billable "
            "on a professional claim; expected J3490 or J3590 with SV101-7 for an unclassified "
            "drug",
        )
        for line in claim.lines
        if line.procedure.code in facility_only
    )
    return RuleResult(findings=findings) if findings else NOTHING


RULE: Final = Rule(
    code="TPI015",
    name="facility-drug-code-on-837p",
    outcome=Outcome.REJECT,
    stc=("A7:507",),
    source="CMS Article A59553: C9399 is for facility claims",
    check=check,
    summary="C9399 on an 837P",
)
