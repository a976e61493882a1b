"""When is an uploaded file complete? Names, stability, and the X12 envelope.

SFTP uploads arrive slowly, break off and resume, and a killed client leaves the partial
file under its final name (and its close-write event fires). A file is handed on only when:

1. its name is not a temporary one (``.filepart``, ``.part``, ``.tmp``, a leading dot),
2. in marker mode, ``NAME.done`` exists beside it (the marker is authoritative: no quiet
   period and no envelope check; an envelope problem then becomes a TA1 like in ``fix``);
3. otherwise its size and mtime have not changed for the quiet period, and its X12 envelope
   is complete (``check_complete``). A close-write event only asks for an early look.

``check_complete`` streams: it reads the first ISA (106 bytes) and the tail, never the body,
so a file of several GB costs two small reads.

Multiple interchanges: the file is complete when it ends (after whitespace and NUL padding)
with an IEA segment whose IEA02 equals ISA13 of the interchange it closes, that is the last
ISA that starts in the tail window (the last ``TAIL_WINDOW`` bytes) or, when no ISA starts
there (a last interchange larger than the window), the first ISA of the file. A transfer
cut exactly after an earlier interchange whose control number repeats the first one is the
one case this cannot see; the quiet period covers it while the upload is running. Every
other envelope defect (counts, GS/GE, SE) is left to the validator, which answers with a
TA1 or 999 as ``edi-guard fix`` does.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ISA_LENGTH = 106
ISA13_SLICE = slice(90, 99)
ISA_SEPARATOR_INDEXES = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
TERMINATOR_INDEX = 105
BOM = b"\xef\xbb\xbf"
PADDING = b" \t\r\n\x00\x1a"
"""Allowed after the last IEA: whitespace, NULs of fixed-block transfers, a DOS end of file."""
TAIL_WINDOW = 64 * 1024

TEMPORARY_SUFFIXES = (".filepart", ".part", ".tmp")


def is_temporary_name(name: str) -> bool:
    """Names that uploads use while in progress, and hidden files: never processed."""
    return name.startswith(".") or name.lower().endswith(TEMPORARY_SUFFIXES)


class Verdict(enum.Enum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    """May still become complete: keep waiting (until the incomplete timeout)."""
    NOT_X12 = "not_x12"
    """Can never become complete by appending: no ISA at the start."""


@dataclass(frozen=True, slots=True)
class Completeness:
    verdict: Verdict
    reason: str
    """Plain words for logs and reason files; positions and sizes only, never content."""


def _complete(reason: str) -> Completeness:
    return Completeness(Verdict.COMPLETE, reason)


def _incomplete(reason: str) -> Completeness:
    return Completeness(Verdict.INCOMPLETE, reason)


def check_complete(path: Path, *, tail_window: int = TAIL_WINDOW) -> Completeness:
    """Whether ``path`` holds whole X12 interchanges (see the module docstring)."""
    with path.open("rb") as stream:
        size = stream.seek(0, 2)
        stream.seek(0)
        head = stream.read(ISA_LENGTH + len(BOM))
        return _check(stream, size, head, tail_window)


def _check(stream: BinaryIO, size: int, head: bytes, tail_window: int) -> Completeness:
    start = len(BOM) if head.startswith(BOM) else 0
    isa = head[start : start + ISA_LENGTH]
    if not isa:
        return _incomplete("the file is empty")
    if not b"ISA".startswith(isa[:3]):
        return Completeness(Verdict.NOT_X12, "the file does not start with an ISA segment")
    if len(isa) < ISA_LENGTH:
        return _incomplete(f"only {len(isa)} of the 106 bytes of the ISA segment are there")
    separator = isa[3:4]
    if any(isa[index : index + 1] != separator for index in ISA_SEPARATOR_INDEXES):
        return Completeness(Verdict.NOT_X12, "the ISA segment is not 106 bytes wide")
    terminator = isa[TERMINATOR_INDEX : TERMINATOR_INDEX + 1]
    tail = _tail(stream, size, tail_window)
    body = tail
    if body.endswith(terminator):
        body = body[:-1]
    elif terminator not in PADDING:
        return _incomplete("the last segment has no terminator")
    last = body[body.rfind(terminator) + 1 :].strip(PADDING)
    elements = last.split(separator)
    if elements[0] != b"IEA" or len(elements) < 3:
        return _incomplete("the file does not end with an IEA segment")
    expected = _closing_isa13(tail, separator, terminator, isa)
    found = elements[2].strip()
    if found != expected:
        return _incomplete(
            f"IEA02 ({_digits(found)}) does not match ISA13 ({_digits(expected)}) "
            "of the interchange it closes"
        )
    return _complete("the last IEA closes its ISA")


def _tail(stream: BinaryIO, size: int, window: int) -> bytes:
    """Up to ``window`` bytes ending at the last byte that is not padding.

    Trailing padding is skipped a window at a time, so a NUL-filled preallocation costs
    reads but no memory."""
    end = size
    while end > 0:
        start = max(0, end - window)
        stream.seek(start)
        kept = len(stream.read(end - start).rstrip(PADDING))
        if kept:
            end = start + kept
            break
        end = start
    start = max(0, end - window)
    stream.seek(start)
    return stream.read(end - start)


def _closing_isa13(tail: bytes, separator: bytes, terminator: bytes, first_isa: bytes) -> bytes:
    """ISA13 of the last interchange that starts in ``tail``, else of the file's first ISA."""
    at = len(tail)
    needle = b"ISA" + separator
    while (at := tail.rfind(needle, 0, at)) >= 0:
        candidate = tail[at : at + ISA_LENGTH]
        before = tail[:at].rstrip(PADDING)
        at_segment_start = not before or before.endswith(terminator) or at == 0
        if (
            len(candidate) == ISA_LENGTH
            and at_segment_start
            and all(candidate[i : i + 1] == separator for i in ISA_SEPARATOR_INDEXES)
        ):
            return candidate[ISA13_SLICE]
    return first_isa[ISA13_SLICE]


def _digits(value: bytes) -> str:
    """A control number for a message: digits and spaces only, at most 9 characters."""
    text = value[:9].decode("ascii", "replace")
    return "".join(ch if ch.isdigit() or ch == " " else "?" for ch in text) or "empty"
