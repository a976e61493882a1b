"""Build small, complete 837P files for the rule tests, and run the engine on them.

``Line`` and ``build_837`` write a whole 005010X222A1 interchange (ISA fixed at 106 bytes,
SE01/GE01/IEA01 right) with synthetic, fake data; the tests change only what a rule reads.
``run`` tokenizes, assembles and evaluates it with the shipped policy and PTP table.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from edi_guard.assemble import ClaimUnit, assemble
from edi_guard.engine import ClaimDecision, evaluate
from edi_guard.history import Hasher, MemoryHistory
from edi_guard.model.mapping import map_claim
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable, load_shipped
from edi_guard.rules import REGISTRY
from edi_guard.rules.base import Finding, Rule
from edi_guard.x12 import iter_segments
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import Tokenizer
from edi_guard.x12.writer import SegmentWriter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
DEFAULT_DATE = "20260112"
HASHER = Hasher(b"test-key")

_POLICY: Policy | None = None
_PTP: PtpTable | None = None


def default_policy() -> Policy:
    global _POLICY  # loaded once for the whole test session
    if _POLICY is None:
        _POLICY = Policy.load(None)
    return _POLICY


def shipped_ptp() -> PtpTable:
    global _PTP  # loaded once for the whole test session
    if _PTP is None:
        _PTP = load_shipped()
    return _PTP


@dataclass(frozen=True)
class Line:
    """One 2400 line: SV1 with its DTP*472, optional NTE and 2410 LIN/CTP."""

    code: str
    charge: str = "100"
    units: str = "1"
    modifiers: tuple[str, ...] = ()
    description: str = ""
    pointers: str = "1"
    date: str | None = DEFAULT_DATE
    """D8 date, or ``CCYYMMDD-CCYYMMDD`` for an RD8 range, or None for no DTP*472."""
    note: str | None = None
    ndc: str | None = None
    unit_basis: str = "UN"

    def segments(self, number: int) -> list[str]:
        composite = ":".join(("HC", self.code, *self.modifiers))
        if self.description:
            padding = [""] * (4 - len(self.modifiers))
            composite = ":".join(("HC", self.code, *self.modifiers, *padding, self.description))
        out = [
            f"LX*{number}",
            f"SV1*{composite}*{self.charge}*{self.unit_basis}*{self.units}***{self.pointers}",
        ]
        if self.date is not None:
            qualifier = "RD8" if "-" in self.date else "D8"
            out.append(f"DTP*472*{qualifier}*{self.date}")
        if self.note is not None:
            out.append(f"NTE*ADD*{self.note}")
        if self.ndc is not None:
            out += [f"LIN**N4*{self.ndc}", "CTP****1*ML"]
        return out


@dataclass(frozen=True)
class ClaimSpec:
    """The 2300 claim and the subscriber/patient above it."""

    lines: Sequence[Line]
    claim_id: str = "PCN10001"
    total: str | None = None
    """CLM02; None = the sum of the lines' SV102."""
    frequency: str = "1"
    place_of_service: str = "11"
    diagnoses: Sequence[str] = ("M7918", "M62838")
    note: str | None = None
    """2300 NTE*ADD text."""
    sbr09: str = "MB"
    member_id: str = "2FH5UF6NL83"
    payer_id: str = "12502"
    patient: bool = False
    """Add a 2000C patient loop (patient is not the subscriber)."""
    extra_2300: Sequence[str] = field(default=())

    def segments(self) -> list[str]:
        total = self.total
        if total is None:
            total = _amount(sum((Decimal(line.charge) for line in self.lines), Decimal(0)))
        out = [
            f"HL*2*1*22*{1 if self.patient else 0}",
            f"SBR*{'P*18' if not self.patient else 'P*'}*******{self.sbr09}",
            f"NM1*IL*1*ROE*RICHARD****MI*{self.member_id}",
            "N3*12 ELM ST",
            "N4*ANYTOWN*PA*191030000",
            "DMG*D8*19500101*M",
            f"NM1*PR*2*MEDICARE PART B*****PI*{self.payer_id}",
        ]
        if self.patient:
            out += [
                "HL*3*2*23*0",
                "PAT*19",
                "NM1*QC*1*ROE*RILEY",
                "N3*12 ELM ST",
                "N4*ANYTOWN*PA*191030000",
                "DMG*D8*20100101*F",
            ]
        out.append(
            f"CLM*{self.claim_id}*{total}***{self.place_of_service}:B:{self.frequency}*Y*A*Y*Y"
        )
        if self.frequency in ("7", "8"):
            out.append("REF*F8*ORIGINAL0001")
        if self.note is not None:
            out.append(f"NTE*ADD*{self.note}")
        if self.diagnoses:
            qualifiers = ["ABK", *["ABF"] * (len(self.diagnoses) - 1)]
            out.append(
                "HI*"
                + "*".join(
                    f"{q}:{code}" for q, code in zip(qualifiers, self.diagnoses, strict=True)
                )
            )
        out += list(self.extra_2300)
        out.append("NM1*82*1*SMITH*JOHN****XX*1245319599")
        for number, line in enumerate(self.lines, start=1):
            out += line.segments(number)
        return out


