"""The corrected 837P: every claim that may go out, with only its edits changed.

Claims stream through; the blocks above them (ISA, GS, ST header, billing provider,
subscriber and patient HLs) are held back until a claim under them goes out, so a subscriber
or patient left without claims disappears, and so does a transaction set, group or
interchange left without claims. A set, group or interchange that the validator rejects is
taken back after the fact by truncating the output to where it started: the output is a
seekable temporary file that the pipeline renames into place only when complete.
"""

from __future__ import annotations

from typing import BinaryIO, Final

from edi_guard.assemble import (
    BILLING_PROVIDER_LEVEL,
    PATIENT_LEVEL,
    SUBSCRIBER_LEVEL,
    Block,
    ClaimUnit,
)
from edi_guard.x12.segment import Segment
from edi_guard.x12.writer import SegmentWriter

_DEPTH: Final = {BILLING_PROVIDER_LEVEL: 0, SUBSCRIBER_LEVEL: 1, PATIENT_LEVEL: 2}


class _Held:
    """A block waiting for its first claim, and whether it has gone out yet.

    A plain class: one is made per HL block, and a dataclass's generated ``__init__`` stays
    interpreted even when this module is compiled (see edi_guard.model.claim)."""

    __slots__ = ("block", "written")

    def __init__(self, block: Block, written: bool = False) -> None:
        self.block = block
        self.written = written


class CorrectedWriter:
    """Drive a SegmentWriter from blocks and claim decisions."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self._writer = SegmentWriter(sink)
        self._interchange: _Held | None = None
        self._group: _Held | None = None
        self._header: _Held | None = None
        self._hierarchy: list[_Held] = []  # billing provider, subscriber, patient
        self._interchange_mark = 0
        self._group_mark = 0
        self._set_mark = 0
        # Drops that happened before the unit's header went out: replayed once it does.
        self._dropped_group = False
        self._dropped_set = False
        self._dropped_in_set = False
        self.claims_written = 0

    @property
    def wrote_anything(self) -> bool:
        return self._sink.tell() > 0

    # Envelope and hierarchy ------------------------------------------------------------

    def interchange(self, block: Block) -> None:
        self._interchange = _Held(block)
        self._interchange_mark = self._sink.tell()
        self._dropped_group = False

    def group(self, block: Block) -> None:
        self._group = _Held(block)
        self._group_mark = self._sink.tell()
        self._dropped_set = False

    def set_header(self, block: Block) -> None:
        self._header = _Held(block)
        self._hierarchy = []
        self._set_mark = self._sink.tell()
        self._dropped_in_set = False

    def hierarchy(self, block: Block) -> None:
        depth = _DEPTH.get(block.level, 2)
        for held in self._hierarchy[depth:]:
            if not held.written:
                self._note_dropped_in_set(held.block.first)
        del self._hierarchy[depth:]
        while len(self._hierarchy) < depth:
            # An HL whose expected parent level is missing: keep the structure as it came.
            self._hierarchy.append(_Held(block, written=True))
        self._hierarchy.append(_Held(block))

    # Claims ----------------------------------------------------------------------------

    def claim(self, unit: ClaimUnit, segments: tuple[Segment, ...] | None) -> None:
        """Write a claim's (possibly corrected) segments, or record it as dropped (None)."""
        if segments is None:
            self._note_dropped_in_set(unit.first)
            return
        self._flush_ancestors()
        writer = self._writer
        if segments is unit.segments:  # as received: most claims
            writer.write_all(segments)
            self.claims_written += 1
            return
        kept = {segment.position for segment in segments}
        writer.write(segments[0])
        for original in unit.segments[1:]:
            if original.position not in kept:
                writer.skip(original)
        for segment in segments[1:]:
            writer.write(segment)
        self.claims_written += 1

    # Trailers --------------------------------------------------------------------------

    def set_trailer(self, block: Block, *, accepted: bool) -> None:
        header = self._header
        self._header = None
        written = header is not None and header.written
        if written and not accepted:
            self._truncate(self._set_mark)
            self._writer.retract(header.block.first)  # type: ignore[union-attr]
            self._forget_unwritten_envelope(self._set_mark)
            self._note_dropped_set()
            return
        if not written:
            self._note_dropped_set()
            return
        for segment in block.segments:
            self._writer.write(segment)

    def group_trailer(self, block: Block, *, accepted: bool) -> None:
        group = self._group
        self._group = None
        if group is None or not group.written:
            self._note_dropped_group()
            return
        if not accepted:
            self._truncate(self._group_mark)
            self._writer.retract(group.block.first)
            self._forget_unwritten_envelope(self._group_mark)
            self._note_dropped_group()
            return
        for segment in block.segments:
            self._writer.write(segment)

    def interchange_trailer(self, block: Block, *, accepted: bool) -> None:
        interchange = self._interchange
        self._interchange = None
        if interchange is None or not interchange.written:
            return
        if not accepted:
            self._truncate(self._interchange_mark)
            return
        for segment in block.segments:
            self._writer.write(segment)

    def abandon_set(self) -> None:
        """The set ended without SE (the validator rejects it): take back what it wrote."""
        header = self._header
        self._header = None
        if header is not None and header.written:
            self._truncate(self._set_mark)
            self._writer.retract(header.block.first)
            self._forget_unwritten_envelope(self._set_mark)
        self._note_dropped_set()

    def abandon(self) -> None:
        """The input ended inside an interchange: nothing of it goes out."""
        interchange = self._interchange
        if interchange is not None and interchange.written:
            self._truncate(self._interchange_mark)
        self._interchange = self._group = self._header = None
        self._hierarchy = []

    def finish(self, trailing: bytes) -> None:
        if self.wrote_anything and trailing:
            self._writer.write_bytes(trailing)

    # Internals -------------------------------------------------------------------------

    def _flush_ancestors(self) -> None:
        writer = self._writer
        interchange, group, header = self._interchange, self._group, self._header
        if interchange is not None and not interchange.written:
            self._write_block(interchange)
            if self._dropped_group:
                writer.mark_interchange_changed()
        if group is not None and not group.written:
            self._write_block(group)
            if self._dropped_set:
                writer.mark_group_changed()
        if header is not None and not header.written:
            self._write_block(header)
            if self._dropped_in_set:
                writer.mark_set_changed()
        for held in self._hierarchy:
            if not held.written:
                self._write_block(held)

    def _write_block(self, held: _Held) -> None:
        self._writer.write_all(held.block.segments)
        held.written = True

    def _note_dropped_in_set(self, segment: Segment) -> None:
        self._dropped_in_set = True
        header = self._header
        if header is not None and header.written:
            self._writer.skip(segment)

    def _note_dropped_set(self) -> None:
        self._dropped_set = True
        group = self._group
        if group is not None and group.written:
            self._writer.mark_group_changed()

    def _note_dropped_group(self) -> None:
        self._dropped_group = True
        interchange = self._interchange
        if interchange is not None and interchange.written:
            self._writer.mark_interchange_changed()

    def _forget_unwritten_envelope(self, mark: int) -> None:
        """After truncating to ``mark``, envelope blocks written past it are held again."""
        interchange, group = self._interchange, self._group
        if group is not None and group.written and self._group_mark >= mark:
            group.written = False
            self._writer.retract(group.block.first)
        if interchange is not None and interchange.written and self._interchange_mark >= mark:
            interchange.written = False

    def _truncate(self, mark: int) -> None:
        self._sink.seek(mark)
        self._sink.truncate()
