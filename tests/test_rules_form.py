"""CLM001, CLM002 and the TPI line form (TPI001-TPI006): findings and corrected segments."""

from __future__ import annotations

from rules_support import (
    ClaimSpec,
    Line,
    build_837,
    decide,
    decide_one,
    of_rule,
    segment_texts,
    write_file,
)

TPI_NOTE = "TPI BILAT TRAPEZIUS, L RHOMBOID"


def tpi(*lines: Line, **options: object) -> ClaimSpec:
    options.setdefault("note", TPI_NOTE)
    return ClaimSpec(list(lines), **options)  # type: ignore[arg-type]


# CLM001 -------------------------------------------------------------------------------


def test_clm001_fires_when_clm02_is_not_the_line_sum() -> None:
    decision = decide_one(tpi(Line("20553", charge="180"), total="240"))
    assert of_rule(decision, "CLM001") == [("reject", None, ("A7:400", "A7:178"))]
    assert decision.rejected
    assert "240" in decision.findings[0].message and "180" in decision.findings[0].message


def test_clm001_is_quiet_when_balanced_including_cents() -> None:
    decision = decide_one(tpi(Line("20553", charge="180.50"), Line("99213:25", charge="0")))
    assert of_rule(decision, "CLM001") == []


def test_clm001_judges_the_claim_as_received_not_after_a_drop() -> None:
    # TPI004 drops LX 2 and recomputes CLM02; CLM001 ran before and saw a balanced claim.
    decision = decide_one(
        tpi(
            Line("20553", charge="180", modifiers=("RT",)),
            Line("20553", charge="180", modifiers=("LT",)),
        )
    )
    assert of_rule(decision, "CLM001") == []
    assert segment_texts(decision.segments, "CLM")[0].startswith("CLM*PCN10001*180*")


# CLM002 -------------------------------------------------------------------------------


def test_clm002_fires_on_a_line_without_dtp_472() -> None:
    decision = decide_one(tpi(Line("20553", charge="180"), Line("99213", date=None)))
    assert of_rule(decision, "CLM002") == [("reject", "2", ("A6:187",))]
    finding = next(f for f in decision.findings if f.rule == "CLM002")
    assert finding.sv1_position is not None


def test_clm002_fires_on_any_claim_not_only_tpi() -> None:
    decision = decide_one(ClaimSpec([Line("99213", date=None)]))
    assert of_rule(decision, "CLM002") == [("reject", "1", ("A6:187",))]


def test_clm002_is_quiet_with_d8_and_rd8_dates() -> None:
    decision = decide_one(tpi(Line("20553", charge="180"), Line("97110", date="20260112-20260114")))
    assert of_rule(decision, "CLM002") == []


# TPI001 -------------------------------------------------------------------------------


def test_tpi001_sets_units_to_one_and_keeps_the_charge() -> None:
    decision = decide_one(tpi(Line("20553", charge="180", units="3")))
    assert of_rule(decision, "TPI001") == [("correct", "1", ("A7:476",))]
    assert decision.status == "corrected"
    assert segment_texts(decision.segments, "SV1") == ["SV1*HC:20553*180*UN*1***1"]
    assert segment_texts(decision.segments, "CLM")[0].startswith("CLM*PCN10001*180*")


def test_tpi001_warns_of_a_possible_undercode_on_20552_with_three_units() -> None:
    decision = decide_one(tpi(Line("20552", charge="120", units="3"), note="TPI L TRAPEZIUS"))
    assert of_rule(decision, "TPI001") == [
        ("correct", "1", ("A7:476",)),
        ("warn", "1", ()),
    ]
    assert segment_texts(decision.segments, "SV1") == ["SV1*HC:20552*120*UN*1***1"]


def test_tpi001_does_not_warn_on_20552_with_two_units() -> None:
    decision = decide_one(tpi(Line("20552", charge="120", units="2"), note="TPI L TRAPEZIUS"))
    assert of_rule(decision, "TPI001") == [("correct", "1", ("A7:476",))]


def test_tpi001_is_quiet_on_one_unit_written_as_1_0() -> None:
    decision = decide_one(tpi(Line("20553", charge="180", units="1.0")))
    assert of_rule(decision, "TPI001") == []
    assert decision.status == "accepted"


def test_tpi001_leaves_non_tpi_lines_alone() -> None:
    decision = decide_one(tpi(Line("20553", charge="180"), Line("97140", charge="40", units="2")))
    assert of_rule(decision, "TPI001") == []


# TPI002 -------------------------------------------------------------------------------


def test_tpi002_removes_modifier_50_and_shifts_the_rest_left() -> None:
    decision = decide_one(tpi(Line("20553", charge="180", modifiers=("50", "GA"))))
    assert of_rule(decision, "TPI002") == [("correct", "1", ("A7:453",))]
    assert segment_texts(decision.segments, "SV1") == ["SV1*HC:20553:GA*180*UN*1***1"]


def test_tpi002_with_two_units_ends_at_one_unit() -> None:
    decision = decide_one(tpi(Line("20553", charge="360", units="2", modifiers=("50",))))
    assert of_rule(decision, "TPI001") == [("correct", "1", ("A7:476",))]
    assert of_rule(decision, "TPI002") == [("correct", "1", ("A7:453",))]
    assert segment_texts(decision.segments, "SV1") == ["SV1*HC:20553*360*UN*1***1"]


def test_tpi002_is_quiet_without_modifier_50() -> None:
    decision = decide_one(tpi(Line("20553", charge="180", modifiers=("GA",))))
    assert of_rule(decision, "TPI002") == []


# TPI003 -------------------------------------------------------------------------------


