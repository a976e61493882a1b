"""The screen (``screen_claim`` / ``decide_plain``) agrees with the full engine.

A claim the screen passes goes out without being mapped in full or meeting the rules, so
the screen must never pass a claim the full path would correct, reject, warn on or fail to
map, and the outcome it answers with must be the one ``claim_outcome`` gives.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from x12_builders import CORPUS, ClaimSpec, LineSpec, corpus_837p_files, make_837, read

from edi_guard.assemble import Block, BlockKind, ClaimUnit, assemble
from edi_guard.claim_outcomes import claim_outcome, set_context
from edi_guard.engine import ClaimDecision, decide_plain, evaluate
from edi_guard.history import Hasher
from edi_guard.history.memory import MemoryStore
from edi_guard.model.mapping import screen_claim
from edi_guard.outcome import SetContext
from edi_guard.policy import Policy
from edi_guard.ptp import load_shipped
from edi_guard.rules import REGISTRY
from edi_guard.rules.base import Outcome

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402  (bench/ holds scripts, not a package)

POLICY = Policy.load(None)
PTP = load_shipped()


def _units(data: bytes) -> Iterator[tuple[ClaimUnit, SetContext | None]]:
    context: SetContext | None = None
    isa: Block | None = None
    for item in assemble(read(data).segments):
        if isinstance(item, ClaimUnit):
            yield item, context
        elif item.kind is BlockKind.INTERCHANGE_HEADER:
            isa = item
        elif item.kind is BlockKind.SET_HEADER:
            context = set_context(item, isa.first if isa else None)


def _full(unit: ClaimUnit) -> ClaimDecision:
    return evaluate(
        unit,
        registry=REGISTRY,
        policy=POLICY,
        ptp=PTP,
        history=MemoryStore(Hasher(b"screen")),
        beneficiary_key="key",
    )


def _check_agreement(data: bytes) -> tuple[int, int]:
    """(claims, claims the screen passed); asserts the screen and the engine agree."""
    claims = passed = 0
    for unit, context in _units(data):
        claims += 1
        plain = decide_plain(unit, registry=REGISTRY, policy=POLICY)
        if plain is None:
            continue
        passed += 1
        full = _full(unit)
        assert full.status == "accepted", (unit.position, full.findings)
        assert full.findings == ()
        assert full.segments is unit.segments
        assert plain.plain is not None
        assert claim_outcome(unit, plain, context) == claim_outcome(unit, full, context)
    return claims, passed


def test_screen_agrees_with_the_engine_on_generated_claims() -> None:
    sink = io.BytesIO()
    generate.generate(sink, 3000, seed=7, claims_per_set=1000)
    claims, passed = _check_agreement(sink.getvalue())
    assert claims == 3000
    # About 60% of generated claims carry no TPI line and no defect: the screen passes them.
    assert 0.4 * claims < passed < 0.8 * claims


READABLE_FIXTURES = sorted(
    path
    for folder in ("demo", "rules", "history")
    for path in (REPO / "fixtures" / folder).rglob("*.x12")
)


@pytest.mark.parametrize(
    "path", READABLE_FIXTURES, ids=lambda path: str(path.relative_to(REPO / "fixtures"))
)
def test_screen_agrees_with_the_engine_on_fixtures(path: Path) -> None:
    _check_agreement(path.read_bytes())


@pytest.mark.corpus
def test_screen_agrees_with_the_engine_on_the_corpus() -> None:
    rows = corpus_837p_files()
    if not rows:
        pytest.skip("the public corpus (../shared) is absent")
    passed = 0
    for row in rows:
        try:
            _, file_passed = _check_agreement((CORPUS / row.name).read_bytes())
        except Exception as error:  # our tokenizer refuses some files: not the screen's case
            if type(error).__name__ != "X12SyntaxError":
                raise
            continue
        passed += file_passed
    assert passed > 0


CLEAN = ClaimSpec("PCN1", lines=(LineSpec("99213", "100"), LineSpec("97110", "50")))


def _line(**changes: object) -> LineSpec:
    """A 150.00 line standing for both of CLEAN's, so that only the change is wrong."""
    return replace(LineSpec("99213", "150"), **changes)  # type: ignore[arg-type]


def _screened(claim: ClaimSpec) -> bool:
    ((unit, _),) = list(_units(make_837([claim])))
    return screen_claim(unit) is not None


def test_a_clean_office_claim_passes_the_screen() -> None:
    assert _screened(CLEAN)


@pytest.mark.parametrize(
    ("why", "claim"),
    [
        ("a TPI line", replace(CLEAN, lines=(LineSpec("20553", "100"), LineSpec("97110", "50")))),
        ("a 20552 line", replace(CLEAN, lines=(LineSpec("99213", "100"), LineSpec("20552", "50")))),
        ("a replacement", replace(CLEAN, frequency="7", payer_claim_control="ORIG1")),
        ("a void", replace(CLEAN, frequency="8", payer_claim_control="ORIG1")),
        ("out of balance (CLM001)", replace(CLEAN, total="151")),
        ("a line without DTP*472 (CLM002)", replace(CLEAN, lines=(LineSpec(service_date=""),))),
        ("CLM02 not a number", replace(CLEAN, total="1O0")),
        ("SV102 not a number", replace(CLEAN, lines=(LineSpec(charge="ABC"),), total="0")),
        ("SV104 not a number", replace(CLEAN, lines=(LineSpec(units="ONE"),), total="100")),
        ("a date that is no date", replace(CLEAN, lines=(_line(service_date="20261340"),))),
        ("RD8 ending first", replace(CLEAN, lines=(_line(service_date="20260112-20260110"),))),
        ("CTP04 no number", replace(CLEAN, lines=(_line(drug=("00003029320", "X", "ML")),))),
    ],
)  # fmt: skip
def test_the_screen_leaves_claims_to_the_full_path(why: str, claim: ClaimSpec) -> None:
    assert not _screened(claim), why


def test_a_bad_birth_date_in_the_subscriber_block_leaves_the_claim_to_the_full_path() -> None:
    data = make_837([CLEAN]).replace(b"DMG*D8*19", b"DMG*D8*X9", 1)
    ((unit, _),) = list(_units(data))
    assert screen_claim(unit) is None
    assert _full(unit).status == "rejected"  # the mapping names the DMG02


def test_a_registry_with_other_rules_for_plain_claims_is_not_screened() -> None:
    ((unit, _),) = list(_units(make_837([CLEAN])))
    assert decide_plain(unit, registry=REGISTRY, policy=POLICY) is not None
    other = replace(REGISTRY[0], check=REGISTRY[0].check)  # an equal rule is the same rule
    assert decide_plain(unit, registry=(other, *REGISTRY[1:]), policy=POLICY) is not None
    different = replace(REGISTRY[0], summary="a different rule under the same code")
    assert decide_plain(unit, registry=(different, *REGISTRY[1:]), policy=POLICY) is None


def test_rules_disabled_by_policy_keep_the_screen() -> None:
    ((unit, _),) = list(_units(make_837([CLEAN])))
    policy = Policy.from_mapping({"rules": {"CLM001": False}})
    decision = decide_plain(unit, registry=REGISTRY, policy=policy)
    assert decision is not None
    assert decision.status == "accepted"
    assert all(finding.outcome is not Outcome.REJECT for finding in decision.findings)
