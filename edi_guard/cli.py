"""The ``edi-guard`` command: a thin adapter over the library.

Each subcommand lives in its own module under ``edi_guard.commands``; this file only wires
them into one group. Exit codes: 0 all accepted, 1 something rejected, 2 usage errors or
unreadable input.
"""

from __future__ import annotations

import click

from edi_guard.commands import register


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="edi-guard")
def cli() -> None:
    """Check and correct X12 837P claims for trigger point injections before they go out."""


register(cli)


def main() -> None:
    cli()
