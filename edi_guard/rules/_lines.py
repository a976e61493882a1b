"""What several rules ask of a claim's lines: TPI lines, same-day grouping, modifiers, wording.

rules.md defines the terms used here: a *TPI line* is a 2400 SV1 with SV101-2 in
{20552, 20553}; *same day* is the same DTP*472 date, an RD8 range counting for each day in it;
*modifiers* are SV101-3..SV101-6.

Every TPI rule asks first which lines are TPI lines, and most then ask about one kind of other
line (E/M, drug, anesthesia...). :func:`tpi_view` sorts the lines once per version of the claim:
the view is kept in ``RuleContext.extra``, which lives for one claim's evaluation, and holds the
claim it was computed for (the engine maps a new claim after each correction, so a stale view
can never be reused). What a code is, is answered once per distinct code (:func:`code_kind`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from edi_guard import vocab
from edi_guard.model.claim import Claim, ServiceLine
from edi_guard.model.memo import LastOf
from edi_guard.policy import Policy
from edi_guard.rules.base import RuleContext

CODE_20552: Final = "20552"
"""Injection(s); single or multiple trigger point(s), 1 or 2 muscle(s)."""
CODE_20553: Final = "20553"
"""Injection(s); single or multiple trigger point(s), 3 or more muscles."""
TPI_CODES: Final = frozenset({CODE_20552, CODE_20553})

ONE: Final = Decimal(1)

_CACHE_KEY: Final = "edi_guard.rules._lines.tpi_view"


def is_tpi(line: ServiceLine) -> bool:
    return line.procedure.code in TPI_CODES


@dataclass(frozen=True, slots=True)
class CodeKind:
    """What the rules ask of a procedure code (SV101-2), answered once per distinct code."""

    tpi: bool
    em: bool
    """An office/outpatient E/M code (TPI003, TPI008)."""
    drug: bool
    """A HCPCS J-code: rules.md's drug line (TPI011, TPI012)."""
    injection: bool
    """A procedure that administers an injected drug (TPI012)."""
    anesthesia: bool
    imaging_guidance: bool


_KINDS: Final[dict[str, CodeKind]] = {}
"""SV101-2 as received -> its kind: a file bills a few hundred distinct codes (bounded)."""


def code_kind(code: str) -> CodeKind:
    kind = _KINDS.get(code)
    if kind is None:
        kind = CodeKind(
            tpi=code in TPI_CODES,
            em=vocab.is_em(code),
            drug=vocab.is_j_code(code),
            injection=is_injection_procedure(code),
            anesthesia=vocab.is_anesthesia(code),
            imaging_guidance=vocab.is_imaging_guidance(code),
        )
        if len(_KINDS) >= 4096:
            _KINDS.clear()
        _KINDS[code] = kind
    return kind


class TpiView:
    """The facts of a claim that carries at least one TPI line, computed once and shared.

    Every TPI rule asks something of the claim's lines; one pass sorts them here, so that a
    rule about lines the claim does not have (an anesthesia line, a NOC drug) leaves at its
    first test instead of scanning the lines again.

    A plain class with read-only (Final) attributes rather than a frozen dataclass: one is
    made per TPI claim, and a dataclass's generated ``__init__`` (one ``object.__setattr__``
    per field) stays interpreted Python even when this module is compiled with mypyc.
    """

    __slots__ = (
        "anesthesia_lines",
        "claim",
        "codes",
        "drug_lines",
        "em_lines",
        "imaging_guidance_lines",
        "other_lines",
        "tpi_days",
        "tpi_lines",
    )

    def __init__(
        self,
        claim: Claim,
        tpi_lines: tuple[ServiceLine, ...],
        tpi_days: frozenset[date],
        other_lines: tuple[ServiceLine, ...],
        codes: frozenset[str],
        em_lines: tuple[ServiceLine, ...],
        drug_lines: tuple[ServiceLine, ...],
        anesthesia_lines: tuple[ServiceLine, ...],
        imaging_guidance_lines: tuple[ServiceLine, ...],
    ) -> None:
        self.claim: Final = claim
        self.tpi_lines: Final = tpi_lines
        self.tpi_days: Final = tpi_days
        self.other_lines: Final = other_lines
        """Lines that are not TPI lines, in claim order."""
        self.codes: Final = codes
        """SV101-2 of every line, as received."""
        self.em_lines: Final = em_lines
        self.drug_lines: Final = drug_lines
        self.anesthesia_lines: Final = anesthesia_lines
        self.imaging_guidance_lines: Final = imaging_guidance_lines

    def tpi_lines_on(self, line: ServiceLine) -> tuple[ServiceLine, ...]:
        """The TPI lines that share a day with ``line`` (``line`` itself excluded)."""
        days = line.service_days()
        if not self.tpi_days.intersection(days):
            return ()
        return tuple(
            other for other in self.tpi_lines if other is not line and same_day(other, line)
        )


def tpi_view(claim: Claim, context: RuleContext) -> TpiView | None:
    """The claim's TPI view, or None when it has no TPI line (the cheap early exit)."""
    cached = context.extra.get(_CACHE_KEY)
    # Every TPI rule asks, so the check is kept to an identity test. A claim without a TPI
    # line is not remembered: the engine runs no TPI rule on it.
    if isinstance(cached, TpiView) and cached.claim is claim:
        return cached
    view = _view(claim)
    if view is not None:
        context.extra[_CACHE_KEY] = view
    return view