def test_tpi003_moves_25_to_the_same_day_em_line() -> None:
    decision = decide_one(
        tpi(Line("99213", charge="120"), Line("20553", charge="180", modifiers=("25",)))
    )
    assert of_rule(decision, "TPI003") == [("correct", "2", ("A7:453",))]
    assert of_rule(decision, "TPI008") == []  # 25 is on the E/M now
    assert segment_texts(decision.segments, "SV1") == [
        "SV1*HC:99213:25*120*UN*1***1",
        "SV1*HC:20553*180*UN*1***1",
    ]
    assert decision.status == "corrected"


def test_tpi003_appends_25_after_the_em_lines_modifiers() -> None:
    decision = decide_one(
        tpi(
            Line("99214", charge="150", modifiers=("GT",)),
            Line("20553", charge="180", modifiers=("25", "GA")),
        )
    )
    assert segment_texts(decision.segments, "SV1") == [
        "SV1*HC:99214:GT:25*150*UN*1***1",
        "SV1*HC:20553:GA*180*UN*1***1",
    ]


def test_tpi003_removes_25_when_no_em_line_is_on_the_same_day() -> None:
    decision = decide_one(
        tpi(
            Line("99213", charge="120", date="20260105"),
            Line("20553", charge="180", modifiers=("25",)),
        )
    )
    assert of_rule(decision, "TPI003") == [("correct", "2", ("A7:453",))]
    assert segment_texts(decision.segments, "SV1") == [
        "SV1*HC:99213*120*UN*1***1",
        "SV1*HC:20553*180*UN*1***1",
    ]


def test_tpi003_removes_25_when_the_em_line_already_has_it() -> None:
    decision = decide_one(
        tpi(
            Line("99213", charge="120", modifiers=("25",)),
            Line("20553", charge="180", modifiers=("25",)),
        )
    )
    assert segment_texts(decision.segments, "SV1") == [
        "SV1*HC:99213:25*120*UN*1***1",
        "SV1*HC:20553*180*UN*1***1",
    ]


def test_tpi003_is_quiet_when_25_is_already_on_the_em() -> None:
    decision = decide_one(
        tpi(Line("99213", charge="120", modifiers=("25",)), Line("20553", charge="180"))
    )
    assert of_rule(decision, "TPI003") == []
    assert decision.status == "accepted"


# TPI004 -------------------------------------------------------------------------------


def test_tpi004_keeps_the_first_20553_and_drops_the_rl_split() -> None:
    spec = tpi(
        Line("20553", charge="180", modifiers=("RT",)),
        Line("20553", charge="170", modifiers=("LT",)),
        Line("J3301", charge="60", units="4", ndc="00003029320"),
        note="TPI BILAT TRAPEZIUS, L RHOMBOID; KENALOG",
    )
    text = build_837(spec)
    (decision,) = decide(text)
    assert of_rule(decision, "TPI004") == [("correct", "2", ("A8:454",))]
    assert segment_texts(decision.segments, "SV1") == [
        "SV1*HC:20553:RT*180*UN*1***1",
        "SV1*HC:J3301*60*UN*4***1",
    ]
    assert segment_texts(decision.segments, "CLM")[0].startswith("CLM*PCN10001*240*")
    written = write_file(text, [decision])
    assert "LX*1~\n" in written and "LX*2~\n" in written and "LX*3~" not in written
    se_in = int(text.split("\nSE*")[1].split("*")[0])
    assert f"\nSE*{se_in - 3}*0001~" in written  # LX, SV1 and DTP of LX 2 gone


def test_tpi004_is_quiet_for_20553_on_different_days() -> None:
    decision = decide_one(
        tpi(Line("20553", charge="180"), Line("20553", charge="180", date="20260119"))
    )
    assert of_rule(decision, "TPI004") == []


def test_tpi004_counts_each_day_of_an_rd8_range() -> None:
    decision = decide_one(
        tpi(
            Line("20553", charge="180", date="20260110-20260113"),
            Line("20553", charge="180", date="20260112"),
        )
    )
    assert of_rule(decision, "TPI004") == [("correct", "2", ("A8:454",))]


# TPI005 -------------------------------------------------------------------------------


def test_tpi005_drops_the_20552_line_beside_a_20553() -> None:
    decision = decide_one(tpi(Line("20552", charge="120"), Line("20553", charge="180")))
    assert of_rule(decision, "TPI005") == [("correct", "1", ("A8:454",))]
    assert segment_texts(decision.segments, "SV1") == ["SV1*HC:20553*180*UN*1***1"]
    assert segment_texts(decision.segments, "CLM")[0].startswith("CLM*PCN10001*180*")
    assert of_rule(decision, "TPI006") == []


def test_tpi005_is_quiet_when_the_codes_are_on_different_days() -> None:
    decision = decide_one(
        tpi(Line("20552", charge="120", date="20260105"), Line("20553", charge="180"))
    )
    assert of_rule(decision, "TPI005") == []


# TPI006 -------------------------------------------------------------------------------


def test_tpi006_rejects_two_20552_on_one_day() -> None:
    decision = decide_one(
        tpi(
            Line("20552", charge="120", modifiers=("RT",)),
            Line("20552", charge="120", modifiers=("LT",)),
            note="TPI R TRAPEZIUS, L TRAPEZIUS",
        )
    )
    assert of_rule(decision, "TPI006") == [("reject", "2", ("A8:454",))]
    assert decision.rejected


def test_tpi006_is_quiet_for_20552_on_different_days() -> None:
    decision = decide_one(
        tpi(
            Line("20552", charge="120"),
            Line("20552", charge="120", date="20260126"),
            note="TPI L TRAPEZIUS",
        )
    )
    assert of_rule(decision, "TPI006") == []
