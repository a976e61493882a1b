"""TPI020 tpi-diagnosis-not-billable: a TPI line points at no billable or covered diagnosis.

## What it does
Reads the diagnoses each TPI line points at (SV107, positions into the 2300 HI codes):

- when every diagnosis it points at is not a billable leaf code (a category or subcategory
  that has children, such as bare M79.1, split into M79.10-M79.18 in FY2023; or a malformed
  code), the line is rejected;
- when some are billable but none is on the payer's covered list (policy
  ``covered_diagnoses``, default M79.1x and M62.83x), it warns.

Pointers to no HI code are the validator's concern and are not judged here.

## Why is this bad?
Payers reject a claim line whose diagnoses are not coded to the greatest specificity. The
trigger point injection LCDs cover a listed group of diagnoses; other diagnoses are denied as
not reasonable and necessary.

## Example
```
HI*ABK:M791~
SV1*HC:20553*180*UN*1***1~
```
M79.1 is a header since FY2023: expected M79.10, M79.11, M79.12 or M79.18.

## Fix safety
No fix: choosing the specific code is the provider's.

## Outcome
Reject, 277CA STC A7:255 (diagnosis code) with A7:772 (greatest specificity); warn when the
diagnoses are billable but not covered.

## References
- ICD-10-CM official guidelines: code to the highest specificity (FY2023 split of M79.1)
- LCDs L34211 and L36859: covered ICD-10-CM code groups (configurable per payer)
"""

from __future__ import annotations

from typing import Final

from edi_guard import vocab
from edi_guard.model.claim import Claim
from edi_guard.rules._lines import line_label, tpi_view
from edi_guard.rules.base import NOTHING, Finding, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject a TPI line pointing only at non-billable codes; warn if none is covered."""
    view = tpi_view(claim, context)
    if view is None:
        return NOTHING
    covered = context.policy.covered_diagnoses
    diagnoses = claim.diagnoses
    count = len(diagnoses)
    findings: list[Finding] = []
    for line in view.tpi_lines:
        # One pass over SV107 without building lists: most lines point at a covered code.
        pointed = billable = covered_found = False
        for pointer in line.diagnosis_pointers:
            if not 1 <= pointer <= count:
                continue
            pointed = True
            code = diagnoses[pointer - 1]
            if vocab.diagnosis_billable(code):
                billable = True
                if not covered_found and vocab.diagnosis_covered(code, covered):
                    covered_found = True
        if not pointed:
            continue
        if not billable:
            positions = [
                position
                for position, pointer in enumerate(line.diagnosis_pointers, start=1)
                if 1 <= pointer <= count
            ]
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)}: {_positions(positions)} "
                    "not a billable leaf code; expected an ICD-10-CM code at its greatest "
                    "specificity",
                )
            )
        elif not covered_found:
            findings.append(
                RULE.line_finding(
                    line,
                    f"{line_label(line)}: no diagnosis the line points to (SV107) is on the "
                    "payer's covered list for trigger point injections; expect a medical "
                    "necessity denial",
                    outcome=Outcome.WARN,
                )
            )
    return RuleResult(findings=tuple(findings)) if findings else NOTHING


def _positions(positions: list[int]) -> str:
    """Names SV107 positions, never the codes: diagnosis codes are patient data."""
    if len(positions) == 1:
        return f"the diagnosis pointed to by SV107 position {positions[0]} is"
    listed = ", ".join(str(p) for p in positions[:-1]) + f" and {positions[-1]}"
    return f"the diagnoses pointed to by SV107 positions {listed} are"


RULE: Final = Rule(
    code="TPI020",
    name="tpi-diagnosis-not-billable",
    outcome=Outcome.REJECT,
    stc=("A7:255", "A7:772"),
    source="ICD-10-CM (greatest specificity); LCDs L34211 / L36859 covered code groups",
    check=check,
    summary="TPI line pointing only at non-billable diagnoses, or at none covered",
)
