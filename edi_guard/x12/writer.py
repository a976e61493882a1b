"""Segments -> bytes, with envelope counts and HL/LX numbering kept consistent.

The writer is told about every segment of the input: ``write`` for those that go out and
``skip`` for those dropped. A unit (interchange, group, set, claim) in which nothing was
skipped comes out byte for byte as it came in, even when its counts were wrong: a wrong
count is the validator's finding, not ours to hide. Once anything inside a unit is skipped,
its counts (SE01, GE01, IEA01) are recomputed and HL01/HL02 and LX01 renumbered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO, Final

from edi_guard.x12.segment import Segment


class SegmentWriter:
    """Write segments to a binary sink, fixing counts and numbering after drops."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._groups = 0
        self._sets = 0
        self._set_segments = 0
        self._interchange_changed = False
        self._group_changed = False
        self._set_changed = False
        self._claim_changed = False
        self._hl_numbers: dict[str, str] = {}
        self._lx_next = 0
        self.segments_written = 0

    def retarget(self, sink: BinaryIO) -> None:
        """Send what follows to another sink (used to hold a transaction set back)."""
        self._sink = sink

    def skip(self, segment: Segment) -> None:
        """Record that ``segment`` of the input does not go out."""
        tag = segment.tag
        if tag == "ST":
            self.mark_group_changed()
        elif tag == "GS":
            self.mark_interchange_changed()
        elif tag == "LX":
            self._claim_changed = True
            self._set_changed = True
        else:
            self._set_changed = True

    def mark_interchange_changed(self) -> None:
        """A group of the current interchange was dropped: IEA01 must be recounted."""
        self._interchange_changed = True

    def mark_group_changed(self) -> None:
        """A set of the current group was dropped: GE01 must be recounted."""
        self._group_changed = True

    def mark_set_changed(self) -> None:
        """Segments of the current set were dropped: SE01, HL numbering must be redone."""
        self._set_changed = True

    def write(self, segment: Segment) -> None:
        self.write_all((segment,))

    def write_all(self, segments: Iterable[Segment]) -> None:
        """Write segments in order, renumbering and recounting as needed. One sink call per
        segment: the concatenation of a few dozen bytes is cheaper."""
        handlers = _HANDLERS
        sink_write = self._sink.write
        for segment in segments:
            handler = handlers.get(segment.tag)
            if handler is not None:
                segment = handler(self, segment)
            self._set_segments += 1
            self.segments_written += 1
            lead = segment.lead
            if lead:
                sink_write(lead + segment.raw + segment.delimiters.terminator)
            else:
                sink_write(segment.raw + segment.delimiters.terminator)

    def write_bytes(self, data: bytes) -> None:
        """Write bytes that belong to no segment (whitespace after the last IEA)."""
        self._sink.write(data)

    def retract(self, segment: Segment) -> None:
        """Take back an ST or GS written earlier whose bytes the caller threw away."""
        if segment.tag == "ST":
            self._sets -= 1
            self._group_changed = True
        elif segment.tag == "GS":
            self._groups -= 1
            self._interchange_changed = True

    def _on_isa(self, segment: Segment) -> Segment:
        self._groups = 0
        self._interchange_changed = False
        return segment

    def _on_gs(self, segment: Segment) -> Segment:
        self._groups += 1
        self._sets = 0
        self._group_changed = False
        return segment

    def _on_st(self, segment: Segment) -> Segment:
        self._sets += 1
        self._set_segments = 0
        self._set_changed = False
        self._hl_numbers = {}
        return segment

    def _on_clm(self, segment: Segment) -> Segment:
        self._lx_next = 0
        self._claim_changed = False
        return segment

    def _on_hl(self, segment: Segment) -> Segment:
        if not self._set_changed:
            # Untouched so far: the number stays what it was, and parents map to it.
            self._hl_numbers[segment.element(1)] = segment.element(1)
            return segment
        number = str(len(self._hl_numbers) + 1)
        old_number = segment.element(1)
        self._hl_numbers[old_number] = number
        parent = segment.element(2)
        new_parent = self._hl_numbers.get(parent, parent) if parent else ""
        if number == old_number and new_parent == parent:
            return segment
        return renumbered_hl(segment, number, new_parent if parent else None)

    def _on_lx(self, segment: Segment) -> Segment:
        self._lx_next += 1
        number = str(self._lx_next)
        if not self._claim_changed or segment.element(1) == number:
            return segment
        return segment.with_element(1, number)

    def _on_se(self, segment: Segment) -> Segment:
        count = str(self._set_segments + 1)
        if not self._set_changed or segment.element(1) == count:
            return segment
        return segment.with_element(1, count)

    def _on_ge(self, segment: Segment) -> Segment:
        count = str(self._sets)
        if not self._group_changed or segment.element(1) == count:
            return segment
        return segment.with_element(1, count)

    def _on_iea(self, segment: Segment) -> Segment:
        count = str(self._groups)
        if not self._interchange_changed or segment.element(1) == count:
            return segment
        return segment.with_element(1, count)


_HANDLERS: Final = {
    "ISA": SegmentWriter._on_isa,
    "GS": SegmentWriter._on_gs,
    "ST": SegmentWriter._on_st,
    "CLM": SegmentWriter._on_clm,
    "HL": SegmentWriter._on_hl,
    "LX": SegmentWriter._on_lx,
    "SE": SegmentWriter._on_se,
    "GE": SegmentWriter._on_ge,
    "IEA": SegmentWriter._on_iea,
}


def renumbered_hl(segment: Segment, number: str, parent: str | None) -> Segment:
    """``segment`` (an HL) with HL01 set to ``number`` and, unless None, HL02 to ``parent``.

    Every HL after a dropped claim is renumbered, so this is one ``replace`` on the elements
    the assembler already split to read HL03, not two ``with_element`` calls.
    """
    elements = list(segment.elements)
    while len(elements) < (2 if parent is None else 3):
        elements.append("")
    elements[1] = number
    if parent is not None:
        elements[2] = parent
    return segment.replace(tuple(elements))
