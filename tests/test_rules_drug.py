"""The drug rules: TPI011 (with its policy switch) to TPI016."""

from __future__ import annotations

from rules_support import ClaimSpec, Line, decide_one, of_rule, segment_texts

from edi_guard.policy import Policy

MUSCLES = "TPI BILAT TRAPEZIUS, L RHOMBOID"
NDC = "00003029320"


def tpi(*lines: Line, **options: object) -> ClaimSpec:
    options.setdefault("note", MUSCLES)
    return ClaimSpec([Line("20553", charge="180"), *lines], **options)  # type: ignore[arg-type]


# TPI011 -------------------------------------------------------------------------------


def test_tpi011_rejects_a_named_steroid_without_a_drug_line() -> None:
    decision = decide_one(tpi(note=f"{MUSCLES} WITH KENALOG 40MG AND LIDOCAINE"))
    assert of_rule(decision, "TPI011") == [("reject", None, ("A6:216",))]
    message = next(f.message for f in decision.findings if f.rule == "TPI011")
    assert "2300 NTE" in message and "KENALOG" not in message.upper()


def test_tpi011_reads_line_notes_and_sv101_7() -> None:
    decision = decide_one(
        ClaimSpec(
            [
                Line("20553", charge="180", note="L TRAPEZIUS, L RHOMBOID, L LEVATOR; TORADOL"),
                Line("97140", charge="40", description="POST TPI, DEPO-MEDROL GIVEN"),
            ]
        )
    )
    assert of_rule(decision, "TPI011") == [("reject", None, ("A6:216",))]
    message = next(f.message for f in decision.findings if f.rule == "TPI011")
    assert "LX 1 note" in message and "LX 2 SV101-7" in message


def test_tpi011_only_warns_when_the_policy_says_so() -> None:
    decision = decide_one(
        tpi(note=f"{MUSCLES} WITH KENALOG 40MG"),
        policy=Policy.from_mapping({"drug_line_missing": "warn"}),
    )
    assert of_rule(decision, "TPI011") == [("warn", None, ())]
    assert decision.status == "accepted"


def test_tpi011_is_quiet_for_local_anesthetic_alone() -> None:
    decision = decide_one(tpi(note=f"{MUSCLES} WITH LIDOCAINE 1% AND BUPIVACAINE"))
    assert of_rule(decision, "TPI011") == []


def test_tpi011_is_quiet_when_the_drug_line_is_there() -> None:
    decision = decide_one(
        tpi(Line("J3301", charge="60", units="4", ndc=NDC), note=f"{MUSCLES} WITH KENALOG")
    )
    assert of_rule(decision, "TPI011") == []


# TPI012 -------------------------------------------------------------------------------


def test_tpi012_rejects_a_drug_line_on_a_day_without_injection() -> None:
    decision = decide_one(tpi(Line("J3301", charge="60", units="4", date="20260113", ndc=NDC)))
    assert of_rule(decision, "TPI012") == [("reject", "2", ("A8:216",))]


def test_tpi012_accepts_another_injection_procedure_on_the_drug_day() -> None:
    decision = decide_one(
        tpi(
            Line("20610", charge="90", date="20260113"),
            Line("J3301", charge="60", units="4", date="20260113", ndc=NDC),
        )
    )
    assert of_rule(decision, "TPI012") == []


def test_tpi012_is_quiet_when_the_drug_is_on_the_tpi_day() -> None:
    decision = decide_one(tpi(Line("J3301", charge="60", units="4", ndc=NDC)))
    assert of_rule(decision, "TPI012") == []


# TPI013 -------------------------------------------------------------------------------


def test_tpi013_copies_the_line_note_into_sv101_7_and_warns() -> None:
    decision = decide_one(tpi(Line("J3490", charge="45", note="ORPHENADRINE CITRATE 60MG/2ML")))
    assert of_rule(decision, "TPI013") == [
        ("correct", "2", ("A6:217",)),
        ("warn", "2", ()),
    ]
    assert decision.status == "corrected"
    assert segment_texts(decision.segments, "SV1")[1] == (
        "SV1*HC:J3490:::::ORPHENADRINE CITRATE 60MG/2ML*45*UN*1***1"
    )


