"""TPI013 noc-drug-description-missing: a not-otherwise-classified drug line without SV101-7.

## What it does
On a claim with a TPI line, finds NOC drug lines (J3490, J3590) with an empty SV101-7. When
the line carries a 2400 NTE, its text (NTE02, at most 80 characters, like SV101-7) is copied
into SV101-7 and a warning asks the submitter to fill SV101-7 at the source. Without an NTE the
line is rejected.

## Why is this bad?
A NOC code says nothing about the drug: the Medicare contractors price it from SV101-7, the
electronic "Box 19" (drug name, strength, dosage), with the line NTE02 as overflow. An empty
SV101-7 is rejected at the payer's front end.

## Example
```
SV1*HC:J3490*45*UN*1***1~
NTE*ADD*ORPHENADRINE CITRATE 60MG/2ML~
```
After the fix:
```
SV1*HC:J3490:::::ORPHENADRINE CITRATE 60MG/2ML*45*UN*1***1~
NTE*ADD*ORPHENADRINE CITRATE 60MG/2ML~
```

## Fix safety
Safe when the line's NTE describes the drug, which is what the contractors read it for: the
text is moved, not written. The warning lets the submitter check it.

## Outcome
Correct (with a warn) when the line has an NTE, otherwise reject; 277CA STC A6:217 (drug name,
strength and dosage).

## References
- MAC instructions (CGS, Palmetto GBA, WPS): SV101-7 is the electronic "Box 19" for NOC drugs;
  NTE02 carries the overflow
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import drugs, line_label, tpi_view
from edi_guard.rules.base import (
    NOTHING,
    Edit,
    Finding,
    Outcome,
    Rule,
    RuleContext,
    RuleResult,
    SetDescription,
)

MAX_DESCRIPTION: Final = 80
"""SV101-7 holds at most 80 characters (005010X222A1)."""


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Fill an empty SV101-7 of a NOC drug line from its NTE02, or reject the line."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    noc_codes = drugs(context).noc_codes
    if noc_codes.isdisjoint(view.codes):
        return NOTHING
    findings: list[Finding] = []
    edits: list[Edit] = []
    for line in claim.lines:
        if line.procedure.code not in noc_codes or line.procedure.description.strip():
            continue
        text = next((note.text.strip() for note in line.notes if note.text.strip()), "")
        if not text:
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)} is a not-otherwise-classified drug with no SV101-7 "
                    "description and no line note; expected the drug name, strength and dose "
                    "in SV101-7",
                    outcome=Outcome.REJECT,
                )
            )
            continue
        copied = text[:MAX_DESCRIPTION]
        cut = " (cut to 80 characters)" if len(text) > MAX_DESCRIPTION else ""
        edits.append(SetDescription(line.sv1_position, copied))
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} is a not-otherwise-classified drug with no SV101-7 "
                f"description; the line note (NTE02) copied into SV101-7{cut}",
            )
        )
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)}: SV101-7 was filled from the line note; check that it "
                "names the drug, strength and dose, and fill SV101-7 at the source",
                outcome=Outcome.WARN,
            )
        )
    if not findings:
        return NOTHING
    return RuleResult(findings=tuple(findings), edits=tuple(edits))


RULE: Final = Rule(
    code="TPI013",
    name="noc-drug-description-missing",
    outcome=Outcome.CORRECT,
    stc=("A6:217",),
    source=(
        "MAC instructions (CGS, Palmetto, WPS): SV101-7 is the electronic Box 19 for NOC "
        "drugs; NTE02 overflow"
    ),
    check=check,
    summary="NOC drug line (J3490/J3590) with an empty SV101-7",
)
