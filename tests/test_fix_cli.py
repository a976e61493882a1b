"""`edi-guard fix` as a user runs it: outputs, exit codes, messages, and quiet logs."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from pipeline_support import identity_values

from edi_guard.cli import cli

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "fixtures" / "demo" / "tpi-batch.x12"
CLEAN = REPO / "fixtures" / "rules" / "TPI001" / "quiet.x12"


def fix(tmp_path: Path, *arguments: str) -> tuple[int, str]:
    runner = CliRunner()
    history = f"sqlite://{tmp_path / 'history.sqlite3'}"
    result = runner.invoke(
        cli,
        ["fix", *arguments, "--out-dir", str(tmp_path / "out"), "--history", history],
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_a_rejected_claim_exits_1_and_names_what_was_written(tmp_path: Path) -> None:
    code, output = fix(tmp_path, str(DEMO))
    assert code == 1
    assert "6 claims: 3 accepted, 2 corrected, 1 rejected" in output
    for suffix in (".837", ".277", ".999", ".report.json", ".report.xml", ".report.html"):
        assert (tmp_path / "out" / f"tpi-batch{suffix}").is_file(), suffix


def test_a_clean_file_exits_0_and_comes_out_unchanged(tmp_path: Path) -> None:
    code, output = fix(tmp_path, str(CLEAN))
    assert code == 0, output
    assert (tmp_path / "out" / "quiet.837").read_bytes() == CLEAN.read_bytes()


def test_an_unreadable_input_exits_2_and_the_others_still_run(tmp_path: Path) -> None:
    code, output = fix(tmp_path, str(tmp_path / "missing.837"), str(CLEAN))
    assert code == 2
    assert "cannot read the input" in output
    assert (tmp_path / "out" / "quiet.837").is_file()


def test_a_bad_policy_is_a_usage_error_naming_the_key(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"muscle_shortfall": "downcode"}))
    code, output = fix(tmp_path, "--policy", str(policy), str(DEMO))
    assert code == 2
    assert "muscle_shortfall" in output
    assert "downcode-to-20552" in output


def test_not_x12_is_refused_with_a_ta1_and_exit_1(tmp_path: Path) -> None:
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    code, output = fix(tmp_path, str(pdf))
    assert code == 1
    assert "a PDF document" in output
    assert "TA1" in (tmp_path / "out" / "scan.ta1").read_text()


def test_json_logs_carry_no_patient_data(tmp_path: Path) -> None:
    code, output = fix(tmp_path, "--log-format", "json", str(DEMO))
    assert code == 1
    events = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {event["event"] for event in events} >= {"claim_rejected", "file_processed"}
    logged = "\n".join(line for line in output.splitlines() if line.startswith("{"))
    for value in identity_values(DEMO):
        assert value not in logged
