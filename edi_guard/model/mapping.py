"""The 837P mapping: the one module that knows element positions (005010X222A1).

It turns a ``ClaimUnit`` (segments) into a ``Claim`` (values). A value that cannot be read
(a charge that is not a number, a date that is not a date) raises MappingError naming the
segment position and the element reference, never the value.

Every claim of a file passes through here, so the loops read each segment's element tuple
once and keep to local names; the parties above the claim (billing provider, subscriber,
patient) are mapped once per block and reused by the claims under it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final, Generic, TypeVar

from edi_guard.assemble import Block, ClaimUnit, Context
from edi_guard.errors import MappingError
from edi_guard.model.claim import (
    Claim,
    DrugIdentification,
    Note,
    Party,
    PlainClaim,
    Procedure,
    ServiceLine,
)
from edi_guard.model.memo import LastOf
from edi_guard.x12.segment import Segment

DIAGNOSIS_QUALIFIERS: Final = frozenset({"ABK", "ABF", "BK", "BF"})
TPI_PROCEDURES: Final = frozenset({"20552", "20553"})
"""SV101-2 of a TPI line (rules.md, Terms)."""
HISTORY_FREQUENCIES: Final = frozenset({"7", "8"})
"""CLM05-3 replacement and void: their claims change the session history."""

T = TypeVar("T")

_ZERO: Final = Decimal(0)


class _Readings(Generic[T]):
    """What was read from segments, by their bytes: for segments that repeat from claim to
    claim (LX, SV1, DTP*472, HI, LIN, CTP, the 2010BB payer's NM1: line numbers, a fee
    schedule's lines, a batch's dates of service, a practice's diagnoses, the same drugs, a
    few payers), each distinct one is read once. Not for the segments that are unique (CLM,
    people's names and ids, traces): looking those up would cost without ever serving.

    The same bytes read differently under another interchange's separators, so a reading
    is served only to a segment with the element and component separators it was read
    under. A reading that raises (MappingError) is not remembered: each bad segment raises
    with its own position. Bounded: emptied when it holds ``limit`` readings.
    """

    __slots__ = ("_known", "_limit", "_read")

    def __init__(self, read: Callable[[Segment], T], limit: int = 4096) -> None:
        self._read: Final = read
        self._known: dict[bytes, tuple[str, str, T]] = {}
        self._limit: Final = limit

    def get(self, segment: Segment) -> T:
        raw = segment.raw
        delimiters = segment.delimiters
        element, component = delimiters.element_str, delimiters.component_str
        known = self._known.get(raw)
        if known is not None and known[0] == element and known[1] == component:
            return known[2]
        value = self._read(segment)
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known[raw] = (element, component, value)
        return value


_AMOUNTS: Final[dict[str, Decimal]] = {}
"""Amount text -> Decimal: a file's charges and units repeat (bounded, see _amount)."""


def _amount(value: str, segment: Segment, reference: str, *, required: bool) -> Decimal | None:
    known = _AMOUNTS.get(value)
    if known is not None:
        return known
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
    if len(_AMOUNTS) >= 65_536:
        _AMOUNTS.clear()
    _AMOUNTS[value] = number
    return number


def _first_component(value: str, separator: str) -> str:
    """What ``Segment.get`` gives for a reference without a component."""
    return value.split(separator, 1)[0] if separator in value else value


def _amount_at(segment: Segment, index: int, reference: str, *, required: bool) -> Decimal | None:
    """The amount at element ``index`` (its first component), without parsing the
    reference: every claim and line goes through here."""
    elements = segment.elements
    value = elements[index] if index < len(elements) else ""
    return _amount(
        _first_component(value, segment.delimiters.component_str),
        segment,
        reference,
        required=required,
    )


def _required_amount(segment: Segment, index: int, reference: str) -> Decimal:
    amount = _amount_at(segment, index, reference, required=True)
    assert amount is not None  # required: _amount raised instead of giving None
    return amount


def _line_amounts(sv1: Segment) -> tuple[Decimal, Decimal | None]:
    """SV102 (the charge, required) and SV104 (the units, optional)."""
    return _required_amount(sv1, 2, "SV102"), _amount_at(sv1, 4, "SV104", required=False)


_FROM_ISO: Final = date.fromisoformat
"""Python 3.11+ reads the basic format CCYYMMDD: one C call."""


def to_date(segment: Segment, reference: str, value: str) -> date:
    """A CCYYMMDD date. Not memoised: dates of service are remembered with their DTP
    (_DATES_472), and birth dates hardly repeat (a memo of them only grows)."""
    if len(value) != 8 or not value.isdigit():
        raise MappingError(
            "expected a CCYYMMDD date", position=segment.position, reference=reference
        )
    try:
        return _FROM_ISO(value)
    except ValueError:
        raise MappingError(
            "expected a calendar date", position=segment.position, reference=reference
        ) from None


def party(segment: Segment) -> Party:
    elements = segment.elements
    count = len(elements)
    return Party(
        entity=elements[1] if count > 1 else "",
        last_name=elements[3] if count > 3 else "",
        first_name=elements[4] if count > 4 else "",
        id_qualifier=elements[8] if count > 8 else "",
        identifier=elements[9] if count > 9 else "",
    )


def _past_qualifier(raw: bytes, qualifier: bytes) -> int:
    """Where element 1 of a segment with a three-letter tag ends when it is ``qualifier``
    (the index of the separator after it, or the end of the segment), else -1.

    Byte by byte on purpose: compiled, an index is a C array read, where ``bytes.find`` or a
    slice comparison pays a method call and an allocation. Separators are never letters or
    digits (``Delimiters`` refuses them), so a qualifier cannot run into one."""
    size = len(raw)
    end = 4 + len(qualifier)
    if size < end:
        return -1
    for offset in range(len(qualifier)):
        if raw[4 + offset] != qualifier[offset]:
            return -1
    if size > end and raw[end] != raw[3]:
        return -1  # a longer code that starts with the qualifier
    return end


def qualified_value(segment: Segment, qualifier: bytes) -> str | None:
    """Element 2 of a REF or DMG whose element 1 is ``qualifier``, else None.

    Read from the bytes (tag, separator, qualifier, separator, value): a claim's lines each
    carry a REF*6R and every person a DMG, and nothing else of them is read, so splitting them
    whole into element tuples was most of their cost."""
    raw = segment.raw
    end = _past_qualifier(raw, qualifier)
    if end < 0:
        return None
    size = len(raw)
    separator = raw[3]
    stop = end + 1
    while stop < size and raw[stop] != separator:
        stop += 1
    return raw[end + 1 : stop].decode("latin-1")  # empty when element 1 is the last


_PAYERS: Final[_Readings[Party]] = _Readings(party, limit=1024)
"""2010BB NM1s: every subscriber names one of a few payers."""


def _find(block: Block | None, tag: str, qualifier: str | None = None) -> Segment | None:
    if block is None:
        return None
    for segment in block.segments:
        if segment.tag == tag and (qualifier is None or segment.element(1) == qualifier):
            return segment
    return None


def _read_diagnoses(hi: Segment) -> tuple[str, ...]:
    """The diagnosis codes of an HI (qualifiers ABK, ABF, BK, BF), in order: a practice's
    claims repeat a few combinations."""
    component = hi.delimiters.component_str
    codes: list[str] = []
    for value in hi.elements[1:]:
        parts = value.split(component, 2)
        if len(parts) >= 2 and parts[0] in DIAGNOSIS_QUALIFIERS and parts[1]:
            codes.append(parts[1])
    return tuple(codes)


_DIAGNOSES: Final[_Readings[tuple[str, ...]]] = _Readings(_read_diagnoses)


def _service_dates(segment: Segment) -> tuple[date, date | None]:
    qualifier = segment.element(2)
    value = segment.element(3)
    if qualifier == "RD8":
        start, _, end = value.partition("-")
        return to_date(segment, "DTP03", start), to_date(segment, "DTP03", end)
    return to_date(segment, "DTP03", value), None


_POINTERS: Final[dict[str, tuple[int, ...]]] = {}
"""Component separator + SV107 -> diagnosis pointers: lines repeat a few (bounded)."""


def _read_dates_472(dtp: Segment) -> tuple[date, date | None] | None:
    """The date of service (D8) or range (RD8) of a DTP*472; None for another qualifier. A
    batch bills a few dates of service. Raises MappingError for a date it cannot read."""
    return _service_dates(dtp) if dtp.element(1) == "472" else None


_DATES_472: Final[_Readings[tuple[date, date | None] | None]] = _Readings(_read_dates_472)


def _pointers(text: str, separator: str) -> tuple[int, ...]:
    """SV107's diagnosis pointers; a component that is not a number is left out."""
    key = separator + text
    known = _POINTERS.get(key)
    if known is None:
        known = tuple(
            int(pointer)
            for pointer in text.split(separator)
            if pointer.isascii() and pointer.isdigit()
        )
        if len(_POINTERS) >= 4096:
            _POINTERS.clear()
        _POINTERS[key] = known
    return known


def _procedure(text: str, separator: str) -> Procedure:
    """SV101: qualifier, code, the modifiers present (SV101-3..-6), description (SV101-7)."""
    composite = text.split(separator)
    if len(composite) < 7:
        composite += [""] * (7 - len(composite))
    return Procedure(
        qualifier=composite[0],
        code=composite[1],
        modifiers=tuple(modifier for modifier in composite[2:6] if modifier),
        description=composite[6],
    )


class _Sv1Values:
    """What an SV1 says, read once per distinct SV1: lines repeat a fee schedule's codes,
    charges and units. Never changed once made."""

    __slots__ = ("charge", "place_of_service", "pointers", "procedure", "unit_basis", "units")

    def __init__(
        self,
        procedure: Procedure,
        charge: Decimal,
        units: Decimal | None,
        unit_basis: str,
        place_of_service: str,
        pointers: tuple[int, ...],
    ) -> None:
        self.procedure: Final = procedure
        self.charge: Final = charge
        self.units: Final = units
        self.unit_basis: Final = unit_basis
        self.place_of_service: Final = place_of_service
        self.pointers: Final = pointers


def _read_sv1_values(sv1: Segment) -> _Sv1Values:
    """SV101 (procedure), SV102 (charge), SV103 (unit basis), SV104 (units), SV105 (place
    of service) and SV107 (diagnosis pointers): lines repeat a fee schedule's codes,
    charges and units. Raises MappingError for an amount it cannot read."""
    elements = sv1.elements
    count = len(elements)
    component = sv1.delimiters.component_str
    charge, units = _line_amounts(sv1)
    return _Sv1Values(
        procedure=_procedure(elements[1] if count > 1 else "", component),
        charge=charge,
        units=units,
        unit_basis=elements[3] if count > 3 else "",
        place_of_service=elements[5] if count > 5 else "",
        pointers=_pointers(elements[7], component) if count > 7 and elements[7] else (),
    )


_SV1_VALUES: Final[_Readings[_Sv1Values]] = _Readings(_read_sv1_values)


class _LineBuilder:
    """Collects the segments of one 2400 line."""

    __slots__ = (
        "control",
        "ctp",
        "date_position",
        "dates",
        "lin",
        "lx",
        "notes",
        "positions",
        "sv1",
    )

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
        if tag == "SV1":
            if self.sv1 is None:
                self.sv1 = segment
        elif tag == "DTP":
            if self.dates is None:
                dates = _DATES_472.get(segment)
                if dates is not None:
                    self.dates = dates
                    self.date_position = segment.position
        elif tag == "NTE":
            self.notes.append(Note(segment.element(1), segment.element(2), segment.position))
        elif tag == "REF":
            control = qualified_value(segment, b"6R")
            if control is not None:
                self.control = control
        elif tag == "LIN":
            if self.lin is None:
                self.lin = segment
        elif tag == "CTP" and self.ctp is None:
            self.ctp = segment

    def build(self) -> ServiceLine | None:
        sv1 = self.sv1
        if sv1 is None:
            return None  # a line that is not professional (SV1 missing): the validator's case
        values = _SV1_VALUES.get(sv1)
        start, end = self.dates if self.dates else (None, None)
        if start is not None and end is not None and end < start:
            raise MappingError(
                "expected an RD8 range that does not end before it starts",
                position=self.date_position,
                reference="DTP03",
            )
        return ServiceLine(
            line_number=_LINE_NUMBERS.get(self.lx),
            procedure=values.procedure,
            charge=values.charge,
            unit_basis=values.unit_basis,
            units=values.units,
            place_of_service=values.place_of_service,
            diagnosis_pointers=values.pointers,
            service_date=start,
            service_date_end=end,
            notes=tuple(self.notes),
            line_control_number=self.control,
            drug=self._drug() if self.lin is not None else None,
            lx_position=self.lx.position,
            sv1_position=sv1.position,
            positions=tuple(self.positions),
        )

    def _drug(self) -> DrugIdentification | None:
        lin = self.lin
        if lin is None:
            return None
        ctp = self.ctp
        quantity, unit = _QUANTITIES.get(ctp) if ctp is not None else (None, "")
        ndc_qualifier, ndc = _DRUG_CODES.get(lin)
        return DrugIdentification(
            ndc_qualifier=ndc_qualifier,
            ndc=ndc,
            quantity=quantity,
            unit=unit,
            position=lin.position,
        )


def _read_line_number(lx: Segment) -> str:
    return lx.element(1)


def _read_drug_codes(lin: Segment) -> tuple[str, str]:
    """LIN02 (the product id qualifier, N4) and LIN03 (the NDC)."""
    return lin.element(2), lin.element(3)


def _read_quantity(ctp: Segment) -> tuple[Decimal | None, str]:
    """CTP04, the drug quantity (MappingError when unreadable), and CTP05-1, its unit."""
    elements = ctp.elements
    unit = _first_component(elements[5], ctp.delimiters.component_str) if len(elements) > 5 else ""
    return _amount_at(ctp, 4, "CTP04", required=False), unit


_LINE_NUMBERS: Final[_Readings[str]] = _Readings(_read_line_number)
_DRUG_CODES: Final[_Readings[tuple[str, str]]] = _Readings(_read_drug_codes)
_QUANTITIES: Final[_Readings[tuple[Decimal | None, str]]] = _Readings(_read_quantity)


def _billing_party(block: Block) -> Party:
    billing = _find(block, "NM1", "85")
    return party(billing) if billing else Party("85", "")


def _subscriber_parts(block: Block) -> tuple[Party, date | None, Party]:
    """(subscriber, birth date, payer) of a 2000B block."""
    people = _People(block, "IL")
    return (
        party(people.person) if people.person is not None else Party("IL", ""),
        people.birth_date,
        people.payer or Party("PR", ""),
    )


def _filing_indicator(block: Block) -> str:
    """SBR09 of the first SBR of a 2000B block. Only the rules read it: the screen's claims
    never need it."""
    sbr = _find(block, "SBR")
    return sbr.element(9) if sbr is not None else ""


def _patient_parts(block: Block) -> tuple[Party | None, date | None]:
    people = _People(block, "QC")
    return party(people.person) if people.person is not None else None, people.birth_date


class _People:
    """One pass over a 2000B or 2000C block: the first NM1 of the person (``entity`` IL or
    QC), the payer (the first PR NM1, mapped) and DMG02 of the first D8 DMG after the
    person's NM1."""

    __slots__ = ("birth_date", "payer", "person")

    def __init__(self, block: Block, entity: str) -> None:
        self.person: Segment | None = None
        self.payer: Party | None = None
        self.birth_date: date | None = None
        current = ""
        birth_read = False
        for segment in block.segments:
            tag = segment.tag
            if tag == "NM1":
                # NM101 PR read from the bytes: the payer's NM1 repeats over every subscriber,
                # so it is neither split nor mapped again.
                payer = _past_qualifier(segment.raw, b"PR") >= 0
                current = "PR" if payer else segment.element(1)
                if current == entity and self.person is None:
                    self.person = segment
                elif current == "PR" and self.payer is None:
                    self.payer = _PAYERS.get(segment)
            elif tag == "DMG" and not birth_read and current == entity:
                value = qualified_value(segment, b"D8")
                if value is not None:
                    birth_read = True
                    self.birth_date = to_date(segment, "DMG02", value) if value else None


# The blocks above a claim, mapped once for the claims under them (see LastOf).
_BILLING: Final = LastOf(_billing_party)
_SUBSCRIBER: Final = LastOf(_subscriber_parts)
_FILING_INDICATOR: Final = LastOf(_filing_indicator)
_PATIENT: Final = LastOf(_patient_parts)
_NO_SUBSCRIBER: Final = (Party("IL", ""), None, Party("PR", ""))
_NO_PATIENT: Final = (None, None)
_NO_BILLING: Final = Party("85", "")


def _context_parties(
    context: Context,
) -> tuple[tuple[Party, date | None, Party], tuple[Party | None, date | None], Party]:
    """(subscriber, birth date, payer), (patient, birth date), billing provider."""
    return (
        _SUBSCRIBER.get(context.subscriber) if context.subscriber is not None else _NO_SUBSCRIBER,
        _PATIENT.get(context.patient) if context.patient is not None else _NO_PATIENT,
        _BILLING.get(context.billing_provider)
        if context.billing_provider is not None
        else _NO_BILLING,
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
    segments = unit.segments
    for index in range(1, len(segments)):
        segment = segments[index]
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
            diagnoses.extend(_DIAGNOSES.get(segment))
        elif tag == "NTE":
            notes.append(Note(segment.element(1), segment.element(2), segment.position))
        elif tag == "REF":
            value = qualified_value(segment, b"D9")
            if value is not None:
                trace = value
            else:
                value = qualified_value(segment, b"F8")
                if value is not None:
                    payer_claim_control = value
        elif tag == "PWK":
            paperwork.append(segment.element(1))
    built: list[ServiceLine] = []
    for builder in builders:
        line = builder.build()
        if line is not None:
            built.append(line)
    lines = tuple(built)
    context = unit.context
    subscriber_parts, patient_parts, billing = _context_parties(context)
    subscriber, subscriber_birth_date, payer = subscriber_parts
    filing_indicator = (
        _FILING_INDICATOR.get(context.subscriber) if context.subscriber is not None else ""
    )
    patient, patient_birth_date = patient_parts
    st = context.header.first if context.header else None
    separator = clm.delimiters.component_str
    elements = clm.elements
    count = len(elements)
    total = _required_amount(clm, 2, "CLM02")
    facility = elements[5].split(separator) if count > 5 else []
    return Claim(
        claim_id=elements[1] if count > 1 else "",
        total_charge=total,
        place_of_service=facility[0] if facility else "",
        frequency_code=facility[2] if len(facility) > 2 else "",
        diagnoses=tuple(diagnoses),
        notes=tuple(notes),
        lines=lines,
        subscriber=subscriber,
        subscriber_birth_date=subscriber_birth_date,
        patient=patient,
        patient_birth_date=patient_birth_date,
        payer=payer,
        billing_provider=billing,
        claim_filing_indicator=filing_indicator,
        st_control=st.element(2) if st else "",
        payer_claim_control=payer_claim_control,
        clearinghouse_trace=trace,
        clm_position=clm.position,
        position=unit.position,
        paperwork=tuple(paperwork),
    )


def screen_claim(unit: ClaimUnit) -> PlainClaim | None:
    """The claim as a ``PlainClaim`` when no rule can change or hold it back, else None.

    None means "map it in full and run the rules": the claim has a TPI line, is a
    replacement or a void, is out of balance (CLM001), has a line without DTP*472 (CLM002) or
    without SV1, or holds a value ``map_claim`` refuses (it then names it). The screen reads
    the values ``map_claim`` reads, with the same functions, so it never passes a claim the
    full mapping would refuse; tests check the two agree over every fixture and corpus file.
    """
    try:
        return _screen(unit)
    except MappingError:
        return None


def _screen(unit: ClaimUnit) -> PlainClaim | None:
    clm = unit.first
    separator = clm.delimiters.component_str
    elements = clm.elements
    count = len(elements)
    facility = elements[5].split(separator) if count > 5 else []
    if len(facility) > 2 and facility[2] in HISTORY_FREQUENCIES:
        return None
    total = _required_amount(clm, 2, "CLM02")
    line_total = _ZERO
    first_day: date | None = None
    last_day: date | None = None
    trace = ""
    in_line = in_other_subscriber = False
    has_sv1 = dated = has_lin = False
    ctp: Segment | None = None
    segments = unit.segments
    for index in range(1, len(segments)):
        segment = segments[index]
        tag = segment.tag
        if tag == "LX":
            if in_line and not _line_done(has_sv1, dated, has_lin, ctp):
                return None
            in_line, has_sv1, dated, has_lin, ctp = True, False, False, False, None
        elif in_line:
            if tag == "SV1":
                if has_sv1:
                    continue
                has_sv1 = True
                values = _SV1_VALUES.get(segment)  # SV104 read too: it may be refused
                if values.procedure.code in TPI_PROCEDURES:
                    return None
                line_total += values.charge
            elif tag == "DTP":
                dates = None if dated else _DATES_472.get(segment)
                if dates is not None:
                    start, end = dates
                    if end is not None and end < start:
                        return None
                    dated = True
                    last = end or start
                    first_day = start if first_day is None or start < first_day else first_day
                    last_day = last if last_day is None or last > last_day else last_day
            elif tag == "LIN":
                has_lin = True
            elif tag == "CTP" and ctp is None:
                ctp = segment
        else:
            if tag == "SBR":
                in_other_subscriber = True  # 2320: other payers' data is not this claim's
            elif not in_other_subscriber and tag == "REF":
                value = qualified_value(segment, b"D9")
                if value is not None:
                    trace = value
    if in_line and not _line_done(has_sv1, dated, has_lin, ctp):
        return None
    if total != line_total:
        return None
    (subscriber, _, payer), (patient, _), billing = _context_parties(unit.context)
    assert total is not None
    return PlainClaim(
        claim_id=elements[1] if count > 1 else "",
        total_charge=total,
        place_of_service=facility[0] if facility else "",
        payer=payer,
        patient=patient or subscriber,
        subscriber_identifier=subscriber.identifier,
        billing_provider=billing,
        clearinghouse_trace=trace,
        first_service_date=first_day,
        last_service_date=last_day,
    )


def _line_done(has_sv1: bool, dated: bool, has_lin: bool, ctp: Segment | None) -> bool:
    """Whether a finished line passes the screen: professional, dated, a readable quantity."""
    if not (has_sv1 and dated):
        return False
    if has_lin and ctp is not None:
        _QUANTITIES.get(ctp)
    return True
