"""Generate large, realistic, synthetic 837P (005010X222A1) files for benchmarks.

One interchange (ISA/IEA) holding one functional group (GS/GE) of several transaction sets
(ST/SE) of at most ``claims_per_set`` claims each. Every name, address, member id, NPI, tax id
and control number is made up; NPIs carry a valid check digit (Luhn over 80840 + 9 digits).

About 40% of claims are trigger point injection (TPI) claims: 20552/20553, muscle notes in the
2300 NTE, some drug lines (J3301, J1030, J1885, J3490 with 2410 LIN/CTP), some E/M lines with
or without modifier 25, and a small share with defects the rule book catches (modifier 50,
units 2, 20552 + 20553 on one day, two 20553 lines, NOC drug without SV101-7, region-only
notes, too few muscles, bare M79.1, E/M without 25, 96372 on the same day). The rest are
ordinary office services. The output is valid 005010X222A1: pyx12 validates it clean.

Output is written claim by claim, so memory stays flat whatever the size::

    python bench/generate.py --claims 10000 --out bench/out/claims-10000.x12
    python bench/generate.py --size-mb 1000 --out bench/out/size-1000mb.x12
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import BinaryIO

MAX_CLAIMS_PER_SET = 5000
"""A practical ceiling many payers publish for 837P transaction sets."""

BASE_DATE = date(2026, 1, 15)
"""The interchange date; service dates fall in the 120 days before it. Fixed for determinism."""

# --- vocabularies (all synthetic) --------------------------------------------------------------

LAST_NAMES = (
    "ROE", "DOE", "MOE", "POE", "LOE", "ZOE", "BRANT", "CALLOW", "DUNMORE", "ELBERT", "FARROW",
    "GARVEY", "HOLLIS", "IVERSEN", "JARDINE", "KEMBLE", "LORIMER", "MARSDEN", "NORCROSS",
    "OAKLEY", "PELHAM", "QUARRY", "RADLEY", "SOMERS", "TILBURY", "UPTON", "VARLEY", "WEXLER",
    "YARDLEY", "ZELLER", "ASHBY", "BROOKE", "CRANE", "DALTON", "EASTON", "FENWICK",
)  # fmt: skip
FIRST_NAMES = (
    "RICHARD", "JANE", "JOHN", "MARY", "ALAN", "BEATRICE", "CARL", "DORA", "EDWIN", "FAYE",
    "GORDON", "HAZEL", "IRVING", "JUNE", "KEITH", "LENA", "MILES", "NORA", "OSCAR", "PEARL",
    "QUINN", "ROSE", "SIMON", "TESSA", "VICTOR", "WANDA", "WALTER", "YVONNE",
)  # fmt: skip
STREETS = (
    "MAIN ST", "ELM ST", "OAK AVE", "MAPLE DR", "CEDAR LN", "PINE RD", "BIRCH CT", "WALNUT ST",
    "LAKE VIEW DR", "HILLTOP RD", "RIVER RD", "MILL ST", "CHURCH ST", "PARK AVE",
)  # fmt: skip
CITIES = (
    ("ANYTOWN", "PA", "19103"), ("SPRINGFIELD", "IL", "62701"), ("RIVERTON", "WY", "82501"),
    ("FAIRVIEW", "TN", "37062"), ("GREENVILLE", "SC", "29601"), ("MADISON", "WI", "53703"),
    ("CLINTON", "MS", "39056"), ("SALEM", "OR", "97301"), ("FRANKLIN", "TN", "37064"),
    ("GEORGETOWN", "TX", "78626"), ("ARLINGTON", "VA", "22201"), ("DOVER", "DE", "19901"),
)  # fmt: skip
CLINIC_WORDS = (
    "SUMMIT", "VALLEY", "LAKESIDE", "MERIDIAN", "NORTHGATE", "CEDAR", "HARBOR", "PINNACLE",
    "RIVERBEND", "KEYSTONE", "HIGHLAND", "BRIGHTWATER",
)  # fmt: skip
CLINIC_KINDS = (
    "PAIN CLINIC", "SPINE AND PAIN", "FAMILY MEDICINE", "PHYSICAL MEDICINE", "ORTHOPEDICS",
    "MEDICAL GROUP",
)  # fmt: skip

# (payer name, payer id, SBR09 claim filing indicator, weight); ids are made up.
PAYERS = (
    ("MEDICARE PART B", "99501", "MB", 40),
    ("SYNTHETIC MEDICARE ADVANTAGE HMO", "99516", "16", 15),
    ("SYNTHETIC COMMERCIAL HEALTH", "99620", "CI", 30),
    ("SYNTHETIC BLUE PLAN", "99730", "BL", 15),
)

TPI_DX = ("M7918", "M62838", "M542", "M546", "M5450", "M7912", "M62830", "M62831")
OTHER_DX = ("I10", "E119", "Z0000", "M25511", "J069", "R5383", "M1711", "E785", "R519", "M5416")

MUSCLES = (
    "TRAPEZIUS", "SCM", "LEVATOR SCAP", "RHOMBOID", "QL", "SPLENIUS CAPITIS", "INFRASPINATUS",
    "GLUTEUS MEDIUS", "PIRIFORMIS", "ERECTOR SPINAE", "SCALENE", "TERES MAJOR",
)  # fmt: skip
REGION_NOTES = ("TPI NECK AND UPPER BACK", "TPI PARASPINAL REGION", "TPI UPPER BACK, LOW BACK")

# Fees in cents per unit.
FEES = {
    "20552": 15000, "20553": 18000, "99212": 8000, "99213": 12500, "99214": 18500,
    "99203": 16000, "99204": 24000, "97110": 4500, "97140": 4200, "97530": 4800,
    "36415": 1500, "81002": 1200, "85025": 2500, "80053": 4000, "93000": 5500, "96372": 3500,
    "20610": 15000, "J3301": 1500, "J1030": 1200, "J1885": 800, "J3490": 2500,
}  # fmt: skip
# (code, NDC, max units)
DRUGS = (("J3301", "00003029320", 4), ("J1030", "00009307301", 2), ("J1885", "00409379501", 2))
NOC_DESCRIPTIONS = ("SARAPIN 10ML VIAL", "SARAPIN 5ML", "TRAUMEEL 2ML AMPULE")
NOC_NDC = "00000000000"
# Ordinary visits: a list of (code, units range) lines per visit kind.
OFFICE_VISITS: tuple[tuple[tuple[str, int, int], ...], ...] = (
    (("99213", 1, 1),),
    (("99213", 1, 1), ("36415", 1, 1), ("85025", 1, 1)),
    (("99214", 1, 1), ("81002", 1, 1)),
    (("99212", 1, 1),),
    (("99203", 1, 1),),
    (("99204", 1, 1), ("93000", 1, 1)),
    (("97110", 2, 4), ("97140", 1, 2)),
    (("97110", 1, 3), ("97530", 1, 2)),
    (("99214", 1, 1), ("36415", 1, 1), ("80053", 1, 1)),
    (("20610", 1, 1), ("99213", 1, 1)),
)
TAXONOMY_PAIN = "208VP0014X"
TAXONOMY_OTHER = ("207Q00000X", "225100000X", "207R00000X")

DEFECTS = (
    "modifier50",
    "units2",
    "20552_and_20553",
    "two_20553",
    "noc_without_description",
    "modifier25_on_tpi",
    "em_without_25",
    "region_only_notes",
    "few_muscles",
    "bare_m791",
    "96372_same_day",
)


def npi_check_digit(first9: str) -> str:
    """The NPI check digit: Luhn over the prefix 80840 and the first nine digits."""
    total = 0
    for index, char in enumerate(reversed("80840" + first9)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_npi(npi: str) -> bool:
    return len(npi) == 10 and npi.isdigit() and npi_check_digit(npi[:9]) == npi[9]


def money(cents: int) -> str:
    """X12 decimal: no trailing zeros after the point, no point for whole amounts."""
    whole, rest = divmod(cents, 100)
    if rest == 0:
        return str(whole)
    return f"{whole}.{rest:02d}".rstrip("0")


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    npi: str
    ein: str
    street: str
    city: tuple[str, str, str]
    pain: bool
    renderers: tuple[tuple[str, str, str], ...]  # (last, first, npi)
    fee_factor: int  # percent


@dataclass(slots=True)
class Line:
    code: str
    cents: int
    units: int = 1
    modifiers: tuple[str, ...] = ()
    description: str = ""
    pointers: str = "1"
    ndc: str = ""
    note: str = ""


@dataclass(slots=True)
class _State:
    """Running counts: segments in the current set, bytes written, ids handed out."""

    out: BinaryIO
    terminator: bytes
    written: int = 0
    claims: int = 0
    sets: int = 0
    set_segments: int = 0
    pending: list[str] = field(default_factory=list)

    def flush(self) -> None:
        if not self.pending:
            return
        data = self.terminator.join(s.encode("ascii") for s in self.pending) + self.terminator
        self.out.write(data)
        self.written += len(data)
        self.set_segments += len(self.pending)
        self.pending.clear()


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.payer_weights = [p[3] for p in PAYERS]
        self.providers = [self._provider(i) for i in range(12)]
        self.claim_seq = 0

    # --- parties -------------------------------------------------------------------------------

    def _npi(self) -> str:
        first9 = str(self.rng.randint(1, 2)) + f"{self.rng.randrange(10**8):08d}"
        return first9 + npi_check_digit(first9)

    def _provider(self, index: int) -> Provider:
        rng = self.rng
        kind = CLINIC_KINDS[index % len(CLINIC_KINDS)]
        name = f"{CLINIC_WORDS[index % len(CLINIC_WORDS)]} {kind}"
        renderers = tuple(
            (rng.choice(LAST_NAMES), rng.choice(FIRST_NAMES), self._npi())
            for _ in range(rng.randint(1, 4))
        )
        return Provider(
            name=name,
            npi=self._npi(),
            ein=f"{rng.randrange(10**8, 10**9)}",
            street=f"{rng.randint(100, 9999)} {rng.choice(STREETS)}",
            city=rng.choice(CITIES),
            pain=kind in ("PAIN CLINIC", "SPINE AND PAIN", "PHYSICAL MEDICINE"),
            renderers=renderers,
            fee_factor=rng.choice((100, 100, 110, 125)),
        )

    def _member_id(self, sbr09: str) -> str:
        rng = self.rng
        if sbr09 in ("MB", "16"):
            letters = "ACDEFGHJKMNPQRTUVWXY"
            return "".join(
                (
                    str(rng.randint(1, 9)),
                    rng.choice(letters),
                    rng.choice(letters + "0123456789"),
                    str(rng.randint(0, 9)),
                    rng.choice(letters),
                    rng.choice(letters + "0123456789"),
                    str(rng.randint(0, 9)),
                    rng.choice(letters),
                    rng.choice(letters),
                    f"{rng.randrange(100):02d}",
                )
            )
        return f"SYN{rng.randrange(10**9):09d}"

    def _address(self) -> tuple[str, str]:
        rng = self.rng
        city, state, zip5 = rng.choice(CITIES)
        return (
            f"N3*{rng.randint(1, 9999)} {rng.choice(STREETS)}",
            f"N4*{city}*{state}*{zip5}{rng.randrange(10000):04d}",
        )

    def _dob(self, low: int, high: int) -> str:
        day = date(low, 1, 1) + timedelta(days=self.rng.randrange((high - low) * 365))
        return day.strftime("%Y%m%d")

    # --- claim content -------------------------------------------------------------------------

    def _fee(self, code: str, provider: Provider) -> int:
        return FEES[code] * provider.fee_factor // 100

    def _muscle_note(self, wanted: int) -> str:
        """A note naming distinct muscles, ``wanted`` of them counting sides (1 to 6)."""
        rng = self.rng
        note = "TPI"
        count = 0
        for muscle in rng.sample(MUSCLES, len(MUSCLES)):
            if count >= wanted:
                break
            if wanted - count >= 2 and rng.random() < 0.35:
                part, adds = f"BILATERAL {muscle}", 2
            else:
                side = rng.choice(("LEFT ", "RIGHT ", "LEFT ", "RIGHT ", ""))
                part, adds = side + muscle, 1
            candidate = f"{note} {part}" if count == 0 else f"{note}, {part}"
            if len(candidate) > 80:
                continue
            note, count = candidate, count + adds
        return note

    def _tpi_lines(self, provider: Provider) -> tuple[list[Line], str, list[str]]:
        """Service lines, a 2300 note and diagnosis codes for a TPI claim."""
        rng = self.rng
        defect = rng.choice(DEFECTS) if rng.random() < 0.18 else ""
        dx = rng.sample(TPI_DX, rng.randint(1, 3))
        if defect == "bare_m791":
            dx[0] = "M791"
        code = "20553" if rng.random() < 0.6 else "20552"
        if defect in ("20552_and_20553", "two_20553", "few_muscles"):
            code = "20553"
        pointers = ":".join(str(i + 1) for i in range(min(len(dx), 4)))
        tpi = Line(code, self._fee(code, provider), pointers=pointers)
        lines = [tpi]
        if defect == "modifier50":
            tpi.modifiers = ("50",)
            tpi.units = 2
        elif defect == "units2":
            tpi.units = 2
        elif defect == "modifier25_on_tpi":
            tpi.modifiers = ("25",)
        elif defect == "20552_and_20553":
            lines.append(Line("20552", self._fee("20552", provider), pointers=pointers))
        elif defect == "two_20553":
            tpi.modifiers = ("RT",)
            lines.append(Line("20553", tpi.cents, modifiers=("LT",), pointers=pointers))
        tpi.cents *= tpi.units

        if defect == "region_only_notes":
            note = rng.choice(REGION_NOTES)
        elif defect == "few_muscles":
            note = self._muscle_note(2)
        elif code == "20553":
            note = self._muscle_note(rng.randint(3, 6))
        else:
            note = self._muscle_note(rng.randint(1, 2))

        if defect == "noc_without_description" or rng.random() < 0.4:
            lines.append(self._drug_line(defect == "noc_without_description"))
        if defect == "em_without_25":
            em = rng.choice(("99213", "99214"))
            lines.insert(0, Line(em, self._fee(em, provider), pointers="1"))
        elif rng.random() < 0.3:
            em = rng.choice(("99213", "99214", "99212"))
            lines.insert(0, Line(em, self._fee(em, provider), modifiers=("25",), pointers="1"))
        if defect == "96372_same_day":
            lines.append(Line("96372", self._fee("96372", provider), pointers="1"))
        return lines, note, dx

    def _drug_line(self, noc_without_description: bool) -> Line:
        rng = self.rng
        if noc_without_description or rng.random() < 0.12:
            line = Line("J3490", FEES["J3490"], ndc=NOC_NDC, pointers="1")
            if noc_without_description:
                if rng.random() < 0.5:
                    line.note = rng.choice(NOC_DESCRIPTIONS)
            else:
                line.description = rng.choice(NOC_DESCRIPTIONS)
            return line
        code, ndc, max_units = rng.choice(DRUGS)
        units = rng.randint(1, max_units)
        return Line(code, FEES[code] * units, units=units, ndc=ndc, pointers="1")

    def _office_lines(self, provider: Provider) -> tuple[list[Line], list[str]]:
        rng = self.rng
        visit = rng.choice(OFFICE_VISITS)
        dx = rng.sample(OTHER_DX, rng.randint(1, 4))
        lines = []
        for code, low, high in visit:
            units = rng.randint(low, high)
            pointers = ":".join(str(i + 1) for i in range(min(len(dx), rng.randint(1, 2))))
            lines.append(Line(code, self._fee(code, provider) * units, units, pointers=pointers))
        return lines, dx

    # --- segments ------------------------------------------------------------------------------

    def claim(self, state: _State, provider: Provider, hl: int, billing_hl: int) -> int:
        """Append one subscriber (and maybe patient) with one claim; return the next HL id."""
        rng = self.rng
        self.claim_seq += 1
        seq = self.claim_seq
        payer_name, payer_id, sbr09, _ = rng.choices(PAYERS, weights=self.payer_weights)[0]
        has_patient = sbr09 in ("CI", "BL") and rng.random() < 0.67
        seg = state.pending.append
        subscriber_hl = hl
        seg(f"HL*{hl}*{billing_hl}*22*{1 if has_patient else 0}")
        hl += 1
        if sbr09 in ("MB", "16"):
            seg(f"SBR*P*18*******{sbr09}")
        else:
            relation = "" if has_patient else "18"
            seg(f"SBR*P*{relation}*GRP{rng.randrange(10**6):06d}******{sbr09}")
        last = rng.choice(LAST_NAMES)
        seg(f"NM1*IL*1*{last}*{rng.choice(FIRST_NAMES)}****MI*{self._member_id(sbr09)}")
        n3, n4 = self._address()
        seg(n3)
        seg(n4)
        old = sbr09 in ("MB", "16")
        seg(f"DMG*D8*{self._dob(1935, 1960) if old else self._dob(1955, 2000)}*{rng.choice('MF')}")
        seg(f"NM1*PR*2*{payer_name}*****PI*{payer_id}")
        if has_patient:
            seg(f"HL*{hl}*{subscriber_hl}*23*0")
            hl += 1
            child = rng.random() < 0.6
            seg(f"PAT*{'19' if child else '01'}")
            seg(f"NM1*QC*1*{last}*{rng.choice(FIRST_NAMES)}")
            seg(n3)
            seg(n4)
            born = self._dob(2004, 2020) if child else self._dob(1955, 2000)
            seg(f"DMG*D8*{born}*{rng.choice('MF')}")

        tpi = rng.random() < (0.75 if provider.pain else 0.05)
        note = ""
        if tpi:
            lines, note, dx = self._tpi_lines(provider)
            pos = rng.choices(("11", "22", "19", "24"), weights=(85, 5, 3, 7))[0]
        else:
            lines, dx = self._office_lines(provider)
            pos = "11" if rng.random() < 0.95 else "22"
        total = sum(line.cents for line in lines)
        frequency = "7" if rng.random() < 0.02 else "1"
        seg(f"CLM*PCN{seq:08d}*{money(total)}***{pos}:B:{frequency}*Y*A*Y*Y")
        if frequency == "7":
            seg(f"REF*F8*SYNPAYER{rng.randrange(10**10):010d}")
        if rng.random() < 0.7:
            seg(f"REF*D9*CHT{seq:012d}")
        if note:
            seg(f"NTE*ADD*{note}")
        seg("HI*" + "*".join(["ABK:" + dx[0]] + ["ABF:" + code for code in dx[1:]]))
        r_last, r_first, r_npi = rng.choice(provider.renderers)
        seg(f"NM1*82*1*{r_last}*{r_first}****XX*{r_npi}")
        taxonomy = TAXONOMY_PAIN if provider.pain else rng.choice(TAXONOMY_OTHER)
        seg(f"PRV*PE*PXC*{taxonomy}")
        service = (BASE_DATE - timedelta(days=rng.randint(3, 120))).strftime("%Y%m%d")
        for number, line in enumerate(lines, 1):
            seg(f"LX*{number}")
            composite = ":".join(("HC", line.code, *line.modifiers))
            if line.description:
                composite = ":".join(("HC", line.code, "", "", "", "", line.description))
            seg(f"SV1*{composite}*{money(line.cents)}*UN*{line.units}***{line.pointers}")
            seg(f"DTP*472*D8*{service}")
            seg(f"REF*6R*{seq}L{number}")
            if line.note:
                seg(f"NTE*ADD*{line.note}")
            elif line.ndc == "" and rng.random() < 0.03:
                seg("NTE*ADD*SEE ATTACHED NOTES")
            if line.ndc:
                seg(f"LIN**N4*{line.ndc}")
                seg(f"CTP****{line.units}*ML")
        state.claims += 1
        return hl


def _interchange_header(state: _State, control: int, stamp: tuple[str, str, str]) -> None:
    yymmdd, ccyymmdd, hhmm = stamp
    sender, receiver = "SYNCLINIC01", "SYNCLEARHSE"
    isa = (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender:<15}*ZZ*{receiver:<15}*{yymmdd}*{hhmm}*^*00501"
        f"*{control:09d}*0*P*:"
    )
    assert len(isa) == 105, len(isa)
    state.pending.append(isa)
    state.pending.append(f"GS*HC*{sender}*{receiver}*{ccyymmdd}*{hhmm}*{control}*X*005010X222A1")
    state.flush()


def _write(
    out: BinaryIO,
    *,
    seed: int,
    claims: int | None,
    size_bytes: int | None,
    claims_per_set: int,
    newlines: bool,
) -> _State:
    if not 1 <= claims_per_set <= MAX_CLAIMS_PER_SET:
        raise ValueError(f"claims_per_set must be 1 to {MAX_CLAIMS_PER_SET}, not {claims_per_set}")
    if claims is not None and claims < 1:
        raise ValueError(f"claims must be at least 1, not {claims}")
    gen = _Generator(seed)
    rng = gen.rng
    state = _State(out=out, terminator=b"~\n" if newlines else b"~")
    control = 1 + seed % 999_999_999
    stamp = (BASE_DATE.strftime("%y%m%d"), BASE_DATE.strftime("%Y%m%d"), "0900")
    _interchange_header(state, control, stamp)

    def done() -> bool:
        if claims is not None:
            return state.claims >= claims
        assert size_bytes is not None
        return state.written >= size_bytes

    while not done():
        state.sets += 1
        st = f"{state.sets:04d}"
        state.set_segments = 0
        seg = state.pending.append
        seg(f"ST*837*{st}*005010X222A1")
        seg(f"BHT*0019*00*SYNBATCH{control}{st}*{stamp[1]}*{stamp[2]}*CH")
        seg("NM1*41*2*SYNTHETIC BILLING SERVICE*****46*SYNCLINIC01")
        seg("PER*IC*BILLING OFFICE*TE*5555550100")
        seg("NM1*40*2*SYNTHETIC CLEARINGHOUSE*****46*SYNCLEARHSE")
        in_set = 0
        hl = 1
        while in_set < claims_per_set and not done():
            provider = rng.choice(gen.providers)
            billing_hl = hl
            seg(f"HL*{hl}**20*1")
            hl += 1
            seg(f"NM1*85*2*{provider.name}*****XX*{provider.npi}")
            seg(f"N3*{provider.street}")
            city, state_code, zip5 = provider.city
            seg(f"N4*{city}*{state_code}*{zip5}0000")
            seg(f"REF*EI*{provider.ein}")
            block = min(rng.randint(10, 100), claims_per_set - in_set)
            for _ in range(block):
                if done():
                    break
                hl = gen.claim(state, provider, hl, billing_hl)
                in_set += 1
                state.flush()
        state.flush()
        seg(f"SE*{state.set_segments + 1}*{st}")
        state.flush()
    state.pending.append(f"GE*{state.sets}*{control}")
    state.pending.append(f"IEA*1*{control:09d}")
    state.flush()
    return state


def generate(
    out: BinaryIO,
    claims: int,
    seed: int = 0,
    claims_per_set: int = MAX_CLAIMS_PER_SET,
    *,
    newlines: bool = False,
) -> None:
    """Write one interchange with ``claims`` claims to a binary stream, claim by claim."""
    _write(
        out,
        seed=seed,
        claims=claims,
        size_bytes=None,
        claims_per_set=claims_per_set,
        newlines=newlines,
    )


def generate_size(
    out: BinaryIO,
    size_bytes: int,
    seed: int = 0,
    claims_per_set: int = MAX_CLAIMS_PER_SET,
    *,
    newlines: bool = False,
) -> int:
    """Write claims until about ``size_bytes`` bytes are out; return the number of claims."""
    state = _write(
        out,
        seed=seed,
        claims=None,
        size_bytes=size_bytes,
        claims_per_set=claims_per_set,
        newlines=newlines,
    )
    return state.claims


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    amount = parser.add_mutually_exclusive_group(required=True)
    amount.add_argument("--claims", type=int, help="number of claims")
    amount.add_argument("--size-mb", type=float, help="stop once about this many MB are written")
    parser.add_argument("--out", type=Path, required=True, help="output file ('-' for stdout)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--claims-per-st", type=int, default=MAX_CLAIMS_PER_SET)
    parser.add_argument("--newlines", action="store_true", help="a line break after each '~'")
    args = parser.parse_args(argv)
    if str(args.out) == "-":
        stream: BinaryIO = sys.stdout.buffer
        try:
            _run(stream, args)
            stream.flush()
        except BrokenPipeError:  # e.g. piped into head: stop quietly
            sys.stderr.close()
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("wb", buffering=1 << 20) as stream:
        _run(stream, args)
    return 0


def _run(stream: BinaryIO, args: argparse.Namespace) -> None:
    if args.claims is not None:
        generate(stream, args.claims, args.seed, args.claims_per_st, newlines=args.newlines)
        return
    size = int(args.size_mb * 1_000_000)
    claims = generate_size(stream, size, args.seed, args.claims_per_st, newlines=args.newlines)
    print(f"{claims} claims", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