def _amount(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def build_837(*claims: ClaimSpec, control: int = 42) -> str:
    """A complete interchange holding ``claims`` (one subscriber loop each), one per line."""
    isa = (
        "ISA*00*          *00*          *ZZ*CLINIC01       *ZZ*CLEARHOUSE     "
        f"*260115*0900*^*00501*{control:09d}*1*T*:"
    )
    assert len(isa) + 1 == 106, "ISA must be 106 bytes with its terminator"
    body = [
        "BHT*0019*00*BATCH0042*20260115*0900*CH",
        "NM1*41*2*EXAMPLE PAIN CLINIC*****46*CLINIC01",
        "PER*IC*BILLING OFFICE*TE*5555551212",
        "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*CLEARHOUSE",
        "HL*1**20*1",
        "NM1*85*2*EXAMPLE PAIN CLINIC*****XX*1234567893",
        "N3*100 MAIN ST",
        "N4*ANYTOWN*PA*191030000",
        "REF*EI*123456789",
    ]
    hl = 1
    for spec in claims:
        segments = spec.segments()
        # Renumber the subscriber (and patient) HL under the billing provider.
        renumbered = []
        subscriber_hl = hl + 1
        for segment in segments:
            if segment.startswith("HL*2*1*22*"):
                hl += 1
                segment = f"HL*{hl}*1*22*{segment.rsplit('*', 1)[1]}"
            elif segment.startswith("HL*3*2*23*"):
                hl += 1
                segment = f"HL*{hl}*{subscriber_hl}*23*0"
            renumbered.append(segment)
        body += renumbered
    st = ["ST*837*0001*005010X222A1", *body]
    se = f"SE*{len(st) + 1}*0001"
    segments = [
        isa,
        f"GS*HC*CLINIC01*CLEARHOUSE*20260115*0900*{control}*X*005010X222A1",
        *st,
        se,
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "".join(f"{segment}~\n" for segment in segments)


def fixture_cases() -> list[tuple[str, Path]]:
    """(code, path) of every rule fixture input, in registry order."""
    return [
        (rule.code, FIXTURES / rule.code / f"{name}.x12")
        for rule in REGISTRY
        for name in ("fires", "quiet")
    ]


def units_of(text: str) -> list[ClaimUnit]:
    items = assemble(iter_segments(io.BytesIO(text.encode("latin-1"))))
    return [item for item in items if isinstance(item, ClaimUnit)]


def new_history() -> MemoryHistory:
    return MemoryHistory(HASHER)


def decide(
    text: str,
    *,
    history: MemoryHistory | None = None,
    policy: Policy | None = None,
    registry: Sequence[Rule] = REGISTRY,
    ptp: PtpTable | None = None,
    record: bool = True,
) -> list[ClaimDecision]:
    """Evaluate every claim of ``text``; record accepted TPI sessions as the pipeline does."""
    history = history if history is not None else new_history()
    decisions = []
    for unit in units_of(text):
        claim = map_claim(unit)
        key = HASHER.beneficiary(claim)
        decision = evaluate(
            unit,
            registry=registry,
            policy=policy or default_policy(),
            ptp=ptp or shipped_ptp(),
            history=history,
            beneficiary_key=key,
        )
        decisions.append(decision)
        if record and not decision.rejected and decision.final is not None:
            record_sessions(history, decision)
    return decisions


def record_sessions(history: MemoryHistory, decision: ClaimDecision) -> None:
    claim = decision.final
    assert claim is not None
    days = sorted(
        {
            day
            for line in claim.lines
            if line.code in ("20552", "20553")
            for day in line.service_days()
        }
    )
    if days:
        history.record(HASHER.beneficiary(claim), HASHER.claim(claim.claim_id), days)


def decide_one(spec: ClaimSpec, **options: object) -> ClaimDecision:
    (decision,) = decide(build_837(spec), **options)  # type: ignore[arg-type]
    return decision


def summary(findings: Sequence[Finding]) -> list[tuple[str, str, str | None, tuple[str, ...]]]:
    """(rule, outcome, line, stc) of each finding, in order."""
    return [(f.rule, f.outcome.value, f.line, f.stc) for f in findings]


def of_rule(decision: ClaimDecision, code: str) -> list[tuple[str, str | None, tuple[str, ...]]]:
    """(outcome, line, stc) of the findings of rule ``code``."""
    return [(f.outcome.value, f.line, f.stc) for f in decision.findings if f.rule == code]


def segment_texts(segments: Sequence[Segment], tag: str) -> list[str]:
    """The text of each ``tag`` segment, as it would be written."""
    return [s.raw.decode("latin-1") for s in segments if s.tag == tag]


def write_file(text: str, decisions: Sequence[ClaimDecision]) -> str:
    """The whole file with each claim replaced by its decision's segments (rejected claims
    dropped), through the SegmentWriter, which renumbers LX and recomputes SE01."""
    sink = io.BytesIO()
    writer = SegmentWriter(sink)
    by_position = {decision.position: decision for decision in decisions}
    tokenizer = Tokenizer()
    stream = io.BytesIO(text.encode("latin-1"))
    for item in assemble(iter_segments(stream, tokenizer=tokenizer)):
        if isinstance(item, ClaimUnit):
            decision = by_position[item.position]
            if decision.rejected:
                for segment in item.segments:
                    writer.skip(segment)
                continue
            kept = {segment.position for segment in decision.segments}
            writer.write(decision.segments[0])
            for original in item.segments[1:]:
                if original.position not in kept:
                    writer.skip(original)
            for segment in decision.segments[1:]:
                writer.write(segment)
        else:
            for segment in item.segments:
                writer.write(segment)
    writer.write_bytes(tokenizer.trailing)
    return sink.getvalue().decode("latin-1")
