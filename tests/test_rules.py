"""The registry as a whole: the catalog's codes, declarations, docs, and engine behaviour."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest
from rules_support import ClaimSpec, Line, build_837, decide, decide_one, fixture_cases, summary

from edi_guard.model.claim import Claim
from edi_guard.rules import BY_CODE, REGISTRY
from edi_guard.rules.base import NOTHING, Outcome, Rule, RuleContext, RuleResult

RULES_MD = Path("/work/shared/docs/rules.md")
CATALOG = ("CLM001", "CLM002", *(f"TPI{n:03d}" for n in range(1, 21)))
STC = re.compile(r"A[0-8]:\d{1,3}")


def test_registry_holds_exactly_the_catalog_codes() -> None:
    codes = [rule.code for rule in REGISTRY]
    assert sorted(codes) == sorted(CATALOG)
    assert len(codes) == len(set(codes)) == 22
    assert set(BY_CODE) == set(CATALOG)


@pytest.mark.skipif(not RULES_MD.is_file(), reason="docs/rules.md not on this machine")
def test_registry_matches_the_codes_of_rules_md() -> None:
    documented = set(re.findall(r"^\| (CLM\d{3}|TPI\d{3}) \|", RULES_MD.read_text(), re.M))
    assert documented == {rule.code for rule in REGISTRY}


def test_run_order_integrity_first_history_last() -> None:
    codes = [rule.code for rule in REGISTRY]
    assert codes[:2] == ["CLM001", "CLM002"]
    assert codes[-2:] == ["TPI009", "TPI010"]
    assert codes.index("TPI003") < codes.index("TPI008")
    assert codes.index("TPI005") < codes.index("TPI006") < codes.index("TPI007")
    assert codes.index("TPI013") < codes.index("TPI014")


@pytest.mark.parametrize("rule", REGISTRY, ids=lambda rule: rule.code)
def test_each_rule_declares_itself(rule: Rule) -> None:
    assert rule.source.strip()
    assert rule.summary.strip()
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), "a kebab-case defect name"
    assert all(STC.fullmatch(code) for code in rule.stc)
    if rule.outcome is Outcome.WARN:
        assert rule.stc == ()
    else:
        assert rule.stc, "rejections and corrections carry a 277CA status code"
    assert _docstrings(rule)[rule.check.__name__]


def _docstrings(rule: Rule) -> dict[str, str]:
    """The rule module's docstrings by function name ("" for the module's), read from its
    source: a module compiled by mypyc keeps none at run time."""
    module = sys.modules[rule.check.__module__]
    loaded = Path(module.__file__ or "")
    source = loaded.with_name(module.__name__.rsplit(".", 1)[1] + ".py")
    tree = ast.parse(source.read_text())
    functions = {
        node.name: ast.get_docstring(node) or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
    }
    return {"": ast.get_docstring(tree) or "", **functions}


@pytest.mark.parametrize("rule", REGISTRY, ids=lambda rule: rule.code)
def test_each_rule_module_is_documented_like_a_ruff_rule(rule: Rule) -> None:
    module = sys.modules[rule.check.__module__]
    doc = _docstrings(rule)[""]
    assert doc.startswith(f"{rule.code} {rule.name}:")
    for heading in (
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Fix safety",
        "## Outcome",
        "## References",
    ):
        assert heading in doc, f"{rule.code} docstring lacks {heading!r}"
    expected = rule.code.lower()
    assert module.__name__.rsplit(".", 1)[1].startswith(expected)


def test_names_are_unique() -> None:
    assert len({rule.name for rule in REGISTRY}) == len(REGISTRY)


def _crash(claim: Claim, context: RuleContext) -> RuleResult:
    raise ZeroDivisionError("boom")


def _quiet(claim: Claim, context: RuleContext) -> RuleResult:
    return NOTHING


def test_a_crashing_rule_rejects_the_claim() -> None:
    crashing = Rule("TPI001", "tpi-units-not-one", Outcome.CORRECT, ("A7:476",), "test", _crash)
    quiet = Rule("CLM001", "claim-charge-total-mismatch", Outcome.REJECT, ("A7:400",), "t", _quiet)
    text = build_837(ClaimSpec([Line("20553", charge="180")]))
    (decision,) = decide(text, registry=(quiet, crashing))
    assert decision.rejected
    assert decision.crashed_rules == ("TPI001",)
    assert summary(decision.findings) == [("TPI001", "reject", None, ("A3:21",))]
    assert "internal rule error" in decision.findings[0].message


def test_a_clean_tpi_claim_passes_every_rule() -> None:
    decision = decide_one(
        ClaimSpec(
            [
                Line("20553", charge="180", pointers="1:2"),
                Line("J3301", charge="60", units="4", ndc="00003029320"),
            ],
            note="TPI BILAT TRAPEZIUS, L RHOMBOID; KENALOG 40MG",
        )
    )
    assert decision.status == "accepted"
    assert decision.findings == ()


def test_a_claim_without_tpi_line_is_left_to_the_integrity_rules() -> None:
    decision = decide_one(
        ClaimSpec(
            [Line("99213", charge="120"), Line("C9399", charge="40", units="3")],
            diagnoses=("M791",),
            note="GAVE DEPO-MEDROL TO THE LEFT TRAPEZIUS",
        )
    )
    assert decision.findings == ()


_PATIENT_DATA = ("ROE", "RICHARD", "RILEY", "2FH5UF6NL83", "PCN", "1950", "M791", "M7918")


def test_messages_carry_no_patient_data() -> None:
    """Every rule that fires in the fixtures speaks of codes and LX numbers only."""
    for _, path in fixture_cases():
        text = path.read_text(encoding="latin-1")
        for decision in decide(text):
            for finding in decision.findings:
                for value in _PATIENT_DATA:
                    assert value not in finding.message, (finding.rule, finding.message)
                assert not re.search(r"20\d\d-?\d\d-?\d\d", finding.message), finding.message
