"""Golden cases: fixtures/rules/<CODE>/{fires,quiet}.x12 and their expected outputs.

``fires.findings.json`` lists every finding of the file (claims in file order) as
{"rule", "outcome", "line", "stc"}; ``fires.expected.837`` is the corrected 837 for the rules
that correct (rejected claims left out, LX/SE01 recomputed by the SegmentWriter). Update
them with ``EDI_GUARD_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from rules_support import FIXTURES, decide, write_file

from edi_guard.rules import REGISTRY
from edi_guard.rules.base import Outcome

UPDATE = os.environ.get("EDI_GUARD_UPDATE_GOLDEN") == "1"
CODES = [rule.code for rule in REGISTRY]


def _read(path: Path) -> str:
    return path.read_bytes().decode("latin-1")


def _findings(text: str) -> list[dict[str, object]]:
    return [
        {"rule": f.rule, "outcome": f.outcome.value, "line": f.line, "stc": list(f.stc)}
        for decision in decide(text)
        for f in decision.findings
    ]


@pytest.mark.parametrize("code", CODES)
def test_every_rule_has_its_fixtures(code: str) -> None:
    directory = FIXTURES / code
    for name in ("fires.x12", "quiet.x12", "fires.findings.json"):
        assert (directory / name).is_file(), f"missing {directory / name}"


@pytest.mark.parametrize("code", CODES)
def test_isa_is_106_bytes(code: str) -> None:
    for name in ("fires.x12", "quiet.x12"):
        head = (FIXTURES / code / name).read_bytes()
        assert head[:3] == b"ISA"
        assert head[105:106] == b"~", "ISA16 then the terminator at byte 106"


@pytest.mark.parametrize("code", CODES)
def test_fires(code: str) -> None:
    directory = FIXTURES / code
    text = _read(directory / "fires.x12")
    found = _findings(text)
    expected_path = directory / "fires.findings.json"
    if UPDATE:
        expected_path.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    assert code in {finding["rule"] for finding in found}, f"{code} does not fire"
    assert found == json.loads(expected_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("code", CODES)
def test_fires_expected_corrected_837(code: str) -> None:
    directory = FIXTURES / code
    text = _read(directory / "fires.x12")
    decisions = decide(text)
    corrected = any(
        f.outcome is Outcome.CORRECT for decision in decisions for f in decision.findings
    )
    expected_path = directory / "fires.expected.837"
    if not corrected:
        assert not expected_path.exists(), "expected.837 only for correcting rules"
        return
    written = write_file(text, decisions)
    if UPDATE:
        expected_path.write_bytes(written.encode("latin-1"))
    assert written == _read(expected_path)


@pytest.mark.parametrize("code", CODES)
def test_quiet(code: str) -> None:
    text = _read(FIXTURES / code / "quiet.x12")
    assert _findings(text) == [], f"{code}'s quiet case should raise no finding at all"
    decisions = decide(text)
    assert all(decision.status == "accepted" for decision in decisions)
    assert write_file(text, decisions) == text, "an accepted file goes out byte for byte"


CORRECTING = [code for code in CODES if (FIXTURES / code / "fires.expected.837").exists()]


def test_the_correcting_rules_have_a_corrected_837() -> None:
    assert CORRECTING == ["TPI001", "TPI002", "TPI003", "TPI004", "TPI005", "TPI013", "TPI014"]


@pytest.mark.parametrize("code", CORRECTING)
def test_corrected_output_needs_no_further_correction(code: str) -> None:
    decisions = decide(_read(FIXTURES / code / "fires.expected.837"))
    assert [d.status for d in decisions] == ["accepted"] * len(decisions)
