"""TPI011 tpi-drug-line-missing: the notes name a separately billed drug, no drug line bills it.

## What it does
On a claim with a TPI line and no drug line (no SV101-2 J-code), reads the claim's notes (2300
and 2400 NTE) and every SV101-7 description for an injectable drug that is billed separately
from the injection: a corticosteroid, ketorolac, a botulinum toxin (``schemas/drugs.json``, or
the policy's ``drug_vocabulary``). The policy switch ``drug_line_missing`` decides: ``reject``
(default) or ``warn``.

Only drugs named by name or brand count ("triamcinolone", "Kenalog-40", "Toradol"); a class
word alone ("steroid") does not, since the notes' negations are not read. Local anesthetics
(lidocaine, bupivacaine...) are bundled into 20552/20553: a note naming only them needs no
drug line.

## Why is this bad?
The drug is billed with its J-code on the same claim as the injection. A claim without it
loses the drug payment, and a drug line sent later on another claim is denied for lack of an
injection on it.

## Example
```
NTE*ADD*TPI BILAT TRAPEZIUS, L RHOMBOID WITH KENALOG 40MG AND LIDOCAINE~
SV1*HC:20553*180*UN*1***1~
```
and no `SV1*HC:J3301...` line.

## Fix safety
No fix: a drug line needs the code, dose, units, NDC and charge only the provider has.

## Outcome
Reject (policy ``drug_line_missing``: reject / warn), 277CA STC A6:216 (drug information).

## References
- CMS Billing and Coding Articles A57701 and A59553: the drug goes on the same claim as the
  injection; local anesthetic is included in 20552/20553
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.policy import RejectOrWarn
from edi_guard.rules._lines import drugs, tpi_view
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject (or warn on) a TPI claim whose text names a billable drug it does not bill."""
    view = tpi_view(claim, context)
    if view is None or view.drug_lines:
        return NOTHING
    vocabulary = drugs(context)
    places: list[str] = []
    if claim.notes and vocabulary.mentioned(note.text for note in claim.notes):
        places.append("the claim note (2300 NTE)")
    for line in claim.lines:
        if line.notes and vocabulary.mentioned(note.text for note in line.notes):
            places.append(f"the LX {line.line_number} note (2400 NTE)")
        if line.procedure.description and vocabulary.mentioned((line.procedure.description,)):
            places.append(f"LX {line.line_number} SV101-7")
    if not places:
        return NOTHING
    outcome = (
        Outcome.WARN if context.policy.drug_line_missing is RejectOrWarn.WARN else Outcome.REJECT
    )
    message = (
        f"{_join(places)} name{'s' * (len(places) == 1)} an injectable drug billed separately "
        "from the trigger point injection, but the claim has no drug line (SV101-2 J-code); "
        "expected the drug's J-code line on the same claim"
    )
    return RuleResult(findings=(RULE.finding(message, outcome=outcome),))


def _join(places: list[str]) -> str:
    if len(places) == 1:
        return places[0]
    return ", ".join(places[:-1]) + " and " + places[-1]


RULE: Final = Rule(
    code="TPI011",
    name="tpi-drug-line-missing",
    outcome=Outcome.REJECT,
    stc=("A6:216",),
    source=(
        "CMS Articles A57701 / A59553: the drug goes on the same claim; local anesthetic is bundled"
    ),
    check=check,
    summary="TPI claim without a drug line while its notes or SV101-7 name a billable drug",
)
