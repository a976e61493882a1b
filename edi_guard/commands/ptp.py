"""``edi-guard ptp import``: load the CMS quarterly practitioner PTP file into a table.

The shipped table holds only the pairs the public record supports, each marked "verify".
The real file replaces it: ``import`` validates every row (codes, dates, modifier
indicator), keeps the edits that involve a TPI code, and writes a JSON table that a policy
names with ``ptp_table``.
"""

from __future__ import annotations

from pathlib import Path

import click

from edi_guard.errors import EdiGuardError
from edi_guard.ptp import import_cms_file, install

TPI_CODES = frozenset({"20552", "20553"})


@click.group()
def ptp() -> None:
    """The NCCI procedure-to-procedure table used by TPI019."""


@ptp.command("import")
@click.argument("cms_file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--out",
    "destination",
    required=True,
    type=click.Path(path_type=Path),
    help="Where to write the table (a .json file, or a directory that receives ptp.json).",
)
@click.option("--all-codes", is_flag=True, help="Keep every pair, not only those with a TPI code.")
def import_command(cms_file: Path, destination: Path, all_codes: bool) -> None:
    """Validate CMS_FILE (tab-delimited PTP file) and write it as a policy PTP table."""
    try:
        table = import_cms_file(cms_file, involving=None if all_codes else TPI_CODES)
        written = install(table, destination)
    except EdiGuardError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    click.echo(f"{len(table)} PTP edits from {cms_file.name} written to {written}")
    click.echo(f'Name it in a policy file: ptp_table = "{written}"')
