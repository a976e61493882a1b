"""``edi_guard.process`` on Spark executors, and the claim outcomes as a DataFrame.

:func:`run` (or :func:`process_files` for just the DataFrame) lists the inputs on the
driver, distributes the *paths* (never the contents) with ``sc.parallelize(jobs, slices)``,
and on each executor streams every file from its filesystem into the same pipeline as
``edi-guard fix``, writing ``NAME.837``, ``NAME.277``, ``NAME.999``, ``NAME.ta1`` and
``NAME.report.*`` to the output directory. Each claim outcome becomes one small row, so a
file of a million claims is a million rows, never one huge row.

Filesystems: Python workers have no JVM, so executors cannot use Hadoop's FileSystem.
Local paths, ``file:`` URLs and shared mounts (NFS) are opened directly, outputs renamed into
place atomically; any other scheme goes through fsspec (``pip install 'edi-guard[spark]'``
plus the filesystem's package: s3fs for ``s3://``/``s3a://``, gcsfs, adlfs, pyarrow for
``hdfs://``). On a cluster a local path must name the same shared directory on every node.

History: on a cluster the history store must be PostgreSQL (:func:`check_history`); a
SQLite file or ``memory:`` would give each executor its own history, so a beneficiary's
fourth session could go unnoticed because the first three were decided elsewhere.

The claims DataFrame (:data:`CLAIM_SCHEMA`) holds what the JSON reports hold per claim,
identity limited to CLM01 (the submitter's own claim id) as in the reports.
"""

from __future__ import annotations

import pickle
import re
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from edi_guard.batch import (
    BatchOptions,
    BatchResult,
    BatchTotals,
    FileJob,
    FileReport,
    Worker,
    check_distinct_stems,
    discover,
    local_path,
    remote_filesystem,
)
from edi_guard.errors import EdiGuardError
from edi_guard.outcome import ClaimOutcome
from edi_guard.reports._records import claim_record

try:
    from pyspark import StorageLevel
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import (
        ArrayType,
        BooleanType,
        DecimalType,
        IntegerType,
        StringType,
        StructField,
        StructType,
    )
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError("edi_guard.spark needs pyspark: pip install 'edi-guard[spark]'") from error

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_LOCAL_MASTER = re.compile(r"^local(\[[^\]]*\])?$")
_GLOB_CHARS = frozenset("*?[")

MONEY = DecimalType(18, 2)
"""X12 monetary amounts (R, at most 2 decimals in 005010X222A1): 16 digits before the point."""

CLAIM_SCHEMA = StructType(
    [
        StructField("file", StringType(), False),
        StructField("source", StringType(), False),
        StructField("position", IntegerType(), False),
        StructField("claim_id", StringType(), False),
        StructField("st_control", StringType(), False),
        StructField("status", StringType(), False),
        StructField("rule_codes", ArrayType(StringType(), False), False),
        StructField("charge_in", MONEY, False),
        StructField("charge_out", MONEY, False),
        StructField("charge_dropped", MONEY, False),
        StructField("place_of_service", StringType(), False),
        StructField("is_tpi", BooleanType(), False),
        StructField("structure_rejected", BooleanType(), False),
    ]
)
"""One row per claim outcome; ``file`` is the input's name as the reports give it, ``source``
its full path or URL. ``status`` and ``rule_codes`` are the JSON report's: a claim of a
transaction set rejected in the 999 is ``rejected`` with rule ``X12``; ``rule_codes`` lists
each rule that made a finding once, in the order of the findings."""

ClaimRow = tuple[
    str, str, int, str, str, str, list[str], Decimal, Decimal, Decimal, str, bool, bool
]


def claim_row(outcome: ClaimOutcome, *, file: str, source: str) -> ClaimRow:
    """The DataFrame row of one claim outcome, derived as the JSON report derives its record."""
    record = claim_record(outcome, None)
    codes = list(dict.fromkeys(finding["rule"] for finding in record["findings"]))
    return (
        file,
        source,
        record["position"],
        record["claim_id"],
        record["st_control"],
        record["status"],
        codes,
        Decimal(record["charge_in"]),
        Decimal(record["charge_out"]),
        Decimal(record["charge_dropped"]),
        record["place_of_service"],
        record["is_tpi"],
        record["structure_rejected"],
    )


# The driver ------------------------------------------------------------------------------


def is_local_master(master: str) -> bool:
    """``local``, ``local[N]``, ``local[*]``, ``local[N,F]``: everything in one JVM."""
    return _LOCAL_MASTER.match(master.strip()) is not None


def check_history(master: str, history_url: str | None) -> None:
    """Refuse a history store that executors on several machines cannot share."""
    if is_local_master(master):
        return
    url = (history_url or "").strip()
    if url.startswith(POSTGRES_SCHEMES):
        return
    given = (
        "no --history was given (the default is a SQLite file on each executor)"
        if not url
        else f"--history is {url.split(':', 1)[0]}:"
    )
    raise EdiGuardError(
        f"on a cluster (Spark master {master!r}) the history store must be PostgreSQL, "
        f"but {given}: executors on different machines would each keep their own history "
        "and miss each other's TPI sessions. Pass --history postgresql://USER@HOST/DATABASE "
        "(or run with a local[N] master)."
    )


