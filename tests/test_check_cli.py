"""``edi-guard check``: summaries, JSON, the 999, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from test_validate_support import require_corpus

from edi_guard.cli import cli


def _file(name: str) -> Path:
    return require_corpus() / "837p" / name


def test_accepted_file_exits_0() -> None:
    result = CliRunner().invoke(cli, ["check", str(_file("stupidedi__X222A1-ambulance.edi"))])
    assert result.exit_code == 0, result.output
    assert "accepted" in result.output


def test_rejected_file_exits_1_and_writes_999(tmp_path: Path) -> None:
    ack = tmp_path / "out.999"
    path = _file("stupidedi__X222A1-oxygen.edi")
    result = CliRunner().invoke(cli, ["check", str(path), "--999", str(ack)])
    assert result.exit_code == 1
    assert "segment 24 (PWK, loop 2400) PWK02" in result.output
    assert b"IK5*R" in ack.read_bytes()


def test_json_report_has_no_values() -> None:
    path = _file("stupidedi__X222A1-oxygen.edi")
    result = CliRunner().invoke(cli, ["check", "--json", str(path)])
    report = json.loads(result.output)
    assert report[0]["status"] == "rejected"
    assert report[0]["interchanges"][0]["groups"][0]["sets"][0]["errors"][0]["element"] == "PWK02"
    assert '"AD"' not in result.output


def test_unreadable_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(tmp_path / "missing.x12")])
    assert result.exit_code == 2


def test_missing_gs_gets_a_ta1(tmp_path: Path) -> None:
    ack = tmp_path / "x.999"
    path = _file("imsweb-x12-parser__x12_missing_first_gs.txt")
    result = CliRunner().invoke(cli, ["check", str(path), "--999", str(ack)])
    assert result.exit_code == 1
    assert b"TA1*" in (tmp_path / "x.999.ta1").read_bytes()
