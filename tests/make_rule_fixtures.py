"""Write the rule fixtures' inputs: fixtures/rules/<CODE>/fires.x12 and quiet.x12.

Run ``.venv/bin/python tests/make_rule_fixtures.py`` to (re)write them, then
``EDI_GUARD_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_rules_golden.py`` for the expected
outputs, and review the diff. Each input is a complete 005010X222A1 interchange built from
docs/example-837p-tpi.x12 (synthetic data), valid apart from the defect under test; ``quiet``
is the same claim without the defect.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rules_support import FIXTURES, ClaimSpec, Line, build_837

NDC = "00003029320"
MUSCLES = "TPI BILAT TRAPEZIUS, L RHOMBOID"
TPI = Line("20553", charge="180", pointers="1:2")
DRUG = Line("J3301", charge="60", units="4", ndc=NDC)


def claim(*lines: Line, **options: object) -> ClaimSpec:
    """The example claim (20553 + J3301 on 2026-01-12), with ``lines`` in place of its own."""
    return ClaimSpec(list(lines or (TPI, DRUG)), **options)  # type: ignore[arg-type]


def sessions(*days: str, last: ClaimSpec) -> list[ClaimSpec]:
    """Earlier accepted sessions of the same beneficiary, one claim each, then ``last``."""
    earlier = [
        claim(Line("20553", charge="180", date=day), claim_id=f"PCN1000{n}", note=MUSCLES)
        for n, day in enumerate(days, start=2)
    ]
    return [*earlier, last]


def session(claim_id: str, day: str) -> ClaimSpec:
    return claim(Line("20553", charge="180", date=day), claim_id=claim_id, note=MUSCLES)


EARLIER = ("20260112", "20260310", "20260505")

CASES: dict[str, tuple[Sequence[ClaimSpec], Sequence[ClaimSpec]]] = {
    "CLM001": ([claim(total="250")], [claim()]),
    "CLM002": (
        [claim(TPI, Line("J3301", charge="60", units="4", ndc=NDC, date=None))],
        [claim()],
    ),
    "TPI001": (
        [claim(Line("20553", charge="180", units="3", pointers="1:2"), DRUG)],
        [claim()],
    ),
    "TPI002": (
        [claim(Line("20553", charge="180", modifiers=("50",), pointers="1:2"), DRUG)],
        [claim(Line("20553", charge="180", modifiers=("RT",), pointers="1:2"), DRUG)],
    ),
    "TPI003": (
        [claim(Line("99213", charge="120"), Line("20553", charge="180", modifiers=("25",)), DRUG)],
        [claim(Line("99213", charge="120", modifiers=("25",)), Line("20553", charge="180"), DRUG)],
    ),
    "TPI004": (
        [
            claim(
                Line("20553", charge="180", modifiers=("RT",)),
                Line("20553", charge="180", modifiers=("LT",)),
                DRUG,
            )
        ],
        [claim(Line("20553", charge="180", modifiers=("RT",)), DRUG)],
    ),
    "TPI005": (
        [claim(TPI, Line("20552", charge="120"), DRUG)],
        [
            claim(
                TPI,
                DRUG,
                Line("20552", charge="120", date="20260126", note="TPI LEFT TRAPEZIUS"),
            )
        ],
    ),
    "TPI006": (
        [
            claim(
                Line("20552", charge="120", modifiers=("RT",)),
                Line("20552", charge="120", modifiers=("LT",)),
                DRUG,
                note="TPI RIGHT TRAPEZIUS, LEFT TRAPEZIUS",
            )
        ],
        [claim(Line("20552", charge="120"), DRUG, note="TPI RIGHT TRAPEZIUS, LEFT TRAPEZIUS")],
    ),
    "TPI007": (
        [claim(note="TPI LEFT TRAPEZIUS AND LEFT LEVATOR SCAPULAE")],
        [claim(note="TPI LEFT TRAPEZIUS, LEFT LEVATOR SCAPULAE AND LEFT RHOMBOID")],
    ),
    "TPI008": (
        [claim(Line("99213", charge="120"), TPI, DRUG)],
        [claim(Line("99213", charge="120", modifiers=("25",)), TPI, DRUG)],
    ),
    "TPI009": (
        sessions(*EARLIER, last=session("PCN10001", "20260801")),
        sessions(*EARLIER, last=session("PCN10001", "20270201")),
    ),
    "TPI010": (
        [session("PCN10002", "20260112"), session("PCN10001", "20260112")],
        [session("PCN10002", "20260105"), session("PCN10001", "20260112")],
    ),
    "TPI011": (
        [claim(TPI, note="TPI BILAT TRAPEZIUS, L RHOMBOID; KENALOG 40MG, LIDOCAINE 1%")],
        [claim(TPI, note="TPI BILAT TRAPEZIUS, L RHOMBOID; LIDOCAINE 1%")],
    ),
    "TPI012": (
        [claim(TPI, Line("J3301", charge="60", units="4", ndc=NDC, date="20260113"))],
        [claim()],
    ),
    "TPI013": (
        [claim(TPI, Line("J3490", charge="45", note="ORPHENADRINE CITRATE 60MG/2ML"))],
        [claim(TPI, Line("J3490", charge="45", description="ORPHENADRINE CITRATE 60MG/2ML"))],
    ),
    "TPI014": (
        [claim(TPI, Line("J3490", charge="45", units="2", description="ORPHENADRINE 60MG"))],
        [claim(TPI, Line("J3490", charge="45", units="1", description="ORPHENADRINE 60MG"))],
    ),
    "TPI015": (
        [claim(TPI, Line("C9399", charge="45", description="ORPHENADRINE 60MG"))],
        [claim(TPI, Line("J3490", charge="45", description="ORPHENADRINE 60MG"))],
    ),
    "TPI016": (
        [claim(TPI, Line("J0585", charge="650", units="100", ndc="00023114501"))],
        [
            claim(
                TPI, Line("J0585", charge="650", units="100", modifiers=("JZ",), ndc="00023114501")
            )
        ],
    ),
    "TPI017": (
        [claim(TPI, DRUG, Line("01992", charge="300", units="30", unit_basis="MJ"))],
        [
            claim(
                TPI, DRUG, Line("01992", charge="300", units="30", unit_basis="MJ", date="20260105")
            )
        ],
    ),
    "TPI018": (
        [claim(TPI, DRUG, Line("76942", charge="90"))],
        [claim(TPI, DRUG, Line("76942", charge="90", modifiers=("GA",)))],
    ),
    "TPI019": (
        [claim(TPI, DRUG, Line("96372", charge="30"))],
        [claim(TPI, DRUG, Line("96372", charge="30", modifiers=("XU",)))],
    ),
    "TPI020": (
        [claim(Line("20553", charge="180"), DRUG, diagnoses=("M791",))],
        [claim(Line("20553", charge="180"), DRUG, diagnoses=("M7918",))],
    ),
}


def main() -> None:
    for code, (fires, quiet) in CASES.items():
        directory = FIXTURES / code
        directory.mkdir(parents=True, exist_ok=True)
        for name, specs in (("fires", fires), ("quiet", quiet)):
            (directory / f"{name}.x12").write_bytes(build_837(*specs).encode("latin-1"))


if __name__ == "__main__":
    main()
