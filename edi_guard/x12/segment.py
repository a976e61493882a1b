"""A segment: its tag, its elements, and where it came from.

A segment keeps its original bytes so that the writer can put an untouched segment back
exactly as it came, whitespace and all. Edited segments are new objects made by ``replace``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from edi_guard.errors import EdiGuardError
from edi_guard.x12.delimiters import Delimiters

_SEGMENT_ID: Final = re.compile(r"[A-Z][A-Z0-9]{1,2}")


def shown_tag(tag: str) -> str:
    """A segment id fit for a message or a log: the id itself when it is one, else a
    description. A garbled tag (a corrupted separator) can hold a whole segment's values,
    patient data included."""
    if _SEGMENT_ID.fullmatch(tag):
        return tag
    return "(no id)" if not tag else f"(an invalid id of {len(tag)} characters)"


@lru_cache(maxsize=4096)
def parse_reference(reference: str) -> tuple[str, int, int | None]:
    """Split a reference designator such as ``CLM05-1`` into (tag, element, component).

    >>> parse_reference("SV101-3")
    ('SV1', 1, 3)
    >>> parse_reference("HL03")
    ('HL', 3, None)
    """
    head, _, component = reference.partition("-")
    if len(head) < 4 or not head[-2:].isdigit() or (component and not component.isdigit()):
        raise EdiGuardError(f"not a reference designator: {reference!r}")
    return head[:-2], int(head[-2:]), int(component) if component else None


class Segment:
    """One X12 segment.

    ``elements[0]`` is the tag, so ``elements[1]`` is the first data element (CLM01 for a
    CLM). ``position`` is the 1-based ordinal of the segment in its file, ``offset`` the byte
    offset of its first byte. ``lead`` holds whitespace that stood between the previous
    terminator and this segment (a line break, usually); ``raw`` the bytes of the segment
    without terminator.
    """

    __slots__ = ("_elements", "delimiters", "lead", "offset", "position", "raw", "tag")

    def __init__(
        self,
        tag: str,
        raw: bytes,
        delimiters: Delimiters,
        position: int,
        offset: int,
        lead: bytes = b"",
        elements: tuple[str, ...] | None = None,
    ) -> None:
        self.tag = tag
        self.raw = raw
        self.delimiters = delimiters
        self.position = position
        self.offset = offset
        self.lead = lead
        # Elements are split on first use: most segments are only routed by tag and copied.
        self._elements = elements

    @property
    def elements(self) -> tuple[str, ...]:
        elements = self._elements
        if elements is None:
            elements = tuple(self.raw.decode("latin-1").split(self.delimiters.element_str))
            self._elements = elements
        return elements

    def __len__(self) -> int:
        """The number of data elements, trailing empty ones included."""
        return len(self.elements) - 1

    def __repr__(self) -> str:
        # Only structure: element values may be patient data and reprs end up in logs.
        return f"<Segment {self.tag} #{self.position} with {len(self)} elements>"

    def element(self, index: int) -> str:
        """Element ``index`` (1-based), or '' when the segment is shorter."""
        elements = self._elements
        if elements is None:
            elements = self.elements
        return elements[index] if index < len(elements) else ""

    def components(self, index: int) -> list[str]:
        """The components of a composite element (a simple element gives one component)."""
        return self.element(index).split(self.delimiters.component_str)

    def get(self, reference: str) -> str:
        """The value at a reference designator (``CLM05-1``, ``SV101-3``, ``HL03``), or ''.

        A composite referenced without a component gives its first component.
        """
        _, index, component = parse_reference(reference)
        value = self.element(index)
        separator = self.delimiters.component_str
        if separator not in value:
            return value if component in (None, 1) else ""
        parts = value.split(separator)
        position = 1 if component is None else component
        return parts[position - 1] if position <= len(parts) else ""

    def encode(self) -> bytes:
        """The segment's bytes as they will be written (without lead or terminator)."""
        return self.raw

    def replace(self, elements: tuple[str, ...]) -> Segment:
        """A copy with new elements; its bytes are rebuilt with this segment's delimiters."""
        elements = _trim_trailing_empty(elements)
        raw = self.delimiters.element_str.join(elements).encode("latin-1")
        return Segment(
            elements[0], raw, self.delimiters, self.position, self.offset, self.lead, elements
        )

    def with_element(self, index: int, value: str) -> Segment:
        """A copy with element ``index`` (1-based) set to ``value``, padding as needed."""
        elements = list(self.elements)
        while len(elements) <= index:
            elements.append("")
        elements[index] = value
        return self.replace(tuple(elements))

    def with_components(self, index: int, components: list[str]) -> Segment:
        """A copy with composite element ``index`` set from its components."""
        trimmed = _trim_trailing_empty(tuple(components))
        return self.with_element(index, self.delimiters.component_str.join(trimmed))


def _trim_trailing_empty(values: tuple[str, ...]) -> tuple[str, ...]:
    """X12 forbids trailing separators: drop empty values at the end."""
    end = len(values)
    while end > 1 and values[end - 1] == "":
        end -= 1
    return values[:end]
