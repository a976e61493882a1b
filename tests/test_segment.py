"""Segment: reference designators, lazy elements, and copies with edited elements."""

from __future__ import annotations

import pytest

from edi_guard.errors import EdiGuardError
from edi_guard.x12 import Delimiters, Segment, parse_reference

STAR = Delimiters()
ODD = Delimiters(b"|", b"!", b"{", b"#")


def seg(text: str, delimiters: Delimiters = STAR, *, lead: bytes = b"") -> Segment:
    raw = text.encode("latin-1")
    tag = text.split(delimiters.element_str, 1)[0]
    return Segment(tag, raw=raw, delimiters=delimiters, position=7, offset=300, lead=lead)


CLM = seg("CLM*PCN1*240***11:B:1*Y*A*Y*Y")
SV1 = seg("SV1*HC:20553:59:25::::TPI 3 MUSCLES*180*UN*1***1:2")


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("CLM05-1", ("CLM", 5, 1)),
        ("SV101-3", ("SV1", 1, 3)),
        ("HL03", ("HL", 3, None)),
        ("NM109", ("NM1", 9, None)),
        ("HI01-2", ("HI", 1, 2)),
        ("DTP03", ("DTP", 3, None)),
    ],
)
def test_parse_reference(reference: str, expected: tuple[str, int, int | None]) -> None:
    assert parse_reference(reference) == expected


@pytest.mark.parametrize("reference", ["CLM", "CLM5", "C05", "CLM05-x", "CLM05-1a", "CLMAB", ""])
def test_bad_references_are_refused(reference: str) -> None:
    with pytest.raises(EdiGuardError, match="not a reference designator"):
        parse_reference(reference)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("CLM01", "PCN1"),
        ("CLM02", "240"),
        ("CLM03", ""),
        ("CLM05", "11"),  # a composite without component: its first component
        ("CLM05-1", "11"),
        ("CLM05-2", "B"),
        ("CLM05-3", "1"),
        ("CLM05-4", ""),
        ("CLM02-1", "240"),  # a simple element read as a composite
        ("CLM02-2", ""),
        ("CLM20", ""),  # beyond the end
    ],
)
def test_get(reference: str, expected: str) -> None:
    assert CLM.get(reference) == expected


def test_get_with_other_delimiters() -> None:
    clm = seg("CLM|PCN1|240|||11!B!7|Y", ODD)
    assert clm.get("CLM05-3") == "7"
    assert clm.components(5) == ["11", "B", "7"]


def test_elements_and_len() -> None:
    assert CLM.elements[0] == "CLM"
    assert CLM.element(1) == "PCN1"
    assert CLM.element(99) == ""
    assert len(CLM) == 9
    assert len(seg("LX*1**")) == 3  # trailing empty elements count


def test_components_of_a_procedure() -> None:
    assert SV1.components(1) == ["HC", "20553", "59", "25", "", "", "", "TPI 3 MUSCLES"]
    assert SV1.components(7) == ["1", "2"]
    assert SV1.components(3) == ["UN"]


def test_repr_shows_structure_not_content() -> None:
    nm1 = seg("NM1*IL*1*SUBLASTA*RICHARD****MI*MBRA0001")
    text = repr(nm1)
    assert text == "<Segment NM1 #7 with 9 elements>"
    for secret in ("SUBLASTA", "RICHARD", "MBRA0001"):
        assert secret not in text


def test_encode_is_the_raw_bytes() -> None:
    assert CLM.encode() == CLM.raw


def test_with_element_changes_one_element_and_keeps_the_rest() -> None:
    edited = CLM.with_element(2, "180")
    assert edited.raw == b"CLM*PCN1*180***11:B:1*Y*A*Y*Y"
    assert edited.get("CLM02") == "180"
    assert (edited.position, edited.offset, edited.lead, edited.delimiters) == (
        CLM.position,
        CLM.offset,
        CLM.lead,
        CLM.delimiters,
    )
    assert CLM.raw == b"CLM*PCN1*240***11:B:1*Y*A*Y*Y"  # the original is untouched


def test_with_element_pads_with_empty_elements() -> None:
    assert seg("LX*1").with_element(4, "X").raw == b"LX*1***X"


def test_with_element_keeps_lead_and_delimiters() -> None:
    lx = seg("LX|1", ODD, lead=b"\r\n  ")
    edited = lx.with_element(1, "2")
    assert edited.raw == b"LX|2"
    assert edited.lead == b"\r\n  "
    assert edited.delimiters is ODD


def test_replace_trims_trailing_empty_elements() -> None:
    assert CLM.replace(("CLM", "PCN1", "240", "", "")).raw == b"CLM*PCN1*240"
    assert seg("NM1*IL*1*ROE").with_element(5, "").raw == b"NM1*IL*1*ROE"


def test_with_components_trims_trailing_empty_components() -> None:
    edited = SV1.with_components(1, ["HC", "20553", "", "", "", "", ""])
    assert edited.raw == b"SV1*HC:20553*180*UN*1***1:2"
    assert edited.get("SV101-2") == "20553"
    assert edited.get("SV101-3") == ""


def test_with_components_of_a_description_keeps_the_empty_modifier_slots() -> None:
    edited = SV1.with_components(1, ["HC", "J3490", "", "", "", "", "DRUG NOC"])
    assert edited.raw == b"SV1*HC:J3490:::::DRUG NOC*180*UN*1***1:2"
    assert edited.get("SV101-7") == "DRUG NOC"


def test_replace_with_non_ascii_latin1_round_trips() -> None:
    nm1 = seg("NM1*IL*1*ROE")
    assert nm1.with_element(3, "MÜLLER").raw == "NM1*IL*1*MÜLLER".encode("latin-1")


def test_replaced_elements_agree_with_the_bytes() -> None:
    edited = seg("LX*1").with_element(3, "")
    reparsed = seg(edited.raw.decode("latin-1"))
    assert edited.elements == reparsed.elements
