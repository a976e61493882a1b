"""TPI007 (muscle count, with its policy switch) and TPI008 (E/M without 25)."""

from __future__ import annotations

import pytest
from rules_support import ClaimSpec, Line, decide_one, of_rule, segment_texts

from edi_guard.policy import Policy

TWO_MUSCLES = "TPI LEFT TRAPEZIUS AND LEFT LEVATOR SCAPULAE"
THREE_MUSCLES = "TPI BILAT TRAPEZIUS, L RHOMBOID"


def policy(**settings: object) -> Policy:
    return Policy.from_mapping(settings, origin="test")


# TPI007 -------------------------------------------------------------------------------


def test_tpi007_rejects_20553_with_two_muscles_by_default() -> None:
    decision = decide_one(ClaimSpec([Line("20553", charge="180")], note=TWO_MUSCLES))
    assert of_rule(decision, "TPI007") == [("reject", "1", ("A7:454",))]
    assert decision.rejected
    assert "2 distinct muscles" in decision.findings[0].message


def test_tpi007_downcodes_to_20552_when_the_policy_says_so() -> None:
    decision = decide_one(
        ClaimSpec([Line("20553", charge="180")], note=TWO_MUSCLES),
        policy=policy(muscle_shortfall="downcode-to-20552"),
    )
    assert of_rule(decision, "TPI007") == [("correct", "1", ("A7:454",))]
    assert decision.status == "corrected"
    assert segment_texts(decision.segments, "SV1") == ["SV1*HC:20552*180*UN*1***1"]
    assert segment_texts(decision.segments, "CLM")[0].startswith("CLM*PCN10001*180*")


def test_tpi007_only_warns_when_the_policy_says_so() -> None:
    decision = decide_one(
        ClaimSpec([Line("20553", charge="180")], note=TWO_MUSCLES),
        policy=policy(muscle_shortfall="warn"),
    )
    assert of_rule(decision, "TPI007") == [("warn", "1", ())]
    assert decision.status == "accepted"


def test_tpi007_switch_per_payer() -> None:
    switched = policy(payers={"12502": {"muscle_shortfall": "warn"}})
    spec = ClaimSpec([Line("20553", charge="180")], note=TWO_MUSCLES)
    assert of_rule(decide_one(spec, policy=switched), "TPI007") == [("warn", "1", ())]
    other = ClaimSpec([Line("20553", charge="180")], note=TWO_MUSCLES, payer_id="99999")
    assert of_rule(decide_one(other, policy=switched), "TPI007") == [("reject", "1", ("A7:454",))]


def test_tpi007_is_quiet_on_20553_with_three_muscles() -> None:
    decision = decide_one(ClaimSpec([Line("20553", charge="180")], note=THREE_MUSCLES))
    assert of_rule(decision, "TPI007") == []


def test_tpi007_line_notes_win_over_the_claim_note() -> None:
    decision = decide_one(
        ClaimSpec([Line("20553", charge="180", note=THREE_MUSCLES)], note=TWO_MUSCLES)
    )
    assert of_rule(decision, "TPI007") == []


def test_tpi007_warns_on_20552_with_three_muscles() -> None:
    decision = decide_one(ClaimSpec([Line("20552", charge="120", note=THREE_MUSCLES)]))
    assert of_rule(decision, "TPI007") == [("warn", "1", ())]
    assert decision.status == "accepted"
    assert segment_texts(decision.segments, "SV1") == ["SV1*HC:20552*120*UN*1***1"]


def test_tpi007_is_quiet_on_20552_with_two_muscles() -> None:
    decision = decide_one(ClaimSpec([Line("20552", charge="120")], note=TWO_MUSCLES))
    assert of_rule(decision, "TPI007") == []


@pytest.mark.parametrize("code", ["20552", "20553"])
def test_tpi007_warns_on_region_only_notes(code: str) -> None:
    decision = decide_one(
        ClaimSpec([Line(code, charge="150")], note="TRIGGER POINTS NECK AND UPPER BACK")
    )
    assert of_rule(decision, "TPI007") == [("warn", "1", ())]


def test_tpi007_is_quiet_without_notes() -> None:
    decision = decide_one(ClaimSpec([Line("20553", charge="180")]))
    assert of_rule(decision, "TPI007") == []


# TPI008 -------------------------------------------------------------------------------


def test_tpi008_rejects_a_same_day_em_without_25() -> None:
    decision = decide_one(
        ClaimSpec([Line("99213", charge="120"), Line("20553", charge="180")], note=THREE_MUSCLES)
    )
    assert of_rule(decision, "TPI008") == [("reject", "1", ("A8:453",))]
    assert "LX 2" in next(f.message for f in decision.findings if f.rule == "TPI008")


def test_tpi008_only_warns_when_the_policy_says_so() -> None:
    decision = decide_one(
        ClaimSpec([Line("99213", charge="120"), Line("20553", charge="180")], note=THREE_MUSCLES),
        policy=policy(em_without_25="warn"),
    )
    assert of_rule(decision, "TPI008") == [("warn", "1", ())]
    assert decision.status == "accepted"
    assert segment_texts(decision.segments, "SV1")[0] == "SV1*HC:99213*120*UN*1***1"  # no 25


def test_tpi008_is_quiet_with_25_or_on_another_day() -> None:
    with_25 = ClaimSpec(
        [Line("99213", charge="120", modifiers=("25",)), Line("20553", charge="180")],
        note=THREE_MUSCLES,
    )
    other_day = ClaimSpec(
        [Line("99213", charge="120", date="20260105"), Line("20553", charge="180")],
        note=THREE_MUSCLES,
    )
    assert of_rule(decide_one(with_25), "TPI008") == []
    assert of_rule(decide_one(other_day), "TPI008") == []


def test_tpi008_is_quiet_for_a_non_em_visit_code() -> None:
    decision = decide_one(
        ClaimSpec([Line("99201", charge="90"), Line("20553", charge="180")], note=THREE_MUSCLES)
    )
    assert of_rule(decision, "TPI008") == []


def test_disabling_a_rule_in_the_policy_silences_it() -> None:
    decision = decide_one(
        ClaimSpec([Line("99213", charge="120"), Line("20553", charge="180")], note=THREE_MUSCLES),
        policy=policy(rules={"TPI008": False}),
    )
    assert of_rule(decision, "TPI008") == []
