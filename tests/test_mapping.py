"""The 837P mapping (segments -> Claim) and its write side (apply_edits)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from x12_builders import (
    ClaimSpec,
    LineSpec,
    make_837,
    patient_last_name,
    read,
    subscriber_last_name,
    subscriber_member_id,
)

from edi_guard.assemble import ClaimUnit, assemble
from edi_guard.errors import EdiGuardError, MappingError
from edi_guard.model.claim import Claim, Note, Party, Procedure
from edi_guard.model.edits import apply_edits, format_amount
from edi_guard.model.mapping import map_claim
from edi_guard.rules.base import DropLine, SetDescription, SetModifiers, SetProcedureCode, SetUnits
from edi_guard.x12.segment import Segment

DRUG = ("00003029320", "1.5", "ML")
RICH = ClaimSpec(
    "PCN77",
    total="300.50",
    notes=("TPI LEFT TRAPEZIUS RIGHT RHOMBOID",),
    diagnoses=("M7918", "M62838", "G8929"),
    frequency="7",
    payer_claim_control="ORIG123",
    subscriber="A",
    patient="P",
    lines=(
        LineSpec(
            "20553",
            "180.50",
            modifiers=("59", "XS"),
            pointers=(1, 2),
            control="LC001",
            notes=("LINE NOTE",),
        ),
        LineSpec("J3301", "60", "4", service_date="20260110-20260112", drug=DRUG),
        LineSpec("J3490", "60", units="", description="NOC DRUG", place_of_service="22"),
    ),
)


def _units(data: bytes) -> list[ClaimUnit]:
    return [item for item in assemble(read(data).segments) if isinstance(item, ClaimUnit)]


def _claim(data: bytes) -> Claim:
    (unit,) = _units(data)
    return map_claim(unit)


@pytest.fixture(scope="module")
def rich() -> Claim:
    return _claim(make_837([RICH]))


# Values ----------------------------------------------------------------------------------------


def test_claim_level_values(rich: Claim) -> None:
    assert rich.claim_id == "PCN77"
    assert rich.total_charge == Decimal("300.50")
    assert isinstance(rich.total_charge, Decimal)
    assert str(rich.total_charge) == "300.50"  # as received, not rounded through float
    assert rich.place_of_service == "11"
    assert rich.frequency_code == "7"
    assert rich.payer_claim_control == "ORIG123"
    assert rich.claim_filing_indicator == "MB"
    assert rich.st_control == "0001"
    assert rich.position == 1
    assert rich.line_charge_total == Decimal("300.50")


def test_diagnoses_in_pointer_order(rich: Claim) -> None:
    assert rich.diagnoses == ("M7918", "M62838", "G8929")


def test_notes_at_claim_and_line_level_stay_apart(rich: Claim) -> None:
    assert [(note.code, note.text) for note in rich.notes] == [
        ("ADD", "TPI LEFT TRAPEZIUS RIGHT RHOMBOID")
    ]
    assert [(note.code, note.text) for note in rich.lines[0].notes] == [("ADD", "LINE NOTE")]
    assert rich.lines[1].notes == ()
    assert rich.lines[2].notes == ()


def test_parties(rich: Claim) -> None:
    assert rich.subscriber.last_name == subscriber_last_name("A")
    assert rich.subscriber.identifier == subscriber_member_id("A")
    assert rich.subscriber.id_qualifier == "MI"
    assert rich.subscriber_birth_date == date(1950, 1, 1)
    assert rich.patient is not None
    assert rich.patient.last_name == patient_last_name("P")
    assert rich.patient_birth_date == date(2010, 3, 4)
    assert rich.payer.last_name == "MEDICARE PART B"
    assert rich.payer.identifier == "12502"
    assert rich.billing_provider.identifier == "1234567893"


def test_subscriber_who_is_the_patient() -> None:
    claim = _claim(make_837([ClaimSpec()]))
    assert claim.patient is None
    assert claim.patient_birth_date is None
    assert claim.subscriber_birth_date == date(1950, 1, 1)


def test_service_line_values(rich: Claim) -> None:
    line = rich.lines[0]
    assert line.line_number == "1"
    assert line.procedure == Procedure("HC", "20553", ("59", "XS"), "")
    assert line.code == "20553"
    assert line.procedure.has_modifier("XS", "25")
    assert not line.procedure.has_modifier("25")
    assert line.charge == Decimal("180.50")
    assert isinstance(line.charge, Decimal)
    assert line.units == Decimal(1)
    assert line.unit_basis == "UN"
    assert line.diagnosis_pointers == (1, 2)
    assert line.service_date == date(2026, 1, 12)
    assert line.service_date_end is None
    assert line.service_days() == (date(2026, 1, 12),)
    assert line.line_control_number == "LC001"
    assert line.drug is None
    assert line.place_of_service == ""


def test_rd8_range_and_2410_drug(rich: Claim) -> None:
    line = rich.lines[1]
    assert line.service_date == date(2026, 1, 10)
    assert line.service_date_end == date(2026, 1, 12)
    assert line.service_days() == (date(2026, 1, 10), date(2026, 1, 11), date(2026, 1, 12))
    assert line.units == Decimal(4)
    assert line.drug is not None
    assert line.drug.ndc_qualifier == "N4"
    assert line.drug.ndc == "00003029320"
    assert line.drug.quantity == Decimal("1.5")
    assert line.drug.unit == "ML"


def test_description_place_of_service_and_missing_units(rich: Claim) -> None:
    line = rich.lines[2]
    assert line.procedure.description == "NOC DRUG"
    assert line.procedure.modifiers == ()
    assert line.place_of_service == "22"
    assert line.units is None


def test_positions_point_at_the_segments(rich: Claim) -> None:
    segments = {segment.position: segment for segment in read(make_837([RICH])).segments}
    assert segments[rich.clm_position].tag == "CLM"
    for line in rich.lines:
        assert segments[line.lx_position].tag == "LX"
        assert segments[line.sv1_position].tag == "SV1"
        assert line.positions[0] == line.lx_position
        assert line.sv1_position in line.positions
    drug = rich.lines[1].drug
    assert drug is not None
    assert segments[drug.position].tag == "LIN"
    note_positions = {note.position for note in rich.notes}
    assert {segments[p].tag for p in note_positions} == {"NTE"}


def test_four_modifiers_and_pointers() -> None:
    spec = ClaimSpec(lines=(LineSpec(modifiers=("59", "XS", "RT", "LT"), pointers=(4, 3, 2, 1)),))
    line = _claim(make_837([spec])).lines[0]
    assert line.procedure.modifiers == ("59", "XS", "RT", "LT")
    assert line.diagnosis_pointers == (4, 3, 2, 1)


def test_other_subscriber_data_is_not_the_claims() -> None:
    """2320/2330 (after SBR in the claim) carry other payers' REF*F8, NTE-like data: skipped."""
    data = make_837([ClaimSpec(payer_claim_control="OURS")]).replace(
        b"~LX*1~", b"~SBR*S*18*******CI~REF*F8*THEIRS~HI*ABF:Z000~LX*1~", 1
    )
    claim = _claim(data)
    assert claim.payer_claim_control == "OURS"
    assert claim.diagnoses == ("M7918",)
    assert len(claim.lines) == 1


