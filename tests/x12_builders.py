"""Build small, valid 005010X222A1 837P files from a few declarative specs.

The builder is an oracle independent of the code under test: it spells every segment out
itself (it does not use ``edi_guard.x12``). Output is a pure function of its arguments, and a
party's segments depend only on its key, so "the input with claim X dropped" can be built
directly and compared byte for byte with what the corrected writer makes of the input.

All names, ids and numbers are synthetic.

Beside the builder: the public corpus manifest (used at collection time to parametrize the
corpus tests) and small read / write helpers shared by the test modules.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from edi_guard.assemble import assemble
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import Tokenizer
from edi_guard.x12.writer import SegmentWriter

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus" / "public"
EXAMPLE_837P = REPO.parent / "shared" / "docs" / "example-837p-tpi.x12"


@dataclass(frozen=True, slots=True)
class Separators:
    """Element, component, repetition separators and segment terminator (one char each)."""

    element: str = "*"
    component: str = ":"
    repetition: str = "^"
    terminator: str = "~"


DEFAULT_SEPARATORS = Separators()


@dataclass(frozen=True, slots=True)
class LineSpec:
    """One 2400 service line (LX, SV1, DTP*472, optional REF*6R, NTE, 2410 LIN/CTP)."""

    code: str = "99213"
    charge: str = "100"
    units: str = "1"
    modifiers: tuple[str, ...] = ()
    description: str = ""
    pointers: tuple[int, ...] = (1,)
    service_date: str = "20260112"
    """CCYYMMDD (D8) or CCYYMMDD-CCYYMMDD (RD8)."""
    control: str = ""
    """REF*6R line item control number, omitted when empty."""
    notes: tuple[str, ...] = ()
    """NTE*ADD texts."""
    drug: tuple[str, str, str] | None = None
    """2410: (NDC, quantity, unit)."""
    place_of_service: str = ""


@dataclass(frozen=True, slots=True)
class ClaimSpec:
    """One 2300 claim and the subscriber/patient it sits under.

    Consecutive claims with the same ``subscriber`` (and ``patient``) share one HL; a claim
    with a ``patient`` key sits in a 2000C patient loop under its subscriber.
    """

    claim_id: str = "PCN1"
    lines: tuple[LineSpec, ...] = (LineSpec(),)
    diagnoses: tuple[str, ...] = ("M7918",)
    """The first is the principal (ABK), the others ABF."""
    notes: tuple[str, ...] = ()
    """2300 NTE*ADD texts."""
    subscriber: str = "A"
    patient: str | None = None
    place_of_service: str = "11"
    frequency: str = "1"
    total: str | None = None
    """CLM02; the sum of the lines' charges when None."""
    payer_claim_control: str = ""
    """REF*F8, omitted when empty."""


def subscriber_last_name(key: str) -> str:
    return f"SUBLAST{key}"


def subscriber_member_id(key: str) -> str:
    return f"MBR{key}0001"


def patient_last_name(key: str) -> str:
    return f"PATLAST{key}"


def make_837(
    claims: Sequence[ClaimSpec] | None = None,
    *,
    sets: Sequence[Sequence[ClaimSpec]] | None = None,
    set_controls: Sequence[str] | None = None,
    separators: Separators = DEFAULT_SEPARATORS,
    line_end: str = "",
    bom: bool = False,
    control: int = 42,
) -> bytes:
    """One interchange with one group: ``claims`` in one set, or one set per entry of ``sets``.

    ``set_controls`` gives ST02 for each set (default 0001, 0002, ...). ``line_end`` follows
    every terminator ("", "\\n" or "\\r\\n").
    """
    if sets is None:
        sets = [claims if claims is not None else [ClaimSpec()]]
    controls = (
        list(set_controls)
        if set_controls is not None
        else [f"{index:04d}" for index in range(1, len(sets) + 1)]
    )
    writer = _Writer(separators, line_end)
    writer.isa(control)
    writer.segment(
        "GS", "HC", "CLINIC01", "CLEARHOUSE", "20260115", "0900", str(control), "X", "005010X222A1"
    )
    for set_claims, st02 in zip(sets, controls, strict=True):
        _transaction_set(writer, set_claims, st02)
    writer.segment("GE", str(len(sets)), str(control))
    writer.segment("IEA", "1", f"{control:09d}")
    data = writer.getvalue()
    return b"\xef\xbb\xbf" + data if bom else data


