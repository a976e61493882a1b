"""CorrectedWriter: claims that go out, with the ancestors they need and nothing else.

Oracle: the builder. Dropping claims from a built file must give exactly the file the builder
makes from the remaining claims (empty HLs, sets, groups and interchanges gone; HL numbering,
SE01, GE01 and IEA01 right), and pyx12 must still validate it when the input was valid.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Container, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x12_builders import (
    ClaimSpec,
    LineSpec,
    make_837,
    pyx12_validates,
    read,
    subscriber_last_name,
)

from edi_guard.assemble import Block, BlockKind, ClaimUnit, assemble
from edi_guard.corrected import CorrectedWriter
from edi_guard.model.edits import apply_edits
from edi_guard.model.mapping import map_claim
from edi_guard.rules.base import DropLine
from edi_guard.x12.segment import Segment

Decide = Callable[[ClaimUnit], tuple[Segment, ...] | None]
Verdict = Callable[[Segment], bool]


def _accept(_: Segment) -> bool:
    return True


def correct(
    data: bytes,
    decide: Decide,
    *,
    set_ok: Verdict = _accept,
    group_ok: Verdict = _accept,
    interchange_ok: Verdict = _accept,
) -> tuple[bytes, CorrectedWriter]:
    """Drive a CorrectedWriter the way the pipeline does; verdicts get the trailer segment."""
    result = read(data)
    sink = io.BytesIO()
    writer = CorrectedWriter(sink)
    for item in assemble(result.segments):
        if isinstance(item, ClaimUnit):
            writer.claim(item, decide(item))
            continue
        kind = item.kind
        if kind is BlockKind.HIERARCHY:
            writer.hierarchy(item)
        elif kind is BlockKind.SET_HEADER:
            writer.set_header(item)
        elif kind is BlockKind.SET_TRAILER:
            writer.set_trailer(item, accepted=set_ok(item.first))
        elif kind is BlockKind.GROUP_HEADER:
            writer.group(item)
        elif kind is BlockKind.GROUP_TRAILER:
            writer.group_trailer(item, accepted=group_ok(item.first))
        elif kind is BlockKind.INTERCHANGE_HEADER:
            writer.interchange(item)
        elif kind is BlockKind.INTERCHANGE_TRAILER:
            writer.interchange_trailer(item, accepted=interchange_ok(item.first))
    writer.finish(result.trailing)
    return sink.getvalue(), writer


def dropping(ids: Container[str]) -> Decide:
    def decide(unit: ClaimUnit) -> tuple[Segment, ...] | None:
        return None if unit.first.element(1) in ids else unit.segments

    return decide


KEEP_ALL = dropping(())


def assert_envelopes_consistent(data: bytes) -> None:
    """SE01, GE01, IEA01 count what they enclose; HL01 run 1..n and HL02 name an earlier HL."""
    segments = read(data).segments
    set_start = 0
    sets = groups = 0
    hls: list[str] = []
    for index, segment in enumerate(segments):
        tag = segment.tag
        if tag == "ISA":
            groups = 0
        elif tag == "GS":
            groups += 1
            sets = 0
        elif tag == "ST":
            sets += 1
            set_start = index
            hls = []
        elif tag == "HL":
            assert segment.element(1) == str(len(hls) + 1)
            assert segment.element(2) == "" or segment.element(2) in hls
            hls.append(segment.element(1))
        elif tag == "SE":
            assert segment.element(1) == str(index - set_start + 1)
        elif tag == "GE":
            assert segment.element(1) == str(sets)
        elif tag == "IEA":
            assert segment.element(1) == str(groups)


A1 = ClaimSpec("A1", subscriber="A")
A2 = ClaimSpec("A2", subscriber="A", lines=(LineSpec("20553", "180"), LineSpec("J3301", "60")))
B1 = ClaimSpec("B1", subscriber="B")
C1 = ClaimSpec("C1", subscriber="C", patient="P")
C2 = ClaimSpec("C2", subscriber="C", patient="Q", lines=(LineSpec(), LineSpec(charge="20")))
D1 = ClaimSpec("D1", subscriber="D")
CLAIMS = [A1, A2, B1, C1, C2, D1]


def _without(claims: Sequence[ClaimSpec], *ids: str) -> list[ClaimSpec]:
    return [claim for claim in claims if claim.claim_id not in ids]


# Everything kept ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        make_837(CLAIMS),
        make_837(CLAIMS, line_end="\r\n", bom=True),
        make_837(sets=[[A1], [B1, C1], [D1]]),
        make_837([A1]) + b"\n" + make_837([B1], control=43) + b"\n\x00\x00",
    ],
    ids=["one_set", "crlf_bom", "three_sets", "two_interchanges"],
)
def test_keeping_every_claim_is_byte_identical(data: bytes) -> None:
    out, writer = correct(data, KEEP_ALL)
    assert out == data
    assert writer.claims_written == len([s for s in read(data).segments if s.tag == "CLM"])


def test_the_example_is_unchanged_and_valid(example_837p: bytes) -> None:
    out, _ = correct(example_837p, KEEP_ALL)
    assert out == example_837p


# Dropping claims --------------------------------------------------------------------------------


def test_drop_one_claim_of_two_under_one_subscriber() -> None:
    data = make_837([A1, A2, B1])
    out, writer = correct(data, dropping({"A2"}))
    assert out == make_837([A1, B1])
    assert writer.claims_written == 2
    assert_envelopes_consistent(out)


def test_drop_the_only_claim_of_a_subscriber() -> None:
    data = make_837(CLAIMS)
    out, _ = correct(data, dropping({"B1"}))
    assert out == make_837(_without(CLAIMS, "B1"))
    assert subscriber_last_name("B").encode() not in out
    hls = [s.raw for s in read(out).segments if s.tag == "HL"]
    assert hls == [b"HL*1**20*1", b"HL*2*1*22*0", b"HL*3*1*22*1", b"HL*4*3*23*0",
                   b"HL*5*3*23*0", b"HL*6*1*22*0"]  # fmt: skip
    assert_envelopes_consistent(out)


def test_drop_the_only_claim_of_a_patient() -> None:
    out, _ = correct(make_837(CLAIMS), dropping({"C1"}))
    assert out == make_837(_without(CLAIMS, "C1"))
    assert_envelopes_consistent(out)


def test_drop_every_claim_of_a_subscriber_with_patients() -> None:
    out, _ = correct(make_837(CLAIMS), dropping({"C1", "C2"}))
    assert out == make_837(_without(CLAIMS, "C1", "C2"))
    assert_envelopes_consistent(out)


def test_drop_the_first_subscriber() -> None:
    out, _ = correct(make_837(CLAIMS), dropping({"A1", "A2"}))
    assert out == make_837(_without(CLAIMS, "A1", "A2"))


def test_drop_all_claims_writes_nothing() -> None:
    data = make_837(CLAIMS, line_end="\n") + b"\n\n"
    out, writer = correct(data, dropping({c.claim_id for c in CLAIMS}))
    assert out == b""
    assert not writer.wrote_anything
    assert writer.claims_written == 0


def test_drop_every_claim_of_a_middle_set() -> None:
    data = make_837(sets=[[A1], [B1, C1], [D1]])
    out, _ = correct(data, dropping({"B1", "C1"}))
    assert out == make_837(sets=[[A1], [D1]], set_controls=["0001", "0003"])
    assert_envelopes_consistent(out)


def test_drop_every_claim_of_the_first_set() -> None:
    data = make_837(sets=[[A1], [B1, C1], [D1]])
    out, _ = correct(data, dropping({"A1"}))
    assert out == make_837(sets=[[B1, C1], [D1]], set_controls=["0002", "0003"])


def test_drop_in_the_first_interchange_only() -> None:
    second = make_837([B1, D1], control=43)
    data = make_837([A1, A2]) + b"\n" + second
    out, _ = correct(data, dropping({"A1", "A2"}))
    assert out.lstrip(b"\n") == second


def test_drop_one_claim_in_each_of_two_interchanges() -> None:
    data = make_837([A1, A2, B1]) + b"\n" + make_837([A1, B1, D1], control=43)
    out, _ = correct(data, dropping({"B1"}))
    assert out == make_837([A1, A2]) + b"\n" + make_837([A1, D1], control=43)


# Rejections after writing started ---------------------------------------------------------------


def _reject_set(st02: str) -> Verdict:
    return lambda se: se.element(2) != st02


def test_reject_a_set_after_it_started_writing_truncates_it() -> None:
    data = make_837(sets=[[A1], [B1, C1], [D1]])
    out, _ = correct(data, KEEP_ALL, set_ok=_reject_set("0002"))
    assert out == make_837(sets=[[A1], [D1]], set_controls=["0001", "0003"])
    assert_envelopes_consistent(out)


def test_reject_the_first_set_takes_back_the_envelope_written_with_it() -> None:
    data = make_837(sets=[[A1], [B1, C1], [D1]])
    out, _ = correct(data, KEEP_ALL, set_ok=_reject_set("0001"))
    assert out == make_837(sets=[[B1, C1], [D1]], set_controls=["0002", "0003"])


def test_reject_the_only_set_writes_nothing() -> None:
    out, writer = correct(make_837([A1, B1]), KEEP_ALL, set_ok=_reject_set("0001"))
    assert out == b""
    assert not writer.wrote_anything


def test_reject_a_set_with_drops_in_other_sets() -> None:
    data = make_837(sets=[[A1, A2], [B1], [C1, D1]])
    out, _ = correct(data, dropping({"A2", "D1"}), set_ok=_reject_set("0002"))
    assert out == make_837(sets=[[A1], [C1]], set_controls=["0001", "0003"])


def test_reject_the_group_writes_nothing() -> None:
    out, _ = correct(make_837([A1, B1]), KEEP_ALL, group_ok=lambda _: False)
    assert out == b""


def test_reject_an_interchange_keeps_the_next() -> None:
    second = make_837([B1], control=43)
    data = make_837([A1]) + b"\n" + second
    out, _ = correct(data, KEEP_ALL, interchange_ok=lambda isa: isa.element(2) != "000000042")
    assert out.lstrip(b"\n") == second


def test_abandon_set_takes_back_a_set_without_se() -> None:
    data = make_837(sets=[[A1], [B1]])
    items = list(assemble(read(data).segments))
    sink = io.BytesIO()
    writer = CorrectedWriter(sink)
    second_st = 0
    for item in items:
        if isinstance(item, ClaimUnit):
            writer.claim(item, item.segments)
        elif item.kind is BlockKind.INTERCHANGE_HEADER:
            writer.interchange(item)
        elif item.kind is BlockKind.GROUP_HEADER:
            writer.group(item)
        elif item.kind is BlockKind.SET_HEADER:
            second_st += 1
            writer.set_header(item)
        elif item.kind is BlockKind.HIERARCHY:
            writer.hierarchy(item)
        elif item.kind is BlockKind.SET_TRAILER:
            if second_st == 2:
                writer.abandon_set()
            else:
                writer.set_trailer(item, accepted=True)
        elif item.kind is BlockKind.GROUP_TRAILER:
            writer.group_trailer(item, accepted=True)
        elif item.kind is BlockKind.INTERCHANGE_TRAILER:
            writer.interchange_trailer(item, accepted=True)
    assert sink.getvalue() == make_837(sets=[[A1]])


def test_abandon_takes_back_an_unfinished_interchange() -> None:
    first = make_837([A1])
    data = first + make_837([B1], control=43)
    items = list(assemble(read(data[: data.rindex(b"GE*")]).segments))
    sink = io.BytesIO()
    writer = CorrectedWriter(sink)
    for item in items:
        if isinstance(item, ClaimUnit):
            writer.claim(item, item.segments)
            continue
        handlers: dict[BlockKind, Callable[[Block], None]] = {
            BlockKind.INTERCHANGE_HEADER: writer.interchange,
            BlockKind.GROUP_HEADER: writer.group,
            BlockKind.SET_HEADER: writer.set_header,
            BlockKind.HIERARCHY: writer.hierarchy,
            BlockKind.SET_TRAILER: lambda b: writer.set_trailer(b, accepted=True),
            BlockKind.GROUP_TRAILER: lambda b: writer.group_trailer(b, accepted=True),
            BlockKind.INTERCHANGE_TRAILER: lambda b: writer.interchange_trailer(b, accepted=True),
        }
        handlers[item.kind](item)
    writer.abandon()
    assert sink.getvalue() == first


# Edited claims ----------------------------------------------------------------------------------

THREE_LINES = ClaimSpec(
    "E1",
    subscriber="E",
    lines=(LineSpec("20553", "180"), LineSpec("20553", "180"), LineSpec("J3301", "60", "4")),
)


def _drop_second_line(unit: ClaimUnit) -> tuple[Segment, ...]:
    if unit.first.element(1) != "E1":
        return unit.segments
    claim = map_claim(unit)
    return apply_edits(unit.segments, [DropLine(claim.lines[1].lx_position)])


def test_a_dropped_line_renumbers_lx_and_recomputes_clm02() -> None:
    data = make_837([A1, THREE_LINES, B1])
    out, _ = correct(data, _drop_second_line)
    edited = ClaimSpec("E1", subscriber="E", lines=(THREE_LINES.lines[0], THREE_LINES.lines[2]))
    assert out == make_837([A1, edited, B1])
    assert_envelopes_consistent(out)


# pyx12 ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_corrected_files_validate_under_pyx12() -> None:
    """The inputs validate clean, and so do their corrected versions."""
    big = make_837(sets=[CLAIMS, [THREE_LINES, B1]])
    cases = [
        correct(make_837(CLAIMS), dropping({"B1"}))[0],
        correct(make_837(CLAIMS), dropping({"C1", "A2"}))[0],
        correct(big, _drop_second_line, set_ok=_reject_set("0001"))[0],
    ]
    assert pyx12_validates(big)[0]
    for out in cases:
        valid, ack = pyx12_validates(out)
        assert valid, ack
        assert "IK3" not in ack


@pytest.mark.slow
def test_example_with_a_dropped_drug_line_validates_under_pyx12(example_837p: bytes) -> None:
    def drop_drug_line(unit: ClaimUnit) -> tuple[Segment, ...]:
        claim = map_claim(unit)
        return apply_edits(unit.segments, [DropLine(claim.lines[1].lx_position)])

    out, _ = correct(example_837p, drop_drug_line)
    assert b"J3301" not in out
    assert b"CLM*PCN10002*180*" in out
    assert b"SE*24*0001~" in out  # 29 less LX, SV1, DTP, LIN, CTP
    assert_envelopes_consistent(out)
    valid, ack = pyx12_validates(out)
    assert valid, ack


# Property: dropping any claims equals building without them -------------------------------------


@st.composite
def interchanges(draw: st.DrawFn) -> list[list[ClaimSpec]]:
    """Sets of subscribers, each with direct claims or with patients; keys unique per run."""
    counter = iter(range(10_000))
    sets: list[list[ClaimSpec]] = []
    for _ in range(draw(st.integers(1, 3))):
        claims: list[ClaimSpec] = []
        for _ in range(draw(st.integers(1, 3))):
            subscriber = f"S{next(counter)}"
            if draw(st.booleans()):
                for _ in range(draw(st.integers(1, 2))):
                    patient = f"P{next(counter)}"
                    for _ in range(draw(st.integers(1, 2))):
                        lines = (LineSpec(),) * draw(st.integers(1, 3))
                        claims.append(
                            ClaimSpec(
                                f"C{next(counter)}", lines, subscriber=subscriber, patient=patient
                            )
                        )
            else:
                for _ in range(draw(st.integers(1, 3))):
                    lines = (LineSpec(),) * draw(st.integers(1, 3))
                    claims.append(ClaimSpec(f"C{next(counter)}", lines, subscriber=subscriber))
        sets.append(claims)
    return sets


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(sets=interchanges(), data=st.data())
def test_dropping_any_claims_equals_building_without_them(
    sets: list[list[ClaimSpec]], data: st.DataObject
) -> None:
    """Random claim drops and random set rejections: the builder's file without them."""
    all_ids = [claim.claim_id for claims in sets for claim in claims]
    dropped = set(data.draw(st.lists(st.sampled_from(all_ids), unique=True)))
    controls = [f"{index:04d}" for index in range(1, len(sets) + 1)]
    rejected = set(data.draw(st.lists(st.sampled_from(controls), unique=True, max_size=2)))
    kept = [
        ([claim for claim in claims if claim.claim_id not in dropped], control)
        for claims, control in zip(sets, controls, strict=True)
        if control not in rejected
    ]
    kept = [(claims, control) for claims, control in kept if claims]
    source = make_837(sets=sets)
    out, _ = correct(source, dropping(dropped), set_ok=lambda se: se.element(2) not in rejected)
    if not kept:
        assert out == b""
        return
    expected = make_837(
        sets=[claims for claims, _ in kept], set_controls=[control for _, control in kept]
    )
    assert out == expected
    # Correcting the corrected file again changes nothing (idempotence).
    assert correct(out, dropping(dropped))[0] == out
