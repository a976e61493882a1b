"""A sans-IO X12 tokenizer: bytes in, in any chunking; segments out.

Delimiters are read from each ISA (element separator at byte 3, repetition separator ISA11,
component separator ISA16, terminator after ISA16), so one file may hold interchanges with
different delimiters. Whitespace between a terminator and the next segment (CR, LF, CRLF,
and the indentation some tools add) is kept as the next segment's ``lead`` so that output is
byte-identical; a UTF-8 byte-order mark before the first ISA is kept the same way. Bytes are
decoded as latin-1, which cannot fail: non-ASCII content is the validator's business, not a
reason to crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Final

from edi_guard.errors import X12SyntaxError
from edi_guard.limits import Limits
from edi_guard.x12.delimiters import ISA_LENGTH, TERMINATOR_INDEX, Delimiters
from edi_guard.x12.segment import Segment

BOM: Final = b"\xef\xbb\xbf"
WHITESPACE: Final = b" \t\r\n"
_WHITESPACE_BYTES: Final = frozenset(WHITESPACE)
BETWEEN_INTERCHANGES: Final = WHITESPACE + b"\x00"
"""Before an ISA and after an IEA, NUL padding from fixed-block transfers is tolerated too."""
DEFAULT_MAX_SEGMENT_BYTES: Final = 1 << 20
"""No 837P segment comes near this; it bounds memory on input that never terminates."""
PIECE_BYTES: Final = 1 << 13
"""What ``feed_pieces`` feeds at a time: some 200 segments, whose objects (about 12 bytes per
byte of input) stay in a core's cache while they are assembled, checked and written."""