def _transaction_set(writer: _Writer, claims: Sequence[ClaimSpec], st02: str) -> None:
    writer.start_count()
    w = writer.segment
    w("ST", "837", st02, "005010X222A1")
    w("BHT", "0019", "00", f"BATCH{st02}", "20260115", "0900", "CH")
    w("NM1", "41", "2", "EXAMPLE PAIN CLINIC", "", "", "", "", "46", "CLINIC01")
    w("PER", "IC", "BILLING OFFICE", "TE", "5555551212")
    w("NM1", "40", "2", "EXAMPLE CLEARINGHOUSE", "", "", "", "", "46", "CLEARHOUSE")
    w("HL", "1", "", "20", "1")
    w("NM1", "85", "2", "EXAMPLE PAIN CLINIC", "", "", "", "", "XX", "1234567893")
    w("N3", "100 MAIN ST")
    w("N4", "ANYTOWN", "PA", "191030000")
    w("REF", "EI", "123456789")
    hl = 1
    subscriber_hl = 0
    current: tuple[str, str | None] | None = None
    for index, claim in enumerate(claims):
        if current is None or claim.subscriber != current[0]:
            hl += 1
            subscriber_hl = hl
            has_patients = any(
                other.patient is not None for other in _same_subscriber_run(claims, index)
            )
            _subscriber(writer, hl, claim.subscriber, has_patients=has_patients)
            current = (claim.subscriber, None)
        if claim.patient is not None and claim.patient != current[1]:
            hl += 1
            _patient(writer, hl, subscriber_hl, claim.patient)
        current = (claim.subscriber, claim.patient)
        _claim(writer, claim)
    w("SE", str(writer.counted + 1), st02)


def _same_subscriber_run(claims: Sequence[ClaimSpec], start: int) -> list[ClaimSpec]:
    key = claims[start].subscriber
    run: list[ClaimSpec] = []
    for claim in claims[start:]:
        if claim.subscriber != key:
            break
        run.append(claim)
    return run


def _subscriber(writer: _Writer, hl: int, key: str, *, has_patients: bool) -> None:
    w = writer.segment
    w("HL", str(hl), "1", "22", "1" if has_patients else "0")
    w("SBR", "P", "" if has_patients else "18", "", "", "", "", "", "", "MB")
    w(
        "NM1",
        "IL",
        "1",
        subscriber_last_name(key),
        "RICHARD",
        "",
        "",
        "",
        "MI",
        subscriber_member_id(key),
    )
    w("N3", "12 ELM ST")
    w("N4", "ANYTOWN", "PA", "191030000")
    w("DMG", "D8", "19500101", "M")
    w("NM1", "PR", "2", "MEDICARE PART B", "", "", "", "", "PI", "12502")


def _patient(writer: _Writer, hl: int, parent: int, key: str) -> None:
    w = writer.segment
    w("HL", str(hl), str(parent), "23", "0")
    w("PAT", "19")
    w("NM1", "QC", "1", patient_last_name(key), "JUNIOR")
    w("N3", "12 ELM ST")
    w("N4", "ANYTOWN", "PA", "191030000")
    w("DMG", "D8", "20100304", "F")


def _claim(writer: _Writer, claim: ClaimSpec) -> None:
    w = writer.segment
    c = writer.separators.component
    total = claim.total
    if total is None:
        total = str(sum((Decimal(line.charge) for line in claim.lines), Decimal(0)))
    w(
        "CLM",
        claim.claim_id,
        total,
        "",
        "",
        c.join((claim.place_of_service, "B", claim.frequency)),
        "Y",
        "A",
        "Y",
        "Y",
    )
    if claim.payer_claim_control:
        w("REF", "F8", claim.payer_claim_control)
    for note in claim.notes:
        w("NTE", "ADD", note)
    hi = [
        f"{'ABK' if index == 0 else 'ABF'}{c}{code}" for index, code in enumerate(claim.diagnoses)
    ]
    w("HI", *hi)
    w("NM1", "82", "1", "SMITH", "JOHN", "", "", "", "XX", "1245319599")
    for number, line in enumerate(claim.lines, start=1):
        _line(writer, number, line)


def _line(writer: _Writer, number: int, line: LineSpec) -> None:
    w = writer.segment
    c = writer.separators.component
    procedure = ["HC", line.code, *line.modifiers]
    if line.description:
        procedure += [""] * (6 - len(procedure)) + [line.description]
    w("LX", str(number))
    w(
        "SV1",
        c.join(procedure),
        line.charge,
        "UN",
        line.units,
        line.place_of_service,
        "",
        c.join(str(pointer) for pointer in line.pointers),
    )
    if "-" in line.service_date:
        w("DTP", "472", "RD8", line.service_date)
    else:
        w("DTP", "472", "D8", line.service_date)
    if line.control:
        w("REF", "6R", line.control)
    for note in line.notes:
        w("NTE", "ADD", note)
    if line.drug is not None:
        ndc, quantity, unit = line.drug
        w("LIN", "", "N4", ndc)
        w("CTP", "", "", "", quantity, unit)