def list_inputs(inputs: Iterable[str]) -> list[str]:
    """Input files named by paths, directories or globs; local ones made absolute,
    others (fsspec URLs) listed through fsspec. Sorted, without duplicates."""
    found: set[str] = set()
    for spec in inputs:
        path = local_path(spec)
        if path is not None:
            found.update(str(Path(hit).resolve()) for hit in discover([path]))
            continue
        fs, root = remote_filesystem(spec)
        if _GLOB_CHARS.intersection(root):
            hits = [hit for hit in fs.glob(root) if fs.isfile(hit)]
        elif fs.isdir(root):
            hits = [
                entry["name"]
                for entry in fs.ls(root, detail=True)
                if entry["type"] == "file" and not entry["name"].rsplit("/", 1)[-1].startswith(".")
            ]
        elif fs.isfile(root):
            hits = [root]
        else:
            raise EdiGuardError(f"{spec}: no such file or directory")
        if not hits:
            raise EdiGuardError(f"{spec}: no input files there")
        found.update(fs.unstrip_protocol(hit) for hit in hits)
    return sorted(found)


@dataclass(frozen=True)
class SparkResult:
    claims: DataFrame
    """One row per claim outcome (:data:`CLAIM_SCHEMA`), computed once and checkpointed."""
    files: tuple[FileReport, ...]
    """One report per input, in input order."""
    seconds: float
    partitions: int
    totals: BatchTotals = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", BatchTotals.of(self.files))

    def as_batch(self) -> BatchResult:
        """The same shape as ``edi-guard batch`` returns (for its summary table)."""
        return BatchResult(self.files, self.seconds, self.partitions)

    @property
    def exit_code(self) -> int:
        return self.as_batch().exit_code


def run(
    spark: SparkSession,
    inputs: Sequence[str],
    out_dir: str,
    *,
    policy_path: str | None = None,
    history_url: str | None = None,
    now: datetime | None = None,
    control_start: int | None = None,
    partitions: int | None = None,
) -> SparkResult:
    """Process every input on the executors; write the outputs to ``out_dir``.

    ``inputs`` are files, directories or glob patterns, local or fsspec URLs. Each file is
    processed exactly as ``edi-guard fix`` does, against the history store ``history_url``
    names. Control numbers are process()'s (kept in the history store) unless
    ``control_start`` is given: then file ``i`` takes a block from ``control_start +
    1000 * i``, so ``now`` plus ``control_start`` make a run reproducible. ``partitions``
    defaults to 4 per default parallelism (capped at the number of files). Raises
    EdiGuardError before any work for bad options; failures of single files are in
    ``files`` (``error``) and do not stop the others.
    """
    started = time.monotonic()
    context = spark.sparkContext
    check_history(context.master or "local", history_url)
    sources = list_inputs(inputs)
    check_distinct_stems(sources)
    target = local_path(out_dir)
    options = BatchOptions(
        out_dir=str(target.resolve()) if target is not None else out_dir,
        policy_path=str(Path(policy_path).resolve()) if policy_path else None,
        history_url=history_url,
        now=now,
        control_start=control_start,
        # The executors' cores are Spark's to hand out: no second process per file.
        parallel=False,
    )
    # The policy and the history store are checked here, once, on the driver.
    Worker(options).close()
    slices = max(1, min(len(sources), partitions or 4 * context.defaultParallelism))
    results = (
        context.parallelize(list(enumerate(sources)), slices)
        .mapPartitions(partial(process_partition, options))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        files = sorted(
            results.filter(_is_file).map(_payload).collect(), key=lambda report: report.index
        )
        claims = spark.createDataFrame(
            results.filter(_is_claim).map(_payload), CLAIM_SCHEMA
        ).localCheckpoint(eager=True)
    finally:
        results.unpersist()
    return SparkResult(claims, tuple(files), time.monotonic() - started, slices)


def process_files(
    spark: SparkSession,
    inputs: Sequence[str],
    out_dir: str,
    **options: Any,
) -> DataFrame:
    """:func:`run`, returning only the claim outcomes DataFrame."""
    return run(spark, inputs, out_dir, **options).claims


def _is_file(item: tuple[str, Any]) -> bool:
    return item[0] == "file"


def _is_claim(item: tuple[str, Any]) -> bool:
    return item[0] == "claim"


def _payload(item: tuple[str, Any]) -> Any:
    return item[1]


# The executors ---------------------------------------------------------------------------


def process_partition(
    options: BatchOptions, jobs: Iterable[tuple[int, str]]
) -> Iterator[tuple[str, Any]]:
    """Process the partition's files one after another, on the executor.

    Yields ``("file", FileReport)`` per input, then ``("claim", ClaimRow)`` per claim of it.
    Rows wait in a local spool file while their input is processed, so executor memory does
    not grow with the number of claims in a file. A file that failed yields no claims: it
    wrote no outputs either.
    """
    with Worker(options) as worker:
        yield from _process_files(worker, jobs)


def _process_files(worker: Worker, jobs: Iterable[tuple[int, str]]) -> Iterator[tuple[str, Any]]:
    for index, source in jobs:
        name = source.rstrip("/").rsplit("/", 1)[-1]
        with tempfile.TemporaryFile(prefix="edi-guard-claims-") as spool:

            def keep(
                outcome: ClaimOutcome, spool: Any = spool, name: str = name, source: str = source
            ) -> None:
                pickle.dump(
                    claim_row(outcome, file=name, source=source),
                    spool,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )

            report = worker.run(FileJob(index, source), on_claim=keep)
            yield ("file", report)
            if report.failed:
                continue
            spool.seek(0)
            while True:
                try:
                    row = pickle.load(spool)  # our own spool, written just above
                except EOFError:
                    break
                yield ("claim", row)


if __name__ == "__main__":
    from edi_guard.spark_submit import main

    main()
