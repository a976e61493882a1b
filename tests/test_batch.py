"""``edi-guard batch`` and edi_guard.batch: the same outputs as ``fix``, file by file.

The reference is ``edi-guard fix`` run on each file, with ``process()`` given the same fixed
``now`` and the same per-file control numbers as the batch (the only values that differ
between two runs otherwise). Helpers here are shared with test_spark.py.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import edi_guard.batch as batch_module
import edi_guard.commands.fix as fix_module
from edi_guard.acks.control import MAX_CONTROL_NUMBER
from edi_guard.api import process as real_process
from edi_guard.batch import (
    CONTROL_STRIDE,
    BatchOptions,
    BatchResult,
    FileReport,
    check_distinct_stems,
    control_numbers_for,
    discover,
    local_path,
    output_stem,
    run_batch,
)
from edi_guard.commands.batch import batch, summary_table
from edi_guard.errors import EdiGuardError

ROOT = Path(__file__).resolve().parent.parent
RULE_FIXTURES = ROOT / "fixtures" / "rules"
DEMO = ROOT / "fixtures" / "demo" / "tpi-batch.x12"
HISTORY_FIXTURES = ROOT / "fixtures" / "history"
NOW = datetime(2026, 8, 15, 9, 30, 0)
CONTROL_START = 424_000

ClaimKey = tuple[
    str, int, str, str, str, tuple[str, ...], Decimal, Decimal, Decimal, str, bool, bool
]


# Shared helpers --------------------------------------------------------------------------


def flat_fixtures(target: Path, *, limit: int | None = None) -> list[Path]:
    """The rule fixtures (fires and quiet of every rule) and the demo file under unique names
    (every rule directory holds a fires.x12: same stem, same outputs)."""
    target.mkdir(parents=True, exist_ok=True)
    originals = [*sorted(RULE_FIXTURES.glob("*/*.x12")), DEMO]
    copied: list[Path] = []
    for source in originals[:limit]:
        name = source.name if source == DEMO else f"{source.parent.name}-{source.name}"
        shutil.copyfile(source, target / name)
        copied.append(target / name)
    return copied


def fix_reference(
    sources: Sequence[str],
    out_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    history_url: str = "memory:",
) -> None:
    """Run ``edi-guard fix`` on each source, with the batch's ``now`` and control numbers.

    One fix per file: with ``memory:`` each file then has its own history, as in a batch; with
    a store, files are decided in the order given.
    """
    index = {Path(source).name: position for position, source in enumerate(sources)}

    def pinned(path: Any, **kwargs: Any) -> Any:
        kwargs["now"] = NOW
        kwargs["control_numbers"] = control_numbers_for(CONTROL_START, index[Path(path).name])
        return real_process(path, **kwargs)

    monkeypatch.setattr(fix_module, "process", pinned)
    runner = CliRunner()
    for source in sources:
        arguments = [source, "--out-dir", str(out_dir), "--history", history_url]
        result = runner.invoke(fix_module.fix, arguments)
        assert result.exit_code in (0, 1), f"{source}: {result.output}"


def tree(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def assert_same_tree(actual: Path, expected: Path) -> None:
    got, want = tree(actual), tree(expected)
    assert sorted(got) == sorted(want)
    different = [name for name in want if got[name] != want[name]]
    assert not different, f"outputs differ from fix: {different[:10]}"


def claims_from_json_reports(directory: Path) -> list[ClaimKey]:
    """Per claim, what the DataFrame must say, read back from the JSON reports."""
    rows: list[ClaimKey] = []
    for path in sorted(directory.glob("*.report.json")):
        report = json.loads(path.read_text(encoding="utf-8"))
        for claim in report["claims"]:
            codes = tuple(dict.fromkeys(finding["rule"] for finding in claim["findings"]))
            rows.append(
                (
                    report["file"],
                    claim["position"],
                    claim["claim_id"],
                    claim["st_control"],
                    claim["status"],
                    codes,
                    Decimal(claim["charge_in"]),
                    Decimal(claim["charge_out"]),
                    Decimal(claim["charge_dropped"]),
                    claim["place_of_service"],
                    claim["is_tpi"],
                    claim["structure_rejected"],
                )
            )
    return sorted(rows, key=lambda row: (row[0], row[1]))


def options(out_dir: str | Path, **overrides: Any) -> BatchOptions:
    settings: dict[str, Any] = {
        "now": NOW,
        "control_start": CONTROL_START,
        "history_url": "memory:",
        **overrides,
    }
    return BatchOptions(out_dir=str(out_dir), **settings)


# Discovery, names and control numbers ----------------------------------------------------


def test_discover_takes_directories_globs_and_files(tmp_path: Path) -> None:
    (tmp_path / "a.x12").write_bytes(b"")
    (tmp_path / "b.edi").write_bytes(b"")
    (tmp_path / ".c.x12.tmp").write_bytes(b"")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.x12").write_bytes(b"")

    assert discover([tmp_path]) == [str(tmp_path / "a.x12"), str(tmp_path / "b.edi")]
    assert discover([f"{tmp_path}/**/*.x12"]) == [
        str(tmp_path / "a.x12"),
        str(tmp_path / "sub" / "d.x12"),
    ]
    assert discover([tmp_path / "b.edi", tmp_path / "b.edi"]) == [str(tmp_path / "b.edi")]


@pytest.mark.parametrize("spec", ["missing.x12", "*.none"])
def test_discover_refuses_what_matches_nothing(tmp_path: Path, spec: str) -> None:
    with pytest.raises(EdiGuardError, match="no "):
        discover([str(tmp_path / spec)])


def test_colliding_output_names_are_refused() -> None:
    check_distinct_stems(["a/x.x12", "b/y.x12"])
    with pytest.raises(EdiGuardError, match=r"a/x\.x12 and b/x\.edi would both write x\.837"):
        check_distinct_stems(["a/x.x12", "b/x.edi"])


def test_output_stem_and_local_paths() -> None:
    assert output_stem("s3://bucket/in/claims.x12") == "claims"
    assert output_stem("/data/claims") == "claims"
    assert local_path("/data/x.x12") == Path("/data/x.x12")
    assert local_path("file:///data/x%20y.x12") == Path("/data/x y.x12")
    assert local_path("s3://bucket/x.x12") is None


def test_control_numbers_are_disjoint_blocks_per_file() -> None:
    first, second = control_numbers_for(7, 0), control_numbers_for(7, 1)
    assert [first.next_interchange(), first.next_group()] == [7, 8]
    assert second.next_interchange() == 7 + CONTROL_STRIDE
    last = control_numbers_for(MAX_CONTROL_NUMBER, 1)
    assert last.next_interchange() == CONTROL_STRIDE


def test_bad_control_start_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EdiGuardError, match="control_start"):
        options(tmp_path, control_start=0).check()


# Same outputs as fix ---------------------------------------------------------------------


@pytest.mark.slow
def test_batch_with_two_jobs_writes_what_fix_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flat_fixtures(tmp_path / "in")
    sources = discover([tmp_path / "in"])
    fix_reference(sources, tmp_path / "fix", monkeypatch)
    seen: list[FileReport] = []

    result = run_batch(sources, options(tmp_path / "batch"), jobs=2, on_report=seen.append)

    assert_same_tree(tmp_path / "batch", tmp_path / "fix")
    assert [report.source for report in result.reports] == sources
    assert sorted(report.index for report in seen) == list(range(len(sources)))
    assert not [report for report in result.reports if report.failed]
    claims = claims_from_json_reports(tmp_path / "batch")
    assert result.totals.claims_in == len(claims)
    assert result.totals.claims_rejected == sum(1 for claim in claims if claim[4] == "rejected")
    assert result.exit_code == 1  # the fires files reject claims


def test_one_job_runs_in_process_with_the_same_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [str(path) for path in flat_fixtures(tmp_path / "in", limit=4)]
    fix_reference(sources, tmp_path / "fix", monkeypatch)

    run_batch(sources, options(tmp_path / "batch"), jobs=1)

    assert_same_tree(tmp_path / "batch", tmp_path / "fix")


# One bad file does not stop the batch ----------------------------------------------------


def test_unreadable_file_is_reported_and_the_rest_processed(tmp_path: Path) -> None:
    good = [str(path) for path in flat_fixtures(tmp_path / "in", limit=3)]
    missing = str(tmp_path / "in" / "gone.x12")

    result = run_batch([*good[:2], missing, good[2]], options(tmp_path / "out"), jobs=2)

    failed = [report for report in result.reports if report.failed]
    assert [report.source for report in failed] == [missing]
    assert failed[0].error is not None and "cannot read the input" in failed[0].error
    assert result.totals.files == 4 and result.totals.failed == 1
    assert result.exit_code == 2
    assert (tmp_path / "out" / f"{Path(good[2]).stem}.report.json").is_file()


def test_a_crash_in_the_pipeline_fails_that_file_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = [str(path) for path in flat_fixtures(tmp_path / "in", limit=3)]

    def crash_on_second(source: Any, **kwargs: Any) -> Any:
        if kwargs["name"] == Path(sources[1]).name:
            raise ValueError("CLM*SECRET-PATIENT-DATA")
        return real_process(source, **kwargs)

    monkeypatch.setattr(batch_module, "process", crash_on_second)

    result = run_batch(sources, options(tmp_path / "out"), jobs=1)

    assert [report.failed for report in result.reports] == [False, True, False]
    error = result.reports[1].error or ""
    assert "ValueError" in error and "SECRET" not in error


def test_bad_options_fail_before_any_file(tmp_path: Path) -> None:
    sources = [str(path) for path in flat_fixtures(tmp_path / "in", limit=1)]
    with pytest.raises(EdiGuardError, match="jobs"):
        run_batch(sources, options(tmp_path / "out"), jobs=0)
    with pytest.raises(EdiGuardError):
        run_batch(sources, options(tmp_path / "out", policy_path=str(tmp_path)), jobs=2)
    assert not (tmp_path / "out").exists()


def test_memory_history_is_per_file_and_sqlite_is_shared_by_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TPI009 across two files: a fourth session in file2 is caught only with a store."""
    names = ("file1-three-sessions.x12", "file2-fourth-session.x12")
    (tmp_path / "in").mkdir()
    sources = []
    for name in names:
        shutil.copyfile(HISTORY_FIXTURES / name, tmp_path / "in" / name)
        sources.append(str(tmp_path / "in" / name))

    apart = run_batch(sources, options(tmp_path / "apart"), jobs=2)
    # One file after the other, as fix would: the order decides which session is the fourth.
    url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    shared = [
        run_batch(
            [source],
            options(
                tmp_path / "shared",
                history_url=url,
                control_start=CONTROL_START + position * CONTROL_STRIDE,  # as file `position`
            ),
        )
        for position, source in enumerate(sources)
    ]

    assert apart.reports[1].summary is not None
    assert apart.reports[1].summary.claims_rejected == 0
    second = shared[1].reports[0].summary
    assert second is not None and second.claims_rejected == 1
    fix_reference(sources, tmp_path / "fix", monkeypatch, history_url=url + ".fix")
    assert_same_tree(tmp_path / "shared", tmp_path / "fix")


