"""TPI004 tpi-20553-repeated-same-day: two or more 20553 lines on the same day in one claim.

## What it does
Within one claim, keeps the first 20553 line of each date of service and drops every later
20553 line that shares a day with a kept one (an RD8 range counts for each of its days). The
claim total (CLM02) is recomputed from the remaining lines and LX renumbered.

## Why is this bad?
20553 already covers "3 or more muscles", however many sides or regions: one session per date
of service. A split by side (an RT line and an LT line) or by region is denied line by line and
flags the provider for unbundling.

## Example
```
LX*1~  SV1*HC:20553:RT*180*UN*1***1~  DTP*472*D8*20260112~
LX*2~  SV1*HC:20553:LT*180*UN*1***1~  DTP*472*D8*20260112~
```
After the fix: LX 2 is gone and CLM02 no longer counts its 180.

## Fix safety
The kept line keeps its charge; the dropped line's charge leaves the claim. If the split was
meant to show more work, that work is already what 20553 pays for.

## Outcome
Correct, 277CA STC A8:454 (procedure code), one finding per dropped line.

## References
- CMS Billing and Coding Article A59480 and payer notices: one of 20552/20553 per date of
  service
"""

from __future__ import annotations

from datetime import date
from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import CODE_20553, line_label, tpi_view
from edi_guard.rules.base import (
    NOTHING,
    DropLine,
    Finding,
    Outcome,
    Rule,
    RuleContext,
    RuleResult,
)


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Drop every 20553 line after the first on the same day."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    lines = [line for line in view.tpi_lines if line.procedure.code == CODE_20553]
    if len(lines) < 2:
        return NOTHING
    kept_days: dict[date, str] = {}  # day -> LX01 of the kept 20553 line
    findings: list[Finding] = []
    drops: list[DropLine] = []
    for line in lines:
        days = line.service_days()
        kept = next((kept_days[day] for day in days if day in kept_days), None)
        if kept is None:
            kept_days.update(dict.fromkeys(days, line.line_number))
            continue
        drops.append(DropLine(line.lx_position))
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} repeats 20553 on the same day as LX {kept}: one 20553 per "
                f"date of service; LX {line.line_number} dropped, LX {kept} kept with its charge",
            )
        )
    if not drops:
        return NOTHING
    return RuleResult(findings=tuple(findings), edits=tuple(drops))


RULE: Final = Rule(
    code="TPI004",
    name="tpi-20553-repeated-same-day",
    outcome=Outcome.CORRECT,
    stc=("A8:454",),
    source="CMS Article A59480; payer notices: one of 20552/20553 per date of service",
    check=check,
    summary="two or more 20553 lines on the same day in one claim",
)
