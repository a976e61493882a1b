"""TPI008 em-without-modifier-25: an E/M line on the day of a TPI without modifier 25.

## What it does
Finds E/M lines (99202-99205, 99211-99215) on the same day as a TPI line that do not carry
modifier 25, after TPI003 has moved a misplaced 25 from the TPI line. The policy switch
``em_without_25`` decides: ``reject`` (default) or ``warn``.

## Why is this bad?
An E/M on the day of a minor procedure is bundled into it (the decision to inject is part of
the procedure) unless it is significant and separately identifiable, which modifier 25
attests. Without 25 the E/M is denied; adding 25 would attest a clinical fact only the
provider can.

## Example
```
SV1*HC:99213*120*UN*1***1~
SV1*HC:20553*180*UN*1***1~
```

## Fix safety
No fix: this rule never adds modifier 25.

## Outcome
Reject (policy ``em_without_25``: reject / warn), 277CA STC A8:453 (procedure modifier).

## References
- NCCI Policy Manual for Medicare Services, chapter I, section D (evaluation and management
  services on the day of a procedure)
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.policy import RejectOrWarn
from edi_guard.rules._lines import line_label, lines_text, tpi_view
from edi_guard.rules.base import NOTHING, Finding, Outcome, Rule, RuleContext, RuleResult

SEPARATE_EM: Final = "25"


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject (or warn on) each same-day E/M line that lacks modifier 25."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    outcome = Outcome.WARN if context.policy.em_without_25 is RejectOrWarn.WARN else Outcome.REJECT
    findings: list[Finding] = []
    for line in view.em_lines:
        if line.procedure.has_modifier(SEPARATE_EM):
            continue
        same_day = view.tpi_lines_on(line)
        if not same_day:
            continue
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} is an E/M on the same day as the trigger point injection "
                f"on {lines_text(same_day)} without modifier 25; it is bundled into the "
                "injection unless the provider attests a separately identifiable E/M with 25",
                outcome=outcome,
            )
        )
    return RuleResult(findings=tuple(findings)) if findings else NOTHING


RULE: Final = Rule(
    code="TPI008",
    name="em-without-modifier-25",
    outcome=Outcome.REJECT,
    stc=("A8:453",),
    source="NCCI Policy Manual ch. I section D: E/M on the day of a procedure needs 25",
    check=check,
    summary="E/M line on the same day as a TPI line without modifier 25",
)