class Tokenizer:
    """Push bytes with ``feed``; it returns the segments completed so far.

    Call ``close`` at the end of input: it raises X12SyntaxError if the input stopped inside
    a segment or an ISA. ``trailing`` then holds whitespace after the last segment.

    ``max_segment_bytes`` bounds the buffer; ``max_element_bytes`` (optional) refuses an
    element longer than that as soon as that much of it is buffered. Exceeding either raises
    X12SyntaxError naming the limit; ``Tokenizer.from_limits`` takes both from a ``Limits``.
    """

    def __init__(
        self,
        *,
        max_segment_bytes: int = DEFAULT_MAX_SEGMENT_BYTES,
        max_element_bytes: int | None = None,
    ) -> None:
        self._max_segment_bytes = max_segment_bytes
        # Off by default (the segment cap bounds memory alone); edi_guard.limits.Limits sets it.
        # A cap at or above the segment cap could never fire first: it is checked only below.
        self._max_element_bytes = (
            max_element_bytes
            if max_element_bytes is not None and max_element_bytes < max_segment_bytes
            else None
        )
        self._buffer = b""
        self._buffer_offset = 0  # file offset of _buffer[0]
        self._delimiters: Delimiters | None = None
        self._position = 0
        self._seen_anything = False
        self._failed: X12SyntaxError | None = None
        self.trailing = b""

    @classmethod
    def from_limits(cls, limits: Limits) -> Tokenizer:
        return cls(
            max_segment_bytes=limits.max_segment_bytes,
            max_element_bytes=limits.max_element_bytes,
        )

    @property
    def delimiters(self) -> Delimiters | None:
        """The delimiters of the interchange being read, or None between interchanges."""
        return self._delimiters

    def feed(self, data: bytes) -> list[Segment]:
        """The segments completed by ``data``.

        When the input breaks off after some segments of this chunk were read, those
        segments are returned and the X12SyntaxError is raised by the next ``feed`` or by
        ``close``: what came before the break is never lost.
        """
        if self._failed is not None:
            raise self._failed
        buffer = self._buffer + data if self._buffer else bytes(data)
        segments: list[Segment] = []
        start = 0
        try:
            while True:
                if self._delimiters is None:
                    consumed = self._read_isa(buffer, start, segments)
                    if consumed == start:
                        break
                    start = consumed
                else:
                    consumed = self._read_segments(buffer, start, segments)
                    # Through the property: an IEA clears the delimiters inside the call, and
                    # mypyc would trust the narrowing of the attribute above (a TypeError).
                    if consumed == start and self.delimiters is not None:
                        break
                    start = consumed
        except X12SyntaxError as error:
            self._failed = error
            if not segments:
                raise
            start = _segments_end(segments, self._buffer_offset)
        self._buffer = buffer[start:]
        self._buffer_offset += start
        return segments

    def feed_pieces(self, data: bytes) -> Iterator[list[Segment]]:
        """``feed`` ``data`` a piece of ``PIECE_BYTES`` at a time: the segments of each piece.

        For the chunks a reader takes from a file (256 KiB and more): fed whole, a chunk's
        thousands of segments are all alive at once, well beyond a core's cache, and each is
        fetched back from memory when its turn comes; fed in pieces, the segments are handled
        while they are still cached (measured: the read-assemble-write loop a fifth faster).
        Segments and errors are the same whatever the pieces (see ``feed``).
        """
        for start in range(0, len(data), PIECE_BYTES):
            yield self.feed(data[start : start + PIECE_BYTES])

    def close(self) -> list[Segment]:
        if self._failed is not None:
            raise self._failed
        rest = self._buffer
        if self._buffer_offset == 0 and not self._seen_anything and rest.startswith(BOM):
            rest = rest[len(BOM) :]
        stripped = rest.lstrip(BETWEEN_INTERCHANGES if self._delimiters is None else WHITESPACE)
        if stripped:
            at = self._buffer_offset + len(self._buffer) - len(stripped)
            if self._delimiters is None:
                self._read_isa(self._buffer, 0, [], final=True)  # names what it found instead
                raise X12SyntaxError(
                    f"expected a complete 106-byte ISA segment, found {len(stripped)} bytes "
                    "before the input ended",
                    offset=at,
                )
            raise X12SyntaxError(
                "the input ended inside a segment: expected the segment terminator "
                f"{self._delimiters.terminator.decode('latin-1')!r}",
                offset=at,
            )
        if not self._seen_anything:
            raise X12SyntaxError("expected an X12 interchange starting with 'ISA', found no data")
        self.trailing = self._buffer
        self._buffer = b""
        return []

    def _read_isa(
        self, buffer: bytes, start: int, out: list[Segment], *, final: bool = False
    ) -> int:
        """Read one ISA at ``start`` (after padding); return where reading stopped.

        Judging needs three bytes (a BOM split across chunks, "%PD" of a PDF), so with fewer
        buffered the tokenizer waits, unless the input has ended (``final``).
        """
        begin = start
        at_file_start = self._buffer_offset + start == 0
        if at_file_start:
            if buffer.startswith(BOM, start):
                begin += len(BOM)
            elif not final and BOM.startswith(buffer[start : start + 3]):
                return start  # maybe a BOM cut by the chunking
        end = len(buffer)
        while begin < end and buffer[begin] in BETWEEN_INTERCHANGES:
            begin += 1
        if begin - start > self._max_segment_bytes:
            raise X12SyntaxError(
                f"more than {self._max_segment_bytes} bytes of padding where an ISA segment "
                "was expected (the segment length limit)",
                offset=self._buffer_offset + start,
            )
        available = buffer[begin : begin + ISA_LENGTH]
        offset = self._buffer_offset + begin
        if len(available) < 3 and not final:
            return start
        if available and not b"ISA".startswith(available[:3]):
            if len(available) < _DESCRIBED and not final:
                return start  # what it is (UTF-16, a PDF...) must not depend on the chunking
            what = "the next interchange" if self._seen_anything else "an X12 interchange"
            raise X12SyntaxError(
                f"expected {what} starting with 'ISA', found {_describe(available[:_DESCRIBED])}",
                offset=offset,
            )
        if len(available) < ISA_LENGTH:
            return start
        delimiters = Delimiters.from_isa(available, offset=offset)
        raw = available[:TERMINATOR_INDEX]
        self._position += 1
        self._seen_anything = True
        out.append(Segment("ISA", raw, delimiters, self._position, offset, buffer[start:begin]))
        self._delimiters = delimiters
        return begin + ISA_LENGTH

    def _read_segments(self, buffer: bytes, start: int, out: list[Segment]) -> int:
        """Read whole segments from ``start`` until the buffer runs out or an envelope ends."""
        delimiters = self._delimiters
        assert delimiters is not None
        terminator = delimiters.terminator
        last = buffer.rfind(terminator, start)
        if last < 0:
            tail = buffer[start:].lstrip(WHITESPACE)
            if tail[:3] == b"ISA" and len(tail) > 3 and not tail[3:4].isalnum():
                self._delimiters = None
                return start
            self._check_unterminated(buffer, start)
            return start
        separator = delimiters.element
        limit = self._max_segment_bytes
        position = self._position
        offset = self._buffer_offset + start
        append = out.append
        whitespace = _WHITESPACE_BYTES
        # One split in C for the whole region; the loop below only wraps the pieces.
        for part in buffer[start:last].split(terminator):
            size = len(part)
            lead = b""
            if size and part[0] in whitespace:
                stripped = part.lstrip(WHITESPACE)
                lead = part[: size - len(stripped)]
                part = stripped
            cut = part.find(separator)
            tag = (part[:cut] if cut >= 0 else part).decode("latin-1")
            if tag == "ISA" or (part[:3] == b"ISA" and len(part) > 3 and not part[3:4].isalnum()):
                # A new interchange without IEA before it: its own ISA names its delimiters.
                self._delimiters = None
                self._position = position
                return offset - self._buffer_offset
            if len(part) > limit:
                raise X12SyntaxError(
                    f"no segment terminator within {limit} bytes (the segment length limit)",
                    offset=offset,  # where the unterminated run starts, as when it is cut
                )
            element_limit = self._max_element_bytes
            if element_limit is not None and len(part) > element_limit:
                self._check_elements(part, offset + len(lead), element_limit)
            position += 1
            append(Segment(tag, part, delimiters, position, offset + len(lead), lead))
            offset += size + 1
            if tag == "IEA":
                self._delimiters = None
                break
        else:
            # No terminator left: an ISA with other delimiters may follow an interchange
            # that lost its IEA, and it will never contain the old terminator.
            tail = buffer[offset - self._buffer_offset :].lstrip(WHITESPACE)
            if tail[:3] == b"ISA" and len(tail) > 3 and not tail[3:4].isalnum():
                self._delimiters = None
            else:
                # The unterminated rest is checked only now, so that the whole segments
                # before it are kept (and returned) when it breaks a limit.
                self._position = position
                self._check_unterminated(buffer, last + 1)
        self._position = position
        return offset - self._buffer_offset

    def _check_unterminated(self, buffer: bytes, start: int) -> None:
        """Refuse an unterminated rest that already breaks a limit (feed() returns the whole
        segments read before it and raises at the next call)."""
        self._check_open_element(buffer, start)
        if len(buffer) - start > self._max_segment_bytes:
            raise X12SyntaxError(
                f"no segment terminator within {self._max_segment_bytes} bytes "
                "(the segment length limit)",
                offset=self._buffer_offset + start,
            )

    def _check_open_element(self, buffer: bytes, start: int) -> None:
        """Refuse an unterminated segment whose last element already exceeds the cap."""
        limit = self._max_element_bytes
        if limit is None or len(buffer) - start <= limit:
            return
        assert self._delimiters is not None
        begin = buffer.rfind(self._delimiters.element, start) + 1 or start
        if len(buffer) - begin > limit:
            raise X12SyntaxError(
                f"an element longer than {limit} bytes (the element length limit)",
                offset=self._buffer_offset + begin,
            )

    def _check_elements(self, part: bytes, offset: int, limit: int) -> None:
        assert self._delimiters is not None
        at = 0
        for element in part.split(self._delimiters.element):
            if len(element) > limit:
                raise X12SyntaxError(
                    f"an element longer than {limit} bytes (the element length limit)",
                    offset=offset + at,
                )
            at += len(element) + 1


