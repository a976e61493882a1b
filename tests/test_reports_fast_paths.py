"""The per-claim report fast paths write exactly what the general code they stand for writes.

The XML claim markup is text built by hand, the JSON claim line is formatted directly, and
money, X12 amounts and X12/XML text skip work for the common value: each is checked here
against the reference it must equal byte for byte (lxml, ``json``, the Decimal arithmetic).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from lxml import etree

from edi_guard.claim_outcomes import _service_period
from edi_guard.model.claim import Claim, Party, Procedure, ServiceLine
from edi_guard.reports._common import money, xml_text
from edi_guard.reports._records import ClaimRecord, FindingRecord, LineRecord
from edi_guard.reports.ack277 import Element, segment, x12_amount, x12_text
from edi_guard.reports.json_report import _dumps, claim_json
from edi_guard.reports.xml_report import claim_element, claim_markup

# Every kind of character the escaping and filtering treat apart, and then any at all.
SPECIAL = "&<>\"'\t\n\r\x00\x08\x0b\x1f\x7f\x85\u00e9\u2028\ud800\udfff\ufffe\uffff\U0001f600 *:^~"
TEXT = st.text(st.sampled_from(SPECIAL) | st.characters(), max_size=12)
MONEY_TEXT = st.sampled_from(["0.00", "180.00", "1.005", "-12.50"])


def _finding_records() -> st.SearchStrategy[FindingRecord]:
    return st.fixed_dictionaries(
        {
            "rule": TEXT,
            "outcome": st.sampled_from(["reject", "correct", "warn"]),
            "line": st.none() | TEXT,
            "stc": st.none() | TEXT,
            "stc_codes": st.lists(TEXT, max_size=2),
            "message": TEXT,
            "source": TEXT,
        }
    )  # type: ignore[return-value]


def _line_records() -> st.SearchStrategy[LineRecord]:
    return st.fixed_dictionaries(
        {
            "line": TEXT,
            "procedure": st.lists(TEXT, max_size=3),
            "charge": MONEY_TEXT,
            "units": st.none() | TEXT,
            "line_control_number": TEXT,
            "service_date": st.none() | TEXT,
            "service_date_end": st.none() | TEXT,
        }
    )  # type: ignore[return-value]


RECORDS: st.SearchStrategy[ClaimRecord] = st.fixed_dictionaries(
    {
        "claim_id": TEXT,
        "st_control": TEXT,
        "position": st.integers(min_value=0, max_value=10**12),
        "status": st.sampled_from(["accepted", "corrected", "rejected"]),
        "charge_in": MONEY_TEXT,
        "charge_out": MONEY_TEXT,
        "charge_dropped": MONEY_TEXT,
        "place_of_service": TEXT,
        "is_tpi": st.booleans(),
        "structure_rejected": st.booleans(),
        "amount_at_stake": st.none() | MONEY_TEXT,
        "findings": st.lists(_finding_records(), max_size=3),
        "rejected_lines": st.lists(_line_records(), max_size=2),
    }
)  # type: ignore[assignment]


@given(RECORDS)
def test_claim_markup_is_what_lxml_writes_for_the_claim_element(record: ClaimRecord) -> None:
    expected = etree.tostring(claim_element(record), encoding="utf-8")
    assert claim_markup(record).encode("utf-8") == expected


@given(RECORDS)
def test_claim_json_is_what_the_encoder_writes(record: ClaimRecord) -> None:
    # The writer's records have ClaimRecord's key order; hypothesis may build them in another.
    ordered = {key: record[key] for key in ClaimRecord.__annotations__}  # type: ignore[literal-required]
    assert claim_json(record) == _dumps(ordered)


def _reference_money(value: Decimal) -> str:
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(value, "f")
    return f"{value:.2f}"


def _reference_x12_amount(value: Decimal) -> str:
    if value == value.to_integral_value():
        return format(value.quantize(Decimal(1)), "f")
    return format(value.normalize(), "f")


AMOUNTS = st.decimals(allow_nan=False, allow_infinity=False, places=None) | st.builds(
    lambda digits, exponent: Decimal(digits).scaleb(exponent),
    st.integers(min_value=-(10**18), max_value=10**18),
    st.integers(min_value=-8, max_value=6),
)


@given(AMOUNTS)
def test_money_formats_as_the_reference(value: Decimal) -> None:
    assert money(value) == _reference_money(value)


def test_money_keeps_equal_amounts_of_other_exponents_apart() -> None:
    # Equal Decimals, different text: a cache keyed by the value would mix them up.
    assert money(Decimal("1.005")) == "1.005"
    assert money(Decimal("1.0050")) == "1.0050"
    assert money(Decimal("180")) == "180.00"
    assert money(Decimal("180.0")) == "180.00"


@given(AMOUNTS)
@example(Decimal("1.00000000000000000000000000001"))  # normalize rounds it to 28 digits
@example(Decimal("1E+30"))  # quantize cannot hold it
@example(Decimal("-0.00"))
def test_x12_amount_is_the_decimal_arithmetic(value: Decimal) -> None:
    try:
        expected = _reference_x12_amount(value)
    except InvalidOperation:  # more digits than the context holds: so must x12_amount fail
        with pytest.raises(InvalidOperation):
            x12_amount(value)
    else:
        assert x12_amount(value) == expected


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_X12 = re.compile(r"""[^A-Za-z0-9!"&'()*+,\-./:;?= %~@\[\]_{}\\|<>^`#$]""")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@given(TEXT)
def test_xml_text_drops_what_the_reference_drops(value: str) -> None:
    assert xml_text(value) == _NOT_XML.sub("", value)


