"""TPI009 (sessions per rolling 365 days, Medicare) and TPI010 (duplicate session), with history."""

from __future__ import annotations

from datetime import date

from rules_support import (
    HASHER,
    ClaimSpec,
    Line,
    build_837,
    decide,
    decide_one,
    new_history,
    of_rule,
    units_of,
)

from edi_guard.engine import ClaimDecision
from edi_guard.history import MemoryHistory
from edi_guard.model.mapping import map_claim

MUSCLES = "TPI BILAT TRAPEZIUS, L RHOMBOID"
EARLIER = ("20260112", "20260310", "20260505")


def session(
    claim_id: str, day: str, *, modifiers: tuple[str, ...] = (), **options: object
) -> ClaimSpec:
    options.setdefault("note", MUSCLES)
    return ClaimSpec(
        [Line("20553", charge="180", date=day, modifiers=modifiers)],
        claim_id=claim_id,
        **options,  # type: ignore[arg-type]
    )


def history_with(*days: str, sbr09: str = "MB") -> MemoryHistory:
    """A history in which each day was accepted on its own claim, through the engine."""
    history = new_history()
    specs = [session(f"PCN9{n:04d}", day, sbr09=sbr09) for n, day in enumerate(days)]
    decisions = decide(build_837(*specs), history=history)
    assert all(decision.status == "accepted" for decision in decisions)
    return history


def run(spec: ClaimSpec, history: MemoryHistory) -> ClaimDecision:
    return decide_one(spec, history=history)


# TPI009 -------------------------------------------------------------------------------


def test_tpi009_rejects_a_fourth_session_in_365_days() -> None:
    decision = run(session("PCN20001", "20260801"), history_with(*EARLIER))
    assert of_rule(decision, "TPI009") == [("reject", "1", ("A3:779", "A3:259"))]
    assert decision.rejected
    assert "4 TPI session dates" in decision.findings[0].message


def test_tpi009_with_history_recorded_directly() -> None:
    history = new_history()
    (unit,) = units_of(build_837(session("PCN20001", "20260801")))
    key = HASHER.beneficiary(map_claim(unit))
    for n, day in enumerate((date(2025, 9, 1), date(2025, 12, 1), date(2026, 3, 1))):
        history.record(key, HASHER.claim(f"OLD{n}"), [day])
    decision = run(session("PCN20001", "20260801"), history)
    assert of_rule(decision, "TPI009") == [("reject", "1", ("A3:779", "A3:259"))]


def test_tpi009_third_session_is_fine() -> None:
    decision = run(session("PCN20001", "20260801"), history_with(*EARLIER[:2]))
    assert of_rule(decision, "TPI009") == []
    assert decision.status == "accepted"


def test_tpi009_warns_instead_with_ga_or_gz() -> None:
    for modifier in ("GA", "GZ"):
        decision = run(
            session("PCN20001", "20260801", modifiers=(modifier,)), history_with(*EARLIER)
        )
        assert of_rule(decision, "TPI009") == [("warn", "1", ())]
        assert decision.status == "accepted"


def test_tpi009_does_not_limit_non_medicare_payers() -> None:
    history = history_with(*EARLIER, sbr09="CI")
    decision = run(session("PCN20001", "20260801", sbr09="CI"), history)
    assert of_rule(decision, "TPI009") == []


def test_tpi009_medicare_advantage_is_medicare() -> None:
    history = history_with(*EARLIER)
    decision = run(session("PCN20001", "20260801", sbr09="16"), history)
    assert of_rule(decision, "TPI009") == [("reject", "1", ("A3:779", "A3:259"))]


def test_tpi009_window_is_365_days() -> None:
    # 2025-08-02 .. 2026-08-01 is 365 days: four dates in it.
    inside = run(session("PCN20001", "20260801"), history_with("20250802", *EARLIER[1:]))
    assert of_rule(inside, "TPI009") == [("reject", "1", ("A3:779", "A3:259"))]
    # 2025-08-01 .. 2026-08-01 spans 366 days: no 365-day window holds all four.
    outside = run(session("PCN20001", "20260801"), history_with("20250801", *EARLIER[1:]))
    assert of_rule(outside, "TPI009") == []


