"""ISA/IEA and GS/GE for what we write: fixed delimiters * : ^ ~, one segment per line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ELEMENT = "*"
COMPONENT = ":"
REPETITION = "^"
TERMINATOR = "~"
DELIMITERS = frozenset(ELEMENT + COMPONENT + REPETITION + TERMINATOR)


@dataclass(frozen=True, slots=True)
class Party:
    qualifier: str
    identifier: str


def check_control_number(value: int) -> int:
    if not 1 <= value <= 999_999_999:
        raise ValueError("a control number must be between 1 and 999999999")
    return value


def segment(*elements: str) -> str:
    values = list(elements)
    while len(values) > 1 and values[-1] == "":
        values.pop()
    return ELEMENT.join(values) + TERMINATOR


def echo(value: str, limit: int) -> str:
    """A value copied from the input into what we write: printable ASCII only, none of our
    delimiters (they would end the element or segment early), at most ``limit`` characters.
    Anything else becomes '?', so a hostile value can neither crash the writer nor inject."""
    return "".join(c if 32 <= ord(c) < 127 and c not in DELIMITERS else "?" for c in value[:limit])


def isa(sender: Party, receiver: Party, control: int, now: datetime, usage: str) -> str:
    return segment(
        "ISA", "00", " " * 10, "00", " " * 10,
        echo(sender.qualifier, 2).ljust(2), echo(sender.identifier, 15).ljust(15),
        echo(receiver.qualifier, 2).ljust(2), echo(receiver.identifier, 15).ljust(15),
        now.strftime("%y%m%d"), now.strftime("%H%M"), REPETITION, "00501",
        f"{control:09d}", "0", usage if usage in ("P", "T") else "P", COMPONENT,
    )  # fmt: skip


def iea(groups: int, control: int) -> str:
    return segment("IEA", str(groups), f"{control:09d}")


def safe_value(value: str | None, limit: int = 99) -> str | None:
    """A value we may copy into an acknowledgement: printable ASCII, no delimiter, bounded."""
    if not value:
        return None
    if any(c in DELIMITERS or not (32 <= ord(c) < 127) for c in value):
        return None
    value = value[:limit].rstrip()
    return value or None