def test_other_hi_qualifiers_paperwork_and_trace() -> None:
    data = (
        make_837([ClaimSpec(diagnoses=("M7918", "M62838"))])
        .replace(b"~HI*", b"~PWK*OZ*BM~REF*D9*TRACE9~HI*", 1)
        .replace(b"~NM1*82*", b"~HI*BP:0001*BF:7231~NM1*82*", 1)
    )
    claim = _claim(data)
    assert claim.diagnoses == ("M7918", "M62838", "7231")
    assert claim.paperwork == ("OZ",)
    assert claim.clearinghouse_trace == "TRACE9"


def test_a_line_without_sv1_is_left_out() -> None:
    data = make_837([ClaimSpec(lines=(LineSpec(), LineSpec(charge="5")))])
    data = data.replace(b"~SV1*HC:99213*5*", b"~SV2*0450*HC:99213*5*", 1)
    claim = _claim(data)
    assert [line.line_number for line in claim.lines] == ["1"]


# Privacy ---------------------------------------------------------------------------------------


PATIENT_DATA = (
    "PCN77",
    subscriber_last_name("A"),
    subscriber_member_id("A"),
    patient_last_name("P"),
    "RICHARD",
    "JUNIOR",
    "TPI LEFT TRAPEZIUS",
    "LINE NOTE",
)