def test_tpi013_cuts_a_long_note_to_80_characters() -> None:
    note = "ORPHENADRINE CITRATE 60MG/2ML " + "X" * 70
    decision = decide_one(tpi(Line("J3490", charge="45", note=note)))
    sv1 = segment_texts(decision.segments, "SV1")[1]
    assert sv1.split("*")[1].split(":")[6] == note[:80]


def test_tpi013_rejects_without_a_note() -> None:
    decision = decide_one(tpi(Line("J3490", charge="45")))
    assert of_rule(decision, "TPI013") == [("reject", "2", ("A6:217",))]


def test_tpi013_is_quiet_with_a_description() -> None:
    decision = decide_one(tpi(Line("J3590", charge="45", description="DRUG X 10MG")))
    assert of_rule(decision, "TPI013") == []


# TPI014 -------------------------------------------------------------------------------


def test_tpi014_sets_units_to_one_when_sv101_7_has_the_dose() -> None:
    decision = decide_one(
        tpi(Line("J3490", charge="45", units="2", description="ORPHENADRINE 60MG"))
    )
    assert of_rule(decision, "TPI014") == [("correct", "2", ("A7:476",))]
    assert segment_texts(decision.segments, "SV1")[1] == (
        "SV1*HC:J3490:::::ORPHENADRINE 60MG*45*UN*1***1"
    )


def test_tpi014_uses_the_description_tpi013_copied() -> None:
    decision = decide_one(tpi(Line("J3490", charge="45", units="3", note="ORPHENADRINE 60 MG")))
    assert [f.rule for f in decision.findings] == ["TPI013", "TPI013", "TPI014"]
    assert segment_texts(decision.segments, "SV1")[1] == (
        "SV1*HC:J3490:::::ORPHENADRINE 60 MG*45*UN*1***1"
    )


def test_tpi014_rejects_when_no_dose_is_stated() -> None:
    decision = decide_one(tpi(Line("J3490", charge="45", units="2", description="ORPHENADRINE")))
    assert of_rule(decision, "TPI014") == [("reject", "2", ("A7:476",))]


def test_tpi014_is_quiet_on_one_unit() -> None:
    decision = decide_one(tpi(Line("J3490", charge="45", description="ORPHENADRINE 60MG")))
    assert of_rule(decision, "TPI014") == []


# TPI015 -------------------------------------------------------------------------------


def test_tpi015_rejects_c9399() -> None:
    decision = decide_one(tpi(Line("C9399", charge="45", description="DRUG 10MG")))
    assert of_rule(decision, "TPI015") == [("reject", "2", ("A7:507",))]


def test_tpi015_is_quiet_on_j3490() -> None:
    decision = decide_one(tpi(Line("J3490", charge="45", description="DRUG 10MG")))
    assert of_rule(decision, "TPI015") == []


# TPI016 -------------------------------------------------------------------------------


def test_tpi016_warns_on_botox_to_medicare_without_jw_jz() -> None:
    decision = decide_one(tpi(Line("J0585", charge="650", units="100", ndc="00023114501")))
    assert of_rule(decision, "TPI016") == [("warn", "2", ())]
    assert decision.status == "accepted"


def test_tpi016_is_quiet_with_jz_or_for_a_commercial_payer() -> None:
    with_jz = tpi(Line("J0585", charge="650", units="100", modifiers=("JZ",)))
    commercial = tpi(Line("J0585", charge="650", units="100"), sbr09="CI")
    assert of_rule(decide_one(with_jz), "TPI016") == []
    assert of_rule(decide_one(commercial), "TPI016") == []


def test_tpi016_is_quiet_before_july_2023() -> None:
    spec = ClaimSpec(
        [
            Line("20553", charge="180", date="20230612"),
            Line("J0585", charge="650", units="100", date="20230612"),
        ],
        note=MUSCLES,
    )
    assert of_rule(decide_one(spec), "TPI016") == []


def test_tpi016_is_quiet_on_multi_dose_drugs() -> None:
    decision = decide_one(tpi(Line("J3301", charge="60", units="4", ndc=NDC)))
    assert of_rule(decision, "TPI016") == []
