"""TPI010 tpi-session-duplicate: a TPI session already accepted on another claim.

## What it does
Looks up the beneficiary's recorded TPI sessions (claims accepted or corrected earlier in this
file or in the history store). A TPI line whose date of service is already recorded under a
different claim (a different keyed CLM01 digest) is a duplicate. The same claim sent again
(same CLM01) is not a duplicate of itself.

A void (CLM05-3 = 8) takes a session back rather than adding one, and a replacement (7) stands
in for a claim the payer already holds (matched by REF*F8, which the history does not keep):
neither is reported.

## Why is this bad?
Only one of 20552/20553 is payable per beneficiary and date of service. A second claim for the
same session, whatever its CLM01, is denied as a duplicate, and repeated duplicates draw
audits.

## Example
A claim with `CLM*PCN1...` and `SV1*HC:20553...`, `DTP*472*D8*20260112~` was accepted; a claim
`CLM*PCN2...` for the same beneficiary bills 20552 on 2026-01-12.

## Fix safety
No fix: the submitter must void, replace (CLM05-3 = 7 with REF*F8) or withdraw one of them.

## Outcome
Reject, 277CA STC A8:454 (procedure code).

## References
- CMS Billing and Coding Article A59480: one of 20552/20553 per date of service
"""

from __future__ import annotations

from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import line_label, tpi_view
from edi_guard.rules.base import NOTHING, Finding, Outcome, Rule, RuleContext, RuleResult

REPLACEMENT: Final = "7"
VOID: Final = "8"


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject a TPI line whose day is recorded for the beneficiary under another claim."""
    view = tpi_view(claim, context)
    if view is None or claim.frequency_code in (REPLACEMENT, VOID):
        return NOTHING
    sessions = context.history.sessions(context.beneficiary_key)
    if not sessions:
        return NOTHING
    own_digest = context.history.claim_digest(claim.claim_id)
    taken = {session.service_date for session in sessions if session.claim_id_digest != own_digest}
    findings: list[Finding] = []
    for line in view.tpi_lines:
        if taken.isdisjoint(line.service_days()):
            continue
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)}: a TPI session for this beneficiary on this date of "
                "service was already accepted on another claim; one of 20552/20553 per date "
                "of service (void or replace the earlier claim instead)",
            )
        )
    return RuleResult(findings=tuple(findings)) if findings else NOTHING


RULE: Final = Rule(
    code="TPI010",
    name="tpi-session-duplicate",
    outcome=Outcome.REJECT,
    stc=("A8:454",),
    source="CMS Article A59480: one of 20552/20553 per date of service",
    check=check,
    summary="TPI session for the same beneficiary and date already accepted on another claim",
)