# Other filesystems through fsspec (its in-memory filesystem stands in for s3:// etc.) ----


@pytest.fixture
def memory_fs() -> Iterator[Any]:
    fsspec = pytest.importorskip("fsspec")
    fs = fsspec.filesystem("memory")
    if fs.exists("/edi-guard-test"):
        fs.rm("/edi-guard-test", recursive=True)
    yield fs
    if fs.exists("/edi-guard-test"):
        fs.rm("/edi-guard-test", recursive=True)


def test_remote_inputs_stream_and_outputs_upload(
    tmp_path: Path, memory_fs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = [str(path) for path in flat_fixtures(tmp_path / "in", limit=2)]
    remote = []
    for path in local:
        memory_fs.pipe(f"/edi-guard-test/in/{Path(path).name}", Path(path).read_bytes())
        remote.append(f"memory://edi-guard-test/in/{Path(path).name}")
    stale = f"/edi-guard-test/out/{Path(local[0]).stem}.ta1"
    memory_fs.pipe(stale, b"from an earlier run")
    fix_reference(local, tmp_path / "fix", monkeypatch)

    result = run_batch(remote, options("memory://edi-guard-test/out"), jobs=1)

    assert not [report for report in result.reports if report.failed]
    uploaded = {
        name.rsplit("/", 1)[-1]: memory_fs.cat(name)
        for name in memory_fs.ls("/edi-guard-test/out", detail=False)
    }
    assert uploaded == tree(tmp_path / "fix")
    assert result.reports[0].written[0].startswith("memory://edi-guard-test/out/")


# The command -----------------------------------------------------------------------------


def test_command_prints_the_summary_table(tmp_path: Path) -> None:
    flat_fixtures(tmp_path / "in", limit=4)
    (tmp_path / "in" / "empty.x12").write_bytes(b"")

    result = CliRunner().invoke(
        batch, [str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"), "--jobs", "1"]
    )

    assert result.exit_code == 1, result.output
    values = dict(
        re.split(r"\s{2,}", line.strip(), maxsplit=1)
        for line in result.stdout.splitlines()
        if not line.startswith("-")
    )
    assert values["files"] == "5"
    assert values["files failed"] == "0"  # an empty file is answered with a TA1, not failed
    assert {"claims in", "claims rejected", "charges in", "charges out"} <= set(values)
    assert (tmp_path / "out" / "CLM001-fires.report.json").is_file()


def test_command_refuses_inputs_that_match_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(batch, [str(tmp_path / "*.x12"), "--out-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no input files there" in result.output


def test_summary_table_is_aligned() -> None:
    reports = (FileReport(index=0, source="a.x12", name="a.x12", exit_code=2, error="cannot read"),)
    table = summary_table(BatchResult(reports, seconds=1.25, jobs=2))
    lines = table.splitlines()
    assert len({len(line) for line in lines}) == 1
    assert "files failed" in table and "1.2 (2 jobs)" in table