def test_claim_repr_has_no_patient_data(rich: Claim) -> None:
    text = repr(rich)
    assert text == "<Claim #1 with 3 lines>"
    for value in PATIENT_DATA:
        assert value not in text


def test_party_and_note_reprs_have_no_patient_data(rich: Claim) -> None:
    texts = [repr(rich.subscriber), repr(rich.patient), repr(rich.notes), repr(rich.lines)]
    for text in texts:
        for value in PATIENT_DATA:
            assert value not in text
    assert repr(Party("IL", "ROE", "RICHARD", "MI", "X1")) == "<Party IL>"
    assert repr(Note("ADD", "TEXT", 5)) == "<Note ADD #5>"


# Refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "reference", "message"),
    [
        (ClaimSpec(total="12A"), "CLM02", "expected a decimal number"),
        (ClaimSpec(total="NaN"), "CLM02", "expected a finite decimal number"),
        (ClaimSpec(lines=(LineSpec(units="Infinity"),)), "SV104", "finite"),
        (ClaimSpec(lines=(LineSpec(charge=""),), total="0"), "SV102", "expected an amount"),
        (ClaimSpec(lines=(LineSpec(service_date="2026011"),)), "DTP03", "CCYYMMDD"),
        (ClaimSpec(lines=(LineSpec(service_date="20260231"),)), "DTP03", "calendar date"),
        (ClaimSpec(lines=(LineSpec(service_date="20260110-"),)), "DTP03", "CCYYMMDD"),
    ],
)
def test_unreadable_values_raise_mapping_error_without_the_value(
    spec: ClaimSpec, reference: str, message: str
) -> None:
    (unit,) = _units(make_837([spec]))
    with pytest.raises(MappingError) as caught:
        map_claim(unit)
    error = caught.value
    assert isinstance(error, EdiGuardError)
    assert error.reference == reference
    assert message in str(error)
    assert str(error).startswith(f"segment {error.position}, {reference}: ")
    for value in ("12A", "NaN", "Infinity", "2026011", "20260231"):
        assert value not in str(error)


def test_bad_birth_date_is_a_mapping_error() -> None:
    data = make_837([ClaimSpec()]).replace(b"DMG*D8*19500101", b"DMG*D8*19501301")
    (unit,) = _units(data)
    with pytest.raises(MappingError, match="DMG02: expected a calendar date"):
        map_claim(unit)


def test_reversed_rd8_range_is_a_mapping_error() -> None:
    (unit,) = _units(make_837([ClaimSpec(lines=(LineSpec(service_date="20260112-20260110"),))]))
    with pytest.raises(MappingError):
        map_claim(unit)


def test_non_ascii_digit_in_a_pointer_does_not_crash() -> None:
    data = make_837([ClaimSpec()]).replace(b"*UN*1***1~", b"*UN*1***1:\xb2~", 1)
    (unit,) = _units(data)
    try:
        claim = map_claim(unit)
    except MappingError:
        return
    assert claim.lines[0].diagnosis_pointers == (1,)


def test_model_objects_refuse_invalid_states() -> None:
    with pytest.raises(ValueError, match="at most four modifiers"):
        Procedure("HC", "20553", ("1", "2", "3", "4", "5"))


# apply_edits -----------------------------------------------------------------------------------

THREE = ClaimSpec(
    "E1",
    lines=(LineSpec("20553", "180"), LineSpec("20552", "120.50"), LineSpec("J3301", "60", "4")),
)


def _three() -> tuple[ClaimUnit, Claim]:
    (unit,) = _units(make_837([THREE]))
    return unit, map_claim(unit)


