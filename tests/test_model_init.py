"""The value classes that write their own ``__init__`` (for mypyc) still behave as the
dataclasses they declare: same parameters and defaults as their fields, frozen, comparable,
validated, and ``dataclasses.replace`` works on them."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import date
from decimal import Decimal

import pytest

from edi_guard.assemble import Block, ClaimUnit, Context
from edi_guard.engine import ClaimDecision
from edi_guard.model.claim import (
    Claim,
    DrugIdentification,
    Note,
    Party,
    PlainClaim,
    Procedure,
    ServiceLine,
)
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.rules.base import Finding, Outcome, RuleContext, Session

WRITTEN_OUT: tuple[type, ...] = (
    Block,
    Context,
    ClaimUnit,
    Party,
    Note,
    Procedure,
    DrugIdentification,
    ServiceLine,
    Claim,
    PlainClaim,
    ClaimDecision,
    Finding,
    RuleContext,
)


def _default(field: dataclasses.Field[object]) -> object:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return None  # written out as None, meaning "a fresh one"
    return inspect.Parameter.empty


@pytest.mark.parametrize("cls", WRITTEN_OUT, ids=lambda cls: cls.__name__)
def test_init_takes_the_fields_in_order_with_their_defaults(cls: type) -> None:
    parameters = list(inspect.signature(cls).parameters.values())
    fields = [field for field in dataclasses.fields(cls) if field.init]
    assert [parameter.name for parameter in parameters] == [field.name for field in fields]
    assert [parameter.default for parameter in parameters] == [_default(f) for f in fields]


def _line(**changes: object) -> ServiceLine:
    values: dict[str, object] = {
        "line_number": "1",
        "procedure": Procedure("HC", "20553", ("RT",)),
        "charge": Decimal("225"),
        "unit_basis": "UN",
        "units": Decimal(1),
        "place_of_service": "",
        "diagnosis_pointers": (1,),
        "service_date": date(2025, 12, 30),
        "service_date_end": None,
        "notes": (Note("ADD", "TPI LEFT PIRIFORMIS", 12),),
        "line_control_number": "4L1",
        "drug": None,
        "lx_position": 10,
        "sv1_position": 11,
        "positions": (10, 11, 12),
    }
    values.update(changes)
    return ServiceLine(**values)  # type: ignore[arg-type]


def test_every_field_is_set_and_values_compare_and_hash() -> None:
    line = _line()
    assert all(hasattr(line, field.name) for field in dataclasses.fields(ServiceLine))
    assert line == _line() and hash(line) == hash(_line())
    assert line != _line(units=Decimal(2))
    assert dataclasses.replace(line, units=Decimal(2)).units == Decimal(2)


def test_assignment_is_still_refused() -> None:
    party = Party("IL", "DOE")
    with pytest.raises(dataclasses.FrozenInstanceError):
        party.last_name = "ROE"  # type: ignore[misc]
    finding = Finding("TPI001", Outcome.CORRECT, "message")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.message = "other"  # type: ignore[misc]


def test_validation_still_runs() -> None:
    with pytest.raises(ValueError, match="four modifiers"):
        Procedure("HC", "20553", ("25", "50", "59", "RT", "LT"))
    with pytest.raises(ValueError, match="cannot end before"):
        _line(service_date=date(2025, 12, 30), service_date_end=date(2025, 12, 29))


def test_rule_context_extra_is_fresh_per_context() -> None:
    policy = Policy.load(None)
    ptp = PtpTable(())

    class _NoHistory:
        def sessions(self, beneficiary_key: str) -> tuple[Session, ...]:
            return ()

        def claim_digest(self, claim_id: str) -> str:
            return ""

    first = RuleContext(policy, ptp, _NoHistory(), "k")
    second = RuleContext(policy, ptp, _NoHistory(), "k")
    first.extra["seen"] = True
    assert second.extra == {}
