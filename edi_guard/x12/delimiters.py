"""The four X12 delimiters, read from a fixed-width ISA segment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from edi_guard.errors import X12SyntaxError

ISA_LENGTH: Final = 106
"""ISA is fixed width: 105 characters of content, then the segment terminator."""

# Byte index of each element separator in a well-formed ISA (ISA01..ISA16 have fixed widths:
# 2,10,2,10,2,15,2,15,6,4,1,5,9,1,1,1).
ISA_SEPARATOR_INDEXES: Final = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
ISA11_INDEX: Final = 82
ISA16_INDEX: Final = 104
TERMINATOR_INDEX: Final = 105


@dataclass(frozen=True, slots=True)
class Delimiters:
    """Element, component, repetition separators and segment terminator, as bytes of length 1.

    ``repetition`` is None for versions before 00402, where ISA11 was a standards identifier.
    """

    element: bytes = b"*"
    component: bytes = b":"
    repetition: bytes | None = b"^"
    terminator: bytes = b"~"
    element_str: str = field(init=False, repr=False, compare=False)
    """The element separator as text (segments split decoded text: computed once here)."""
    component_str: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "element_str", self.element.decode("latin-1"))
        object.__setattr__(self, "component_str", self.component.decode("latin-1"))
        chosen = [self.element, self.component, self.terminator]
        if self.repetition is not None:
            chosen.append(self.repetition)
        for value in chosen:
            if len(value) != 1:
                raise X12SyntaxError(f"a delimiter must be one byte, found {len(value)} bytes")
            if value.isalnum():
                raise X12SyntaxError("a delimiter must not be a letter or digit")
        if len(set(chosen)) != len(chosen):
            raise X12SyntaxError("the ISA delimiters are not distinct from each other")

    @classmethod
    def from_isa(cls, isa: bytes, *, offset: int = 0) -> Delimiters:
        """Read the delimiters from the first 106 bytes of an interchange.

        Raises X12SyntaxError naming the byte that breaks the fixed ISA layout.
        """
        if len(isa) < ISA_LENGTH:
            raise X12SyntaxError(
                f"expected a 106-byte ISA segment, found {len(isa)} bytes before the input ended",
                offset=offset,
            )
        if isa[:3] != b"ISA":
            raise X12SyntaxError(
                f"expected 'ISA' to start the interchange, found {_show(isa[:3])}", offset=offset
            )
        element = isa[3:4]
        for index in ISA_SEPARATOR_INDEXES:
            if isa[index : index + 1] != element:
                raise X12SyntaxError(
                    "ISA is not fixed width: expected the element separator "
                    f"{_show(element)} at ISA byte {index}, found {_show(isa[index : index + 1])}",
                    offset=offset + index,
                )
        isa11 = isa[ISA11_INDEX : ISA11_INDEX + 1]
        version = isa[84:89]
        repetition: bytes | None = isa11
        if version < b"00402" or isa11 == b"U":
            repetition = None
        component = isa[ISA16_INDEX : ISA16_INDEX + 1]
        terminator = isa[TERMINATOR_INDEX : TERMINATOR_INDEX + 1]
        try:
            return cls(element, component, repetition, terminator)
        except X12SyntaxError as exc:
            raise X12SyntaxError(str(exc), offset=offset) from None


def _show(value: bytes) -> str:
    """Render a few bytes of structure (never element content) for an error message."""
    if not value:
        return "nothing"
    return repr(value.decode("latin-1"))
