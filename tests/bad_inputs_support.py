"""The bad-input catalogue (fixtures/bad/): its entries, generated inputs, and what we observe.

Each entry is ``fixtures/bad/NAME.expected.json``; its ``input`` names a committed file
beside it, a corpus file (``../shared/corpus/public``, read in place), a generator (inputs of
100 MB are written to a temporary file in chunks at test time, never committed), or a family
(one real file truncated at every segment boundary, or inside every segment). The expected
outcome names the acknowledgements (TA104/TA105 of each TA1, IK5 and AK9 of the 999), the
exit codes of ``check`` and ``fix``, a message for each surface, and the claim counts.

``observe`` runs ``process()`` and reads the acknowledgements back from the files it wrote,
so the tests check what a trading partner would receive.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from x12_builders import CORPUS

from edi_guard.api import process
from edi_guard.errors import X12SyntaxError
from edi_guard.history.store import HistoryStore
from edi_guard.limits import Limits
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.ptp import load as load_ptp
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import Tokenizer

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "fixtures" / "bad"
DEMO = REPO / "fixtures" / "demo" / "tpi-batch.x12"
MIB = 1 << 20
WRITE_CHUNK = MIB


@dataclass(frozen=True)
class Case:
    """One input of the catalogue (a family entry expands into many cases)."""

    name: str
    entry: str
    expected: dict[str, Any]
    file: Path | None = None
    data: bytes | None = None
    generator: str | None = None
    size: int = 0

    @property
    def limits(self) -> Limits | None:
        """The caps the entry is run under (``limits`` in its expected file), else None."""
        caps = self.expected.get("limits")
        return Limits(**caps) if caps else None

    @property
    def huge(self) -> bool:
        return self.generator is not None

    def materialize(self, directory: Path) -> Path:
        """A path holding the input (generated ones are streamed to ``directory``)."""
        if self.file is not None:
            return self.file
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{self.name}.x12"
        with target.open("wb") as sink:
            if self.data is not None:
                sink.write(self.data)
            else:
                assert self.generator is not None
                GENERATORS[self.generator](sink, self.size)
        return target


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def expected_files() -> list[Path]:
    return sorted(CATALOGUE.glob("*.expected.json"))


def cases(*, include_corpus: bool = True) -> list[Case]:
    found: list[Case] = []
    for path in expected_files():
        entry = path.name.removesuffix(".expected.json")
        expected = _load(path)
        source = expected["input"]
        if "file" in source:
            found.append(Case(entry, entry, expected, file=CATALOGUE / source["file"]))
        elif "corpus" in source:
            if include_corpus:
                found.append(Case(entry, entry, expected, file=CORPUS / source["corpus"]))
        elif "generate" in source:
            found.append(
                Case(entry, entry, expected, generator=source["generate"], size=source["bytes"])
            )
        elif "family" in source:
            found.extend(family(entry, expected))
        else:
            raise AssertionError(f"{path.name}: unknown input {source}")
    return found


# Generated inputs ------------------------------------------------------------------------------


def _demo_head() -> bytes:
    """The demo file up to and including its first HI segment (a claim under way)."""
    data = DEMO.read_bytes()
    return data[: data.index(b"~", data.index(b"HI*")) + 1] + b"\n"


def _demo_tail() -> bytes:
    data = DEMO.read_bytes()
    return data[data.index(b"~", data.index(b"HI*")) + 2 :]


def _repeat(sink: BinaryIO, unit: bytes, size: int) -> None:
    block = unit * (WRITE_CHUNK // len(unit))
    written = 0
    while written < size:
        piece = block[: size - written]
        sink.write(piece)
        written += len(piece)


def no_terminator(sink: BinaryIO, size: int) -> None:
    """A claim whose NTE segment never ends: ``size`` bytes of short elements, no '~'."""
    sink.write(_demo_head() + b"NTE*ADD")
    _repeat(sink, b"*NOTE", size)


def long_element(sink: BinaryIO, size: int) -> None:
    """An NTE02 of ``size`` bytes, then the terminator and the rest of the file."""
    sink.write(_demo_head() + b"NTE*ADD*")
    _repeat(sink, b"NOTE ", size)
    sink.write(b"~\n" + _demo_tail())


def long_segment(sink: BinaryIO, size: int) -> None:
    """An NTE of ``size`` bytes in elements of 4 bytes, terminated, then the rest."""
    sink.write(_demo_head() + b"NTE*ADD")
    _repeat(sink, b"*NOTE", size)
    sink.write(b"~\n" + _demo_tail())


def deep_hierarchy(sink: BinaryIO, size: int) -> None:
    """A set whose HL loops nest ``size`` deep (each HL the child of the one before)."""
    data = DEMO.read_bytes()
    sink.write(data[: data.index(b"HL*2*1*22*0")])
    for start in range(2, size + 2, 10_000):
        stop = min(start + 10_000, size + 2)
        sink.write(b"".join(b"HL*%d*%d*22*1~\n" % (k, k - 1) for k in range(start, stop)))
    sink.write(b"SE*5*0001~\nGE*1*42~\nIEA*1*000000042~\n")


GENERATORS = {
    "deep-hierarchy": deep_hierarchy,
    "no-terminator": no_terminator,
    "long-element": long_element,
    "long-segment": long_segment,
}


# Families --------------------------------------------------------------------------------------


def boundaries(data: bytes) -> list[int]:
    """Offsets just after each segment terminator (and its line break), plus 0."""
    ends = [0]
    for segment in Tokenizer().feed(data):
        end = segment.offset + len(segment.raw) + 1
        if data[end : end + 1] == b"\n":
            end += 1
        ends.append(end)
    return ends


def family(entry: str, expected: dict[str, Any]) -> Iterator[Case]:
    source = REPO / expected["input"]["source"]
    data = source.read_bytes()
    segments = Tokenizer().feed(data)
    kind = expected["input"]["family"]
    if kind == "truncated-at-every-boundary":
        cuts = boundaries(data)[:-1]  # the last one is the whole file
    elif kind == "truncated-inside-every-segment":
        cuts = [s.offset + max(1, len(s.raw) // 2) for s in segments]
    else:
        raise AssertionError(f"{entry}: unknown family {kind}")
    for cut in cuts:
        prefix = data[:cut]
        claims = sum(1 for s in segments if s.tag == "CLM" and s.offset + len(s.raw) < cut)
        case_expected = expected_for_cut(expected, prefix, claims)
        yield Case(f"{entry}@{cut}", entry, case_expected, data=prefix)


def expected_for_cut(template: dict[str, Any], prefix: bytes, claims: int) -> dict[str, Any]:
    """A family's outcome for one cut: its ``cases`` rules pick by where the cut falls."""
    if not prefix:
        rule = template["cases"]["empty"]
    elif len(prefix) < 106:
        rule = template["cases"]["inside-isa"]
    else:
        rule = template["cases"]["after-isa"]
    return {**template, **rule, "claims": {"in": claims, "out": 0, "rejected": claims}}