def _sv1(segments: tuple[Segment, ...], index: int) -> Segment:
    return [segment for segment in segments if segment.tag == "SV1"][index]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("180"), "180"),
        (Decimal("180.50"), "180.5"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.00"), "0"),
        (Decimal("0.125"), "0.125"),
        (Decimal("360.50"), "360.5"),
    ],
)
def test_format_amount(value: Decimal, text: str) -> None:
    assert format_amount(value) == text


def test_drop_line_recomputes_clm02_and_keeps_other_segments() -> None:
    unit, claim = _three()
    edited = apply_edits(unit.segments, [DropLine(claim.lines[1].lx_position)])
    assert edited[0].get("CLM02") == "240"
    assert [s.element(1) for s in edited if s.tag == "LX"] == ["1", "3"]  # renumbering: writer
    assert all(any(s is original for original in unit.segments) for s in edited[1:])
    assert map_claim(ClaimUnit(unit.context, edited, unit.position)).total_charge == Decimal(240)


def test_set_units_modifiers_description_and_code() -> None:
    unit, claim = _three()
    first, second, third = (line.sv1_position for line in claim.lines)
    edited = apply_edits(
        unit.segments,
        [
            SetUnits(first, Decimal("1.0")),
            SetModifiers(second, ("59",)),
            SetDescription(third, "X" * 100),
            SetProcedureCode(third, "J3490"),
        ],
    )
    assert _sv1(edited, 0).raw == b"SV1*HC:20553*180*UN*1***1"
    assert _sv1(edited, 1).raw == b"SV1*HC:20552:59*120.50*UN*1***1"
    assert _sv1(edited, 2).raw == b"SV1*HC:J3490:::::" + b"X" * 80 + b"*60*UN*4***1"
    assert edited[0] is unit.segments[0]  # CLM02 untouched without a dropped line
    changed = {s.position for s in edited if all(s is not o for o in unit.segments)}
    assert changed == {first, second, third}


def test_set_modifiers_to_none_clears_them() -> None:
    (unit,) = _units(make_837([ClaimSpec(lines=(LineSpec(modifiers=("50", "25")),))]))
    sv1 = map_claim(unit).lines[0].sv1_position
    edited = apply_edits(unit.segments, [SetModifiers(sv1, ())])
    assert _sv1(edited, 0).raw == b"SV1*HC:99213*100*UN*1***1"


def test_edits_refuse_what_cannot_be() -> None:
    unit, claim = _three()
    with pytest.raises(ValueError, match="four modifiers"):
        apply_edits(unit.segments, [SetModifiers(claim.lines[0].sv1_position, ("1",) * 5)])
    with pytest.raises(LookupError):
        apply_edits(unit.segments, [SetUnits(99999, Decimal(1))])


def test_no_edits_returns_the_same_segments() -> None:
    unit, _ = _three()
    edited = apply_edits(unit.segments, [])
    assert all(a is b for a, b in zip(edited, unit.segments, strict=True))


def test_memoised_readings_follow_each_segments_own_delimiters() -> None:
    """HI and SV101 readings are remembered by their bytes (claims repeat them), but the same
    bytes under another interchange's separators read differently."""
    from edi_guard.model.mapping import _DATES_472, _DIAGNOSES, _SV1_VALUES, _procedure
    from edi_guard.x12.delimiters import Delimiters

    colon, bang, pipe = Delimiters(), Delimiters(component=b"!"), Delimiters(element=b"|")
    for _ in range(2):  # the second round is served by the memo
        assert _DIAGNOSES.get(Segment("HI", b"HI*ABK:M7918*ABF!M5412", colon, 1, 0)) == ("M7918",)
        assert _DIAGNOSES.get(Segment("HI", b"HI*ABK:M7918*ABF!M5412", bang, 1, 0)) == ("M5412",)
        assert _procedure("HC:20553:RT", ":") == Procedure("HC", "20553", ("RT",))
        assert _procedure("HC:20553:RT", "!") == Procedure("HC:20553:RT", "")
        line = b"SV1*HC:20553!RT*180*UN*1***1:2"
        on_colon = _SV1_VALUES.get(Segment("SV1", line, colon, 1, 0))
        on_bang = _SV1_VALUES.get(Segment("SV1", line, bang, 1, 0))
        assert (on_colon.procedure.code, on_colon.pointers) == ("20553!RT", (1, 2))
        assert (on_bang.procedure.code, on_bang.pointers) == ("RT", ())  # HC:20553 ! RT
        assert on_colon.charge == on_bang.charge == Decimal(180)
        dtp = b"DTP*472*D8*20260112"
        assert _DATES_472.get(Segment("DTP", dtp, colon, 1, 0)) == (date(2026, 1, 12), None)
        assert _DATES_472.get(Segment("DTP*472*D8*20260112", dtp, pipe, 1, 0)) is None


