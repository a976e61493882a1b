"""Apply the rule registry to one claim unit: findings, edits, and the claim's fate.

Pure: no I/O, no logging, no clock. Rules run in registry order, each on the claim as the
corrections before it left it (TPI008 sees modifier 25 after TPI003 moved it). A rule that
raises does not let the claim pass: it is rejected with an internal-error finding, and the
decision says so, for the pipeline to log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from edi_guard.assemble import ClaimUnit
from edi_guard.errors import MappingError
from edi_guard.model.claim import Claim, PlainClaim
from edi_guard.model.edits import apply_edits
from edi_guard.model.mapping import map_claim, screen_claim
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.rules import clm001_charge_total_mismatch, clm002_service_date_missing
from edi_guard.rules._lines import tpi_view
from edi_guard.rules.base import NOTHING, Finding, HistoryView, Outcome, Rule, RuleContext
from edi_guard.x12.segment import Segment

Status = Literal["accepted", "corrected", "rejected"]

INTERNAL_ERROR: Final = "internal rule error"
TPI_CODES: Final = frozenset({"20552", "20553"})
TPI_RULE_PREFIX: Final = "TPI"


SCREENED_RULES: Final = frozenset(
    {clm001_charge_total_mismatch.RULE, clm002_service_date_missing.RULE}
)
"""The rules a claim without a TPI line meets, whose passing the screen guarantees."""


@dataclass(frozen=True, slots=True)
class ClaimDecision:
    """What happens to one claim. ``segments`` are what goes out when not rejected."""

    position: int
    status: Status
    findings: tuple[Finding, ...]
    received: Claim | None
    """The claim as received; None when it could not even be mapped, or was not mapped
    because it passed the screen (then ``plain`` holds it)."""
    final: Claim | None
    """The claim after corrections (the received claim when nothing changed)."""
    segments: tuple[Segment, ...]
    crashed_rules: tuple[str, ...] = ()
    plain: PlainClaim | None = None
    """Set (and ``received`` None) when the claim passed the screen (``decide_plain``)."""

    def __init__(
        self,
        position: int,
        status: Status,
        findings: tuple[Finding, ...],
        received: Claim | None,
        final: Claim | None,
        segments: tuple[Segment, ...],
        crashed_rules: tuple[str, ...] = (),
        plain: PlainClaim | None = None,
    ) -> None:
        # Written out, not generated: see edi_guard.model.claim (one decision per claim).
        object.__setattr__(self, "position", position)
        object.__setattr__(self, "status", status)
        object.__setattr__(self, "findings", findings)
        object.__setattr__(self, "received", received)
        object.__setattr__(self, "final", final)
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "crashed_rules", crashed_rules)
        object.__setattr__(self, "plain", plain)

    @property
    def rejected(self) -> bool:
        return self.status == "rejected"


def decide_plain(
    unit: ClaimUnit, *, registry: Sequence[Rule], policy: Policy
) -> ClaimDecision | None:
    """Accept a claim no rule can change, without mapping it in full; None otherwise.

    Most claims of a clearinghouse's traffic carry no TPI line: they meet only CLM001 and
    CLM002 (rules.md, Terms). ``screen_claim`` reads just what those rules and the claim's
    answer need and gives up (None) on anything else: a TPI line, a replacement or void, a
    claim either rule would hold back, a value the mapping refuses. Such claims, and claims
    under a registry or policy that runs other rules on them, go to ``evaluate``.
    """
    return _decide_plain(unit, _PayerPolicies(registry, policy))


def _decide_plain(unit: ClaimUnit, payers: _PayerPolicies) -> ClaimDecision | None:
    plain = screen_claim(unit)
    if plain is None:
        return None
    if not payers.get(plain.payer.identifier).screenable:
        return None
    return ClaimDecision(unit.position, "accepted", (), None, None, unit.segments, plain=plain)


def evaluate(
    unit: ClaimUnit,
    *,
    registry: Sequence[Rule],
    policy: Policy,
    ptp: PtpTable,
    history: HistoryView,
    beneficiary_key: str | Callable[[Claim], str],
    claim: Claim | None = None,
) -> ClaimDecision:
    """Run every enabled rule of ``registry`` on ``unit``.

    ``beneficiary_key`` is the keyed hash itself, or a function computing it from the mapped
    claim (so the caller need not map the claim twice). ``claim`` is the unit already
    mapped, when the caller has it.
    """
    return _evaluate(unit, _PayerPolicies(registry, policy), ptp, history, beneficiary_key, claim)


def _evaluate(
    unit: ClaimUnit,
    payers: _PayerPolicies,
    ptp: PtpTable,
    history: HistoryView,
    beneficiary_key: str | Callable[[Claim], str],
    claim: Claim | None,
) -> ClaimDecision:
    try:
        received = claim if claim is not None else map_claim(unit)
    except MappingError as error:
        finding = Finding(
            rule="X12",
            outcome=Outcome.REJECT,
            message=str(error),
            stc=("A7:21",),
            source="005010X222A1",
        )
        return ClaimDecision(unit.position, "rejected", (finding,), None, None, unit.segments)
    payer = payers.get(received.payer.identifier)
    key = beneficiary_key if isinstance(beneficiary_key, str) else beneficiary_key(received)
    context = RuleContext(payer.policy, ptp, history, key)
    claim = received
    segments = unit.segments
    findings: list[Finding] = []
    crashed: list[str] = []
    # The view the TPI rules share, computed once here; its absence says the claim meets
    # only the claim-integrity rules.
    has_tpi = tpi_view(received, context) is not None
    for rule in payer.tpi_rules if has_tpi else payer.plain_rules:
        try:
            result = rule.check(claim, context)
            if result is NOTHING:  # most rules on most claims
                continue
            if result.edits:
                edited = apply_edits(segments, result.edits)
                claim = map_claim(ClaimUnit(unit.context, edited, unit.position))
                segments = edited
        except Exception as crash:
            crashed.append(rule.code)
            findings.append(
                rule.finding(
                    f"{INTERNAL_ERROR} in {rule.code} ({type(crash).__name__}); "
                    "the claim is held back until the rule is fixed",
                    outcome=Outcome.REJECT,
                    stc=("A3:21",),
                )
            )
            continue
        findings.extend(result.findings)
    status: Status
    if any(finding.outcome is Outcome.REJECT for finding in findings):
        status = "rejected"
        segments = unit.segments
        claim = received
    elif segments is not unit.segments:
        status = "corrected"
    else:
        status = "accepted"
    return ClaimDecision(
        unit.position, status, tuple(findings), received, claim, segments, tuple(crashed)
    )


class _Payer:
    """A payer's effective policy (``Policy.for_payer``) and the rules it runs."""

    __slots__ = ("plain_rules", "policy", "screenable", "tpi_rules")

    def __init__(self, registry: Sequence[Rule], policy: Policy) -> None:
        self.policy: Final = policy
        enabled = tuple(rule for rule in registry if policy.rule_enabled(rule.code))
        self.tpi_rules: Final = enabled
        # The TPI rules concern claims with a TPI line (rules.md, Terms): a claim without
        # one meets only the claim-integrity rules.
        plain = tuple(rule for rule in enabled if not rule.code.startswith(TPI_RULE_PREFIX))
        self.plain_rules: Final = plain
        # Only rules the screen vouches for: a claim the screen passes needs no rule run.
        self.screenable: Final = SCREENED_RULES.issuperset(plain)


