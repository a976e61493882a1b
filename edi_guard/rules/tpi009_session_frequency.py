"""TPI009 tpi-sessions-over-annual-limit: a fourth TPI session within 365 days (Medicare).

## What it does
For a Medicare payer (SBR09 in the policy's Medicare codes, MB and 16 by default), gathers the
distinct TPI session dates of the beneficiary: those recorded in the history (claims accepted
or corrected earlier, in this file or before) and those of this claim. Sessions recorded under
this same claim (same keyed CLM01 digest) are left out, so re-processing a claim never counts
it twice. A TPI line is reported when one of its dates lies in a 365-day window holding 4 or
more session dates.

A void (CLM05-3 = 8) adds no session and is never limited. A replacement (7) is checked like
an original: its sessions replace those recorded under the same CLM01.

## Why is this bad?
The Medicare LCDs for trigger point injections cover at most 3 sessions in a rolling 12
months; a fourth session is denied as not reasonable and necessary. When the provider obtained
an advance beneficiary notice (GA) or expects the denial (GZ), the claim must still go to the
payer so that the patient can be billed or the denial recorded: then it is only a warning.

## Example
Three sessions of 20553 for the beneficiary on 2026-01-12, 2026-03-10 and 2026-05-05, then a
claim with `SV1*HC:20553*180*UN*1***1~` and `DTP*472*D8*20260801~`.

## Fix safety
No fix: frequency limits are for the provider to manage (ABN, GA/GZ).

## Outcome
Reject, 277CA STC A3:779 (same or similar service within a set timeframe) with A3:259
(frequency of service); warn instead when the TPI line carries GA or GZ.

## References
- LCDs L34211 and L36859 (Trigger Point Injections)
- Billing and Coding Articles A57701, A59480, A59553: at most 3 sessions per rolling 12 months
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Final

from edi_guard.model.claim import Claim
from edi_guard.rules._lines import has_advance_notice, line_label, tpi_view
from edi_guard.rules.base import NOTHING, Finding, Outcome, Rule, RuleContext, RuleResult

SESSION_LIMIT: Final = 3
"""Sessions covered in any window of WINDOW_DAYS."""
WINDOW_DAYS: Final = 365
VOID: Final = "8"


def check(claim: Claim, context: RuleContext) -> RuleResult:
    """Reject (or warn, with GA/GZ) a TPI line that makes a 4th session in 365 days."""
    view = tpi_view(claim, context)
    if view is None or claim.frequency_code == VOID:
        return NOTHING
    if not context.policy.is_medicare(claim.claim_filing_indicator):
        return NOTHING
    sessions = context.history.sessions(context.beneficiary_key)
    recorded: set[date] = set()
    if sessions:  # the claim id's keyed hash only when there is something to compare it to
        own_digest = context.history.claim_digest(claim.claim_id)
        recorded = {
            session.service_date for session in sessions if session.claim_id_digest != own_digest
        }
    if not recorded and len(view.tpi_days) <= SESSION_LIMIT:
        return NOTHING  # with nothing recorded, only the claim's own dates could reach it
    dates = sorted(recorded | view.tpi_days)
    findings: list[Finding] = []
    for line in view.tpi_lines:
        crowded = max(_most_in_a_window(dates, line.service_days()), default=0)
        if crowded <= SESSION_LIMIT:
            continue
        disclaimed = has_advance_notice(line)
        outcome = Outcome.WARN if disclaimed else Outcome.REJECT
        tail = (
            "the line carries GA/GZ, so it goes out for the payer to deny"
            if disclaimed
            else "Medicare covers at most 3 sessions in a rolling 12 months; bill with GA "
            "(advance notice on file) or GZ if the patient is to be held liable"
        )
        findings.append(
            RULE.line_finding(
                line,
                f"{line_label(line)} makes {crowded} TPI session dates for this beneficiary "
                f"within {WINDOW_DAYS} days (earlier accepted claims and this one); {tail}",
                outcome=outcome,
            )
        )
    return RuleResult(findings=tuple(findings)) if findings else NOTHING


def _most_in_a_window(dates: list[date], days: Iterable[date]) -> Iterable[int]:
    """For each day, the most session dates in any 365-day window that holds that day.

    ``dates`` is sorted and distinct. A window [start, start + 364] holds ``day`` when start
    lies in [day - 364, day]; the best starts are the session dates themselves.
    """
    span = timedelta(days=WINDOW_DAYS - 1)
    for day in days:
        low = bisect_left(dates, day - span)
        high = bisect_right(dates, day)
        yield max(
            (bisect_right(dates, dates[index] + span) - index for index in range(low, high)),
            default=0,
        )


RULE: Final = Rule(
    code="TPI009",
    name="tpi-sessions-over-annual-limit",
    outcome=Outcome.REJECT,
    stc=("A3:779", "A3:259"),
    source=(
        "LCDs L34211 / L36859; Articles A57701 / A59480 / A59553: at most 3 sessions per "
        "rolling 12 months"
    ),
    check=check,
    summary="Medicare: 4 or more TPI session dates for a beneficiary within 365 days",
)
