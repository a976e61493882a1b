"""``edi-guard watch``: process 837P files as they land in an SFTP drop folder."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edi_guard import logs
from edi_guard.errors import EdiGuardError
from edi_guard.watch import status as status_file
from edi_guard.watch.service import Service, Settings, open_history

STATE_DIR_NAME = ".edi-guard"


def _positive(_ctx: click.Context, _param: click.Parameter, value: float) -> float:
    if value <= 0:
        raise click.BadParameter("must be more than 0")
    return value


@click.command()
@click.argument(
    "inbox", type=click.Path(file_okay=False, exists=True, path_type=Path, resolve_path=True)
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path, resolve_path=True),
    help="Directory for NAME.837, NAME.277, NAME.999, NAME.ta1 and NAME.report.* (as fix).",
)
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(file_okay=False, path_type=Path, resolve_path=True),
    help="Where originals go once processed (default STATE_DIR/archive).",
)
@click.option(
    "--error",
    "error_dir",
    type=click.Path(file_okay=False, path_type=Path, resolve_path=True),
    help="Where files that cannot be processed go, each with NAME.reason.txt "
    "(default STATE_DIR/error).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path, resolve_path=True),
    help=f"Claims, the hash ledger and status files (default INBOX/{STATE_DIR_NAME}); on the "
    "inbox's file system, and shared by every watcher of the inbox.",
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--history",
    "history_url",
    help="History store URL (sqlite:///PATH or postgresql://...) for TPI009/TPI010 across files.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path, resolve_path=True),
    help="Policy file (JSON or TOML); defaults ship in schemas/policy.defaults.json.",
)
@click.option(
    "--marker",
    metavar="SUFFIX",
    help="Marker mode: NAME is ready when NAME+SUFFIX (e.g. .done) appears.",
)
@click.option(
    "--quiet-seconds",
    type=float,
    default=10.0,
    show_default=True,
    callback=_positive,
    help="How long a file's size must stay unchanged before it is checked.",
)
@click.option(
    "--rescan-seconds",
    type=float,
    default=30.0,
    show_default=True,
    callback=_positive,
    help="How often the inbox is listed, whatever the file events said.",
)
@click.option(
    "--incomplete-timeout",
    type=float,
    default=3600.0,
    show_default=True,
    callback=_positive,
    help="How long an unchanged but incomplete file waits before going to the error folder.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Starts of one file (crashes included) before it is treated as poison.",
)
@click.option("--log-format", type=click.Choice(["json", "console"]), default="json")
@click.option("--status", "show_status", is_flag=True, help="Print the watchers' status and exit.")
def watch(
    inbox: Path,
    out_dir: Path | None,
    archive_dir: Path | None,
    error_dir: Path | None,
    state_dir: Path | None,
    workers: int,
    history_url: str | None,
    policy_path: Path | None,
    marker: str | None,
    quiet_seconds: float,
    rescan_seconds: float,
    incomplete_timeout: float,
    max_attempts: int,
    log_format: str,
    show_status: bool,
) -> None:
    """Watch INBOX (an SFTP drop folder) and process each 837P file once it is complete.

    A file is taken when its name is final (not .filepart, .part, .tmp or hidden), its size
    has been still for --quiet-seconds and its last IEA closes its ISA (or, with --marker,
    when its marker appears). It is claimed by an atomic rename, processed like `edi-guard
    fix`, and moved to the archive; the same content dropped again is archived as a
    duplicate. Stops cleanly on SIGTERM after the files in hand.
    """
    state = state_dir or inbox / STATE_DIR_NAME
    if show_status:
        click.echo(json.dumps(status_file.report(state), indent=2, sort_keys=True))
        return
    if out_dir is None:
        raise click.UsageError("Missing option '--out-dir'.")
    if marker is not None and not marker.strip("."):
        raise click.BadParameter("needs a suffix such as .done", param_hint="--marker")
    logs.configure("json" if log_format == "json" else "console")
    settings = Settings(
        inbox=inbox,
        out_dir=out_dir,
        state_dir=state,
        archive_dir=archive_dir or state / "archive",
        error_dir=error_dir or state / "error",
        workers=workers,
        policy_path=policy_path,
        history_url=history_url,
        marker=marker,
        quiet_seconds=quiet_seconds,
        rescan_seconds=rescan_seconds,
        incomplete_timeout=incomplete_timeout,
        max_attempts=max_attempts,
        log_format="json" if log_format == "json" else "console",
    )
    try:
        _check_startup(settings)
        code = Service(settings).run()
    except EdiGuardError as error:
        raise click.UsageError(str(error)) from None
    raise SystemExit(code)


def _check_startup(settings: Settings) -> None:
    """Refuse at once what every worker would refuse later: a bad policy or history URL."""
    from edi_guard.policy import Policy

    Policy.load(settings.policy_path)
    history = open_history(settings.history_url)
    close = getattr(history, "close", None)
    if callable(close):
        close()


if __name__ == "__main__":
    watch()
