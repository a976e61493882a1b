"""TPI016 single-dose-vial-without-jw-jz: a single-dose drug billed to Medicare without JW or JZ.

## What it does
On a Medicare claim with a TPI line, finds drug lines whose J-code is on the single-dose
container list (the botulinum toxins J0585, J0586, J0587, J0588 by default; ``schemas/
drugs.json`` or the policy's ``drug_vocabulary``) that carry neither JW (amount discarded) nor
JZ (none discarded), for dates of service from 2023-07-01.

## Why is this bad?
Since 2023-07-01 Medicare requires JZ on every single-dose container drug with no waste, and
JW on the line for the discarded amount; claims without them are returned.

## Example
```
SV1*HC:J0585*650*UN*100***1~
```
Expected `SV1*HC:J0585:JZ*...` (or a JW line for the waste).

## Fix safety
No fix: whether any drug was discarded is a clinical fact.

## Outcome
Warn.

## References
- CMS Change Request 13056 (JW/JZ modifier policy, effective 2023-07-01)
"""

from __future__ import annotations

from datetime import date
from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import drugs, line_label, tpi_view
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult

JZ_REQUIRED_FROM: Final = date(2023, 7, 1)


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Warn on each single-dose-vial drug line without JW/JZ on a Medicare claim."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    vocabulary = drugs(context)
    if vocabulary.single_dose_vial_codes.isdisjoint(view.codes):
        return NOTHING
    if not context.policy.is_medicare(claim.claim_filing_indicator):
        return NOTHING
    waste = tuple(vocabulary.waste_modifiers)
    findings = tuple(
        RULE.line_finding(
            line,
            f"{line_label(line)} bills a single-dose container drug to Medicare without JW or "
            "JZ; expected JZ when none was discarded, or JW on the line for the discarded "
            "amount",
        )
        for line in claim.lines
        if line.procedure.code in vocabulary.single_dose_vial_codes
        and not line.procedure.has_modifier(*waste)
        and line.service_date is not None
        and line.service_date >= JZ_REQUIRED_FROM
    )
    return RuleResult(findings=findings) if findings else NOTHING


RULE: Final = Rule(
    code="TPI016",
    name="single-dose-vial-without-jw-jz",
    outcome=Outcome.WARN,
    stc=(),
    source="CMS CR 13056: JW/JZ on single-dose container drugs since 2023-07-01",
    check=check,
    summary="single-dose-vial drug for a Medicare payer without JW or JZ",
)
