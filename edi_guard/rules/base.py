"""What every rule declares and returns.

A rule is a pure function of a claim (and, for TPI009/TPI010, a read-only history view). It
returns findings and, for mechanical corrections, edits expressed on the model (drop this
line, set those modifiers); ``edi_guard.model.edits`` turns them into segment edits. Rules
never raise on a claim: a rule that raises is a bug, and the engine then rejects the claim
with an internal-error finding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Final, Protocol

from edi_guard.model.claim import Claim, ServiceLine
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable


class Outcome(Enum):
    CORRECT = "correct"
    REJECT = "reject"
    WARN = "warn"


FindingFields = tuple[str, Outcome, str, str | None, tuple[str, ...], str, int | None]


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on one claim (or one of its lines).

    ``message`` goes to the submitter's reports: it may name codes and line numbers but never
    patient data. ``stc`` holds 277CA status composites such as "A7:453", first is primary.
    """

    rule: str
    outcome: Outcome
    message: str
    line: str | None = None
    """LX01 as received, for line-level findings."""
    stc: tuple[str, ...] = ()
    source: str = ""
    sv1_position: int | None = None
    """File position of the offending SV1, so the 277CA can echo it in 2220D."""

    def __init__(
        self,
        rule: str,
        outcome: Outcome,
        message: str,
        line: str | None = None,
        stc: tuple[str, ...] = (),
        source: str = "",
        sv1_position: int | None = None,
    ) -> None:
        # Written out, not generated: see edi_guard.model.claim.
        object.__setattr__(self, "rule", rule)
        object.__setattr__(self, "outcome", outcome)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "line", line)
        object.__setattr__(self, "stc", stc)
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "sv1_position", sv1_position)

    def __reduce__(self) -> tuple[type[Finding], FindingFields]:
        # Findings travel in outcomes through the pipeline's spool and to Spark's driver. A
        # frozen class compiled by mypyc cannot be unpickled attribute by attribute.
        return (
            Finding,
            (
                self.rule,
                self.outcome,
                self.message,
                self.line,
                self.stc,
                self.source,
                self.sv1_position,
            ),
        )


# Edits on the model. The engine applies them in order, then maps the claim again.
@dataclass(frozen=True, slots=True)
class DropLine:
    lx_position: int


@dataclass(frozen=True, slots=True)
class SetUnits:
    sv1_position: int
    units: Decimal


@dataclass(frozen=True, slots=True)
class SetModifiers:
    sv1_position: int
    modifiers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SetDescription:
    sv1_position: int
    description: str


@dataclass(frozen=True, slots=True)
class SetProcedureCode:
    sv1_position: int
    code: str


Edit = DropLine | SetUnits | SetModifiers | SetDescription | SetProcedureCode


@dataclass(frozen=True, slots=True)
class RuleResult:
    findings: tuple[Finding, ...] = ()
    edits: tuple[Edit, ...] = ()


NOTHING: Final = RuleResult()


@dataclass(frozen=True, slots=True)
class Session:
    """A TPI session remembered by the history: a beneficiary saw a TPI on a day."""

    service_date: date
    claim_id_digest: str
    """Keyed hash of CLM01: history compares claims without keeping their ids."""


class HistoryView(Protocol):
    """Read-only history for TPI009/TPI010; the pipeline records outcomes itself."""

    def sessions(self, beneficiary_key: str) -> Sequence[Session]:
        """Sessions recorded for the beneficiary (accepted or corrected claims only)."""
        ...

    def claim_digest(self, claim_id: str) -> str:
        """The keyed hash under which a claim id is stored."""
        ...


@dataclass(frozen=True, slots=True)
class RuleContext:
    """Everything a rule may read besides the claim. Policy is already resolved per payer."""

    policy: Policy
    ptp: PtpTable
    history: HistoryView
    beneficiary_key: str
    """Keyed hash of the beneficiary (rules.md): stable across files, never the values."""
    extra: dict[str, object] = field(default_factory=dict)

    def __init__(
        self,
        policy: Policy,
        ptp: PtpTable,
        history: HistoryView,
        beneficiary_key: str,
        extra: dict[str, object] | None = None,
    ) -> None:
        # Written out, not generated (one context per evaluated claim): see
        # edi_guard.model.claim. ``extra`` None means a fresh dict, as its default factory.
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "ptp", ptp)
        object.__setattr__(self, "history", history)
        object.__setattr__(self, "beneficiary_key", beneficiary_key)
        object.__setattr__(self, "extra", {} if extra is None else extra)


@dataclass(frozen=True, slots=True)
class Rule:
    """A catalog entry: code, defect name, default outcome, 277CA codes, source, check."""

    code: str
    name: str
    outcome: Outcome
    stc: tuple[str, ...]
    source: str
    check: Callable[[Claim, RuleContext], RuleResult]
    summary: str = ""

    def finding(
        self,
        message: str,
        *,
        outcome: Outcome | None = None,
        line: str | None = None,
        stc: tuple[str, ...] | None = None,
        sv1_position: int | None = None,
    ) -> Finding:
        """A finding of this rule, with the declared outcome, STC codes and source as defaults.

        A warn carries no STC unless given: 277CA status codes belong to rejections and
        corrections.
        """
        chosen = outcome or self.outcome
        codes = stc if stc is not None else (() if chosen is Outcome.WARN else self.stc)
        return Finding(
            rule=self.code,
            outcome=chosen,
            message=message,
            line=line,
            stc=codes,
            source=self.source,
            sv1_position=sv1_position,
        )

    def line_finding(
        self,
        line: ServiceLine,
        message: str,
        *,
        outcome: Outcome | None = None,
        stc: tuple[str, ...] | None = None,
    ) -> Finding:
        """A finding about one service line: named by its LX01, located by its SV1."""
        return self.finding(
            message, outcome=outcome, line=line.line_number, stc=stc, sv1_position=line.sv1_position
        )
