"""TPI019 ncci-ptp-pair-with-tpi: an NCCI procedure-to-procedure edit pairs a line with a TPI.

## What it does
For each TPI line and each other line of the claim on the same day, looks the pair up in the
PTP table (the shipped public-record pairs in ``schemas/ptp.json``, or the CMS quarterly
practitioner file the user installed) for that date of service:

- modifier indicator 0: the pair is never billable together; the column-2 line is reported;
- modifier indicator 1: billable together only with an NCCI-associated modifier on the
  column-2 line (anatomic E1-E4, FA, F1-F9, TA, T1-T9, LT, RT, LC, LD, LM, RC, RI; global
  surgery 24, 25, 57, 58, 78, 79; 27, 59, 91, XE, XS, XP, XU); without one it is reported;
- modifier indicator 9 (edit void) and pairs not in the table pass.

## Why is this bad?
NCCI bundles the column-2 code into the column-1 code when both are billed on one day by one
provider: the column-2 line is denied, and repeated unbundling draws audits.

## Example
```
SV1*HC:64493*400*UN*1***1~  DTP*472*D8*20260112~
SV1*HC:20553*180*UN*1***1~  DTP*472*D8*20260112~
```
64493 (column 1) with 20553 (column 2), indicator 1, and no modifier on the 20553 line.

## Fix safety
No fix: 59 and the X modifiers attest a distinct encounter, site or practitioner; this rule
never adds them.

## Outcome
Reject: 277CA STC A8:454 with A8:735 (included in another service) for indicator 0, A8:453
(procedure modifier) for indicator 1.

## References
- CMS NCCI procedure-to-procedure edits (quarterly practitioner PTP file)
- NCCI Policy Manual ch. I: NCCI-associated modifiers
"""

from __future__ import annotations

from datetime import date
from typing import Final

from edi_guard import vocab
from edi_guard.model.claim import Claim, ServiceLine
from edi_guard.ptp import ModifierIndicator
from edi_guard.rules._lines import line_label, same_day, tpi_view
from edi_guard.rules.base import NOTHING, Finding, Outcome, Rule, RuleContext, RuleResult

INDICATOR_0_STC: Final = ("A8:454", "A8:735")
INDICATOR_1_STC: Final = ("A8:453",)


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject each column-2 line of a same-day PTP pair with a TPI line, as the indicator says."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    others = [line for line in view.other_lines if line.service_date is not None]
    if not others:
        return NOTHING
    findings: list[Finding] = []
    reported: set[int] = set()  # column-2 SV1 positions already reported
    for tpi_line in view.tpi_lines:
        for other in others:
            day = _shared_day(tpi_line, other)
            if day is None:
                continue
            edit = context.ptp.lookup(tpi_line.procedure.code, other.procedure.code, on=day)
            if edit is None or edit.modifier_indicator is ModifierIndicator.NOT_APPLICABLE:
                continue
            column2 = other if other.procedure.code == edit.column2 else tpi_line
            column1 = tpi_line if column2 is other else other
            if column2.sv1_position in reported:
                continue
            finding = _finding(edit.modifier_indicator, column1, column2)
            if finding is not None:
                reported.add(column2.sv1_position)
                findings.append(finding)
    return RuleResult(findings=tuple(findings)) if findings else NOTHING


def _shared_day(first: ServiceLine, second: ServiceLine) -> date | None:
    if first.service_date_end is None and second.service_date_end is None:  # D8 and D8
        return first.service_date if first.service_date == second.service_date else None
    if not same_day(first, second):
        return None
    return min(set(first.service_days()).intersection(second.service_days()))


def _finding(
    indicator: ModifierIndicator, column1: ServiceLine, column2: ServiceLine
) -> Finding | None:
    pair = f"{column2.procedure.code} is column 2 to {line_label(column1)}"
    if indicator is ModifierIndicator.NOT_ALLOWED:
        return RULE.finding(
            f"{line_label(column2)}: {pair} in an NCCI PTP edit with modifier indicator 0; "
            "the pair is not billable on the same day, no modifier bypasses it",
            line=column2.line_number,
            stc=INDICATOR_0_STC,
            sv1_position=column2.sv1_position,
        )
    if any(vocab.is_ncci_associated_modifier(m) for m in column2.procedure.modifiers):
        return None
    return RULE.finding(
        f"{line_label(column2)}: {pair} in an NCCI PTP edit with modifier indicator 1, and "
        "the column-2 line carries no NCCI-associated modifier; bundled unless the provider "
        "documents a distinct service (modifiers are never added here)",
        line=column2.line_number,
        stc=INDICATOR_1_STC,
        sv1_position=column2.sv1_position,
    )


RULE: Final = Rule(
    code="TPI019",
    name="ncci-ptp-pair-with-tpi",
    outcome=Outcome.REJECT,
    stc=INDICATOR_0_STC,
    source="CMS NCCI procedure-to-procedure (PTP) edits, practitioner file",
    check=check,
    summary="NCCI PTP pair with a TPI code: indicator 0, or 1 without an associated modifier",
)
