"""``spark-submit`` entry point: ``edi-guard batch`` on a Spark cluster.

    spark-submit --master yarn edi_guard/spark_submit.py \\
        's3://claims/in/2026-08-15/*.x12' --out-dir s3://claims/out/2026-08-15 \\
        --history postgresql://edi_guard@db.internal/edi_guard

(or ``python -m edi_guard.spark ...`` where a SparkSession can be created locally). Options
are those of ``edi-guard batch``; ``--jobs`` is the number of partitions the file list is
cut into, and ``--outcomes`` writes the claim outcomes DataFrame as Parquet. See
docs/spark.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import click

from edi_guard import logs
from edi_guard.commands.batch import SHOWN_FAILURES, summary_table
from edi_guard.errors import EdiGuardError


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out-dir",
    required=True,
    help="Directory (local/shared path, file: URL or fsspec URL) for NAME.837 ... NAME.report.*",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Partitions of the file list; default: 4 per default parallelism (at most one a file).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Policy file, readable at the same path on every executor.",
)
@click.option(
    "--history",
    "history_url",
    metavar="URL",
    help="History store; on a cluster it must be postgresql://USER@HOST/DATABASE.",
)
@click.option(
    "--outcomes",
    metavar="PATH",
    help="Also write the claim outcomes DataFrame as Parquet here (any Hadoop path).",
)
@click.option("--log-format", type=click.Choice(["json", "console"]), default="console")
@click.option("--verbose", "-v", is_flag=True, help="Log one event per file (file_processed).")
def main(
    inputs: tuple[str, ...],
    out_dir: str,
    jobs: int | None,
    policy_path: Path | None,
    history_url: str | None,
    outcomes: str | None,
    log_format: str,
    verbose: bool,
) -> None:
    """Check and correct every file of each INPUT (file, directory or glob) on Spark.

    Exit code 0 when nothing was rejected, 1 when a claim, transaction set or interchange
    was, 2 for usage errors or when a file could not be processed.
    """
    fmt: Literal["json", "console"] = "json" if log_format == "json" else "console"
    logs.configure(fmt, level=logging.INFO if verbose else logging.WARNING)
    from pyspark.sql import SparkSession

    from edi_guard.spark import run

    spark = SparkSession.builder.appName("edi-guard").getOrCreate()
    try:
        try:
            result = run(
                spark,
                list(inputs),
                out_dir,
                policy_path=str(policy_path) if policy_path else None,
                history_url=history_url,
                partitions=jobs,
            )
        except EdiGuardError as error:
            raise click.UsageError(str(error)) from None
        if outcomes:
            result.claims.write.mode("overwrite").parquet(outcomes)
        click.echo(summary_table(result.as_batch()))
        failures = [report for report in result.files if report.failed]
        for report in failures[:SHOWN_FAILURES]:
            click.echo(f"{report.source}: {report.error}", err=True)
        if len(failures) > SHOWN_FAILURES:
            click.echo(f"... and {len(failures) - SHOWN_FAILURES} more failed files", err=True)
    finally:
        spark.stop()
    raise SystemExit(result.exit_code)


if __name__ == "__main__":
    main()
