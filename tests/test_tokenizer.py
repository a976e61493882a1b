"""The sans-IO tokenizer and the ISA delimiters.

In the h11 manner every valid case is fed whole, byte by byte and in odd chunks, and the
segments (tag, raw, position, offset, lead) must not depend on the chunking. Every refusal is
an X12SyntaxError (an EdiGuardError) with a byte offset and a message that names what was
expected and what was found, never element content.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from x12_builders import (
    ClaimSpec,
    Separators,
    byte_by_byte,
    make_837,
    read,
    read_chunks,
    roundtrip,
    signature,
    subscriber_last_name,
)

from edi_guard.errors import EdiGuardError, X12SyntaxError
from edi_guard.x12 import Delimiters, Tokenizer, iter_segments
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import PIECE_BYTES

BOM = b"\xef\xbb\xbf"
ONE_MIB = 1 << 20


def _chunks_of(size: int) -> Callable[[bytes], list[bytes]]:
    def split(data: bytes) -> list[bytes]:
        return [data[index : index + size] for index in range(0, len(data), size)]

    return split


FEEDS: dict[str, Callable[[bytes], list[bytes]]] = {
    "whole": lambda data: [data],
    "byte_by_byte": byte_by_byte,
    "chunks_of_7": _chunks_of(7),
    "chunks_of_105": _chunks_of(105),
    "chunks_of_106": _chunks_of(106),
    "with_empty_chunks": lambda data: [b"", data[:50], b"", data[50:], b""],
}


def _signatures(segments: list[Segment]) -> list[tuple[str, bytes, int, int, bytes]]:
    return [signature(segment) for segment in segments]


def _assert_offsets_point_into(data: bytes, segments: list[Segment]) -> None:
    """Each segment's offset, lead and raw are exactly the bytes of the input at that spot."""
    for segment in segments:
        start = segment.offset
        assert data[start : start + len(segment.raw)] == segment.raw
        assert data[start - len(segment.lead) : start] == segment.lead


def _refusal(data: bytes, feed: Callable[[bytes], list[bytes]] = FEEDS["whole"]) -> X12SyntaxError:
    with pytest.raises(X12SyntaxError) as caught:
        read_chunks(feed(data))
    return caught.value


# Valid input, any chunking ---------------------------------------------------------------------

SIMPLE = make_837([ClaimSpec("PCN1"), ClaimSpec("PCN2", subscriber="B", patient="P")])
VALID_CASES = {
    "one_line": SIMPLE,
    "lf": make_837([ClaimSpec()], line_end="\n"),
    "crlf": make_837([ClaimSpec()], line_end="\r\n"),
    "indented": SIMPLE.replace(b"~", b"~\r\n    "),
    "odd_separators": make_837([ClaimSpec()], separators=Separators("|", "!", "{", "#")),
    "two_interchanges": SIMPLE + b"\n" + make_837([ClaimSpec()], control=43),
    "nul_padding": SIMPLE + b"\x00" * 300 + make_837([ClaimSpec()], control=43) + b"\x00" * 40,
}


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
@pytest.mark.parametrize("data", VALID_CASES.values(), ids=VALID_CASES.keys())
def test_any_chunking_yields_the_same_segments(
    data: bytes, feed: Callable[[bytes], list[bytes]]
) -> None:
    whole = read(data)
    fed = read_chunks(feed(data))
    assert _signatures(fed.segments) == _signatures(whole.segments)
    assert fed.trailing == whole.trailing
    _assert_offsets_point_into(data, fed.segments)


@pytest.mark.parametrize("data", VALID_CASES.values(), ids=VALID_CASES.keys())
def test_valid_cases_round_trip(data: bytes) -> None:
    assert roundtrip(data) == data


def test_example_segments_and_positions(example_837p: bytes) -> None:
    segments = read(example_837p).segments
    assert [segment.tag for segment in segments[:4]] == ["ISA", "GS", "ST", "BHT"]
    assert [segment.position for segment in segments] == list(range(1, len(segments) + 1))
    assert segments[0].raw == example_837p[:105]
    assert segments[1].offset == 107  # 106 bytes of ISA, then "\n"
    assert segments[1].lead == b"\n"
    assert segments[-1].tag == "IEA"
    _assert_offsets_point_into(example_837p, segments)


