"""Assembler: segments -> blocks and claim units, in file order, with each claim's ancestors."""

from __future__ import annotations

from x12_builders import (
    ClaimSpec,
    LineSpec,
    make_837,
    patient_last_name,
    read,
    subscriber_last_name,
)

from edi_guard.assemble import Assembler, Block, BlockKind, ClaimUnit, Item, assemble
from edi_guard.x12 import Delimiters, Segment

A1 = ClaimSpec("A1", subscriber="A", lines=(LineSpec(drug=("00003029320", "1", "ML")),))
A2 = ClaimSpec("A2", subscriber="A", lines=(LineSpec(), LineSpec(charge="20")))
B1 = ClaimSpec("B1", subscriber="B", patient="P")
B2 = ClaimSpec("B2", subscriber="B", patient="P")
B3 = ClaimSpec("B3", subscriber="B", patient="Q")
C1 = ClaimSpec("C1", subscriber="C")


def _items(data: bytes) -> list[Item]:
    return list(assemble(read(data).segments))


def _units(items: list[Item]) -> list[ClaimUnit]:
    return [item for item in items if isinstance(item, ClaimUnit)]


def _name(block: Block | None, entity: str) -> str:
    assert block is not None
    return next(s.element(3) for s in block.segments if s.tag == "NM1" and s.element(1) == entity)


def test_blocks_come_in_file_order_and_cover_every_segment() -> None:
    data = make_837([A1, A2, B1, B2, B3, C1])
    segments = read(data).segments
    items = list(assemble(segments))
    flattened = [segment for item in items for segment in item.segments]
    assert flattened == segments
    kinds = [item.kind.value if isinstance(item, Block) else "CLM" for item in items]
    assert kinds == ["ISA", "GS", "ST", "HL", "HL", "CLM", "CLM", "HL", "HL", "CLM", "CLM",
                     "HL", "CLM", "HL", "CLM", "SE", "GE", "IEA"]  # fmt: skip


def test_a_block_runs_from_its_marker_to_the_next() -> None:
    items = _items(make_837([A1]))
    header = items[2]
    assert isinstance(header, Block)
    assert [s.tag for s in header.segments] == ["ST", "BHT", "NM1", "PER", "NM1"]
    billing = items[3]
    assert isinstance(billing, Block)
    assert billing.level == "20"
    assert [s.tag for s in billing.segments] == ["HL", "NM1", "N3", "N4", "REF"]
    assert header.level == ""


def test_a_claim_unit_holds_the_2300_and_every_line_with_its_2410() -> None:
    (unit,) = _units(_items(make_837([A1])))
    assert unit.first.tag == "CLM"
    assert [s.tag for s in unit.segments] == ["CLM", "HI", "NM1", "LX", "SV1", "DTP", "LIN", "CTP"]


def test_claims_are_numbered_in_file_order_across_sets_and_interchanges() -> None:
    first = make_837(sets=[[A1, A2], [B1]])
    second = make_837([C1, A1], control=43)
    units = _units(_items(first + second))
    assert [unit.first.element(1) for unit in units] == ["A1", "A2", "B1", "C1", "A1"]
    assert [unit.position for unit in units] == [1, 2, 3, 4, 5]


def test_context_of_a_claim_whose_subscriber_is_the_patient() -> None:
    (unit, _) = _units(_items(make_837([A1, A2])))
    context = unit.context
    assert context.patient is None
    assert _name(context.subscriber, "IL") == subscriber_last_name("A")
    assert context.billing_provider is not None
    assert context.billing_provider.level == "20"
    assert context.header is not None
    assert context.header.first.element(2) == "0001"
    assert context.group is not None
    assert context.group.first.tag == "GS"
    assert context.interchange is not None
    assert context.interchange.first.tag == "ISA"


def test_context_follows_subscribers_and_patients() -> None:
    units = _units(_items(make_837([A1, B1, B2, B3, C1])))
    by_id = {unit.first.element(1): unit.context for unit in units}
    assert _name(by_id["B1"].patient, "QC") == patient_last_name("P")
    assert by_id["B2"].patient is by_id["B1"].patient
    assert _name(by_id["B3"].patient, "QC") == patient_last_name("Q")
    assert by_id["B3"].subscriber is by_id["B1"].subscriber
    # A new subscriber forgets the previous subscriber's patient.
    assert by_id["C1"].patient is None
    assert _name(by_id["C1"].subscriber, "IL") == subscriber_last_name("C")


def test_context_is_reset_by_a_new_set() -> None:
    units = _units(_items(make_837(sets=[[B1], [C1]])))
    first, second = (unit.context for unit in units)
    assert first.header is not None
    assert second.header is not None
    assert first.header.first.element(2) == "0001"
    assert second.header.first.element(2) == "0002"
    assert second.patient is None
    assert second.billing_provider is not first.billing_provider


def test_a_claim_ends_at_se() -> None:
    items = _items(make_837([A2]))
    unit = _units(items)[0]
    assert unit.segments[-1].tag == "DTP"
    trailer = items[items.index(unit) + 1]
    assert isinstance(trailer, Block)
    assert trailer.kind is BlockKind.SET_TRAILER


def test_the_assembler_holds_one_claim_at_a_time() -> None:
    segments = read(make_837([A1, A2, C1])).segments
    assembler = Assembler()
    out: list[Item] = []
    for segment in segments:
        produced = assembler.feed(segment)
        assert all(isinstance(item, Block | ClaimUnit) for item in produced)
        assert len([item for item in produced if isinstance(item, ClaimUnit)]) <= 1
        out.extend(produced)
    out.extend(assembler.close())
    assert [s for item in out for s in item.segments] == segments
    assert assembler.close() == []


def test_segments_before_any_marker_are_a_stray_block() -> None:
    delimiters = Delimiters()

    def segment(text: str, position: int) -> Segment:
        raw = text.encode()
        tag = text.split("*", 1)[0]
        return Segment(tag, raw=raw, delimiters=delimiters, position=position, offset=0)

    items = list(assemble([segment("BHT*0019", 1), segment("NM1*41", 2), segment("ST*837", 3)]))
    assert [item.kind for item in items if isinstance(item, Block)] == [
        BlockKind.STRAY,
        BlockKind.SET_HEADER,
    ]
    assert [s.tag for s in items[0].segments] == ["BHT", "NM1"]


def test_a_truncated_file_still_yields_its_open_claim_at_close() -> None:
    data = make_837([A1, A2])
    cut = data.index(b"~SE*") + 1
    units = _units(_items(data[:cut]))
    assert [unit.first.element(1) for unit in units] == ["A1", "A2"]


def test_an_empty_tag_segment_stays_inside_its_block() -> None:
    data = make_837([A1]).replace(b"~HI*", b"~~HI*", 1)
    (unit,) = _units(_items(data))
    assert [s.tag for s in unit.segments][:3] == ["CLM", "", "HI"]
