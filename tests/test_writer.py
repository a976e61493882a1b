"""SegmentWriter: untouched units come out byte for byte; after drops, counts and numbering.

The oracle is the builder: dropping claim X from a file must give exactly the file the builder
makes without X (same HL numbering, SE01, GE01, IEA01), and a unit with no drop in it must
come out as it came in, even when its counts were wrong.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

import pytest
from x12_builders import (
    ClaimSpec,
    LineSpec,
    make_837,
    patient_last_name,
    read,
    roundtrip,
    subscriber_last_name,
)

from edi_guard.assemble import Block, BlockKind, ClaimUnit, assemble
from edi_guard.x12.segment import Segment
from edi_guard.x12.writer import SegmentWriter

A1 = ClaimSpec("A1", subscriber="A")
A2 = ClaimSpec("A2", subscriber="A", lines=(LineSpec("20553", "180"), LineSpec("J3301", "60")))
B1 = ClaimSpec("B1", subscriber="B")
C1 = ClaimSpec("C1", subscriber="C", patient="P", lines=(LineSpec(), LineSpec(charge="50")))
C2 = ClaimSpec("C2", subscriber="C", patient="Q")
D1 = ClaimSpec("D1", subscriber="D")
THREE_LINES = ClaimSpec(
    "L3",
    subscriber="B",
    lines=(LineSpec("99213", "100"), LineSpec("20553", "180"), LineSpec("J3301", "60")),
)
CLAIMS = [A1, A2, B1, C1, C2, D1]


def rewrite(data: bytes, skip: set[int]) -> bytes:
    """Write every segment whose position is not in ``skip``; skip the others, in order."""
    result = read(data)
    sink = io.BytesIO()
    writer = SegmentWriter(sink)
    for segment in result.segments:
        if segment.position in skip:
            writer.skip(segment)
        else:
            writer.write(segment)
    writer.write_bytes(result.trailing)
    return sink.getvalue()


def _items(data: bytes) -> list[Block | ClaimUnit]:
    return list(assemble(read(data).segments))


def _positions(segments: Iterable[Segment]) -> set[int]:
    return {segment.position for segment in segments}


def claim_positions(data: bytes, claim_id: str) -> set[int]:
    for item in _items(data):
        if isinstance(item, ClaimUnit) and item.first.element(1) == claim_id:
            return _positions(item.segments)
    raise LookupError(claim_id)


def hl_positions(data: bytes, name: str) -> set[int]:
    """The HL block holding an NM1 with last name ``name``."""
    for item in _items(data):
        if (
            isinstance(item, Block)
            and item.kind is BlockKind.HIERARCHY
            and any(segment.element(3) == name for segment in item.segments)
        ):
            return _positions(item.segments)
    raise LookupError(name)


def line_positions(data: bytes, claim_id: str, line: int) -> set[int]:
    for item in _items(data):
        if isinstance(item, ClaimUnit) and item.first.element(1) == claim_id:
            lines: list[list[Segment]] = []
            for segment in item.segments:
                if segment.tag == "LX":
                    lines.append([])
                if lines:
                    lines[-1].append(segment)
            return _positions(lines[line - 1])
    raise LookupError(claim_id)


def set_positions(data: bytes, st02: str) -> set[int]:
    inside = False
    found: set[int] = set()
    for segment in read(data).segments:
        if segment.tag == "ST" and segment.element(2) == st02:
            inside = True
        if inside:
            found.add(segment.position)
        if segment.tag == "SE" and inside:
            return found
    raise LookupError(st02)


# Nothing dropped -------------------------------------------------------------------------------


@pytest.mark.parametrize("line_end", ["", "\n", "\r\n"])
def test_nothing_dropped_is_byte_identical(line_end: str) -> None:
    data = make_837(CLAIMS, line_end=line_end)
    assert rewrite(data, set()) == data
    assert roundtrip(data) == data


def test_wrong_counts_are_kept_when_nothing_was_dropped() -> None:
    """A wrong count is the validator's finding, not ours to hide."""
    data = make_837(CLAIMS)
    se = next(segment for segment in read(data).segments if segment.tag == "SE")
    broken = data.replace(b"~" + se.raw + b"~", b"~SE*999*0001~")
    broken = broken.replace(b"~GE*1*", b"~GE*7*").replace(b"~IEA*1*", b"~IEA*5*")
    broken = broken.replace(b"HL*3*1*22", b"HL*9*1*22").replace(b"~LX*1~", b"~LX*4~", 1)
    assert rewrite(broken, set()) == broken


def test_segments_written_counts_every_write() -> None:
    data = make_837(CLAIMS)
    sink = io.BytesIO()
    writer = SegmentWriter(sink)
    segments = read(data).segments
    for segment in segments:
        writer.write(segment)
    assert writer.segments_written == len(segments)


# Dropping claims and HLs -----------------------------------------------------------------------


