"""Properties of the whole registry over random TPI claims (hypothesis).

Whatever the lines, the rules never crash; a correction never changes the charge of a line
that stays, never adds a modifier that attests a clinical fact (25 only moves), never upcodes;
a corrected claim balances; and correcting a corrected claim changes nothing (idempotence).
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_support import ClaimSpec, Line, build_837, decide, write_file

from edi_guard.engine import ClaimDecision
from edi_guard.model.claim import Claim
from edi_guard.policy import Policy
from edi_guard.rules.base import Outcome

CODES = (
    "20552", "20553", "20553", "99213", "99214", "J3301", "J3490", "J0585", "C9399", "96372",
    "64493", "76942", "01992", "97140", "20610", "20552", "20553", "99213",
)  # fmt: skip
MODIFIERS = ("25", "50", "RT", "LT", "GA", "GZ", "JZ", "59", "XS")
DATES = ("20260112", "20260113", "20260110-20260112")
NOTES = (
    None,
    "TPI LEFT TRAPEZIUS AND LEFT LEVATOR SCAPULAE",
    "TPI BILAT TRAPEZIUS, L RHOMBOID; KENALOG 40MG",
    "TPI BILAT TRAPEZIUS, L RHOMBOID",
    "TPI BILAT TRAPEZIUS, L RHOMBOID",
    "TPI NECK AND UPPER BACK",
    "ORPHENADRINE CITRATE 60MG/2ML",
)
ATTESTING = frozenset({"25", "59", "XS", "XE", "XP", "XU", "GA", "GZ", "JW", "JZ"})
POLICIES = (
    Policy.load(None),
    Policy.from_mapping(
        {"muscle_shortfall": "downcode-to-20552", "em_without_25": "warn"}, origin="test"
    ),
)

lines = st.builds(
    Line,
    code=st.sampled_from(CODES),
    charge=st.sampled_from(("30", "120", "180.50")),
    units=st.sampled_from(("1", "2", "3")),
    modifiers=st.lists(st.sampled_from(MODIFIERS), max_size=3, unique=True).map(tuple),
    description=st.sampled_from(("", "ORPHENADRINE 60MG")),
    date=st.sampled_from(DATES),
    note=st.sampled_from(NOTES),
)
claims = st.builds(
    ClaimSpec,
    lines=st.lists(lines, min_size=1, max_size=5),
    note=st.sampled_from(NOTES),
    diagnoses=st.sampled_from((("M7918", "M62838"),) * 4 + (("M791",), ("M5450",))),
    sbr09=st.sampled_from(("MB", "CI")),
)


def _modifier_counts(claim: Claim) -> Counter[str]:
    return Counter(m for line in claim.lines for m in line.procedure.modifiers if m in ATTESTING)


def _check_invariants(decision: ClaimDecision) -> None:
    assert decision.crashed_rules == ()
    received, final = decision.received, decision.final
    assert received is not None and final is not None
    received_lines = {line.sv1_position: line for line in received.lines}
    line_numbers = {line.line_number for line in received.lines}
    for finding in decision.findings:
        assert finding.line is None or finding.line in line_numbers
    if decision.rejected:
        return
    for line in final.lines:
        before = received_lines[line.sv1_position]
        assert line.charge == before.charge
        assert line.code == before.code or (before.code, line.code) == ("20553", "20552")
    assert not _modifier_counts(final) - _modifier_counts(received)
    if received.total_charge == received.line_charge_total:
        assert final.total_charge == final.line_charge_total
    edits = any(f.outcome is Outcome.CORRECT for f in decision.findings)
    assert (decision.status == "corrected") == edits


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=claims, policy_index=st.integers(0, len(POLICIES) - 1))
def test_corrections_keep_their_promises_and_are_idempotent(
    spec: ClaimSpec, policy_index: int
) -> None:
    policy = POLICIES[policy_index]
    text = build_837(spec)
    (decision,) = decide(text, policy=policy)
    _check_invariants(decision)
    if decision.status != "corrected":
        return
    corrected = write_file(text, [decision])
    (again,) = decide(corrected, policy=policy)
    assert again.status == "accepted", [(f.rule, f.outcome, f.message) for f in again.findings]
    assert sum((line.charge for line in again.final.lines), Decimal(0)) == (  # type: ignore[union-attr]
        decision.final.total_charge  # type: ignore[union-attr]
    )
