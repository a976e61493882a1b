"""``bench/measure.py --serve`` and ``engine_ratio.py``'s pairs: the issue 4 measurement."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import engine_ratio  # noqa: E402  (bench/ holds scripts, not a package)
import generate  # noqa: E402


def _file(tmp_path: Path, claims: int = 30) -> Path:
    path = tmp_path / "claims.x12"
    with path.open("wb") as out:
        generate.generate(out, claims, 1)
    return path


def test_serve_answers_each_request_with_as_many_times_as_runs_asked(tmp_path: Path) -> None:
    path = _file(tmp_path)
    done = subprocess.run(
        [sys.executable, str(BENCH / "measure.py"), "roundtrip", str(path), "--serve"],
        input="run 2\nrun 1\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "ready"
    answers = [[float(seconds) for seconds in line.split()] for line in lines[1:]]
    assert [len(answer) for answer in answers] == [2, 1]
    assert all(seconds > 0 for answer in answers for seconds in answer)


def test_server_stops_with_a_message_when_a_run_fails(tmp_path: Path) -> None:
    missing = tmp_path / "missing.x12"
    server = engine_ratio._Server("roundtrip", _file(tmp_path))
    try:
        assert server.run(1) > 0
    finally:
        server.close()
    # A path that does not exist: the first run fails, the server's answer is empty.
    broken = engine_ratio._Server("roundtrip", missing)
    try:
        with pytest.raises(SystemExit, match=r"roundtrip: measure\.py --serve answered ''"):
            broken.run(1)
    finally:
        broken.close()


def test_pairs_report_the_median_and_the_pairs_below_the_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ratios = [0.4, 0.55, 0.6, 0.45, 0.7]
    engine_ratio._summary(ratios, "pairs")
    out = capsys.readouterr().out
    assert "edit at 0.550 of roundtrip's speed" in out
    assert "2 of 5 pairs below 0.5" in out