def test_dropping_one_claim_of_a_subscriber_recounts_se() -> None:
    data = make_837(CLAIMS)
    assert rewrite(data, claim_positions(data, "A2")) == make_837([A1, B1, C1, C2, D1])


def test_dropping_a_subscriber_with_its_claim_renumbers_later_hls() -> None:
    data = make_837(CLAIMS)
    skip = hl_positions(data, subscriber_last_name("B")) | claim_positions(data, "B1")
    assert rewrite(data, skip) == make_837([A1, A2, C1, C2, D1])


def test_dropping_a_patient_renumbers_hls_and_their_parents() -> None:
    data = make_837(CLAIMS)
    skip = hl_positions(data, patient_last_name("P")) | claim_positions(data, "C1")
    expected = make_837([A1, A2, B1, C2, D1])
    assert rewrite(data, skip) == expected
    hls = [s.raw for s in read(expected).segments if s.tag == "HL"]
    assert hls == [b"HL*1**20*1", b"HL*2*1*22*0", b"HL*3*1*22*0", b"HL*4*1*22*1",
                   b"HL*5*4*23*0", b"HL*6*1*22*0"]  # fmt: skip


def test_dropping_the_first_subscriber_renumbers_every_hl() -> None:
    data = make_837(CLAIMS)
    skip = (
        hl_positions(data, subscriber_last_name("A"))
        | claim_positions(data, "A1")
        | claim_positions(data, "A2")
    )
    assert rewrite(data, skip) == make_837([B1, C1, C2, D1])


def test_dropping_keeps_line_breaks_of_rewritten_segments() -> None:
    data = make_837(CLAIMS, line_end="\r\n")
    skip = hl_positions(data, subscriber_last_name("A")) | claim_positions(data, "A1")
    skip |= claim_positions(data, "A2")
    assert rewrite(data, skip) == make_837([B1, C1, C2, D1], line_end="\r\n")


def test_dropping_a_line_renumbers_lx_in_that_claim_only() -> None:
    data = make_837([A1, THREE_LINES, C1])
    out = rewrite(data, line_positions(data, "L3", 1))
    kept = ClaimSpec(
        "L3", subscriber="B", lines=THREE_LINES.lines[1:], total="340"
    )  # the writer does not recompute CLM02: that is apply_edits' job
    assert out == make_837([A1, kept, C1])


def test_dropping_a_middle_line() -> None:
    data = make_837([THREE_LINES])
    out = rewrite(data, line_positions(data, "L3", 2))
    lx = [s.raw for s in read(out).segments if s.tag == "LX"]
    assert lx == [b"LX*1", b"LX*2"]
    sv1 = [s.element(1) for s in read(out).segments if s.tag == "SV1"]
    assert sv1 == ["HC:99213", "HC:J3301"]


def test_dropping_the_last_line_leaves_the_others_alone() -> None:
    data = make_837([THREE_LINES])
    out = rewrite(data, line_positions(data, "L3", 3))
    assert [s.raw for s in read(out).segments if s.tag == "LX"] == [b"LX*1", b"LX*2"]


# Sets, groups, interchanges --------------------------------------------------------------------


def test_dropping_a_set_recounts_ge_and_leaves_other_sets_byte_identical() -> None:
    sets = [[A1], [B1, C1], [D1]]
    data = make_837(sets=sets)
    out = rewrite(data, set_positions(data, "0002"))
    assert out == make_837(sets=[[A1], [D1]], set_controls=["0001", "0003"])


def test_a_drop_in_one_set_leaves_the_other_sets_byte_identical() -> None:
    sets = [[A1, A2], [B1, C1], [D1]]
    data = make_837(sets=sets)
    out = rewrite(data, claim_positions(data, "A2"))
    assert out == make_837(sets=[[A1], [B1, C1], [D1]])
    set2 = b"ST*837*0002"
    assert out[out.index(set2) :] == data[data.index(set2) :]


def _two_groups() -> bytes:
    data = make_837(sets=[[A1], [B1]])
    head = data[: data.index(b"GS*")]
    group = data[data.index(b"GS*") : data.index(b"IEA*")]
    second = group.replace(b"*42*X*", b"*43*X*").replace(b"GE*2*42", b"GE*2*43")
    return head + group + second + b"IEA*2*000000042~"


def test_dropping_a_group_recounts_iea() -> None:
    data = _two_groups()
    segments = read(data).segments
    first_ge = next(s for s in segments if s.tag == "GE")
    skip = {s.position for s in segments if 1 < s.position <= first_ge.position}
    out = rewrite(data, skip)
    assert out.endswith(b"GE*2*43~IEA*1*000000042~")
    assert out[: out.index(b"GS*")] == data[: data.index(b"GS*")]


def test_a_drop_in_one_interchange_leaves_the_next_byte_identical() -> None:
    first = make_837(CLAIMS)
    second = make_837(CLAIMS, control=43)
    data = first + b"\n" + second
    out = rewrite(data, claim_positions(first, "A2"))
    assert out == make_837([A1, B1, C1, C2, D1]) + b"\n" + second


