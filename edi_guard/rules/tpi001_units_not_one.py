"""TPI001 tpi-units-not-one: a trigger point injection line billed with other than one unit.

## What it does
Finds TPI lines (SV101-2 20552 or 20553) whose units (SV104) are not 1 and sets SV104 to 1,
keeping the charge (SV102). When a 20552 line came with 3 or more units it also warns: the
provider may have counted muscles in units, and 3+ muscles is 20553, which only the provider
may bill.

## Why is this bad?
Both codes describe one session ("single or multiple trigger point(s)"), whatever the number of
injections or muscles; the practitioner MUE for 20552 and 20553 is 1 per day. Units above 1 are
denied or cut back by the payer.

## Example
```
SV1*HC:20553*180*UN*3***1~
```
After the fix:
```
SV1*HC:20553*180*UN*1***1~
```

## Fix safety
Safe: units only; the charge of the line stays as billed. Never upcodes a 20552 to 20553.

## Outcome
Correct (277CA STC A7:476, units of service); plus a warn for a 20552 with 3 or more units.

## References
- CPT 20552/20553 descriptors: one unit per session
- CMS practitioner MUE file: 1 per day for 20552 and 20553 (verify against the current file)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import CODE_20552, ONE, line_label, tpi_view, units_text
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

UNDERCODE_UNITS: Final = Decimal(3)


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Set SV104 to 1 on every TPI line; warn on a 20552 billed with 3 or more units."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    findings: list[Finding] = []
    edits: list[Edit] = []
    for line in view.tpi_lines:
        units = line.units
        if units == ONE:
            continue
        edits.append(SetUnits(line.sv1_position, ONE))
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} billed with {units_text(units)}; a trigger point "
                "injection is one unit per session: SV104 set to 1, SV102 charge kept",
            )
        )
        if line.procedure.code == CODE_20552 and units is not None and units >= UNDERCODE_UNITS:
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)} came with {units_text(units)}: if 3 or more muscles "
                    "were injected the session is 20553; only the provider may rebill it",
                    outcome=Outcome.WARN,
                )
            )
    if not edits:
        return NOTHING
    return RuleResult(findings=tuple(findings), edits=tuple(edits))


RULE: Final = Rule(
    code="TPI001",
    name="tpi-units-not-one",
    outcome=Outcome.CORRECT,
    stc=("A7:476",),
    source=(
        "CPT 20552/20553 descriptors (one unit per session); CMS practitioner MUE 1 per day "
        "(verify against the current CMS MUE file)"
    ),
    check=check,
    summary="TPI line with SV104 other than 1",
)