# Observing -------------------------------------------------------------------------------------


@dataclass
class Observed:
    ta1: list[list[str]]
    ik5: list[list[str]] | None
    ak9: list[list[str]] | None
    claims_in: int
    claims_out: int
    claims_rejected: int
    claims_reported: int
    messages: list[str]
    exit_code: int
    written: list[str] = field(default_factory=list)

    def as_expected(self) -> dict[str, Any]:
        return {
            "ta1": self.ta1,
            "ik5": self.ik5,
            "ak9": self.ak9,
            "claims": {
                "in": self.claims_in,
                "out": self.claims_out,
                "rejected": self.claims_rejected,
            },
        }


def _segments(data: bytes) -> list[Segment]:
    tokenizer = Tokenizer()
    return [*tokenizer.feed(data), *tokenizer.close()]


def read_ta1(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [[s.element(4), s.element(5)] for s in _segments(path.read_bytes()) if s.tag == "TA1"]


def read_999(path: Path) -> tuple[list[list[str]], list[list[str]]] | None:
    if not path.exists():
        return None
    segments = _segments(path.read_bytes())
    ik5 = [list(s.elements[1:]) for s in segments if s.tag == "IK5"]
    ak9 = [[s.element(1), *s.elements[5:]] for s in segments if s.tag == "AK9"]
    return ik5, ak9


def claims_in_output(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(1 for s in _segments(path.read_bytes()) if s.tag == "CLM")


def observe(
    path: Path,
    out_dir: Path,
    *,
    policy: Policy,
    ptp: PtpTable,
    history: HistoryStore | None = None,
    force: bool = False,
    limits: Limits | None = None,
) -> Observed:
    stem = path.name.split(".")[0]
    result = process(
        path,
        out_dir=out_dir,
        name=f"{stem}.x12",
        policy=policy,
        ptp=ptp,
        history=history,
        force=force,
        limits=limits,
    )
    acks = read_999(out_dir / f"{stem}.999")
    report = json.loads((out_dir / f"{stem}.report.json").read_text())
    summary = result.summary
    return Observed(
        ta1=read_ta1(out_dir / f"{stem}.ta1"),
        ik5=acks[0] if acks else None,
        ak9=acks[1] if acks else None,
        claims_in=summary.claims_in,
        claims_out=claims_in_output(out_dir / f"{stem}.837"),
        claims_rejected=report["summary"]["claims_rejected"],
        claims_reported=len(report["claims"]),
        messages=list(result.messages),
        exit_code=result.exit_code,
        written=sorted(p.name for p in result.written),
    )


def settings() -> tuple[Policy, PtpTable]:
    policy = Policy.load(None)
    return policy, load_ptp(policy.ptp_table)


def readable_identity_values(path: Path, scratch: Path) -> set[str]:
    """``pipeline_support.identity_values`` of the part of ``path`` that tokenizes.

    A broken input stops the tokenizer: its identity values are those of the segments read
    before the break (the bytes up to the last terminator are scanned).
    """
    from pipeline_support import identity_values

    try:
        return identity_values(path)
    except X12SyntaxError:
        pass
    data = path.read_bytes()
    tokenizer = Tokenizer()
    segments: list[Segment] = []
    try:
        segments += tokenizer.feed(data)
        segments += tokenizer.feed(b"")
    except X12SyntaxError:
        pass
    if not segments:
        return set()
    last = segments[-1]
    readable = scratch / f"{path.name}.readable"
    readable.write_bytes(data[: last.offset + len(last.raw) + 1])
    return identity_values(readable)


def count_claims(path: Path) -> int:
    """CLM segments the tokenizer reads from ``path`` before the end or its first error."""
    tokenizer = Tokenizer()
    count = 0
    with path.open("rb") as stream:
        try:
            while chunk := stream.read(WRITE_CHUNK):
                count += sum(1 for s in tokenizer.feed(chunk) if s.tag == "CLM")
            tokenizer.close()
        except X12SyntaxError:
            pass
    return count