@given(TEXT | st.text(st.characters(max_codepoint=127)), st.none() | st.integers(0, 8))
def test_x12_text_is_the_reference(value: str, max_length: int | None) -> None:
    import unicodedata

    expected = value
    if not expected.isascii():
        decomposed = unicodedata.normalize("NFKD", expected)
        expected = "".join(c for c in decomposed if not unicodedata.combining(c))
    expected = _NOT_X12.sub("?", _CONTROL.sub(" ", expected)).strip()
    if max_length is not None and len(expected) > max_length:
        expected = expected[:max_length].rstrip()
    assert x12_text(value, max_length) == expected


def _line(start: date | None, days: int) -> ServiceLine:
    end = start + timedelta(days=days) if start is not None and days >= 0 else None
    return ServiceLine(
        line_number="1",
        procedure=Procedure("HC", "20552"),
        charge=Decimal("10"),
        unit_basis="UN",
        units=Decimal(1),
        place_of_service="",
        diagnosis_pointers=(1,),
        service_date=start,
        service_date_end=end,
        notes=(),
        line_control_number="",
        drug=None,
        lx_position=1,
        sv1_position=2,
        positions=(1, 2),
    )


def _claim(lines: list[ServiceLine]) -> Claim:
    nobody = Party("IL", "")
    return Claim(
        claim_id="C1",
        total_charge=Decimal("10"),
        place_of_service="11",
        frequency_code="1",
        diagnoses=(),
        notes=(),
        lines=tuple(lines),
        subscriber=nobody,
        subscriber_birth_date=None,
        patient=None,
        patient_birth_date=None,
        payer=Party("PR", ""),
        billing_provider=Party("85", ""),
        claim_filing_indicator="CI",
        st_control="0001",
    )


@given(
    st.lists(
        st.tuples(
            st.none() | st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)),
            st.integers(min_value=-1, max_value=40),
        ),
        max_size=5,
    )
)
def test_service_period_spans_every_service_day(lines: list[tuple[date | None, int]]) -> None:
    claim = _claim([_line(start, days) for start, days in lines])
    days = [day for line in claim.lines for day in line.service_days()]
    expected = (min(days), max(days)) if days else (None, None)
    assert _service_period(claim) == expected


def _reference_segment(tag: str, *elements: Element) -> str:
    parts = [tag]
    for element in elements:
        if isinstance(element, str):
            parts.append(element)
        else:
            components = list(element)
            while components and not components[-1]:
                components.pop()
            parts.append("\x1d".join(components))
    while len(parts) > 1 and not parts[-1]:
        parts.pop()
    return "\x1c".join(parts) + "\x1f"


VALUES = st.sampled_from(["", "A", "A0", " ", "\x1e", "\x1d"])
"""Element values, and the placeholders the ISA sends as values (ISA11, ISA16)."""


@given(
    st.lists(
        VALUES | st.lists(st.sampled_from(["", "A1", "19"]), max_size=4).map(tuple),
        max_size=6,
    )
)
def test_segment_trims_as_the_reference(elements: list[Element]) -> None:
    assert segment("STC", *elements) == _reference_segment("STC", *elements)
    assert segment("ISA", *elements, "\x1d") == _reference_segment("ISA", *elements, "\x1d")
