"""The 837P mapping: the one module that knows element positions (005010X222A1).

It turns a ``ClaimUnit`` (segments) into a ``Claim`` (values). A value that cannot be read
(a charge that is not a number, a date that is not a date) raises MappingError naming the
segment position and the element reference, never the value.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from edi_guard.assemble import Block, ClaimUnit
from edi_guard.errors import MappingError
from edi_guard.model.claim import (
    Claim,
    DrugIdentification,
    Note,
    Party,
    Procedure,
    ServiceLine,
)
from edi_guard.x12.segment import Segment

DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})


def to_decimal(segment: Segment, reference: str, *, required: bool = True) -> Decimal | None:
    value = segment.get(reference)
    if not value:
        if required:
            raise MappingError(
                "expected an amount, found nothing", position=segment.position, reference=reference
            )
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MappingError(
            "expected a decimal number", position=segment.position, reference=reference
        ) from None
    if not number.is_finite():
        raise MappingError(
            "expected a finite decimal number", position=segment.position, reference=reference
        )
    return number


def to_date(segment: Segment, reference: str, value: str) -> date:
    if len(value) != 8 or not value.isdigit():
        raise MappingError(
            "expected a CCYYMMDD date", position=segment.position, reference=reference
        )
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise MappingError(
            "expected a calendar date", position=segment.position, reference=reference
        ) from None


def party(segment: Segment) -> Party:
    return Party(
        entity=segment.element(1),
        last_name=segment.element(3),
        first_name=segment.element(4),
        id_qualifier=segment.element(8),
        identifier=segment.element(9),
    )


def _find(block: Block | None, tag: str, qualifier: str | None = None) -> Segment | None:
    if block is None:
        return None
    for segment in block.segments:
        if segment.tag == tag and (qualifier is None or segment.element(1) == qualifier):
            return segment
    return None


def _birth_date_after(block: Block | None, entity: str) -> date | None:
    """DMG02 of the DMG that follows the NM1 with ``entity`` in ``block``."""
    if block is None:
        return None
    current = ""
    for segment in block.segments:
        if segment.tag == "NM1":
            current = segment.element(1)
        elif segment.tag == "DMG" and current == entity and segment.element(1) == "D8":
            value = segment.element(2)
            return to_date(segment, "DMG02", value) if value else None
    return None


def _service_dates(segment: Segment) -> tuple[date, date | None]:
    qualifier = segment.element(2)
    value = segment.element(3)
    if qualifier == "RD8":
        start, _, end = value.partition("-")
        return to_date(segment, "DTP03", start), to_date(segment, "DTP03", end)
    return to_date(segment, "DTP03", value), None


class _LineBuilder:
    """Collects the segments of one 2400 line."""

    def __init__(self, lx: Segment) -> None:
        self.lx = lx
        self.sv1: Segment | None = None
        self.dates: tuple[date, date | None] | None = None
        self.date_position = 0
        self.notes: list[Note] = []
        self.control = ""
        self.lin: Segment | None = None
        self.ctp: Segment | None = None
        self.positions: list[int] = [lx.position]

    def add(self, segment: Segment) -> None:
        self.positions.append(segment.position)
        tag = segment.tag
        if tag == "SV1" and self.sv1 is None:
            self.sv1 = segment
        elif tag == "DTP" and segment.element(1) == "472" and self.dates is None:
            self.dates = _service_dates(segment)
            self.date_position = segment.position
        elif tag == "NTE":
            self.notes.append(Note(segment.element(1), segment.element(2), segment.position))
        elif tag == "REF" and segment.element(1) == "6R":
            self.control = segment.element(2)
        elif tag == "LIN" and self.lin is None:
            self.lin = segment
        elif tag == "CTP" and self.ctp is None:
            self.ctp = segment

    def build(self) -> ServiceLine | None:
        sv1 = self.sv1
        if sv1 is None:
            return None  # a line that is not professional (SV1 missing): the validator's case
        composite = sv1.components(1)
        composite += [""] * (7 - len(composite))
        procedure = Procedure(
            qualifier=composite[0],
            code=composite[1],
            modifiers=tuple(modifier for modifier in composite[2:6] if modifier),
            description=composite[6],
        )
        pointers = tuple(
            int(pointer) for pointer in sv1.components(7) if pointer.isascii() and pointer.isdigit()
        )
        charge = to_decimal(sv1, "SV102")
        assert charge is not None
        start, end = self.dates if self.dates else (None, None)
        if start is not None and end is not None and end < start:
            raise MappingError(
                "expected an RD8 range that does not end before it starts",
                position=self.date_position,
                reference="DTP03",
            )
        return ServiceLine(
            line_number=self.lx.element(1),
            procedure=procedure,
            charge=charge,
            unit_basis=sv1.element(3),
            units=to_decimal(sv1, "SV104", required=False),
            place_of_service=sv1.element(5),
            diagnosis_pointers=pointers,
            service_date=start,
            service_date_end=end,
            notes=tuple(self.notes),
            line_control_number=self.control,
            drug=self._drug(),
            lx_position=self.lx.position,
            sv1_position=sv1.position,
            positions=tuple(self.positions),
        )

    def _drug(self) -> DrugIdentification | None:
        lin = self.lin
        if lin is None:
            return None
        ctp = self.ctp
        return DrugIdentification(
            ndc_qualifier=lin.element(2),
            ndc=lin.element(3),
            quantity=to_decimal(ctp, "CTP04", required=False) if ctp else None,
            unit=ctp.get("CTP05-1") if ctp else "",
            position=lin.position,
        )


def map_claim(unit: ClaimUnit) -> Claim:
    """The typed claim of a claim unit. Raises MappingError on unreadable values."""
    clm = unit.first
    diagnoses: list[str] = []
    notes: list[Note] = []
    paperwork: list[str] = []
    builders: list[_LineBuilder] = []
    payer_claim_control = ""
    trace = ""
    in_other_subscriber = False
    for segment in unit.segments[1:]:
        tag = segment.tag
        if tag == "LX":
            builders.append(_LineBuilder(segment))
            continue
        if builders:
            builders[-1].add(segment)
            continue
        if tag == "SBR":
            in_other_subscriber = True  # 2320: other payers' data is not this claim's
        if in_other_subscriber:
            continue
        if tag == "HI":
            for index in range(1, len(segment) + 1):
                parts = segment.components(index)
                if len(parts) >= 2 and parts[0] in DIAGNOSIS_QUALIFIERS and parts[1]:
                    diagnoses.append(parts[1])
        elif tag == "NTE":
            notes.append(Note(segment.element(1), segment.element(2), segment.position))
        elif tag == "REF" and segment.element(1) == "F8":
            payer_claim_control = segment.element(2)
        elif tag == "REF" and segment.element(1) == "D9":
            trace = segment.element(2)
        elif tag == "PWK":
            paperwork.append(segment.element(1))
    lines = tuple(line for builder in builders if (line := builder.build()) is not None)
    context = unit.context
    subscriber_block = context.subscriber
    patient_block = context.patient
    sbr = _find(subscriber_block, "SBR")
    subscriber = _find(subscriber_block, "NM1", "IL")
    payer = _find(subscriber_block, "NM1", "PR")
    patient = _find(patient_block, "NM1", "QC")
    billing = _find(context.billing_provider, "NM1", "85")
    st = context.header.first if context.header else None
    total = to_decimal(clm, "CLM02")
    assert total is not None
    return Claim(
        claim_id=clm.element(1),
        total_charge=total,
        place_of_service=clm.get("CLM05-1"),
        frequency_code=clm.get("CLM05-3"),
        diagnoses=tuple(diagnoses),
        notes=tuple(notes),
        lines=lines,
        subscriber=party(subscriber) if subscriber else Party("IL", ""),
        subscriber_birth_date=_birth_date_after(subscriber_block, "IL"),
        patient=party(patient) if patient else None,
        patient_birth_date=_birth_date_after(patient_block, "QC"),
        payer=party(payer) if payer else Party("PR", ""),
        billing_provider=party(billing) if billing else Party("85", ""),
        claim_filing_indicator=sbr.element(9) if sbr else "",
        st_control=st.element(2) if st else "",
        payer_claim_control=payer_claim_control,
        clearinghouse_trace=trace,
        clm_position=clm.position,
        position=unit.position,
        paperwork=tuple(paperwork),
    )
