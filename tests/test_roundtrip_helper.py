"""``edi_guard.roundtrip``: the benchmark's layers, which must do what they claim to price.

Without the engine a file comes back byte for byte; with it, the corrected 837 is the one the
rule fixtures expect; with an empty registry (``rules=False``, the ``edit-no-rules`` variant)
nothing is corrected or held back, so the file comes back byte for byte again.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from x12_builders import read

from edi_guard.roundtrip import roundtrip

RULES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
CORRECTING = sorted(path.parent.name for path in RULES.glob("*/fires.expected.837"))


def _claims(data: bytes) -> int:
    return sum(1 for segment in read(data).segments if segment.tag == "CLM")


@pytest.mark.parametrize("rule", CORRECTING)
def test_edit_writes_the_corrected_837_the_fixture_expects(rule: str, tmp_path: Path) -> None:
    source = RULES / rule / "fires.x12"
    out = tmp_path / "out.x12"
    claims = roundtrip(source, out, edit=True)
    assert claims == _claims(source.read_bytes()) > 0
    assert out.read_bytes() == (RULES / rule / "fires.expected.837").read_bytes()


@pytest.mark.parametrize("rule", CORRECTING)
@pytest.mark.parametrize("edit", [False, True], ids=["core", "engine-without-rules"])
def test_without_rules_the_file_comes_back_byte_for_byte(
    rule: str, edit: bool, tmp_path: Path
) -> None:
    source = RULES / rule / "fires.x12"
    out = tmp_path / "out.x12"
    roundtrip(source, out, edit=edit, rules=False)
    assert out.read_bytes() == source.read_bytes()


def test_correcting_fixtures_are_there() -> None:
    assert len(CORRECTING) >= 7  # TPI001-TPI005, TPI013, TPI014 (fixtures/rules/README.md)
