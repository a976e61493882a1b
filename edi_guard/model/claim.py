"""Claims and service lines as frozen values with business names.

Money is Decimal and dates are ``date``. Each object remembers the file positions of the
segments it came from, so that a correction can name the exact segment it edits and the
corrected 837 is the original bytes plus those edits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

# Every value class below writes its own __init__: mypyc compiles methods written in the
# source, while the __init__ that @dataclass generates stays interpreted Python even in a
# compiled module (one object.__setattr__ call per field). Written out, construction costs
# about the same in plain Python and a twentieth of it compiled; eq, hash, repr and frozen
# assignment still come from @dataclass. Each __init__ takes the fields in declared order.


_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True, repr=False)
class Party:
    """An NM1 party: entity code, last or organisation name, first name, id qualifier and id."""

    entity: str
    last_name: str
    first_name: str = ""
    id_qualifier: str = ""
    identifier: str = ""

    def __init__(
        self,
        entity: str,
        last_name: str,
        first_name: str = "",
        id_qualifier: str = "",
        identifier: str = "",
    ) -> None:
        object.__setattr__(self, "entity", entity)
        object.__setattr__(self, "last_name", last_name)
        object.__setattr__(self, "first_name", first_name)
        object.__setattr__(self, "id_qualifier", id_qualifier)
        object.__setattr__(self, "identifier", identifier)

    def __repr__(self) -> str:
        # Names and ids are patient data; a repr can end up in a log or a traceback.
        return f"<Party {self.entity}>"

    def __reduce__(self) -> tuple[type[Party], tuple[str, str, str, str, str]]:
        # Outcomes carry parties through the pipeline's spool and to Spark's driver. A frozen
        # class compiled by mypyc cannot be unpickled attribute by attribute.
        fields = (self.entity, self.last_name, self.first_name, self.id_qualifier)
        return (Party, (*fields, self.identifier))


@dataclass(frozen=True, slots=True, repr=False)
class Note:
    """An NTE: reference code (ADD, CER, DCP, DGN, TPO) and up to 80 characters of text."""

    code: str
    text: str
    position: int

    def __init__(self, code: str, text: str, position: int) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "position", position)

    def __repr__(self) -> str:
        return f"<Note {self.code} #{self.position}>"


@dataclass(frozen=True, slots=True)
class Procedure:
    """SV101: qualifier (HC), code, modifiers (SV101-3..-6), description (SV101-7)."""

    qualifier: str
    code: str
    modifiers: tuple[str, ...] = ()
    description: str = ""

    def __init__(
        self, qualifier: str, code: str, modifiers: tuple[str, ...] = (), description: str = ""
    ) -> None:
        if len(modifiers) > 4:
            raise ValueError("a procedure carries at most four modifiers (SV101-3..SV101-6)")
        object.__setattr__(self, "qualifier", qualifier)
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "modifiers", modifiers)
        object.__setattr__(self, "description", description)

    def has_modifier(self, *modifiers: str) -> bool:
        return any(modifier in self.modifiers for modifier in modifiers)


@dataclass(frozen=True, slots=True)
class DrugIdentification:
    """2410: LIN NDC and CTP quantity with its unit (F2, GR, ME, ML, UN)."""

    ndc_qualifier: str
    ndc: str
    quantity: Decimal | None
    unit: str
    position: int

    def __init__(
        self, ndc_qualifier: str, ndc: str, quantity: Decimal | None, unit: str, position: int
    ) -> None:
        object.__setattr__(self, "ndc_qualifier", ndc_qualifier)
        object.__setattr__(self, "ndc", ndc)
        object.__setattr__(self, "quantity", quantity)
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "position", position)


@dataclass(frozen=True, slots=True)
class ServiceLine:
    """A 2400 service line (LX + SV1 + DTP*472 + REF*6R + NTE + 2410)."""

    line_number: str
    """LX01 as received."""
    procedure: Procedure
    charge: Decimal
    unit_basis: str
    units: Decimal | None
    place_of_service: str
    """SV105, '' when the claim's CLM05-1 applies."""
    diagnosis_pointers: tuple[int, ...]
    service_date: date | None
    """None only when the line has no DTP*472 (CLM002 rejects it)."""
    service_date_end: date | None
    notes: tuple[Note, ...]
    line_control_number: str
    """REF*6R, '' when absent."""
    drug: DrugIdentification | None
    lx_position: int
    sv1_position: int
    positions: tuple[int, ...]
    """File positions of every segment of the line, LX first."""

    def __init__(
        self,
        line_number: str,
        procedure: Procedure,
        charge: Decimal,
        unit_basis: str,
        units: Decimal | None,
        place_of_service: str,
        diagnosis_pointers: tuple[int, ...],
        service_date: date | None,
        service_date_end: date | None,
        notes: tuple[Note, ...],
        line_control_number: str,
        drug: DrugIdentification | None,
        lx_position: int,
        sv1_position: int,
        positions: tuple[int, ...],
    ) -> None:
        if service_date and service_date_end and service_date_end < service_date:
            raise ValueError("a service date range cannot end before it starts")
        object.__setattr__(self, "line_number", line_number)
        object.__setattr__(self, "procedure", procedure)
        object.__setattr__(self, "charge", charge)
        object.__setattr__(self, "unit_basis", unit_basis)
        object.__setattr__(self, "units", units)
        object.__setattr__(self, "place_of_service", place_of_service)
        object.__setattr__(self, "diagnosis_pointers", diagnosis_pointers)
        object.__setattr__(self, "service_date", service_date)
        object.__setattr__(self, "service_date_end", service_date_end)
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "line_control_number", line_control_number)
        object.__setattr__(self, "drug", drug)
        object.__setattr__(self, "lx_position", lx_position)
        object.__setattr__(self, "sv1_position", sv1_position)
        object.__setattr__(self, "positions", positions)

    @property
    def code(self) -> str:
        return self.procedure.code

    def service_days(self) -> tuple[date, ...]:
        """Each day the line covers: one for D8, every day of an RD8 range."""
        if self.service_date is None:
            return ()
        if self.service_date_end is None:  # D8: most lines
            return (self.service_date,)
        end = self.service_date_end
        span = (end - self.service_date).days
        return tuple(self.service_date + timedelta(days=offset) for offset in range(span + 1))


