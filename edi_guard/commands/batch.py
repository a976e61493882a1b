"""``edi-guard batch``: ``fix`` over many files in parallel, with a progress bar and a table."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

import click

from edi_guard import logs
from edi_guard.batch import BatchOptions, BatchResult, FileReport, discover, run_batch
from edi_guard.errors import EdiGuardError

USAGE_ERROR = 2
SHOWN_FAILURES = 20


def default_jobs() -> int:
    """The CPUs this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for NAME.837, NAME.277, NAME.999, NAME.ta1 and NAME.report.*",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Files processed at once (worker processes); default: the CPUs available.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Policy file (JSON or TOML); defaults ship in schemas/policy.defaults.json.",
)
@click.option(
    "--history",
    "history_url",
    metavar="URL",
    help="History store: sqlite:///PATH, postgresql://USER@HOST/DB or memory:.",
)
@click.option("--log-format", type=click.Choice(["json", "console"]), default="console")
@click.option("--verbose", "-v", is_flag=True, help="Log one event per file (file_processed).")
def batch(
    inputs: tuple[str, ...],
    out_dir: Path,
    jobs: int | None,
    policy_path: Path | None,
    history_url: str | None,
    log_format: str,
    verbose: bool,
) -> None:
    """Check and correct every file in each DIR_OR_GLOB, several at a time.

    Each INPUT is a directory (its files, not recursive), a glob pattern (quote it; ** recurses)
    or a file. Outputs are the same as ``edi-guard fix`` writes; a file that cannot be read does
    not stop the others. Exit code 0 when nothing was rejected, 1 when a claim, transaction set
    or interchange was, 2 for usage errors or when a file could not be processed.
    """
    level = logging.INFO if verbose else logging.WARNING
    fmt: Literal["json", "console"] = "json" if log_format == "json" else "console"
    logs.configure(fmt, level=level)
    try:
        sources = discover(inputs)
    except EdiGuardError as error:
        raise click.UsageError(str(error)) from None
    options = BatchOptions(
        out_dir=str(out_dir),
        policy_path=str(policy_path) if policy_path else None,
        history_url=history_url,
        log_format=fmt,
        log_level=level,
    )
    workers = jobs or default_jobs()
    show_bar = sys.stderr.isatty()
    bar: Any = (
        click.progressbar(length=len(sources), label="files", file=sys.stderr, show_pos=True)
        if show_bar
        else nullcontext()
    )
    with bar:
        step: Callable[[FileReport], None] = (
            (lambda _report: bar.update(1)) if show_bar else (lambda _report: None)
        )
        try:
            result = run_batch(sources, options, jobs=workers, on_report=step)
        except EdiGuardError as error:
            raise click.UsageError(str(error)) from None
    click.echo(summary_table(result))
    failures = [report for report in result.reports if report.failed]
    for report in failures[:SHOWN_FAILURES]:
        click.echo(f"{report.source}: {report.error}", err=True)
    if len(failures) > SHOWN_FAILURES:
        click.echo(f"... and {len(failures) - SHOWN_FAILURES} more failed files", err=True)
    raise SystemExit(result.exit_code)


def summary_table(result: BatchResult) -> str:
    """The totals of a batch as an aligned two-column table."""
    totals = result.totals
    rows: Sequence[tuple[str, str]] = (
        ("files", f"{totals.files}"),
        ("files failed", f"{totals.failed}"),
        ("claims in", f"{totals.claims_in}"),
        ("claims accepted", f"{totals.claims_accepted}"),
        ("claims corrected", f"{totals.claims_corrected}"),
        ("claims rejected", f"{totals.claims_rejected}"),
        ("charges in", f"${totals.charge_in:,.2f}"),
        ("charges out", f"${totals.charge_out:,.2f}"),
        ("charges rejected", f"${totals.charge_rejected:,.2f}"),
        ("charges dropped", f"${totals.charge_dropped:,.2f}"),
        ("sets rejected", f"{totals.sets_rejected}"),
        ("interchanges rejected", f"{totals.interchanges_rejected}"),
        ("seconds", f"{result.seconds:.1f} ({result.jobs} jobs)"),
    )
    width = max(len(label) for label, _ in rows)
    value_width = max(len(value) for _, value in rows)
    rule = "-" * (width + 2 + value_width)
    lines = [rule, *(f"{label:<{width}}  {value:>{value_width}}" for label, value in rows), rule]
    return "\n".join(lines)
