"""Same-day services (TPI017-TPI019) and the diagnosis (TPI020)."""

from __future__ import annotations

from datetime import date

import pytest
from rules_support import ClaimSpec, Line, decide_one, of_rule

from edi_guard.policy import Policy
from edi_guard.ptp import ModifierIndicator, PtpEdit, PtpTable

MUSCLES = "TPI BILAT TRAPEZIUS, L RHOMBOID"


def tpi(*lines: Line, **options: object) -> ClaimSpec:
    options.setdefault("note", MUSCLES)
    return ClaimSpec([Line("20553", charge="180"), *lines], **options)  # type: ignore[arg-type]


# TPI017 -------------------------------------------------------------------------------


def test_tpi017_rejects_anesthesia_on_the_tpi_day() -> None:
    decision = decide_one(tpi(Line("01992", charge="300", units="30", unit_basis="MJ")))
    assert of_rule(decision, "TPI017") == [("reject", "2", ("A8:454",))]


@pytest.mark.parametrize("code", ["00099", "02000", "99213"])
def test_tpi017_is_quiet_outside_the_anesthesia_range(code: str) -> None:
    decision = decide_one(tpi(Line(code, charge="90", modifiers=("25",))))
    assert of_rule(decision, "TPI017") == []


def test_tpi017_is_quiet_on_another_day() -> None:
    decision = decide_one(tpi(Line("00100", charge="300", date="20260113")))
    assert of_rule(decision, "TPI017") == []


# TPI018 -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["76942", "77002", "77021"])
def test_tpi018_warns_on_same_day_imaging_guidance(code: str) -> None:
    decision = decide_one(tpi(Line(code, charge="90")))
    assert of_rule(decision, "TPI018") == [("warn", "2", ())]
    assert decision.status == "accepted"


@pytest.mark.parametrize("modifier", ["GA", "GZ"])
def test_tpi018_is_quiet_with_an_advance_notice_modifier(modifier: str) -> None:
    decision = decide_one(tpi(Line("76942", charge="90", modifiers=(modifier,))))
    assert of_rule(decision, "TPI018") == []


def test_tpi018_is_quiet_on_another_day() -> None:
    decision = decide_one(tpi(Line("76942", charge="90", date="20260113")))
    assert of_rule(decision, "TPI018") == []


# TPI019 -------------------------------------------------------------------------------


def test_tpi019_indicator_1_without_modifier_rejects_the_column_2_line() -> None:
    # 64493 is column 1, 20553 column 2 in the shipped table: the TPI line is reported.
    decision = decide_one(tpi(Line("64493", charge="400")))
    assert of_rule(decision, "TPI019") == [("reject", "1", ("A8:453",))]


def test_tpi019_column_2_may_be_the_other_line() -> None:
    decision = decide_one(tpi(Line("96372", charge="30")))
    assert of_rule(decision, "TPI019") == [("reject", "2", ("A8:453",))]


@pytest.mark.parametrize("modifier", ["59", "XS", "RT"])
def test_tpi019_indicator_1_passes_with_an_ncci_associated_modifier(modifier: str) -> None:
    decision = decide_one(tpi(Line("96372", charge="30", modifiers=(modifier,))))
    assert of_rule(decision, "TPI019") == []


def test_tpi019_a_modifier_on_the_column_1_line_does_not_count() -> None:
    spec = ClaimSpec(
        [Line("20553", charge="180", modifiers=("59",)), Line("96372", charge="30")],
        note=MUSCLES,
    )
    assert of_rule(decide_one(spec), "TPI019") == [("reject", "2", ("A8:453",))]


def test_tpi019_indicator_0_rejects_even_with_a_modifier() -> None:
    table = PtpTable((PtpEdit("20553", "97140", ModifierIndicator.NOT_ALLOWED, date(2020, 1, 1)),))
    decision = decide_one(tpi(Line("97140", charge="40", modifiers=("59",))), ptp=table)
    assert of_rule(decision, "TPI019") == [("reject", "2", ("A8:454", "A8:735"))]


def test_tpi019_respects_the_edit_dates_and_indicator_9() -> None:
    table = PtpTable(
        (
            PtpEdit("20553", "97140", ModifierIndicator.NOT_ALLOWED, date(2027, 1, 1)),
            PtpEdit("20553", "97112", ModifierIndicator.NOT_APPLICABLE, date(2020, 1, 1)),
        )
    )
    decision = decide_one(tpi(Line("97140", charge="40"), Line("97112", charge="40")), ptp=table)
    assert of_rule(decision, "TPI019") == []


def test_tpi019_is_quiet_for_a_pair_on_different_days() -> None:
    decision = decide_one(tpi(Line("96372", charge="30", date="20260113")))
    assert of_rule(decision, "TPI019") == []


# TPI020 -------------------------------------------------------------------------------


def test_tpi020_rejects_a_line_pointing_only_at_header_codes() -> None:
    decision = decide_one(ClaimSpec([Line("20553", charge="180")], diagnoses=("M791",)))
    assert of_rule(decision, "TPI020") == [("reject", "1", ("A7:255", "A7:772"))]
    message = next(f.message for f in decision.findings if f.rule == "TPI020")
    assert "SV107 position 1" in message
    assert "M79" not in message


def test_tpi020_one_billable_pointer_is_enough() -> None:
    decision = decide_one(
        ClaimSpec([Line("20553", charge="180", pointers="1:2")], diagnoses=("M791", "M62838"))
    )
    assert of_rule(decision, "TPI020") == []


def test_tpi020_warns_when_billable_but_not_covered() -> None:
    decision = decide_one(ClaimSpec([Line("20553", charge="180")], diagnoses=("M5450",)))
    assert of_rule(decision, "TPI020") == [("warn", "1", ())]
    assert decision.status == "accepted"


def test_tpi020_covered_list_comes_from_the_payer_policy() -> None:
    policy = Policy.from_mapping({"payers": {"12502": {"covered_diagnoses": ["M54.5*"]}}})
    decision = decide_one(
        ClaimSpec([Line("20553", charge="180")], diagnoses=("M5450",)), policy=policy
    )
    assert of_rule(decision, "TPI020") == []


def test_tpi020_is_quiet_on_a_covered_leaf_code() -> None:
    decision = decide_one(ClaimSpec([Line("20553", charge="180")], diagnoses=("M7918",)))
    assert of_rule(decision, "TPI020") == []