@dataclass(frozen=True, slots=True, repr=False)
class Claim:
    """A 2300 claim with its lines and the parties above it."""

    claim_id: str
    """CLM01, the patient control number. Patient data: never log it."""
    total_charge: Decimal
    place_of_service: str
    frequency_code: str
    diagnoses: tuple[str, ...]
    """HI codes in pointer order: ABK first, then ABF (as received, without the dot)."""
    notes: tuple[Note, ...]
    lines: tuple[ServiceLine, ...]
    subscriber: Party
    subscriber_birth_date: date | None
    patient: Party | None
    patient_birth_date: date | None
    payer: Party
    billing_provider: Party
    claim_filing_indicator: str
    """SBR09 (MB Medicare Part B, 16 Medicare Advantage HMO, CI commercial...)."""
    st_control: str
    payer_claim_control: str = ""
    """REF*F8 on a replacement or void."""
    clearinghouse_trace: str = ""
    """REF*D9."""
    clm_position: int = 0
    position: int = 0
    """1-based order of the claim in its file."""
    paperwork: tuple[str, ...] = field(default=())
    """PWK01 report type codes."""

    def __init__(
        self,
        claim_id: str,
        total_charge: Decimal,
        place_of_service: str,
        frequency_code: str,
        diagnoses: tuple[str, ...],
        notes: tuple[Note, ...],
        lines: tuple[ServiceLine, ...],
        subscriber: Party,
        subscriber_birth_date: date | None,
        patient: Party | None,
        patient_birth_date: date | None,
        payer: Party,
        billing_provider: Party,
        claim_filing_indicator: str,
        st_control: str,
        payer_claim_control: str = "",
        clearinghouse_trace: str = "",
        clm_position: int = 0,
        position: int = 0,
        paperwork: tuple[str, ...] = (),
    ) -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "total_charge", total_charge)
        object.__setattr__(self, "place_of_service", place_of_service)
        object.__setattr__(self, "frequency_code", frequency_code)
        object.__setattr__(self, "diagnoses", diagnoses)
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "subscriber", subscriber)
        object.__setattr__(self, "subscriber_birth_date", subscriber_birth_date)
        object.__setattr__(self, "patient", patient)
        object.__setattr__(self, "patient_birth_date", patient_birth_date)
        object.__setattr__(self, "payer", payer)
        object.__setattr__(self, "billing_provider", billing_provider)
        object.__setattr__(self, "claim_filing_indicator", claim_filing_indicator)
        object.__setattr__(self, "st_control", st_control)
        object.__setattr__(self, "payer_claim_control", payer_claim_control)
        object.__setattr__(self, "clearinghouse_trace", clearinghouse_trace)
        object.__setattr__(self, "clm_position", clm_position)
        object.__setattr__(self, "position", position)
        object.__setattr__(self, "paperwork", paperwork)

    def __repr__(self) -> str:
        return f"<Claim #{self.position} with {len(self.lines)} lines>"

    @property
    def line_charge_total(self) -> Decimal:
        total = _ZERO
        for line in self.lines:  # a loop, not sum() over a generator: CLM001 asks per claim
            total += line.charge
        return total


@dataclass(frozen=True, slots=True, repr=False)
class PlainClaim:
    """A claim read only as far as its answer needs, for claims that no rule can change.

    The mapping's screen (``edi_guard.model.mapping.screen_claim``) gives one for a claim
    without a TPI line that is neither a replacement nor a void, balances (CLM02 = sum of
    SV102), dates every line, and carries no value the full mapping would refuse: such a
    claim meets only CLM001 and CLM002, and passes both, so it goes out as received.
    """

    claim_id: str
    """CLM01. Patient data: never log it."""
    total_charge: Decimal
    place_of_service: str
    payer: Party
    patient: Party
    """2010CA when present, else the subscriber."""
    subscriber_identifier: str
    billing_provider: Party
    clearinghouse_trace: str
    first_service_date: date | None
    last_service_date: date | None

    def __init__(
        self,
        claim_id: str,
        total_charge: Decimal,
        place_of_service: str,
        payer: Party,
        patient: Party,
        subscriber_identifier: str,
        billing_provider: Party,
        clearinghouse_trace: str,
        first_service_date: date | None,
        last_service_date: date | None,
    ) -> None:
        object.__setattr__(self, "claim_id", claim_id)
        object.__setattr__(self, "total_charge", total_charge)
        object.__setattr__(self, "place_of_service", place_of_service)
        object.__setattr__(self, "payer", payer)
        object.__setattr__(self, "patient", patient)
        object.__setattr__(self, "subscriber_identifier", subscriber_identifier)
        object.__setattr__(self, "billing_provider", billing_provider)
        object.__setattr__(self, "clearinghouse_trace", clearinghouse_trace)
        object.__setattr__(self, "first_service_date", first_service_date)
        object.__setattr__(self, "last_service_date", last_service_date)

    def __repr__(self) -> str:
        return "<PlainClaim>"