class _PayerPolicies:
    """Each payer's policy and rules, resolved once: asked per claim."""

    __slots__ = ("_known", "_policy", "_registry")

    def __init__(self, registry: Sequence[Rule], policy: Policy) -> None:
        self._registry = registry
        self._policy = policy
        self._known: dict[str, _Payer] = {}

    def get(self, payer_id: str) -> _Payer:
        known = self._known.get(payer_id)
        if known is None:
            known = _Payer(self._registry, self._policy.for_payer(payer_id))
            if len(self._known) >= 4096:  # payer ids come from input: bounded
                self._known.clear()
            self._known[payer_id] = known
        return known


class Engine:
    """The rules, policy and PTP table of a run, bound once: a call per claim decides it.

    What ``decide_plain`` and ``evaluate`` do, for a caller that decides many claims under
    the same rules (``fix``, the library, the benchmark): the arguments are not passed again
    for each claim, and each payer's policy is resolved once.
    """

    __slots__ = ("_payers", "policy", "ptp", "registry")

    def __init__(self, registry: Sequence[Rule], policy: Policy, ptp: PtpTable) -> None:
        self.registry: Final = registry
        self.policy: Final = policy
        self.ptp: Final = ptp
        self._payers: Final = _PayerPolicies(registry, policy)

    def screen(self, unit: ClaimUnit) -> ClaimDecision | None:
        """``decide_plain``: the decision on a claim no rule can change, else None."""
        return _decide_plain(unit, self._payers)

    def evaluate(
        self,
        unit: ClaimUnit,
        history: HistoryView,
        beneficiary_key: str | Callable[[Claim], str],
        claim: Claim | None = None,
    ) -> ClaimDecision:
        """``evaluate``: every enabled rule on the claim."""
        return _evaluate(
            unit,
            self._payers,
            self.ptp,
            history,
            beneficiary_key,
            claim,
        )

    def decide(
        self, unit: ClaimUnit, history: HistoryView, beneficiary_key: Callable[[Claim], str]
    ) -> ClaimDecision:
        """The screen's decision, else the rules' (no history lock: one process's history)."""
        plain = self.screen(unit)
        if plain is not None:
            return plain
        return self.evaluate(unit, history, beneficiary_key)
