"""Subcommands of ``edi-guard``, one module each."""

from __future__ import annotations

import importlib

import click

# module name -> command object name. Listed explicitly so the CLI's surface is visible here.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("batch", "batch"),
    ("check", "check"),
    ("fix", "fix"),
    ("history", "history"),
    ("ptp", "ptp"),
    ("watch", "watch"),
)


def register(group: click.Group) -> None:
    for module_name, attribute in COMMANDS:
        module = importlib.import_module(f"edi_guard.commands.{module_name}")
        group.add_command(getattr(module, attribute))
