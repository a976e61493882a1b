"""edi_guard.spark in ``local[2]``: the same outputs as ``edi-guard fix``, the same claim
outcomes as the JSON reports, one row per claim, and no SQLite history on a cluster.

One SparkSession for the module (starting one takes 10-20 s); its scratch directories live
under the test's temporary directory. Python workers run this interpreter (PYSPARK_PYTHON).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pyspark.sql import SparkSession
from test_batch import (
    CONTROL_START,
    NOW,
    ClaimKey,
    assert_same_tree,
    claims_from_json_reports,
    fix_reference,
    flat_fixtures,
)

from edi_guard.batch import BatchOptions
from edi_guard.errors import EdiGuardError
from edi_guard.spark import (
    CLAIM_SCHEMA,
    SparkResult,
    check_history,
    is_local_master,
    process_partition,
    run,
)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import generate  # bench/ holds scripts, not a package

CORPUS_FILES = 10
"""Public corpus files in the comparison (every eighth, so most source repositories show up)."""
HISTORY_KEY = "edi-guard-spark-test-key-0000000001"

pytestmark = pytest.mark.slow


def _missing_java() -> None:
    reason = "Spark tests need Java 17+ on PATH"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkSession]:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _missing_java()
    scratch = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        patch.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("edi-guard-tests")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.default.parallelism", "2")
            .config("spark.sql.catalogImplementation", "in-memory")
            .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
            # Python workers take the history key from here (the PostgreSQL test).
            .config("spark.executorEnv.EDI_GUARD_HISTORY_KEY", HISTORY_KEY)
            .config("spark.local.dir", str(scratch / "local"))
            .config("spark.driver.extraJavaOptions", f"-Djava.io.tmpdir={scratch}")
            .getOrCreate()
        )
        session.sparkContext.setLogLevel("ERROR")
        try:
            yield session
        finally:
            session.stop()


def dataframe_claims(result: SparkResult) -> list[ClaimKey]:
    rows = [
        (
            row.file,
            row.position,
            row.claim_id,
            row.st_control,
            row.status,
            tuple(row.rule_codes),
            row.charge_in,
            row.charge_out,
            row.charge_dropped,
            row.place_of_service,
            row.is_tpi,
            row.structure_rejected,
        )
        for row in result.claims.collect()
    ]
    return sorted(rows, key=lambda row: (row[0], row[1]))


def test_fixtures_and_corpus_match_fix_and_the_json_reports(
    spark: SparkSession, corpus_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fixtures = flat_fixtures(tmp_path / "in", limit=8)
    corpus = sorted((corpus_dir / "837p").iterdir())[::8][:CORPUS_FILES]
    inputs = [str(path) for path in (*fixtures, *corpus)]  # the corpus is read in place

    result = run(
        spark,
        inputs,
        str(tmp_path / "spark"),
        history_url="memory:",
        now=NOW,
        control_start=CONTROL_START,
        partitions=4,
    )

    sources = [report.source for report in result.files]
    assert sorted(sources) == sources == sorted(str(Path(path).resolve()) for path in inputs)
    fix_reference(sources, tmp_path / "fix", monkeypatch)
    assert_same_tree(tmp_path / "spark", tmp_path / "fix")
    assert not [report for report in result.files if report.failed]
    assert result.claims.schema == CLAIM_SCHEMA
    expected = claims_from_json_reports(tmp_path / "spark")
    assert dataframe_claims(result) == expected
    assert result.totals.claims_in == len(expected) > 0
    assert result.partitions == 4


def test_a_large_file_is_one_row_per_claim(spark: SparkSession, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    with (tmp_path / "in" / "large.x12").open("wb") as out:
        generate.generate(out, 1500, seed=3, claims_per_set=500)
    with (tmp_path / "in" / "small.x12").open("wb") as out:
        generate.generate(out, 5, seed=4)

    result = run(
        spark, [str(tmp_path / "in")], str(tmp_path / "out"), history_url="memory:", now=NOW
    )

    counts = {row.file: row["count"] for row in result.claims.groupBy("file").count().collect()}
    assert counts == {"large.x12": 1500, "small.x12": 5}
    assert result.totals.claims_in == 1505
    assert dataframe_claims(result) == claims_from_json_reports(tmp_path / "out")


def test_unreadable_file_fails_alone_on_its_executor(tmp_path: Path) -> None:
    good = str(flat_fixtures(tmp_path / "in", limit=1)[0])
    job_options = BatchOptions(out_dir=str(tmp_path / "out"), history_url="memory:")

    items = list(process_partition(job_options, [(0, str(tmp_path / "gone.x12")), (1, good)]))

    assert [kind for kind, _ in items] == ["file", "file", "claim"]
    reports = [payload for kind, payload in items if kind == "file"]
    assert [report.failed for report in reports] == [True, False]


# History on a cluster --------------------------------------------------------------------


@pytest.mark.parametrize("master", ["local", "local[2]", "local[*]", "local[4,2]"])
@pytest.mark.parametrize("url", [None, "sqlite:///tmp/h.sqlite3", "memory:"])
def test_local_masters_take_any_history(master: str, url: str | None) -> None:
    assert is_local_master(master)
    check_history(master, url)


@pytest.mark.parametrize(
    "master", ["yarn", "spark://head:7077", "k8s://https://api:6443", "local-cluster[2,1,1024]"]
)
@pytest.mark.parametrize(
    ("url", "named"),
    [
        (None, "no --history was given"),
        ("sqlite:///var/lib/edi-guard/history.sqlite3", "--history is sqlite:"),
        ("memory:", "--history is memory:"),
    ],
)
def test_a_cluster_refuses_history_that_is_not_postgresql(
    master: str, url: str | None, named: str
) -> None:
    with pytest.raises(EdiGuardError, match="must be PostgreSQL") as raised:
        check_history(master, url)
    assert named in str(raised.value)
    check_history(master, "postgresql://edi_guard@db/edi_guard")
    check_history(master, "postgres://edi_guard@db/edi_guard")


def test_run_refuses_sqlite_on_a_cluster_before_any_work(tmp_path: Path) -> None:
    cluster: Any = SimpleNamespace(sparkContext=SimpleNamespace(master="yarn"))
    with pytest.raises(EdiGuardError, match="must be PostgreSQL"):
        run(cluster, [str(tmp_path)], str(tmp_path / "out"), history_url="sqlite:///h.sqlite3")
    assert not (tmp_path / "out").exists()


# PostgreSQL history ----------------------------------------------------------------------


def test_postgresql_history_is_shared_across_runs_and_matches_fix(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from history_support import FIXTURES, drop_database, postgres_url

    monkeypatch.setenv("EDI_GUARD_HISTORY_KEY", HISTORY_KEY)  # the driver's check opens it too
    first, second = FIXTURES / "file1-three-sessions.x12", FIXTURES / "file2-fourth-session.x12"
    spark_url, fix_url = postgres_url(), postgres_url()
    try:
        for path in (first, second):
            run(
                spark,
                [str(path)],
                str(tmp_path / "spark"),
                history_url=spark_url,
                now=NOW,
                control_start=CONTROL_START,
            )
            fix_reference([str(path)], tmp_path / "fix", monkeypatch, history_url=fix_url)
    finally:
        drop_database(spark_url)
        drop_database(fix_url)

    assert_same_tree(tmp_path / "spark", tmp_path / "fix")
    fourth = [
        claim for claim in claims_from_json_reports(tmp_path / "spark") if claim[0] == second.name
    ]
    assert [(claim[4], claim[5]) for claim in fourth] == [("rejected", ("TPI009",))]


# The spark-submit entry point ------------------------------------------------------------


def test_spark_submit_entry_point(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getOrCreate() hands the entry point this module's session; keep it running."""
    from click.testing import CliRunner

    from edi_guard.spark_submit import main

    monkeypatch.setattr(SparkSession, "stop", lambda self: None)
    flat_fixtures(tmp_path / "in", limit=3)
    outcomes = tmp_path / "outcomes.parquet"

    result = CliRunner().invoke(
        main,
        [
            str(tmp_path / "in"),
            "--out-dir",
            str(tmp_path / "out"),
            "--history",
            "memory:",
            "--jobs",
            "2",
            "--outcomes",
            str(outcomes),
        ],
    )

    assert result.exit_code == 1, result.output  # CLM001-fires rejects its claim
    assert "claims rejected" in result.stdout and "(2 jobs)" in result.stdout
    assert spark.read.parquet(str(outcomes)).count() == 3
    assert len(list((tmp_path / "out").glob("*.report.json"))) == 3


def test_spark_submit_refuses_sqlite_on_a_cluster_master(
    spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import edi_guard.spark as spark_module
    from edi_guard.spark_submit import main

    monkeypatch.setattr(SparkSession, "stop", lambda self: None)
    monkeypatch.setattr(spark_module, "is_local_master", lambda master: False)
    flat_fixtures(tmp_path / "in", limit=1)

    result = CliRunner().invoke(
        main, [str(tmp_path / "in"), "--out-dir", str(tmp_path / "out"), "--history", "sqlite:///h"]
    )

    assert result.exit_code == 2
    assert "must be PostgreSQL" in result.output
    assert not (tmp_path / "out").exists()
