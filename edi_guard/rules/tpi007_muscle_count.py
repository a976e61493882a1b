"""TPI007 tpi-muscle-count-mismatch: the notes' muscle count does not support the code.

## What it does
Counts the distinct muscles the claim's notes name for each TPI line: the line's 2400 NTE, or
the claim's 2300 NTE when the line has none. A distinct muscle is (muscle, side): left and
right trapezius are two, "bilateral trapezius" is two, a muscle without a side counts once;
synonyms and abbreviations ("SCM", "QL", "levator scap") are one muscle. The vocabulary is
``schemas/muscles.json`` (or the policy's ``muscle_vocabulary``). Three conditions:

- a 20553 line whose notes name only 1 or 2 distinct muscles: the policy switch
  ``muscle_shortfall`` decides: ``reject`` (default), ``downcode-to-20552`` (SV101-2 becomes
  20552, the charge stays) or ``warn``;
- a 20552 line whose notes name 3 or more distinct muscles: warn, a possible undercode that
  only the provider may rebill;
- notes that describe the sites by region only ("neck", "upper back", "paraspinal") and name
  no muscle: warn.

A line whose notes name neither muscles nor regions is not judged: the claim carries no
documentation to count.

## Why is this bad?
CPT counts muscles, not injections or trigger points: 20552 is 1 or 2 muscles, 20553 is 3 or
more. A 20553 documented with two muscles is overcoded and recovered in audits; auditors treat
regions as insufficient documentation for 20553.

## Example
```
SV1*HC:20553*180*UN*1***1~
NTE*ADD*TPI LEFT TRAPEZIUS AND LEFT LEVATOR SCAPULAE~
```
Two muscles: the session is 20552. With ``muscle_shortfall = "downcode-to-20552"``:
```
SV1*HC:20552*180*UN*1***1~
```

## Fix safety
The downcode is opt-in: it lowers the code to what the notes support and never raises one; the
line's charge stays as billed (the payer prices the code). Reject is the default because the
notes on a claim are a summary, and the chart may name more muscles.

## Outcome
Reject (policy ``muscle_shortfall``: reject / downcode-to-20552 / warn), 277CA STC A7:454
(procedure code); warn for a possible undercode and for region-only notes.

## References
- CPT 20552/20553 descriptors: count muscles, not injections; 3 or more muscles for 20553
- MAC audit guidance: regions ("neck", "back") are insufficient documentation for 20553
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim, ServiceLine
from edi_guard.policy import MuscleShortfall
from edi_guard.rules._lines import (
    CODE_20552,
    CODE_20553,
    line_label,
    muscles,
    tpi_view,
)
from edi_guard.rules.base import (
    NOTHING,
    Edit,
    Finding,
    Outcome,
    Rule,
    RuleContext,
    RuleResult,
    SetProcedureCode,
)

MIN_MUSCLES_20553: Final = 3

_SHORTFALL_OUTCOMES: Final = {
    MuscleShortfall.REJECT: Outcome.REJECT,
    MuscleShortfall.DOWNCODE: Outcome.CORRECT,
    MuscleShortfall.WARN: Outcome.WARN,
}


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Compare each TPI line's code with the distinct muscles its notes name."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    if not claim.notes and not any(line.notes for line in view.tpi_lines):
        return NOTHING
    vocabulary = muscles(context)
    findings: list[Finding] = []
    edits: list[Edit] = []
    for line in view.tpi_lines:
        texts, where = _notes_for(claim, line)
        if not texts:
            continue
        counted = vocabulary.count(texts)
        code = line.procedure.code
        if counted.region_only:
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)}: the {where} describe the injection sites by region "
                    "only and name no muscle; auditors count named muscles (1-2 for 20552, "
                    "3 or more for 20553)",
                    outcome=Outcome.WARN,
                )
            )
        elif code == CODE_20553 and 0 < counted.count < MIN_MUSCLES_20553:
            findings.append(_shortfall(line, counted.count, where, context, edits))
        elif code == CODE_20552 and counted.count >= MIN_MUSCLES_20553:
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)}: the {where} name {counted.count} distinct muscles, "
                    "which is 20553 (3 or more); possible undercode, only the provider may "
                    "rebill it",
                    outcome=Outcome.WARN,
                )
            )
    if not findings:
        return NOTHING
    return RuleResult(findings=tuple(findings), edits=tuple(edits))


def _notes_for(claim: Claim, line: ServiceLine) -> tuple[list[str], str]:
    """The texts that document ``line``: its 2400 NTE, else the claim's 2300 NTE."""
    if line.notes:
        return [note.text for note in line.notes if note.text], "line notes (2400 NTE)"
    return [note.text for note in claim.notes if note.text], "claim notes (2300 NTE)"


def _shortfall(
    line: ServiceLine, count: int, where: str, context: RuleContext, edits: list[Edit]
) -> Finding:
    outcome = _SHORTFALL_OUTCOMES[context.policy.muscle_shortfall]
    found = f"{line_label(line)}: the {where} name {count} distinct muscle{'s' * (count > 1)}"
    if outcome is Outcome.CORRECT:
        edits.append(SetProcedureCode(line.sv1_position, CODE_20552))
        message = f"{found}; 20553 needs 3 or more: downcoded to 20552, SV102 charge kept"
    else:
        message = f"{found}; 20553 needs 3 or more: bill 20552, or document the muscles injected"
    return RULE.line_finding(line, message, outcome=outcome)


RULE: Final = Rule(
    code="TPI007",
    name="tpi-muscle-count-mismatch",
    outcome=Outcome.REJECT,
    stc=("A7:454",),
    source="CPT 20552/20553: count muscles, not injections; 3 or more muscles for 20553",
    check=check,
    summary="the notes' distinct muscle count does not support the TPI code",
)
