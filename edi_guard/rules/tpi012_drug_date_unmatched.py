"""TPI012 drug-line-date-unmatched: a drug line dated on no day of an injection on the claim.

## What it does
On a claim with a TPI line, finds drug lines (SV101-2 a J-code) whose date of service matches
no injection procedure line of the same claim. Injection procedures are the TPI codes and the
other injection and infusion families a drug is given with: 20500-20553 (sinus tract, tendon
sheath, ganglion, trigger point), 20600-20611 (joint and bursa), 11900-11901 (intralesional),
27096 (sacroiliac), 62320-62327 (epidural), 64400-64530 (somatic and sympathetic nerve
blocks), 64600-64681 (chemodenervation, destruction), 96360-96379 (hydration, therapeutic
injections) and 96401-96549 (chemotherapy administration).

## Why is this bad?
A drug billed on a day with no injection has no administration to go with it: the payer
denies it, and a date typed on the wrong line often hides a missing injection line.

## Example
```
LX*1~  SV1*HC:20553*180*UN*1***1~  DTP*472*D8*20260112~
LX*2~  SV1*HC:J3301*60*UN*4***1~   DTP*472*D8*20260113~
```

## Fix safety
No fix: either date may be the wrong one.

## Outcome
Reject, 277CA STC A8:216 (drug information), one finding per drug line.

## References
- CMS Billing and Coding Articles A57701 and A59553: the drug goes on the same claim as the
  injection
"""

from __future__ import annotations

from datetime import date
from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import code_kind, line_label, tpi_view
from edi_guard.rules.base import NOTHING, Finding, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject each drug line dated on no day of an injection procedure line."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    drug_lines = view.drug_lines
    if not drug_lines:
        return NOTHING
    injection_days: set[date] = set(view.tpi_days)
    for line in view.other_lines:
        if code_kind(line.procedure.code).injection:
            injection_days.update(line.service_days())
    findings: list[Finding] = []
    for line in drug_lines:
        days = line.service_days()
        if not days or not injection_days.isdisjoint(days):
            continue  # no date at all is CLM002's finding
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} is a drug line whose date of service matches no injection "
                "procedure line on this claim; expected the drug on the day it was injected",
            )
        )
    return RuleResult(findings=tuple(findings)) if findings else NOTHING


RULE: Final = Rule(
    code="TPI012",
    name="drug-line-date-unmatched",
    outcome=Outcome.REJECT,
    stc=("A8:216",),
    source="CMS Articles A57701 / A59553: the drug goes on the same claim as the injection",
    check=check,
    summary="drug line dated on no day of an injection procedure line of the TPI claim",
)
