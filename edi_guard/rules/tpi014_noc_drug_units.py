"""TPI014 noc-drug-units-not-one: a not-otherwise-classified drug line with units other than 1.

## What it does
On a claim with a TPI line, finds NOC drug lines (J3490, J3590) whose units (SV104) are not 1.
When SV101-7 states the dose (a number with a unit such as "60MG", "2 ML", "100 UNITS"), SV104
is set to 1, the charge kept. Otherwise the line is rejected: the units may be the only place
the quantity was given. Runs after TPI013, so a description copied from the line note counts.

## Why is this bad?
A NOC code has no dosage descriptor, so units carry no meaning: the contractors price the
drug from the dose written in SV101-7 and ask for 1 unit. Any other count is rejected or
mispriced.

## Example
```
SV1*HC:J3490:::::ORPHENADRINE CITRATE 60MG*45*UN*2***1~
```
After the fix:
```
SV1*HC:J3490:::::ORPHENADRINE CITRATE 60MG*45*UN*1***1~
```

## Fix safety
Safe when SV101-7 carries the dose: the quantity is stated there, and the charge stays.

## Outcome
Correct when SV101-7 carries the dose, otherwise reject; 277CA STC A7:476 (units of service).

## References
- WPS Government Health Administrators: bill NOC drugs as 1 unit, the dose in the description
"""

from __future__ import annotations

import re
from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import ONE, drugs, line_label, tpi_view, units_text
from edi_guard.rules.base import (
    NOTHING,
    Edit,
    Finding,
    Outcome,
    Rule,
    RuleContext,
    RuleResult,
    SetUnits,
)

DOSE: Final = re.compile(
    r"\d+(?:\.\d+)?\s*(?:MG|MCG|G|GM|GRAMS?|ML|CC|UNITS?|IU|U|MEQ|MMOL|%)(?![A-Z])",
    re.IGNORECASE,
)
"""A dose: a number and a unit of mass, volume, activity or concentration ("60MG", "2 ML")."""


def carries_dose(description: str) -> bool:
    return DOSE.search(description) is not None


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Set SV104 to 1 on a NOC drug line whose SV101-7 states the dose; else reject it."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    noc_codes = drugs(context).noc_codes
    if noc_codes.isdisjoint(view.codes):
        return NOTHING
    findings: list[Finding] = []
    edits: list[Edit] = []
    for line in claim.lines:
        if line.procedure.code not in noc_codes or line.units == ONE:
            continue
        if carries_dose(line.procedure.description):
            edits.append(SetUnits(line.sv1_position, ONE))
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)} is a not-otherwise-classified drug billed with "
                    f"{units_text(line.units)}; NOC drugs are billed as 1 unit with the dose "
                    "in SV101-7: SV104 set to 1, SV102 charge kept",
                )
            )
        else:
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)} is a not-otherwise-classified drug billed with "
                    f"{units_text(line.units)} and SV101-7 states no dose; expected SV104 = 1 "
                    "and the dose (e.g. 60MG) in SV101-7",
                    outcome=Outcome.REJECT,
                )
            )
    if not findings:
        return NOTHING
    return RuleResult(findings=tuple(findings), edits=tuple(edits))


RULE: Final = Rule(
    code="TPI014",
    name="noc-drug-units-not-one",
    outcome=Outcome.CORRECT,
    stc=("A7:476",),
    source="WPS: bill NOC drugs as 1 unit, the dose in SV101-7",
    check=check,
    summary="NOC drug line (J3490/J3590) with SV104 other than 1",
)
