"""TPI002 tpi-bilateral-modifier: modifier 50 on a trigger point injection line.

## What it does
Finds TPI lines carrying modifier 50 (bilateral procedure), removes it, shifts the modifiers
after it to the left, and sets SV104 to 1 if it is not already.

## Why is this bad?
20552 and 20553 count muscles, both sides together: a bilateral session is still one session,
and the muscles of both sides add up to choose the code. The MACs' billing articles state that
modifier 50 is not billable with these codes; the line is denied as billed.

## Example
```
SV1*HC:20553:50:GA*180*UN*2***1~
```
After the fix:
```
SV1*HC:20553:GA*180*UN*1***1~
```

## Fix safety
Safe: the modifier is removed, the charge stays. If both sides made 3+ muscles of a 20552, the
provider must rebill 20553: this rule never upcodes.

## Outcome
Correct, 277CA STC A7:453 (procedure modifier).

## References
- CMS Billing and Coding Articles A57701 and A59480: modifier 50 not billable with 20552/20553
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import ONE, line_label, tpi_view, without_modifier
from edi_guard.rules.base import (
    NOTHING,
    Edit,
    Finding,
    Outcome,
    Rule,
    RuleContext,
    RuleResult,
    SetModifiers,
    SetUnits,
)

BILATERAL: Final = "50"


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Remove modifier 50 from every TPI line (and keep SV104 at 1)."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    findings: list[Finding] = []
    edits: list[Edit] = []
    for line in view.tpi_lines:
        if not line.procedure.has_modifier(BILATERAL):
            continue
        edits.append(
            SetModifiers(line.sv1_position, without_modifier(line.procedure.modifiers, BILATERAL))
        )
        units_note = ""
        if line.units != ONE:
            edits.append(SetUnits(line.sv1_position, ONE))
            units_note = " and SV104 set to 1"
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)}: modifier 50 is not billable with {line.procedure.code} "
                f"(one session covers both sides); modifier 50 removed{units_note}, "
                "SV102 charge kept",
            )
        )
    if not edits:
        return NOTHING
    return RuleResult(findings=tuple(findings), edits=tuple(edits))


RULE: Final = Rule(
    code="TPI002",
    name="tpi-bilateral-modifier",
    outcome=Outcome.CORRECT,
    stc=("A7:453",),
    source="CMS Articles A57701 / A59480: modifier 50 not billable with 20552/20553",
    check=check,
    summary="modifier 50 on a TPI line",
)
