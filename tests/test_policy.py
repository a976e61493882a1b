"""The policy: defaults, files (JSON and TOML), refusals that name the key, payer overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edi_guard.errors import PolicyError
from edi_guard.policy import RULE_CODES, MuscleShortfall, Policy, RejectOrWarn


def write_json(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_defaults() -> None:
    policy = Policy.load(None)
    assert policy == Policy.default()
    assert all(policy.rule_enabled(code) for code in RULE_CODES)
    assert policy.muscle_shortfall is MuscleShortfall.REJECT
    assert policy.em_without_25 is RejectOrWarn.REJECT
    assert policy.drug_line_missing is RejectOrWarn.REJECT
    assert policy.medicare_payer_codes == {"MB", "16"}
    assert policy.covered_diagnoses == ("M791*", "M6283*")
    assert policy.ptp_table is None and policy.payer_id is None


def test_rule_codes_match_the_catalog() -> None:
    assert len(RULE_CODES) == 22
    assert RULE_CODES[:3] == ("CLM001", "CLM002", "TPI001")
    assert RULE_CODES[-1] == "TPI020"


def test_json_file_overrides_defaults(tmp_path: Path) -> None:
    path = write_json(
        tmp_path,
        {
            "rules": {"TPI018": False},
            "muscle_shortfall": "downcode-to-20552",
            "medicare_payer_codes": ["MB"],
        },
    )
    policy = Policy.load(path)
    assert not policy.rule_enabled("TPI018")
    assert policy.rule_enabled("TPI017")
    assert policy.muscle_shortfall is MuscleShortfall.DOWNCODE
    assert policy.is_medicare("MB") and not policy.is_medicare("16")
    assert policy.em_without_25 is RejectOrWarn.REJECT  # untouched keys keep the default


def test_toml_file_with_payer_override(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        """
em_without_25 = "warn"
covered_diagnoses = ["M79.1*", "M62.83*", "M54.50"]

[rules]
TPI020 = false

[payers.12502]
muscle_shortfall = "warn"
rules = { TPI009 = false }
""",
        encoding="utf-8",
    )
    policy = Policy.load(path)
    assert policy.em_without_25 is RejectOrWarn.WARN
    assert policy.muscle_shortfall is MuscleShortfall.REJECT
    medicare = policy.for_payer("12502")
    assert medicare.payer_id == "12502"
    assert medicare.muscle_shortfall is MuscleShortfall.WARN
    assert medicare.em_without_25 is RejectOrWarn.WARN  # inherited from the file
    assert not medicare.rule_enabled("TPI009")
    assert not medicare.rule_enabled("TPI020")  # rules merge code by code
    assert policy.rule_enabled("TPI009")
    assert medicare.covered_diagnoses == ("M791*", "M6283*", "M5450")


def test_payer_without_override_gets_the_file_policy(tmp_path: Path) -> None:
    policy = Policy.load(write_json(tmp_path, {"payers": {"12502": {"em_without_25": "warn"}}}))
    assert policy.for_payer("60054") is policy
    assert policy.for_payer("12502").em_without_25 is RejectOrWarn.WARN


def test_unknown_top_level_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"muscle_shortfal: unknown key; allowed keys: .*"):
        Policy.load(write_json(tmp_path, {"muscle_shortfal": "warn"}))


def test_unknown_key_in_payer_override_is_named_with_its_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.load(write_json(tmp_path, {"payers": {"12502": {"payers": {}}}}))
    assert "payers.12502.payers: unknown key" in str(caught.value)


def test_bad_enum_value_lists_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.load(write_json(tmp_path, {"payers": {"12502": {"muscle_shortfall": "downcode"}}}))
    message = str(caught.value)
    assert "payers.12502.muscle_shortfall" in message
    assert '"downcode" is not allowed' in message
    assert '"reject", "downcode-to-20552", "warn"' in message


def test_unknown_rule_code_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"rules\.TPI099: unknown key; allowed keys: CLM001"):
        Policy.load(write_json(tmp_path, {"rules": {"TPI099": False}}))


def test_wrong_type_is_refused_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"rules\.TPI001: 'no' is not of type 'boolean'"):
        Policy.load(write_json(tmp_path, {"rules": {"TPI001": "no"}}))


def test_bad_medicare_code_lists_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r'medicare_payer_codes\[1\]: "XX" is not allowed'):
        Policy.load(write_json(tmp_path, {"medicare_payer_codes": ["MB", "XX"]}))


@pytest.mark.parametrize("pattern", ["M79.1x", "M79.1?", "79.1*", "M79.1*8", ""])
def test_bad_diagnosis_pattern_is_refused(tmp_path: Path, pattern: str) -> None:
    with pytest.raises(PolicyError, match=r"covered_diagnoses\[1\]"):
        Policy.load(write_json(tmp_path, {"covered_diagnoses": ["M79.18", pattern]}))


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        Policy.load(write_json(tmp_path, {"colour": 1, "em_without_25": "ignore"}))
    assert "colour: unknown key" in str(caught.value)
    assert "em_without_25" in str(caught.value)


def test_relative_paths_resolve_against_the_policy_file(tmp_path: Path) -> None:
    policy = Policy.load(write_json(tmp_path, {"ptp_table": "data/ptp.json"}))
    assert policy.ptp_table == (tmp_path / "data" / "ptp.json").resolve()


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("policy.yaml", "a: 1", r"must end in \.json or \.toml"),
        ("policy.json", "{not json", "not valid JSON"),
        ("policy.toml", "x = = 1", "not valid TOML"),
        ("policy.json", "[1, 2]", "expected an object"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, name: str, content: str, match: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PolicyError, match=match):
        Policy.load(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        Policy.load(tmp_path / "absent.toml")


def test_rule_enabled_refuses_an_unknown_code() -> None:
    with pytest.raises(PolicyError, match="unknown rule code 'TPI999'"):
        Policy.default().rule_enabled("TPI999")


def test_policy_is_immutable() -> None:
    policy = Policy.default()
    with pytest.raises(AttributeError):
        policy.muscle_shortfall = MuscleShortfall.WARN  # type: ignore[misc]
    assert hash(policy) == hash(Policy.default())