def test_a_refused_value_raises_for_every_segment_that_carries_it() -> None:
    """Readings are remembered only when they succeed: each bad segment names its own place."""
    from edi_guard.model.mapping import _DATES_472, _SV1_VALUES
    from edi_guard.x12.delimiters import Delimiters

    for position in (3, 9):
        with pytest.raises(MappingError) as raised:
            _SV1_VALUES.get(Segment("SV1", b"SV1*HC:99213*12X*UN*1", Delimiters(), position, 0))
        assert (raised.value.position, raised.value.reference) == (position, "SV102")
        with pytest.raises(MappingError) as raised:
            _DATES_472.get(Segment("DTP", b"DTP*472*D8*20261399", Delimiters(), position, 0))
        assert (raised.value.position, raised.value.reference) == (position, "DTP03")


def test_readings_are_remembered_per_bytes_and_bounded() -> None:
    from edi_guard.model.mapping import _Readings
    from edi_guard.x12.delimiters import Delimiters

    reads: list[bytes] = []

    def read(segment: Segment) -> str:
        reads.append(segment.raw)
        return segment.element(1)

    readings: _Readings[str] = _Readings(read, limit=2)
    lx = [Segment("LX", f"LX*{n}".encode(), Delimiters(), n, 0) for n in (1, 2, 1, 3, 1)]
    assert [readings.get(segment) for segment in lx] == ["1", "2", "1", "3", "1"]
    # LX*1 read once until the third distinct segment filled the memo and emptied it.
    assert reads == [b"LX*1", b"LX*2", b"LX*3", b"LX*1"]


@pytest.mark.parametrize(
    ("raw", "element"),
    [
        (b"REF*6R*LINE0001", b"*"),
        (b"REF*6R*LINE0001*DESCRIPTION", b"*"),
        (b"REF*6R*", b"*"),
        (b"REF*6R", b"*"),
        (b"REF*6RX*LINE0001", b"*"),
        (b"REF*6*LINE0001", b"*"),
        (b"REF*D9*TRACE*6R", b"*"),
        (b"REF*F8*ORIGINAL", b"*"),
        (b"REF|6R|A*B:C", b"|"),
        (b"REF|6R*LINE|X", b"|"),
        (b"DMG*D8*19800101*F", b"*"),
        (b"DMG*D8**F", b"*"),
        (b"DMG*RD8*19800101-19800102", b"*"),
        (b"DMG|D8|19800101", b"|"),
        (b"DMG", b"*"),
        (b"NM1*PR*2*MEDICARE*****PI*00431", b"*"),
        (b"NM1*PRP*2*OTHER", b"*"),
        (b"NM1*PR", b"*"),
        (b"NM1*P*R", b"*"),
    ],
)
def test_qualified_value_reads_what_the_element_split_reads(raw: bytes, element: bytes) -> None:
    from edi_guard.model.mapping import qualified_value
    from edi_guard.x12.delimiters import Delimiters

    segment = Segment(raw[:3].decode(), raw, Delimiters(element=element), 1, 0)
    for qualifier in (b"6R", b"D9", b"F8", b"D8", b"RD8", b"6", b"PR"):
        split = segment.element(2) if segment.element(1) == qualifier.decode() else None
        fresh = Segment(raw[:3].decode(), raw, Delimiters(element=element), 1, 0)
        assert qualified_value(fresh, qualifier) == split, (raw, qualifier)