class _Writer:
    def __init__(self, separators: Separators, line_end: str) -> None:
        self.separators = separators
        self._line_end = line_end
        self._parts: list[str] = []
        self.counted = 0

    def start_count(self) -> None:
        self.counted = 0

    def segment(self, tag: str, *elements: str) -> None:
        values = [tag, *elements]
        while len(values) > 1 and values[-1] == "":
            values.pop()
        self._emit(self.separators.element.join(values))
        self.counted += 1

    def isa(self, control: int) -> None:
        s = self.separators
        fields = (
            "ISA", "00", " " * 10, "00", " " * 10, "ZZ", "CLINIC01".ljust(15), "ZZ",
            "CLEARHOUSE".ljust(15), "260115", "0900", s.repetition, "00501", f"{control:09d}",
            "1", "T", s.component,
        )  # fmt: skip
        text = s.element.join(fields)
        assert len(text) == 105, len(text)
        self._emit(text)

    def _emit(self, text: str) -> None:
        self._parts.append(text + self.separators.terminator + self._line_end)

    def getvalue(self) -> bytes:
        return "".join(self._parts).encode("latin-1")


# The public corpus ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorpusFile:
    """One MANIFEST.tsv row: the file (relative to the corpus) and pyx12's verdict on it."""

    name: str
    notes: str
    pyx12: str

    @property
    def kind(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def pyx12_reads(self) -> bool:
        """pyx12 read it (clean or with findings), as opposed to crashing or refusing it."""
        return not self.pyx12.startswith(("CRASH", "rejected"))

    @property
    def file_name(self) -> str:
        return self.name.rsplit("/", 1)[-1]


def manifest_rows() -> list[CorpusFile]:
    """Every MANIFEST.tsv row, or [] when the corpus is absent (collection must not fail)."""
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        return [CorpusFile(row["file"], row["notes"], row["pyx12"]) for row in reader]


def corpus_837p_files(*, readable_only: bool = True) -> list[CorpusFile]:
    """The 837P corpus files (by default only those pyx12 reads), in manifest order."""
    return [
        row
        for row in manifest_rows()
        if row.kind == "837p" and (row.pyx12_reads or not readable_only)
    ]


def corpus_params(rows: Iterable[CorpusFile]) -> list[object]:
    """pytest params for corpus rows, with the file name as the test id."""
    return [pytest.param(row, id=row.file_name, marks=pytest.mark.corpus) for row in rows]


# Reading and writing -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Read:
    segments: list[Segment]
    trailing: bytes


def read_chunks(chunks: Iterable[bytes], *, max_segment_bytes: int | None = None) -> Read:
    """Feed ``chunks`` to a fresh tokenizer, close it, and return segments and trailing."""
    tokenizer = (
        Tokenizer() if max_segment_bytes is None else Tokenizer(max_segment_bytes=max_segment_bytes)
    )
    segments: list[Segment] = []
    for chunk in chunks:
        segments.extend(tokenizer.feed(chunk))
    segments.extend(tokenizer.close())
    return Read(segments, tokenizer.trailing)


def read(data: bytes) -> Read:
    return read_chunks([data])


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[index : index + 1] for index in range(len(data))]


def signature(segment: Segment) -> tuple[str, bytes, int, int, bytes]:
    """What must not depend on chunking: tag, raw bytes, position, offset, lead."""
    return (segment.tag, segment.raw, segment.position, segment.offset, segment.lead)


def roundtrip(data: bytes) -> bytes:
    """read -> assemble -> write (every item's segments, then the trailing bytes)."""
    result = read(data)
    sink = io.BytesIO()
    writer = SegmentWriter(sink)
    for item in assemble(result.segments):
        for segment in item.segments:
            writer.write(segment)
    writer.write_bytes(result.trailing)
    return sink.getvalue()


def pyx12_validates(data: bytes) -> tuple[bool, str]:
    """Run pyx12's full 837P validation; return its verdict and the 999 it wrote."""
    # Imported here: loading pyx12 is slow, and only the tests that validate pay for it.
    import pyx12.params
    import pyx12.x12n_document

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "input.x12"
        path.write_bytes(data)
        ack = io.StringIO()
        valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), ack, None)
    return bool(valid), ack.getvalue()
