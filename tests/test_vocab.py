"""The vocabularies in schemas/: they load, validate, and answer as rules.md says."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from edi_guard import vocab
from edi_guard.data import DataFileError, schema_file, schema_problems, schemas_dir
from edi_guard.vocab import Side, count_muscles, drugs_mentioned

L, R = Side.LEFT, Side.RIGHT


@pytest.mark.parametrize(
    ("data", "schema"),
    [
        ("muscles.json", "muscles.schema.json"),
        ("drugs.json", "drugs.schema.json"),
        ("codes.json", "codes.schema.json"),
        ("fees.json", "fees.schema.json"),
        ("ptp.json", "ptp.schema.json"),
        ("policy.defaults.json", "policy.schema.json"),
    ],
)
def test_shipped_file_validates_against_its_schema(data: str, schema: str) -> None:
    instance = json.loads(schema_file(data).read_text(encoding="utf-8"))
    assert schema_problems(instance, schema) == []
    if data != "policy.defaults.json":
        assert instance["source"] and instance["year"] >= 2000


def test_schema_problems_name_the_path_and_unknown_key() -> None:
    instance = json.loads(schema_file("fees.json").read_text(encoding="utf-8"))
    instance["amounts"][0]["amount"] = 59.79  # a float: money must be a string
    instance["amounts"][1]["colour"] = "red"
    problems = schema_problems(instance, "fees.schema.json")
    assert any(p.startswith("amounts[0].amount:") for p in problems)
    assert any(p.startswith("amounts[1].colour: unknown key") for p in problems)


def test_every_shipped_vocabulary_loads() -> None:
    assert len(vocab.load_muscles().muscles) > 40
    assert len(vocab.load_drugs().drugs) == 9
    assert vocab.load_codes().tpi_codes == {"20552", "20553"}
    assert set(vocab.load_fees()) == {"11", "19", "22", "24"}


def test_schemas_dir_holds_the_top_level_schemas() -> None:
    # In a checkout, edi_guard/_schemas links to the top-level schemas/; an installed wheel
    # (make unit-compiled) carries copies of the same files.
    top_level = Path(__file__).resolve().parents[1] / "schemas"
    if Path(vocab.__file__).resolve().parent.parent == top_level.parent:
        assert schemas_dir().resolve() == top_level.resolve()
    shipped = sorted(path.name for path in top_level.iterdir() if path.suffix in {".json", ".xsd"})
    assert shipped
    for name in shipped:
        assert (schemas_dir() / name).read_bytes() == (top_level / name).read_bytes(), name


def test_a_user_vocabulary_failing_its_schema_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "muscles.json"
    bad.write_text(json.dumps({"source": "x", "year": 2026, "muscles": []}), encoding="utf-8")
    with pytest.raises(DataFileError, match="muscles"):
        vocab.load_muscles(bad)


def test_a_vocabulary_that_is_not_json_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "drugs.json"
    bad.write_text('{\n  "source": oops\n}', encoding="utf-8")
    with pytest.raises(DataFileError, match=r"drugs\.json: not valid JSON at line 2"):
        vocab.load_drugs(bad)


# --------------------------------------------------------------------------- muscles


def muscles(*texts: str) -> set[tuple[str, Side | None]]:
    return set(count_muscles(texts).muscles)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SCM", {("sternocleidomastoid", None)}),
        ("scm", {("sternocleidomastoid", None)}),
        ("R QL", {("quadratus lumborum", R)}),
        ("Left levator scap", {("levator scapulae", L)}),
        ("lev scaps", {("levator scapulae", None)}),
        ("upper traps", {("trapezius", None)}),
        ("Sterno-cleido-mastoid", {("sternocleidomastoid", None)}),
        ("glute med", {("gluteus medius", None)}),
        ("rhomboids", {("rhomboid", None)}),
        ("TENSOR FASCIAE LATAE", {("tensor fasciae latae", None)}),
    ],
)
def test_synonyms_and_abbreviations_map_to_one_muscle(
    text: str, expected: set[tuple[str, Side | None]]
) -> None:
    assert muscles(text) == expected


@pytest.mark.parametrize("text", ["equal", "aQL", "QLX", "scmx", "strapping", "deltas"])
def test_abbreviations_do_not_match_inside_words(text: str) -> None:
    assert count_muscles([text]).count == 0


def test_left_and_right_trapezius_are_two() -> None:
    assert muscles("left and right trapezius") == {("trapezius", L), ("trapezius", R)}


def test_bilateral_trapezius_is_two() -> None:
    assert count_muscles(["bilateral trapezius"]).count == 2
    assert count_muscles(["trapezius bilaterally"]).count == 2
    assert count_muscles(["b/l upper trap"]).count == 2


def test_side_after_the_muscle_belongs_to_it() -> None:
    assert muscles("trapezius, left") == {("trapezius", L)}
    assert muscles("trapezius (R)") == {("trapezius", R)}


def test_abbreviated_side_with_a_period_still_applies() -> None:
    assert muscles("lt. trapezius; rt. SCM") == {("trapezius", L), ("sternocleidomastoid", R)}


def test_a_leading_side_carries_over_a_list() -> None:
    assert count_muscles(["bilateral trapezius and levator scapulae"]).count == 4
    assert muscles("left upper trapezius, levator scapulae, right SCM") == {
        ("trapezius", L),
        ("levator scapulae", L),
        ("sternocleidomastoid", R),
    }


def test_a_trailing_side_carries_back_over_a_list() -> None:
    assert muscles("trapezius and levator scapulae bilaterally") == {
        ("trapezius", L),
        ("trapezius", R),
        ("levator scapulae", L),
        ("levator scapulae", R),
    }


def test_a_side_does_not_cross_other_words_or_clauses() -> None:
    assert muscles("bilateral trapezius injected with lidocaine, SCM") == {
        ("trapezius", L),
        ("trapezius", R),
        ("sternocleidomastoid", None),
    }
    assert muscles("bilateral trapezius. SCM") == {
        ("trapezius", L),
        ("trapezius", R),
        ("sternocleidomastoid", None),
    }


def test_a_muscle_without_side_counts_once() -> None:
    assert count_muscles(["trapezius, trapezius, traps"]).count == 1


def test_a_sideless_mention_is_subsumed_by_a_sided_one() -> None:
    assert muscles("TPI trapezius.", "Injected left trapezius") == {("trapezius", L)}


def test_a_group_mention_is_subsumed_by_its_member() -> None:
    assert muscles("rhomboids; left rhomboid major") == {("rhomboid major", L)}
    assert muscles("erector spinae (iliocostalis, longissimus)") == {
        ("iliocostalis", None),
        ("longissimus", None),
    }


def test_counts_across_several_notes() -> None:
    result = count_muscles(["L trap", "R trap", "QL"])
    assert result.count == 3
    assert not result.region_only


def test_mixed_note_counts_only_named_muscles() -> None:
    result = count_muscles(["TPI x4 to neck: left SCM, right levator scap; upper back"])
    assert result.muscles == {("sternocleidomastoid", L), ("levator scapulae", R)}
    assert not result.region_only
    assert {"neck", "upper back"} <= result.region_words


def test_region_only_notes_are_flagged() -> None:
    result = count_muscles(["Trigger points injected in neck and upper back, paraspinals"])
    assert result.count == 0
    assert result.region_only


@pytest.mark.parametrize("text", ["", "patient tolerated well", "1% lidocaine 5 mL", "%%%"])
def test_nonsense_and_empty_notes_name_nothing(text: str) -> None:
    result = count_muscles([text])
    assert result.count == 0
    assert not result.region_only


def test_a_custom_vocabulary_can_be_used(tmp_path: Path) -> None:
    data = json.loads(schema_file("muscles.json").read_text(encoding="utf-8"))
    data["muscles"].append({"name": "platysma", "synonyms": ["platysma"], "abbreviations": []})
    path = tmp_path / "muscles.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert count_muscles(["left platysma"], vocab.load_muscles(path)).count == 1
    assert count_muscles(["left platysma"]).count == 0


# --------------------------------------------------------------------------- drugs


def test_drug_brand_and_generic_names_are_found() -> None:
    notes = ["Kenalog-40 20 mg with 1% lidocaine", "TORADOL 30MG IM", "Depo-Medrol 40"]
    assert drugs_mentioned(notes) == {
        "triamcinolone acetonide",
        "ketorolac tromethamine",
        "methylprednisolone acetate",
    }


def test_local_anesthetics_are_not_separately_billable_drugs() -> None:
    notes = ["lidocaine 1% and bupivacaine 0.25% (Marcaine)"]
    assert drugs_mentioned(notes) == frozenset()
    assert vocab.load_drugs().anesthetics_mentioned(notes) == {"lidocaine", "bupivacaine"}


def test_class_words_count_only_on_request() -> None:
    assert drugs_mentioned(["steroid injected"]) == frozenset()
    assert drugs_mentioned(["steroid injected"], include_generic=True) == {
        "corticosteroid (unnamed)"
    }


def test_drug_names_need_whole_words() -> None:
    assert drugs_mentioned(["botoxin", "unbotox"]) == frozenset()
    assert drugs_mentioned(["Botox 100 units"]) == {"onabotulinumtoxinA"}


def test_drug_code_questions() -> None:
    assert vocab.is_separately_billable_drug_code("J3301")
    assert vocab.is_separately_billable_drug_code("j1885")
    assert not vocab.is_separately_billable_drug_code("J2001")  # lidocaine: bundled
    assert vocab.is_single_dose_vial("J0585")
    assert not vocab.is_single_dose_vial("J3301")
    assert vocab.is_noc_drug("J3490") and vocab.is_noc_drug("J3590")
    assert not vocab.is_noc_drug("J3301")
    assert vocab.is_j_code("J3301") and not vocab.is_j_code("C9399")
    assert not vocab.is_j_code("J330")
    assert vocab.is_facility_only_drug("C9399")


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("code", "em"), [("99202", True), ("99215", True), ("99201", False), ("99211", True)]
)
def test_is_em(code: str, em: bool) -> None:
    assert vocab.is_em(code) is em


@pytest.mark.parametrize(
    ("code", "anesthesia"),
    [("00100", True), ("01999", True), ("00099", False), ("02000", False), ("0010T", False)],
)
def test_is_anesthesia(code: str, anesthesia: bool) -> None:
    assert vocab.is_anesthesia(code) is anesthesia


def test_procedure_and_modifier_lists() -> None:
    assert all(vocab.is_imaging_guidance(c) for c in ("76942", "77002", "77021"))
    assert not vocab.is_imaging_guidance("76000")
    assert vocab.is_tpi("20553") and not vocab.is_tpi("20550")
    assert vocab.is_ncci_associated_modifier("XS") and vocab.is_ncci_associated_modifier("59")
    assert not vocab.is_ncci_associated_modifier("50")
    assert len(vocab.load_codes().ncci_associated_modifiers) == 44
    assert vocab.is_advance_notice_modifier("GA") and not vocab.is_advance_notice_modifier("GY")


@pytest.mark.parametrize(
    ("code", "billable"),
    [
        ("M7918", True),
        ("M79.18", True),
        ("M62838", True),
        ("M791", False),  # header since FY2023
        ("M79.1", False),
        ("M6283", False),
        ("M545", False),
        ("M5450", True),
        ("M79", False),
        ("7918", False),
        ("", False),
        ("M79181234", False),
    ],
)
def test_diagnosis_billable(code: str, billable: bool) -> None:
    assert vocab.diagnosis_billable(code) is billable


def test_diagnosis_covered_patterns() -> None:
    patterns = ("M79.1*", "M6283*")
    assert vocab.diagnosis_covered("M7918", patterns)
    assert vocab.diagnosis_covered("m79.10", patterns)
    assert vocab.diagnosis_covered("M62830", patterns)
    assert not vocab.diagnosis_covered("M5450", patterns)
    assert vocab.diagnosis_covered("M5450", ["M54.50"])
    assert not vocab.diagnosis_covered("M54501", ["M54.50"])  # exact without a star


def test_lcd_reference_list_is_billable_and_covered_by_the_default_policy() -> None:
    from edi_guard.policy import Policy

    default = Policy.default().covered_diagnoses
    for code in vocab.load_codes().lcd_covered_diagnoses:
        assert vocab.diagnosis_billable(code), code
        assert vocab.diagnosis_covered(code, default), code


# --------------------------------------------------------------------------- fees


def test_office_amount_is_rvu_times_conversion_factor() -> None:
    fee = vocab.amount_at_stake("11")
    assert fee is not None
    assert fee.amount == Decimal("59.79")
    assert (Decimal("1.79") * Decimal("33.4009")).quantize(Decimal("0.01")) == fee.amount
    assert fee.verified and fee.year == 2026


def test_unverified_amounts_say_so() -> None:
    hospital = vocab.amount_at_stake("22")
    asc = vocab.amount_at_stake("24")
    assert hospital is not None and hospital.amount == Decimal("313.60")
    assert not hospital.verified
    assert asc is not None and asc.amount == Decimal("32.90") and not asc.verified
    assert vocab.amount_at_stake("99") is None
    assert vocab.money_at_stake("19") == Decimal("313.60")
    assert vocab.money_at_stake("12") is None
