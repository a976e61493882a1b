"""``edi-guard fix``: the corrected 837P, the 277CA, the 999/TA1 and the reports."""

from __future__ import annotations

from pathlib import Path

import click

from edi_guard import logs
from edi_guard.api import process
from edi_guard.commands.history import history_option
from edi_guard.commands.limits import limits_from, limits_options
from edi_guard.errors import EdiGuardError
from edi_guard.history.store import HistoryStore, open_store
from edi_guard.limits import Limits
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable
from edi_guard.ptp import load as load_ptp

USAGE_ERROR = 2


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out-dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for NAME.837, NAME.277, NAME.999, NAME.ta1 and NAME.report.*",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Policy file (JSON or TOML); defaults ship in schemas/policy.defaults.json.",
)
@history_option
@click.option(
    "--force",
    is_flag=True,
    help="Process interchanges already accepted before (by sender and ISA13) instead of "
    "answering them with a duplicate TA1.",
)
@click.option("--log-format", type=click.Choice(["json", "console"]), default="console")
@limits_options
def fix(
    inputs: tuple[Path, ...],
    out_dir: Path,
    policy_path: Path | None,
    url: str | None,
    force: bool,
    log_format: str,
    **caps: int,
) -> None:
    """Check and correct each INPUT; write what may go out and what was held back.

    Exit code 0 when nothing was rejected, 1 when a claim, transaction set or interchange
    was, 2 for usage errors or unreadable input.
    """
    logs.configure("json" if log_format == "json" else "console")
    try:
        limits = limits_from(caps)
    except EdiGuardError as error:
        raise click.UsageError(str(error)) from None
    try:
        policy = Policy.load(policy_path)
    except EdiGuardError as error:
        raise click.UsageError(str(error)) from None
    ptp = load_ptp(policy.ptp_table)
    try:
        history: HistoryStore = open_store(url)
    except EdiGuardError as error:
        click.echo(f"edi-guard fix: {error}", err=True)
        raise SystemExit(USAGE_ERROR) from None
    try:
        exit_code = _fix_all(inputs, out_dir, policy, ptp, history, force=force, limits=limits)
    finally:
        history.close()
    raise SystemExit(exit_code)


def _fix_all(
    inputs: tuple[Path, ...],
    out_dir: Path,
    policy: Policy,
    ptp: PtpTable,
    history: HistoryStore,
    *,
    force: bool,
    limits: Limits,
) -> int:
    exit_code = 0
    for path in inputs:
        try:
            result = process(
                path,
                out_dir=out_dir,
                policy=policy,
                ptp=ptp,
                history=history,
                force=force,
                limits=limits,
            )
        except EdiGuardError as error:
            click.echo(f"{path}: {error}", err=True)
            exit_code = USAGE_ERROR
            continue
        summary = result.summary
        click.echo(
            f"{result.file}: {summary.claims_in} claims: {summary.claims_accepted} accepted, "
            f"{summary.claims_corrected} corrected, {summary.claims_rejected} rejected; "
            f"${summary.charge_out} out of ${summary.charge_in}"
        )
        for message in result.messages[:5]:
            click.echo(f"  {message}")
        for written in result.written:
            click.echo(f"  wrote {written}")
        if exit_code != USAGE_ERROR:
            exit_code = max(exit_code, result.exit_code)
    return exit_code
