"""TPI003 tpi-modifier-25-misplaced: modifier 25 on a trigger point injection line.

## What it does
Finds TPI lines carrying modifier 25. When an E/M line (99202-99205, 99211-99215) on the same
day lacks 25 and has room for one more modifier, the 25 is moved there (appended after its
existing modifiers); otherwise it is removed from the TPI line.

## Why is this bad?
Modifier 25 marks a significant, separately identifiable E/M service on the day of a
procedure: it belongs on the E/M code, never on the procedure. On a TPI line it is invalid and
leaves the E/M looking bundled into the injection.

## Example
```
SV1*HC:99213*120*UN*1***1~
SV1*HC:20553:25*180*UN*1***1~
```
After the fix:
```
SV1*HC:99213:25*120*UN*1***1~
SV1*HC:20553*180*UN*1***1~
```

## Fix safety
The provider attested a separate E/M by putting 25 on the claim; moving it to the line where
it belongs changes no clinical statement, adds no modifier the claim did not carry, and keeps
every charge. An E/M line without 25 is left to TPI008, which never adds one.

## Outcome
Correct, 277CA STC A7:453 (procedure modifier).

## References
- NCCI Policy Manual for Medicare Services, chapter I (general correct coding policies):
  modifier 25 is appended to the E/M service
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim, ServiceLine
from edi_guard.rules._lines import line_label, same_day, tpi_view, without_modifier
from edi_guard.rules.base import (
    NOTHING,
    Edit,
    Finding,
    Outcome,
    Rule,
    RuleContext,
    RuleResult,
    SetModifiers,
)

SEPARATE_EM: Final = "25"
MAX_MODIFIERS: Final = 4


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Move modifier 25 from each TPI line to a same-day E/M line without it, else drop it."""
    view = tpi_view(claim, context)
    if view is None or not any(line.procedure.has_modifier(SEPARATE_EM) for line in view.tpi_lines):
        return NOTHING
    given: set[int] = set()  # E/M lines that receive 25 in this pass
    findings: list[Finding] = []
    edits: list[Edit] = []
    for line in view.tpi_lines:
        if not line.procedure.has_modifier(SEPARATE_EM):
            continue
        edits.append(
            SetModifiers(line.sv1_position, without_modifier(line.procedure.modifiers, SEPARATE_EM))
        )
        target = _em_line_for(view.em_lines, line, given)
        if target is None:
            message = (
                f"{line_label(line)}: modifier 25 does not belong on a procedure, and no E/M "
                "line on the same day lacks it; modifier 25 removed"
            )
        else:
            given.add(target.sv1_position)
            edits.append(
                SetModifiers(target.sv1_position, (*target.procedure.modifiers, SEPARATE_EM))
            )
            message = (
                f"{line_label(line)}: modifier 25 belongs on the E/M service; moved to "
                f"{line_label(target)} on the same day"
            )
        findings.append(RULE.line_finding(line, message))
    return RuleResult(findings=tuple(findings), edits=tuple(edits))


def _em_line_for(
    em_lines: tuple[ServiceLine, ...], tpi_line: ServiceLine, taken: set[int]
) -> ServiceLine | None:
    for line in em_lines:
        if (
            line.sv1_position not in taken
            and not line.procedure.has_modifier(SEPARATE_EM)
            and len(line.procedure.modifiers) < MAX_MODIFIERS
            and same_day(line, tpi_line)
        ):
            return line
    return None


RULE: Final = Rule(
    code="TPI003",
    name="tpi-modifier-25-misplaced",
    outcome=Outcome.CORRECT,
    stc=("A7:453",),
    source="NCCI Policy Manual ch. I: modifier 25 belongs on the E/M",
    check=check,
    summary="modifier 25 on a TPI line",
)
