"""The fuzz invariants: every kept crash replays clean, and each target survives a short run.

(a) Every input under fixtures/fuzz-regressions/<target>/ goes through the target's invariant
(fuzz/targets.py, plain Python: no atheris needed). A case whose bug is still open, owned
outside fuzz/ and edi_guard/x12, is listed in OPEN with the owner's reason and runs as a
strict xfail: the day it is fixed the test fails until the entry is removed.

(b) Each atheris target runs for FUZZ_SECONDS under libFuzzer with a fixed seed (CI); failures
with the signature of an OPEN case are skipped (``--keep-going``), any other crash, hang or
memory blow-up fails the test and names the input, which is written to a temporary folder
(``make fuzz`` keeps them in fixtures/fuzz-regressions/).

Also: a log scan of every regression case run through ``process()`` (no identity value of the
input in the log events or messages).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "fuzz"))
import targets  # noqa: E402 - fuzz/ holds scripts, not a package

REGRESSIONS = REPO / "fixtures" / "fuzz-regressions"
FUZZ_SECONDS = int(os.environ.get("EDI_GUARD_FUZZ_SECONDS", "40"))
CI_RUNS = {"tokenizer": 25_000, "validator": 4_000, "fix": 2_500}

OPEN: dict[str, str] = {}


def regression_cases() -> list[tuple[str, Path]]:
    return [
        (path.parent.name, path)
        for path in sorted(REGRESSIONS.glob("*/*"))
        if path.is_file() and not path.name.startswith(".")
    ]


CASES = regression_cases()


@pytest.mark.parametrize(
    ("target", "path"), CASES, ids=[f"{target}/{path.name[:18]}" for target, path in CASES]
)
def test_regression_cases_hold_the_invariant(
    target: str, path: Path, request: pytest.FixtureRequest
) -> None:
    if path.name in OPEN:
        request.applymarker(pytest.mark.xfail(reason=OPEN[path.name], strict=True))
    data = path.read_bytes()
    targets.CHECKS[target](data)
    # Every case also goes through the stages after its own: a tokenizer case must hold the
    # validator's and process()'s invariants too.
    for later in targets.TARGETS[targets.TARGETS.index(target) + 1 :]:
        targets.CHECKS[later](data if target != "tokenizer" else data[4:])


def test_every_open_case_is_kept() -> None:
    kept = {path.name for _, path in CASES}
    assert set(OPEN) <= kept, sorted(set(OPEN) - kept)


@pytest.mark.parametrize(
    ("target", "path"), CASES, ids=[f"{target}/{path.name[:18]}" for target, path in CASES]
)
def test_no_identity_value_of_a_regression_case_is_logged(target: str, path: Path) -> None:
    """check_fix scans the messages and the log events; here for every kept case."""
    data = path.read_bytes()
    if target == "tokenizer":
        data = data[4:]
    try:
        targets.check_fix(data)
    except targets.InvariantBrokenError as error:
        assert "identity values" not in str(error)
    except Exception:
        if path.name not in OPEN:
            raise


@pytest.mark.slow
@pytest.mark.parametrize("target", targets.TARGETS)
def test_target_survives_a_short_campaign(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "fuzz" / "run.py"),
            "--target",
            target,
            "--seconds",
            str(FUZZ_SECONDS),
            "--seed",
            "1",
            # A fixed count with a fixed seed: CI replays the inputs that passed here (a slow
            # machine stops earlier, on a prefix of them); long campaigns are `make fuzz`.
            "--runs",
            str(CI_RUNS[target]),
            "--keep-going",
            "--corpus",
            str(tmp_path / "corpus"),
            "--regressions",
            str(tmp_path / "found"),
        ],
        capture_output=True,
        text=True,
        timeout=FUZZ_SECONDS * 4 + 120,
        cwd=REPO,
    )
    found = sorted(p.name for p in (tmp_path / "found").rglob("*") if p.is_file())
    assert run.returncode == 0 and not found, f"{found}\n{run.stdout}\n{run.stderr[-4000:]}"
    assert f"fuzz {target}: ok" in run.stdout
