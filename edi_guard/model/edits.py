"""Apply model-level edits to a claim's segments (the write side of the 837P mapping).

Every edit touches only the segment it names; all other segments stay the same objects, so
the writer puts their original bytes back. After a line is dropped, CLM02 becomes the sum of
the remaining SV102 (rules.md); LX renumbering is the writer's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from edi_guard.rules.base import (
    DropLine,
    Edit,
    SetDescription,
    SetModifiers,
    SetProcedureCode,
    SetUnits,
)
from edi_guard.x12.segment import Segment

MAX_DESCRIPTION: Final = 80
"""SV101-7 is at most 80 characters (005010X222A1)."""


def format_amount(value: Decimal) -> str:
    """An X12 R-type amount: no exponent, no trailing zeros after the point."""
    text = format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def apply_edits(segments: Sequence[Segment], edits: Sequence[Edit]) -> tuple[Segment, ...]:
    """The claim's segments with ``edits`` applied, in order."""
    result = list(segments)
    dropped_line = False
    for edit in edits:
        if isinstance(edit, DropLine):
            result = _drop_line(result, edit.lx_position)
            dropped_line = True
            continue
        index = _index_of(result, edit.sv1_position)
        sv1 = result[index]
        if isinstance(edit, SetUnits):
            result[index] = sv1.with_element(4, format_amount(edit.units))
        elif isinstance(edit, SetModifiers):
            result[index] = _with_procedure(sv1, modifiers=edit.modifiers)
        elif isinstance(edit, SetDescription):
            result[index] = _with_procedure(sv1, description=edit.description[:MAX_DESCRIPTION])
        elif isinstance(edit, SetProcedureCode):
            result[index] = _with_procedure(sv1, code=edit.code)
    if dropped_line:
        result = _recompute_total(result)
    return tuple(result)


def _index_of(segments: list[Segment], position: int) -> int:
    for index, segment in enumerate(segments):
        if segment.position == position:
            return index
    raise LookupError(f"no segment at position {position} in this claim")


def _drop_line(segments: list[Segment], lx_position: int) -> list[Segment]:
    start = _index_of(segments, lx_position)
    end = start + 1
    while end < len(segments) and segments[end].tag != "LX":
        end += 1
    return segments[:start] + segments[end:]


def _with_procedure(
    sv1: Segment,
    *,
    code: str | None = None,
    modifiers: tuple[str, ...] | None = None,
    description: str | None = None,
) -> Segment:
    parts = sv1.components(1)
    parts += [""] * (7 - len(parts))
    if code is not None:
        parts[1] = code
    if modifiers is not None:
        if len(modifiers) > 4:
            raise ValueError("at most four modifiers fit in SV101-3..SV101-6")
        parts[2:6] = [*modifiers, *[""] * (4 - len(modifiers))]
    if description is not None:
        parts[6] = description
    return sv1.with_components(1, parts)


def _recompute_total(segments: list[Segment]) -> list[Segment]:
    total = sum(
        (Decimal(segment.element(2) or "0") for segment in segments if segment.tag == "SV1"),
        Decimal(0),
    )
    clm = segments[0]
    if Decimal(clm.element(2) or "0") != total:
        segments[0] = clm.with_element(2, format_amount(total))
    return segments