def test_iter_segments_reads_a_stream_in_small_chunks(example_837p: bytes) -> None:
    tokenizer = Tokenizer()
    streamed = list(iter_segments(io.BytesIO(example_837p + b"\n\n"), chunk_size=3,
                                  tokenizer=tokenizer))  # fmt: skip
    assert _signatures(streamed) == _signatures(read(example_837p).segments)
    assert tokenizer.trailing == b"\n\n\n"  # the example ends with its own line break


# Many claims, so that the input spans several of feed_pieces's pieces; line breaks put a lead
# on every segment, and a piece boundary falls inside segments and leads alike.
LONG = make_837([ClaimSpec(f"PCN{index}", subscriber=f"S{index}") for index in range(120)],
                line_end="\r\n")  # fmt: skip


def test_feed_pieces_yields_what_feed_yields_for_the_whole_chunk() -> None:
    assert len(LONG) > 3 * PIECE_BYTES
    pieces = list(Tokenizer().feed_pieces(LONG))
    assert len(pieces) == -(-len(LONG) // PIECE_BYTES)  # one list per piece, none merged
    assert all(pieces[:-1])  # a piece of 8 KiB always completes some segment here
    fed = [segment for piece in pieces for segment in piece]
    assert _signatures(fed) == _signatures(read(LONG).segments)
    _assert_offsets_point_into(LONG, fed)


def test_feed_pieces_yields_each_segment_before_a_refusal_then_raises() -> None:
    """A segment over the length limit in the third piece: what precedes it comes out."""
    cut = LONG.index(b"~", 2 * PIECE_BYTES + 100) + 1
    tokenizer = Tokenizer(max_segment_bytes=4 * PIECE_BYTES)
    segments: list[Segment] = []
    with pytest.raises(X12SyntaxError) as caught:
        for piece in tokenizer.feed_pieces(LONG[:cut] + b"N" * (6 * PIECE_BYTES)):
            segments += piece
    assert "the segment length limit" in str(caught.value)
    assert caught.value.offset == cut
    assert _signatures(segments) == _signatures(read(LONG[:cut]).segments)


def test_delimiters_are_none_between_interchanges() -> None:
    tokenizer = Tokenizer()
    segments = tokenizer.feed(SIMPLE[:200])
    assert segments[0].tag == "ISA"
    assert tokenizer.delimiters == Delimiters(b"*", b":", b"^", b"~")
    tokenizer.feed(SIMPLE[200:])
    assert tokenizer.delimiters is None
    tokenizer.close()


def test_an_isa_opening_a_chunk_ends_an_interchange_that_lost_its_iea() -> None:
    # The new ISA clears the delimiters inside the read that finds it (found by the fix
    # fuzzer against the mypyc build, which checks the attribute's type when it is read).
    without_iea = SIMPLE[: SIMPLE.rindex(b"IEA*")]
    tokenizer = Tokenizer()
    first = tokenizer.feed(without_iea)
    second = tokenizer.feed(SIMPLE)
    tokenizer.close()
    assert (first[-1].tag, second[0].tag, second[-1].tag) == ("GE", "ISA", "IEA")
    assert tokenizer.delimiters is None


# Whitespace, padding, trailing data ------------------------------------------------------------


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r", b"\r\n\t  "])
def test_line_breaks_and_indentation_become_the_next_segments_lead(line_end: bytes) -> None:
    data = SIMPLE.replace(b"~", b"~" + line_end)
    result = read(data)
    assert result.segments[0].lead == b""
    assert all(segment.lead == line_end for segment in result.segments[1:])
    assert all(not segment.raw.startswith((b" ", b"\r", b"\n")) for segment in result.segments)
    assert result.trailing == line_end
    assert roundtrip(data) == data


@pytest.mark.parametrize("tail", [b"\n", b"\r\n", b" \t\r\n", b"\x00" * 512, b"\r\n\x00\x00"])
def test_whitespace_and_nul_after_the_last_interchange_are_trailing(tail: bytes) -> None:
    result = read(SIMPLE + tail)
    assert result.segments[-1].tag == "IEA"
    assert result.trailing == tail
    assert roundtrip(SIMPLE + tail) == SIMPLE + tail


def test_nul_padding_between_interchanges_is_the_next_isas_lead() -> None:
    second = make_837([ClaimSpec()], control=43)
    data = SIMPLE + b"\x00" * 128 + second
    segments = read(data).segments
    isas = [segment for segment in segments if segment.tag == "ISA"]
    assert len(isas) == 2
    assert isas[1].lead == b"\x00" * 128
    assert isas[1].offset == len(SIMPLE) + 128


DESCRIPTION_BUG = (
    "bug: what a refused start 'looks like' depends on the chunking: with fewer than 3 bytes "
    "buffered, _read_isa raises at once and describes only those bytes ('found bytes ff', "
    "\"found '%'\", \"found 'T'\") instead of waiting for 3 bytes"
)


def _feeds_with_description_bug(*affected: str) -> list[object]:
    return [
        pytest.param(
            feed,
            id=name,
            marks=[],
        )
        for name, feed in FEEDS.items()
    ]


@pytest.mark.parametrize("feed", _feeds_with_description_bug("byte_by_byte", "chunks_of_7"))
def test_data_after_the_last_interchange_is_refused(feed: Callable[[bytes], list[bytes]]) -> None:
    error = _refusal(SIMPLE + b"\r\nTHE END", feed)
    assert "expected the next interchange starting with 'ISA', found 'THE'" in str(error)
    assert error.offset == len(SIMPLE) + 2


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_data_after_the_last_interchange_is_refused_whatever_the_chunking(
    feed: Callable[[bytes], list[bytes]],
) -> None:
    error = _refusal(SIMPLE + b"\r\nTHE END", feed)
    assert "expected the next interchange starting with 'ISA'" in str(error)
    assert error.offset == len(SIMPLE) + 2


# Byte-order mark --------------------------------------------------------------------------------


def test_bom_is_kept_in_the_isa_lead_and_round_trips() -> None:
    data = BOM + SIMPLE
    isa = read(data).segments[0]
    assert isa.tag == "ISA"
    assert isa.lead == BOM
    assert isa.offset == 3
    assert roundtrip(data) == data


@pytest.mark.parametrize("feed", ["with_empty_chunks", "chunks_of_105", "chunks_of_106"])
def test_bom_with_chunks_that_keep_it_whole(feed: str) -> None:
    data = BOM + SIMPLE
    assert _signatures(read_chunks(FEEDS[feed](data)).segments) == _signatures(read(data).segments)


@pytest.mark.parametrize("split", [1, 2])
def test_bom_split_across_chunks(split: int) -> None:
    data = BOM + SIMPLE
    result = read_chunks([data[:split], data[split:]])
    assert result.segments[0].lead == BOM


def test_bom_fed_byte_by_byte() -> None:
    data = BOM + SIMPLE
    assert _signatures(read_chunks(byte_by_byte(data)).segments) == _signatures(read(data).segments)


def test_bom_alone_is_no_data() -> None:
    assert "found no data" in str(_refusal(BOM))


# Odd content ----------------------------------------------------------------------------------


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_empty_segment_is_an_empty_tag_not_the_end(feed: Callable[[bytes], list[bytes]]) -> None:
    """pyx12 silently stops reading at '~~'; we hand the empty segment on and keep reading."""
    data = SIMPLE.replace(b"~HI*", b"~~HI*", 1)
    segments = read_chunks(feed(data)).segments
    empty = [segment for segment in segments if segment.tag == ""]
    assert len(empty) == 1
    assert empty[0].raw == b""
    assert segments[segments.index(empty[0]) + 1].tag == "HI"
    assert segments[-1].tag == "IEA"
    assert len(segments) == len(read(SIMPLE).segments) + 1
    assert roundtrip(data) == data


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_non_ascii_bytes_do_not_crash(feed: Callable[[bytes], list[bytes]]) -> None:
    name = subscriber_last_name("A").encode()
    data = SIMPLE.replace(name, "MÜLLER-ŁUKASZ".encode(), 1).replace(b"12 ELM", b"\xff\xfe\x80", 1)
    segments = read_chunks(feed(data)).segments
    nm1 = next(s for s in segments if s.tag == "NM1" and s.element(1) == "IL")
    assert nm1.element(3) == "MÜLLER-ŁUKASZ".encode().decode("latin-1")
    assert roundtrip(data) == data


def test_tag_of_a_segment_without_elements() -> None:
    data = SIMPLE.replace(b"~HI*", b"~ZZZ~HI*", 1)
    zzz = [segment for segment in read(data).segments if segment.tag == "ZZZ"]
    assert len(zzz) == 1
    assert len(zzz[0]) == 0


# Refusals --------------------------------------------------------------------------------------


def test_x12_syntax_error_is_an_edi_guard_error() -> None:
    error = X12SyntaxError("expected something", offset=12)
    assert isinstance(error, EdiGuardError)
    assert error.offset == 12
    assert str(error) == "expected something at byte 12"
    assert X12SyntaxError("no offset").offset is None


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_isa_of_the_wrong_width_is_refused_naming_the_byte(
    feed: Callable[[bytes], list[bytes]],
) -> None:
    data = SIMPLE.replace(b"*00*          *", b"*00*         *", 1)  # ISA02 one byte short
    error = _refusal(data, feed)
    assert error.offset == 17
    assert "ISA is not fixed width" in str(error)
    assert "expected the element separator '*' at ISA byte 17, found '0'" in str(error)


def test_isa_width_error_offset_counts_the_bom() -> None:
    data = BOM + SIMPLE.replace(b"*00*          *", b"*00*         *", 1)
    assert _refusal(data).offset == 20


OTHER_FORMATS = [
    pytest.param(SIMPLE.decode("latin-1").encode("utf-16"), "UTF-16", id="utf16_bom_native"),
    pytest.param(b"\xff\xfe" + SIMPLE.decode().encode("utf-16-le"), "UTF-16", id="utf16le"),
    pytest.param(b"\xfe\xff" + SIMPLE.decode().encode("utf-16-be"), "UTF-16", id="utf16be"),
    pytest.param(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document", id="pdf"),
    pytest.param(b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "a ZIP archive", id="zip"),
]


@pytest.mark.parametrize("feed", _feeds_with_description_bug("byte_by_byte"))
@pytest.mark.parametrize(("data", "looks_like"), OTHER_FORMATS)
def test_other_formats_are_refused_naming_what_they_look_like(
    data: bytes, looks_like: str, feed: Callable[[bytes], list[bytes]]
) -> None:
    error = _refusal(data, feed)
    assert looks_like in str(error)
    assert "expected an X12 interchange starting with 'ISA'" in str(error)
    assert error.offset == 0


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
@pytest.mark.parametrize(("data", "looks_like"), OTHER_FORMATS)
def test_other_formats_are_refused_whatever_the_chunking(
    data: bytes, looks_like: str, feed: Callable[[bytes], list[bytes]]
) -> None:
    del looks_like
    error = _refusal(data, feed)
    assert "expected an X12 interchange starting with 'ISA'" in str(error)
    assert error.offset == 0


def test_utf16_without_bom_is_named() -> None:
    assert "UTF-16" in str(_refusal(SIMPLE.decode().encode("utf-16-le")))


def test_text_before_the_isa_is_refused() -> None:
    error = _refusal(b"Example 1: a claim\n" + SIMPLE)
    assert "expected an X12 interchange starting with 'ISA', found 'Exa'" in str(error)
    assert error.offset == 0


@pytest.mark.parametrize("data", [b"", b"   \r\n", b"\x00" * 10], ids=["empty", "blank", "nul"])
def test_no_interchange_at_all_is_refused(data: bytes) -> None:
    assert "found no data" in str(_refusal(data))


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_input_ending_inside_the_isa_is_refused_at_close(
    feed: Callable[[bytes], list[bytes]],
) -> None:
    tokenizer = Tokenizer()
    for chunk in feed(b"\n" + SIMPLE[:60]):
        assert tokenizer.feed(chunk) == []
    with pytest.raises(X12SyntaxError) as caught:
        tokenizer.close()
    assert "expected a complete 106-byte ISA segment, found 60 bytes" in str(caught.value)
    assert caught.value.offset == 1


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_input_ending_inside_a_segment_is_refused_at_close(
    feed: Callable[[bytes], list[bytes]],
) -> None:
    name = subscriber_last_name("A").encode()
    cut = SIMPLE.index(name) + 4
    start = SIMPLE.rindex(b"~", 0, cut) + 1
    tokenizer = Tokenizer()
    segments: list[Segment] = []
    for chunk in feed(SIMPLE[:cut]):
        segments += tokenizer.feed(chunk)
    with pytest.raises(X12SyntaxError) as caught:
        tokenizer.close()
    message = str(caught.value)
    assert "the input ended inside a segment: expected the segment terminator '~'" in message
    assert caught.value.offset == start
    assert name[:4].decode() not in message  # no element content in errors
    assert segments[-1].offset + len(segments[-1].raw) + 1 == start


def test_truncated_after_a_terminator_is_not_an_error() -> None:
    """Envelope completeness is the validator's business, not the tokenizer's."""
    cut = SIMPLE.index(b"~SE*") + 1
    assert read(SIMPLE[:cut]).segments[-1].tag == "DTP"


# Interchanges with different delimiters ----------------------------------------------------------


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_two_interchanges_with_different_delimiters(feed: Callable[[bytes], list[bytes]]) -> None:
    odd = Separators("|", "!", "{", "#")
    second = make_837([ClaimSpec("PCN9")], separators=odd, line_end="\r\n", control=43)
    data = SIMPLE + b"\r\n" + second
    segments = read_chunks(feed(data)).segments
    isas = [index for index, segment in enumerate(segments) if segment.tag == "ISA"]
    assert len(isas) == 2
    first, rest = segments[: isas[1]], segments[isas[1] :]
    assert {s.delimiters for s in first} == {Delimiters(b"*", b":", b"^", b"~")}
    assert {s.delimiters for s in rest} == {Delimiters(b"|", b"!", b"{", b"#")}
    clm = next(s for s in rest if s.tag == "CLM")
    assert clm.element(1) == "PCN9"
    assert clm.get("CLM05-3") == "1"
    assert [s.tag for s in rest[-3:]] == ["SE", "GE", "IEA"]
    assert rest[0].lead == b"\r\n"
    assert segments[-1].position == len(segments)
    assert roundtrip(data) == data


def test_a_new_isa_without_iea_before_it_starts_a_new_interchange() -> None:
    first = SIMPLE[: SIMPLE.index(b"IEA*")]
    second = make_837([ClaimSpec()], control=43, line_end="\n")
    data = first + b"\n" + second
    segments = read(data).segments
    isas = [segment for segment in segments if segment.tag == "ISA"]
    assert len(isas) == 2
    assert isas[1].lead == b"\n"
    assert not any(segment.tag == "IEA" for segment in segments[: segments.index(isas[1])])
    assert roundtrip(data) == data


def test_a_new_isa_with_other_delimiters_without_iea_before_it() -> None:
    first = SIMPLE[: SIMPLE.index(b"IEA*")]
    second = make_837([ClaimSpec()], separators=Separators("|", "!", "{", "#"), control=43)
    segments = read(first + b"\n" + second).segments
    assert [segment.tag for segment in segments].count("ISA") == 2


# Delimiters.from_isa --------------------------------------------------------------------------


def test_delimiters_from_isa() -> None:
    assert Delimiters.from_isa(SIMPLE[:106]) == Delimiters(b"*", b":", b"^", b"~")
    odd = make_837([ClaimSpec()], separators=Separators("|", "!", "{", "#"))
    assert Delimiters.from_isa(odd[:106]) == Delimiters(b"|", b"!", b"{", b"#")


@pytest.mark.parametrize(
    ("isa11", "version"), [(b"U", b"00501"), (b"^", b"00401"), (b"U", b"00401")]
)
def test_no_repetition_separator_before_00402_or_with_isa11_u(isa11: bytes, version: bytes) -> None:
    isa = SIMPLE[:82] + isa11 + b"*" + version + SIMPLE[89:106]
    assert Delimiters.from_isa(isa).repetition is None


@pytest.mark.parametrize(
    ("isa", "expected"),
    [
        pytest.param(SIMPLE[:100], "expected a 106-byte ISA segment, found 100 bytes", id="short"),
        pytest.param(b"ISB" + SIMPLE[3:106], "expected 'ISA' to start the interchange", id="tag"),
        pytest.param(SIMPLE[:104] + b"*~", "not distinct", id="component_is_element"),
        pytest.param(SIMPLE[:104] + b":*", "not distinct", id="terminator_is_element"),
        pytest.param(SIMPLE[:104] + b"A~", "must not be a letter or digit", id="alnum"),
    ],
)
def test_bad_isas_are_refused(isa: bytes, expected: str) -> None:
    with pytest.raises(X12SyntaxError, match=expected):
        Delimiters.from_isa(isa)


def test_delimiters_validate_in_their_constructor() -> None:
    with pytest.raises(X12SyntaxError, match="one byte"):
        Delimiters(b"**")
    with pytest.raises(X12SyntaxError, match="distinct"):
        Delimiters(b"*", b"*")
    assert Delimiters(repetition=None, component=b"^").repetition is None


# Memory bounds ---------------------------------------------------------------------------------


def test_a_segment_without_terminator_is_refused_before_it_is_all_buffered() -> None:
    """5 MB without a terminator and a 1 MiB limit: the error comes after ~1 MiB, not 5 MB."""
    chunk = b"A" * 65536
    tokenizer = Tokenizer(max_segment_bytes=ONE_MIB)
    tokenizer.feed(SIMPLE[:106] + b"GS*")
    fed = 0
    with pytest.raises(X12SyntaxError) as caught:
        while fed < 5 * ONE_MIB:
            tokenizer.feed(chunk)
            fed += len(chunk)
    assert fed <= ONE_MIB + len(chunk)
    assert "the segment length limit" in str(caught.value)
    assert caught.value.offset == 106


@pytest.mark.parametrize("feed", FEEDS.values(), ids=FEEDS.keys())
def test_a_segment_over_the_limit_is_refused(feed: Callable[[bytes], list[bytes]]) -> None:
    data = SIMPLE.replace(b"~HI*", b"~NTE*ADD*" + b"X" * 2000 + b"~HI*", 1)
    with pytest.raises(X12SyntaxError, match="1000 bytes") as caught:
        read_chunks(feed(data), max_segment_bytes=1000)
    assert "the segment length limit" in str(caught.value)
    assert caught.value.offset == data.index(b"NTE*ADD*X")
    assert "XXXX" not in str(caught.value)


def test_the_default_limit_is_generous() -> None:
    data = SIMPLE.replace(b"~HI*", b"~NTE*ADD*" + b"X" * 100_000 + b"~HI*", 1)
    assert roundtrip(data) == data


def test_padding_before_an_isa_is_bounded() -> None:
    # Kept small: the unbounded case is also quadratic, 5 MB of NULs takes ~40 s today.
    limit, chunk = 4096, b"\x00" * 4096
    tokenizer = Tokenizer(max_segment_bytes=limit)
    fed = 0
    with pytest.raises(X12SyntaxError):
        while fed < 32 * limit:
            tokenizer.feed(chunk)
            fed += len(chunk)
    assert fed <= limit + len(chunk)