def test_tpi009_old_sessions_roll_off() -> None:
    decision = run(session("PCN20001", "20270201"), history_with(*EARLIER))
    assert of_rule(decision, "TPI009") == []


def test_tpi009_reprocessing_the_same_claim_does_not_count_twice() -> None:
    history = history_with(*EARLIER)
    again = run(session("PCN90002", "20260505"), history)  # the third claim, sent again
    assert of_rule(again, "TPI009") == []
    assert of_rule(again, "TPI010") == []
    moved = run(session("PCN90002", "20260601"), history)  # same claim, its date corrected
    assert of_rule(moved, "TPI009") == []


def test_tpi009_counts_sessions_accepted_earlier_in_the_same_file() -> None:
    specs = [session(f"PCN3{n:04d}", day) for n, day in enumerate((*EARLIER, "20260801"))]
    decisions = decide(build_837(*specs))
    assert [d.status for d in decisions] == ["accepted"] * 3 + ["rejected"]
    assert of_rule(decisions[3], "TPI009") == [("reject", "1", ("A3:779", "A3:259"))]


def test_tpi009_a_void_is_never_limited() -> None:
    decision = run(session("PCN20001", "20260801", frequency="8"), history_with(*EARLIER))
    assert of_rule(decision, "TPI009") == []


def test_tpi009_a_replacement_is_limited_like_an_original() -> None:
    decision = run(session("PCN20001", "20260801", frequency="7"), history_with(*EARLIER))
    assert of_rule(decision, "TPI009") == [("reject", "1", ("A3:779", "A3:259"))]


# TPI010 -------------------------------------------------------------------------------


def test_tpi010_rejects_the_same_session_on_another_claim() -> None:
    decision = run(session("PCN20001", "20260112"), history_with("20260112"))
    assert of_rule(decision, "TPI010") == [("reject", "1", ("A8:454",))]
    assert decision.rejected


def test_tpi010_even_when_the_code_differs() -> None:
    spec = ClaimSpec([Line("20552", charge="120")], claim_id="PCN20001", note="TPI LEFT TRAPEZIUS")
    decision = run(spec, history_with("20260112"))
    assert of_rule(decision, "TPI010") == [("reject", "1", ("A8:454",))]


def test_tpi010_within_one_file() -> None:
    decisions = decide(build_837(session("PCN1", "20260112"), session("PCN2", "20260112")))
    assert [d.status for d in decisions] == ["accepted", "rejected"]
    assert of_rule(decisions[1], "TPI010") == [("reject", "1", ("A8:454",))]


def test_tpi010_is_quiet_for_the_same_claim_again() -> None:
    history = history_with("20260112")
    decision = run(session("PCN90000", "20260112"), history)
    assert of_rule(decision, "TPI010") == []
    assert decision.status == "accepted"


def test_tpi010_is_quiet_for_another_beneficiary_or_day() -> None:
    history = history_with("20260112")
    other_member = run(session("PCN20001", "20260112", member_id="9ZZ9ZZ9ZZ99"), history)
    dependent = run(session("PCN20002", "20260112", patient=True), history)
    other_day = run(session("PCN20003", "20260113"), history)
    assert of_rule(other_member, "TPI010") == []
    assert of_rule(dependent, "TPI010") == []
    assert of_rule(other_day, "TPI010") == []


def test_tpi010_leaves_replacements_and_voids_alone() -> None:
    history = history_with("20260112")
    for frequency in ("7", "8"):
        decision = run(session("PCN20001", "20260112", frequency=frequency), history)
        assert of_rule(decision, "TPI010") == []


def test_tpi010_ignores_a_rejected_earlier_claim() -> None:
    # The first claim is rejected (CLM02 out of balance): it records no session.
    first = session("PCN1", "20260112", total="999")
    decisions = decide(build_837(first, session("PCN2", "20260112")))
    assert [d.status for d in decisions] == ["rejected", "accepted"]
