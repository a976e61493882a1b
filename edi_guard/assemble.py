"""Segments -> blocks and claim units, one claim at a time.

The 837 is a tree (interchange > group > transaction set > billing provider HL > subscriber
HL > patient HL > claim > lines), but a file can hold millions of claims. The assembler walks
it as a flat stream of blocks in file order and hands out each claim together with references
to its ancestors; it never holds more than one claim and the blocks above it.

A block is a run of segments that starts with a marker segment (ISA, GS, ST, HL, CLM, SE, GE,
IEA) and ends just before the next marker. A claim block runs from CLM to the segment before
the next HL, CLM or SE, so it holds the 2300 loop and every 2400 line with its 2410 drug data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Final

from edi_guard.x12.segment import Segment


class BlockKind(Enum):
    INTERCHANGE_HEADER = "ISA"
    GROUP_HEADER = "GS"
    SET_HEADER = "ST"
    HIERARCHY = "HL"
    SET_TRAILER = "SE"
    GROUP_TRAILER = "GE"
    INTERCHANGE_TRAILER = "IEA"
    STRAY = "stray"
    """Segments outside any transaction set where none belong; the validator reports them."""


# HL03 hierarchical level codes of the 837.
BILLING_PROVIDER_LEVEL: Final = "20"
SUBSCRIBER_LEVEL: Final = "22"
PATIENT_LEVEL: Final = "23"

_MARKERS: Final = {
    "ISA": BlockKind.INTERCHANGE_HEADER,
    "GS": BlockKind.GROUP_HEADER,
    "ST": BlockKind.SET_HEADER,
    "HL": BlockKind.HIERARCHY,
    "SE": BlockKind.SET_TRAILER,
    "GE": BlockKind.GROUP_TRAILER,
    "IEA": BlockKind.INTERCHANGE_TRAILER,
}


@dataclass(frozen=True, slots=True)
class Block:
    """A run of segments that starts with a marker segment."""

    kind: BlockKind
    segments: tuple[Segment, ...]

    def __init__(self, kind: BlockKind, segments: tuple[Segment, ...]) -> None:
        # Written out, not generated: see edi_guard.model.claim (mypyc leaves a generated
        # dataclass __init__ interpreted; this one is built for every block of a file).
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "segments", segments)

    @property
    def first(self) -> Segment:
        return self.segments[0]

    @property
    def level(self) -> str:
        """HL03 for a hierarchy block ('20', '22', '23'...), '' otherwise."""
        return self.first.element(3) if self.kind is BlockKind.HIERARCHY else ""


@dataclass(frozen=True, slots=True)
class Context:
    """The ancestors of a claim. ``patient`` is None when the subscriber is the patient."""

    interchange: Block | None
    group: Block | None
    header: Block | None
    billing_provider: Block | None
    subscriber: Block | None
    patient: Block | None

    def __init__(
        self,
        interchange: Block | None,
        group: Block | None,
        header: Block | None,
        billing_provider: Block | None,
        subscriber: Block | None,
        patient: Block | None,
    ) -> None:
        # Written out, not generated: see Block.
        object.__setattr__(self, "interchange", interchange)
        object.__setattr__(self, "group", group)
        object.__setattr__(self, "header", header)
        object.__setattr__(self, "billing_provider", billing_provider)
        object.__setattr__(self, "subscriber", subscriber)
        object.__setattr__(self, "patient", patient)


@dataclass(frozen=True, slots=True)
class ClaimUnit:
    """One 2300 claim with its 2400 lines, and where it stands in the file."""

    context: Context
    segments: tuple[Segment, ...]
    position: int
    """1-based order of the claim in its file."""

    def __init__(self, context: Context, segments: tuple[Segment, ...], position: int) -> None:
        # Written out, not generated: see Block.
        object.__setattr__(self, "context", context)
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "position", position)

    @property
    def first(self) -> Segment:
        return self.segments[0]


Item = Block | ClaimUnit


class Assembler:
    """Push segments in; pull blocks and claim units out in file order."""

    def __init__(self) -> None:
        self._current: list[Segment] = []
        self._current_kind: BlockKind | None = None  # None while a claim is being collected
        self._in_claim = False
        self._claims = 0
        self._interchange: Block | None = None
        self._group: Block | None = None
        self._header: Block | None = None
        self._billing: Block | None = None
        self._subscriber: Block | None = None
        self._patient: Block | None = None
        self._in_set = False

    def feed(self, segment: Segment) -> list[Item]:
        tag = segment.tag
        kind = _MARKERS.get(tag)
        if kind is None and tag != "CLM":
            if self._current or self._in_claim:
                self._current.append(segment)
                return []
            # A segment with nothing open before it: outside any set, or a stray opener.
            self._current_kind = BlockKind.STRAY
            self._current.append(segment)
            return []
        finished = self._finish()
        self._current = [segment]
        if tag == "CLM":
            self._in_claim = True
            self._current_kind = None
        else:
            self._in_claim = False
            self._current_kind = kind
        return finished

    def close(self) -> list[Item]:
        return self._finish()

    def _finish(self) -> list[Item]:
        segments = self._current
        if not segments:
            return []
        self._current = []
        if self._in_claim:
            self._in_claim = False
            self._claims += 1
            context = Context(
                self._interchange,
                self._group,
                self._header,
                self._billing,
                self._subscriber,
                self._patient,
            )
            return [ClaimUnit(context, tuple(segments), self._claims)]
        kind = self._current_kind or BlockKind.STRAY
        block = Block(kind, tuple(segments))
        self._remember(block)
        return [block]

    def _remember(self, block: Block) -> None:
        kind = block.kind
        if kind is BlockKind.INTERCHANGE_HEADER:
            self._interchange = block
            self._group = self._header = None
            self._billing = self._subscriber = self._patient = None
        elif kind is BlockKind.GROUP_HEADER:
            self._group = block
            self._header = self._billing = self._subscriber = self._patient = None
        elif kind is BlockKind.SET_HEADER:
            self._header = block
            self._billing = self._subscriber = self._patient = None
        elif kind is BlockKind.HIERARCHY:
            level = block.level
            if level == BILLING_PROVIDER_LEVEL:
                self._billing = block
                self._subscriber = self._patient = None
            elif level == SUBSCRIBER_LEVEL:
                self._subscriber = block
                self._patient = None
            elif level == PATIENT_LEVEL:
                self._patient = block


def assemble(segments: Iterable[Segment]) -> Iterator[Item]:
    """Blocks and claim units from a stream of segments, in file order."""
    assembler = Assembler()
    for segment in segments:
        yield from assembler.feed(segment)
    yield from assembler.close()