def _view(claim: Claim) -> TpiView | None:
    tpi: list[ServiceLine] = []
    other: list[ServiceLine] = []
    em: list[ServiceLine] = []
    drug: list[ServiceLine] = []
    anesthesia: list[ServiceLine] = []
    imaging: list[ServiceLine] = []
    codes: set[str] = set()
    days: set[date] = set()
    for line in claim.lines:
        code = line.procedure.code
        codes.add(code)
        kind = code_kind(code)
        if kind.tpi:
            tpi.append(line)
            days.update(line.service_days())
            continue
        other.append(line)
        if kind.em:
            em.append(line)
        if kind.drug:
            drug.append(line)
        if kind.anesthesia:
            anesthesia.append(line)
        if kind.imaging_guidance:
            imaging.append(line)
    if not tpi:
        return None
    return TpiView(
        claim=claim,
        tpi_lines=tuple(tpi),
        tpi_days=frozenset(days),
        other_lines=tuple(other),
        codes=frozenset(codes),
        em_lines=tuple(em),
        drug_lines=tuple(drug),
        anesthesia_lines=tuple(anesthesia),
        imaging_guidance_lines=tuple(imaging),
    )


def same_day(first: ServiceLine, second: ServiceLine) -> bool:
    """True when the two lines share a DTP*472 day (RD8 ranges count for every day)."""
    if first.service_date is None or second.service_date is None:
        return False
    if first.service_date_end is None and second.service_date_end is None:
        return first.service_date == second.service_date
    return not set(first.service_days()).isdisjoint(second.service_days())


INJECTION_PROCEDURE_RANGES: Final[tuple[tuple[str, str], ...]] = (
    ("11900", "11901"),  # intralesional injection
    ("20500", "20553"),  # sinus tract, tendon sheath, ganglion, trigger point injections
    ("20600", "20611"),  # arthrocentesis, joint and bursa injection
    ("27096", "27096"),  # sacroiliac joint injection
    ("62320", "62327"),  # interlaminar epidural injection
    ("64400", "64530"),  # somatic and sympathetic nerve blocks, TF epidural, facet
    ("64600", "64681"),  # chemodenervation, neurolysis
    ("96360", "96379"),  # hydration, therapeutic and diagnostic injections and infusions
    ("96401", "96549"),  # chemotherapy and complex drug administration
)
"""CPT procedures with which an injected drug is given (TPI012). Belongs in schemas/codes.json
as data; kept here until that file carries it."""


def is_injection_procedure(code: str) -> bool:
    """Whether a CPT code administers an injected drug (TPI012): a numeric code in a range."""
    if len(code) != 5 or not code.isdigit():
        return False
    return any(first <= code <= last for first, last in INJECTION_PROCEDURE_RANGES)


def has_advance_notice(line: ServiceLine) -> bool:
    """GA (advance beneficiary notice on file) or GZ (expected denial, no notice) on the line."""
    return any(vocab.is_advance_notice_modifier(modifier) for modifier in line.procedure.modifiers)


def is_drug_line(line: ServiceLine) -> bool:
    """rules.md: a drug line is a line whose SV101-2 is a HCPCS J-code."""
    return vocab.is_j_code(line.procedure.code)


def _load_muscles(policy: Policy) -> vocab.MuscleVocabulary:
    return vocab.load_muscles(policy.muscle_vocabulary)


def _load_drugs(policy: Policy) -> vocab.DrugVocabulary:
    return vocab.load_drugs(policy.drug_vocabulary)


# Six rules ask for a vocabulary on every TPI claim; a payer's claims share one policy object.
_MUSCLES: Final = LastOf(_load_muscles)
_DRUGS: Final = LastOf(_load_drugs)


def muscles(context: RuleContext) -> vocab.MuscleVocabulary:
    """The muscle vocabulary the payer's policy names (the shipped one by default)."""
    return _MUSCLES.get(context.policy)


def drugs(context: RuleContext) -> vocab.DrugVocabulary:
    """The drug vocabulary the payer's policy names (the shipped one by default)."""
    return _DRUGS.get(context.policy)


def without_modifier(modifiers: Iterable[str], removed: str) -> tuple[str, ...]:
    """The modifiers with every ``removed`` taken out, later ones shifted left."""
    return tuple(modifier for modifier in modifiers if modifier != removed)


# Wording shared by messages. Messages name codes, modifiers and line numbers, never patient
# data: no names, member ids, birth dates, CLM01, diagnosis codes, nor dates of service (a
# service date tied to a person is protected health information; lines are named by LX01).


def line_label(line: ServiceLine) -> str:
    """``LX 2 (20553-RT)``: the line number as received and its procedure with modifiers."""
    return f"LX {line.line_number} ({procedure_text(line)})"


def procedure_text(line: ServiceLine) -> str:
    return "-".join((line.procedure.code, *line.procedure.modifiers))


def units_text(units: Decimal | None) -> str:
    if units is None:
        return "no SV104"
    return f"SV104 = {format(units.normalize(), 'f')}"


def amount_text(amount: Decimal) -> str:
    return format(amount, "f")


def lines_text(lines: Iterable[ServiceLine]) -> str:
    return ", ".join(f"LX {line.line_number}" for line in lines)
