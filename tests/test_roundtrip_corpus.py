"""Golden round trips over the public corpus (../shared/corpus/public).

- Every 837P that pyx12 reads (MANIFEST's pyx12 column neither CRASH nor rejected) comes out
  of read -> assemble -> write byte-identical, whole and in odd chunks.
- Every corpus file of every kind (837P, 837I, 277CA, 999) is either read or refused with
  X12SyntaxError and a clear message; never another exception. What we read round-trips too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from x12_builders import (
    CorpusFile,
    Read,
    byte_by_byte,
    corpus_837p_files,
    corpus_params,
    manifest_rows,
    read,
    read_chunks,
    roundtrip,
    signature,
)

from edi_guard.assemble import ClaimUnit, assemble
from edi_guard.errors import EdiGuardError, X12SyntaxError

READABLE_837P = corpus_837p_files()
ALL_FILES = manifest_rows()
BYTE_BY_BYTE_LIMIT = 40_000
"""Feeding byte by byte costs a few microseconds a byte: only the smaller files get it."""


def _data(corpus_dir: Path, row: CorpusFile) -> bytes:
    return (corpus_dir / row.name).read_bytes()


def _read_or_refuse(data: bytes) -> Read | X12SyntaxError:
    try:
        return read(data)
    except X12SyntaxError as error:
        return error


@pytest.mark.corpus
def test_the_corpus_is_present_and_listed(corpus_dir: Path) -> None:
    on_disk = {
        str(path.relative_to(corpus_dir)) for path in corpus_dir.glob("*/*") if path.is_file()
    }
    assert on_disk == {row.name for row in ALL_FILES}
    assert len(READABLE_837P) >= 30
    assert {row.kind for row in ALL_FILES} == {"837p", "837i", "277ca", "999"}


@pytest.mark.parametrize("row", corpus_params(READABLE_837P))
def test_readable_837p_round_trips_byte_identical(corpus_dir: Path, row: CorpusFile) -> None:
    data = _data(corpus_dir, row)
    assert roundtrip(data) == data


@pytest.mark.parametrize("row", corpus_params(READABLE_837P))
def test_readable_837p_has_claims_and_envelopes(corpus_dir: Path, row: CorpusFile) -> None:
    segments = read(_data(corpus_dir, row)).segments
    tags = [segment.tag for segment in segments]
    assert tags[0] == "ISA"
    assert tags.count("ISA") == tags.count("IEA") or "missing_last_isa" in row.name
    units = [item for item in assemble(segments) if isinstance(item, ClaimUnit)]
    assert len(units) == tags.count("CLM")
    assert [unit.position for unit in units] == list(range(1, len(units) + 1))


@pytest.mark.parametrize("row", corpus_params(READABLE_837P))
def test_readable_837p_chunking_does_not_matter(corpus_dir: Path, row: CorpusFile) -> None:
    data = _data(corpus_dir, row)
    whole = read(data)
    feeds = [[data[i : i + 997] for i in range(0, len(data), 997)]]
    if len(data) <= BYTE_BY_BYTE_LIMIT:
        feeds.append(byte_by_byte(data))
    for chunks in feeds:
        fed = read_chunks(chunks)
        assert [signature(s) for s in fed.segments] == [signature(s) for s in whole.segments]
        assert fed.trailing == whole.trailing


@pytest.mark.parametrize("row", corpus_params(ALL_FILES))
def test_every_corpus_file_is_read_or_refused_with_our_error(
    corpus_dir: Path, row: CorpusFile
) -> None:
    data = _data(corpus_dir, row)
    result = _read_or_refuse(data)  # any other exception fails the test
    if isinstance(result, X12SyntaxError):
        assert isinstance(result, EdiGuardError)
        assert result.offset is not None
        assert str(result).startswith(("expected", "ISA is not fixed width", "the input ended"))
        assert f"at byte {result.offset}" in str(result)
        assert not (row.kind == "837p" and row.pyx12_reads), "an 837P pyx12 reads was refused"
        return
    assert roundtrip(data) == data
    assert not row.pyx12.startswith("rejected"), "pyx12 refuses this file but we read it"


@pytest.mark.parametrize(
    "row", corpus_params(row for row in ALL_FILES if row.pyx12.startswith("rejected"))
)
def test_files_pyx12_rejects_are_refused_with_a_clear_message(
    corpus_dir: Path, row: CorpusFile
) -> None:
    with pytest.raises(X12SyntaxError) as caught:
        read(_data(corpus_dir, row))
    message = str(caught.value)
    assert "expected" in message
    assert "found" in message


@pytest.mark.corpus
def test_known_refusals(corpus_dir: Path) -> None:
    """Spot checks that the messages say what was expected and found, and where."""
    cases = {
        "837p/stupidedi__X222-case-1.edi": (
            "expected an X12 interchange starting with 'ISA', found 'Exa' at byte 0"
        ),
        "837p/imsweb-x12-parser__x12_bad_first_line.txt": (
            "ISA is not fixed width: expected the element separator '*' at ISA byte 17"
        ),
        "837p/oopfactory-x12parser__ST1309-XX.txt": (
            "the input ended inside a segment: expected the segment terminator '\\r'"
        ),
        "277ca/oopfactory-x12parser__FromLatitude81uk.txt": "at ISA byte 89, found '4' at byte 92",
    }
    for name, expected in cases.items():
        with pytest.raises(X12SyntaxError) as caught:
            read((corpus_dir / name).read_bytes())
        assert expected in str(caught.value), name


@pytest.mark.corpus
def test_corpus_quirks_are_kept(corpus_dir: Path) -> None:
    """BOM, CRLF and indentation, odd separators: all survive as leads and raw bytes."""
    medicaid = read((corpus_dir / "837p/oopfactory-x12parser__MedicaidExample.txt").read_bytes())
    assert medicaid.segments[0].lead == b"\xef\xbb\xbf"
    assert any(segment.lead.startswith(b"\r\n ") for segment in medicaid.segments)
    odd = read(
        (corpus_dir / "837p/imsweb-x12-parser__x12_valid_different_separators.txt").read_bytes()
    )
    delimiters = odd.segments[0].delimiters
    assert (delimiters.element, delimiters.component, delimiters.terminator) == (b"~", b"^", b"_")
