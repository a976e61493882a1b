"""What several rules ask of a claim's lines: TPI lines, same-day grouping, modifiers, wording.

rules.md defines the terms used here: a *TPI line* is a 2400 SV1 with SV101-2 in
{20552, 20553}; *same day* is the same DTP*472 date, an RD8 range counting for each day in it;
*modifiers* are SV101-3..SV101-6.

Most claims carry no TPI line, and every TPI rule asks that first. :func:`tpi_view` answers it
once per version of the claim: the answer is kept in ``RuleContext.extra``, which lives for one
claim's evaluation, keyed by the identity of the claim it was computed for (the engine maps a new
claim after each correction, so a stale answer can never be reused).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import cast

from edi_guard import vocab
from edi_guard.model.claim import Claim, ServiceLine
from edi_guard.rules.base import RuleContext

CODE_20552 = "20552"
"""Injection(s); single or multiple trigger point(s), 1 or 2 muscle(s)."""
CODE_20553 = "20553"
"""Injection(s); single or multiple trigger point(s), 3 or more muscles."""
TPI_CODES = frozenset({CODE_20552, CODE_20553})

ONE = Decimal(1)

_CACHE_KEY = "edi_guard.rules._lines.tpi_view"


def is_tpi(line: ServiceLine) -> bool:
    return line.procedure.code in TPI_CODES


@dataclass(frozen=True, slots=True)
class TpiView:
    """A claim that carries at least one TPI line, with its TPI lines and days at hand."""

    claim: Claim
    tpi_lines: tuple[ServiceLine, ...]
    tpi_days: frozenset[date]

    def tpi_lines_on(self, line: ServiceLine) -> tuple[ServiceLine, ...]:
        """The TPI lines that share a day with ``line`` (``line`` itself excluded)."""
        days = line.service_days()
        if not self.tpi_days.intersection(days):
            return ()
        return tuple(
            other for other in self.tpi_lines if other is not line and same_day(other, line)
        )

    def other_lines(self) -> Iterator[ServiceLine]:
        """Lines that are not TPI lines, in claim order."""
        return (line for line in self.claim.lines if not is_tpi(line))


def tpi_view(claim: Claim, context: RuleContext) -> TpiView | None:
    """The claim's TPI view, or None when it has no TPI line (the cheap early exit)."""
    cached = context.extra.get(_CACHE_KEY)
    # (claim, view): every TPI rule asks, so the check is kept to an identity test.
    if isinstance(cached, tuple) and cached[0] is claim:
        return cast("TpiView | None", cached[1])
    lines = tuple(line for line in claim.lines if line.procedure.code in TPI_CODES)
    view = None
    if lines:
        days = frozenset(day for line in lines for day in line.service_days())
        view = TpiView(claim, lines, days)
    context.extra[_CACHE_KEY] = (claim, view)
    return view


def same_day(first: ServiceLine, second: ServiceLine) -> bool:
    """True when the two lines share a DTP*472 day (RD8 ranges count for every day)."""
    if first.service_date is None or second.service_date is None:
        return False
    if first.service_date_end is None and second.service_date_end is None:
        return first.service_date == second.service_date
    return not set(first.service_days()).isdisjoint(second.service_days())


INJECTION_PROCEDURE_RANGES: tuple[tuple[str, str], ...] = (
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


def muscles(context: RuleContext) -> vocab.MuscleVocabulary:
    """The muscle vocabulary the payer's policy names (the shipped one by default)."""
    return vocab.load_muscles(context.policy.muscle_vocabulary)


def drugs(context: RuleContext) -> vocab.DrugVocabulary:
    """The drug vocabulary the payer's policy names (the shipped one by default)."""
    return vocab.load_drugs(context.policy.drug_vocabulary)


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