def test_retract_takes_back_a_set_and_recounts_ge() -> None:
    data = make_837(sets=[[A1], [B1]])
    segments = read(data).segments
    sink = io.BytesIO()
    writer = SegmentWriter(sink)
    mark = 0
    for segment in segments:
        if segment.tag == "ST" and segment.element(2) == "0002":
            mark = sink.tell()
        writer.write(segment)
        if segment.tag == "SE" and segment.element(2) == "0002":
            sink.seek(mark)
            sink.truncate()
            writer.retract(next(s for s in segments if s.tag == "ST" and s.element(2) == "0002"))
    assert sink.getvalue() == make_837(sets=[[A1]])


def test_retract_takes_back_a_group_and_recounts_iea() -> None:
    data = _two_groups()
    segments = read(data).segments
    sink = io.BytesIO()
    writer = SegmentWriter(sink)
    gs = [s for s in segments if s.tag == "GS"]
    mark = 0
    for segment in segments:
        if segment is gs[1]:
            mark = sink.tell()
        writer.write(segment)
        if segment.tag == "GE" and segment.element(2) == "43":
            sink.seek(mark)
            sink.truncate()
            writer.retract(gs[1])
    out = sink.getvalue()
    assert out.endswith(b"GE*2*42~IEA*1*000000042~")


def test_mark_methods_force_recounts() -> None:
    data = make_837(sets=[[A1], [B1]])
    sink = io.BytesIO()
    writer = SegmentWriter(sink)
    for segment in read(data).segments:
        if segment.tag == "ST" and segment.element(2) == "0002":
            writer.mark_group_changed()
        if segment.tag == "GE":
            writer.mark_interchange_changed()
        writer.write(segment)
    assert sink.getvalue() == data  # the counts were right, so nothing changes


def test_write_bytes_writes_as_is() -> None:
    sink = io.BytesIO()
    SegmentWriter(sink).write_bytes(b"\r\n\x00")
    assert sink.getvalue() == b"\r\n\x00"


def test_retarget_sends_what_follows_elsewhere() -> None:
    data = make_837([A1])
    segments = read(data).segments
    first, second = io.BytesIO(), io.BytesIO()
    writer = SegmentWriter(first)
    for segment in segments[:3]:
        writer.write(segment)
    writer.retarget(second)
    for segment in segments[3:]:
        writer.write(segment)
    assert first.getvalue() + second.getvalue() == data


def test_renumbering_after_a_drop_keeps_parents_consistent_with_odd_input_numbers() -> None:
    data = make_837(CLAIMS)
    odd = data.replace(b"HL*1**20", b"HL*10**20").replace(b"*1*22*", b"*10*22*")
    skip = hl_positions(odd, subscriber_last_name("B")) | claim_positions(odd, "B1")
    out = rewrite(odd, skip)
    hls = [s for s in read(out).segments if s.tag == "HL"]
    numbers = {hl.element(1) for hl in hls}
    assert all(hl.element(2) in numbers for hl in hls if hl.element(2))


@pytest.mark.parametrize(
    ("raw", "parent", "expected"),
    [
        (b"HL*1**20*1", None, b"HL*5**20*1"),
        (b"HL*2*1*22*0", None, b"HL*5*1*22*0"),
        (b"HL*2*1*22*0", "17", b"HL*5*17*22*0"),
        (b"HL*3*2*23*0", "1", b"HL*5*1*23*0"),
        (b"HL*12*7*22", "17", b"HL*5*17*22"),
        (b"HL**1*22*0", "17", b"HL*5*17*22*0"),
        (b"HL*2*1*22*0*", "17", b"HL*5*17*22*0"),  # a trailing separator is trimmed
        (b"HL*2*1*22*0**", None, b"HL*5*1*22*0"),
        (b"HL*2*1*", "17", b"HL*5*17"),
        (b"HL*2*1", "17", b"HL*5*17"),
        (b"HL*2", None, b"HL*5"),
        (b"HL*2", "17", b"HL*5*17"),
        (b"HL", None, b"HL*5"),
        (b"HL|40|31|23|0", "17", b"HL|5|17|23|0"),
    ],
)
def test_a_renumbered_hl_keeps_everything_but_hl01_and_hl02(
    raw: bytes, parent: str | None, expected: bytes
) -> None:
    from edi_guard.x12.delimiters import Delimiters
    from edi_guard.x12.writer import renumbered_hl

    separator = b"|" if b"|" in raw else b"*"
    delimiters = Delimiters(element=separator, component=b":", repetition=b"^", terminator=b"~")
    segment = Segment("HL", raw, delimiters, position=9, offset=300, lead=b"\n")
    got = renumbered_hl(segment, "5", parent)
    assert (got.raw, got.tag, got.position, got.offset, got.lead) == (
        expected,
        "HL",
        9,
        300,
        b"\n",
    )
    assert got.elements == tuple(expected.decode().split(separator.decode()))