def _segments_end(segments: list[Segment], buffer_offset: int) -> int:
    """The buffer index just past the last segment's terminator."""
    last = segments[-1]
    return last.offset + len(last.raw) + 1 - buffer_offset


_DESCRIBED: Final = 8
"""Bytes that ``_describe`` looks at: an error names what it found from this many."""


def _describe(found: bytes) -> str:
    if found.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "a UTF-16 byte-order mark (X12 must be ASCII-compatible bytes)"
    if len(found) >= 4 and found[1:4:2] == b"\x00\x00" and found[0] and found[2]:
        return "UTF-16 text (X12 must be ASCII-compatible bytes)"
    if found.startswith(b"%PD"):
        return "a PDF document"
    if found.startswith(b"PK"):
        return "a ZIP archive"
    found = found[:3]
    printable = all(32 <= byte < 127 for byte in found)
    return repr(found.decode("latin-1")) if printable else f"bytes {found.hex(' ')}"


def iter_segments(
    stream: BinaryIO, *, chunk_size: int = 1 << 20, tokenizer: Tokenizer | None = None
) -> Iterator[Segment]:
    """Tokenize a binary stream chunk by chunk; memory stays bounded by the chunk size."""
    tokenizer = tokenizer or Tokenizer()
    while chunk := stream.read(chunk_size):
        for segments in tokenizer.feed_pieces(chunk):
            yield from segments
    yield from tokenizer.close()
