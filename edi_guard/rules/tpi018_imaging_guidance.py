"""TPI018 imaging-guidance-with-tpi: imaging guidance billed on the day of a TPI.

## What it does
Finds imaging guidance lines (76942 ultrasound, 77002 fluoroscopy, 77021 MR guidance) on the
same day as a TPI line of the claim, unless the guidance line carries GA (advance beneficiary
notice on file) or GZ (expected denial, no notice).

## Why is this bad?
The trigger point injection LCDs consider imaging guidance not reasonable and necessary for
these injections: the guidance line is denied, and without an ABN the provider cannot bill the
patient for it.

## Example
```
SV1*HC:20553*180*UN*1***1~  DTP*472*D8*20260112~
SV1*HC:76942*90*UN*1***1~   DTP*472*D8*20260112~
```

## Fix safety
No fix: GA and GZ attest facts (a signed notice) only the provider knows.

## Outcome
Warn.

## References
- LCDs L34211 and L36859 (Trigger Point Injections): imaging guidance not covered
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import has_advance_notice, line_label, lines_text, tpi_view
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Warn on each same-day imaging guidance line without GA or GZ."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    findings = tuple(
        RULE.line_finding(
            line,
            f"{line_label(line)} is imaging guidance on the same day as the trigger point "
            f"injection on {lines_text(same_day)}; not covered for 20552/20553 under the LCD: "
            "expect a denial, and bill with GA (notice on file) or GZ to say so",
        )
        for line in view.imaging_guidance_lines
        if not has_advance_notice(line) and (same_day := view.tpi_lines_on(line))
    )
    return RuleResult(findings=findings) if findings else NOTHING


RULE: Final = Rule(
    code="TPI018",
    name="imaging-guidance-with-tpi",
    outcome=Outcome.WARN,
    stc=(),
    source="LCDs L34211 / L36859: imaging guidance not covered with trigger point injections",
    check=check,
    summary="imaging guidance 76942, 77002 or 77021 on the same day as a TPI, without GA/GZ",
)
