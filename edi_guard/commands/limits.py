"""The input caps (``edi_guard.limits``) as command options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from edi_guard.limits import DEFAULT_LIMITS, Limits

F = TypeVar("F", bound=Callable[..., Any])

_CAPS = (
    ("max_claims_per_file", "CLM segments in one input (TA1 R 024 beyond)"),
    ("max_segments_per_set", "segments from ST to SE (999 IK5 R beyond)"),
    ("max_segment_bytes", "bytes of one segment (TA1 R 024 beyond)"),
    ("max_element_bytes", "bytes of one element (TA1 R 024 beyond)"),
)


def limits_options(command: F) -> F:
    """Add ``--max-claims-per-file`` and the other caps; the command receives ``limits``."""
    for name, help_text in reversed(_CAPS):
        command = click.option(
            "--" + name.replace("_", "-"),
            name,
            type=click.IntRange(min=1),
            default=getattr(DEFAULT_LIMITS, name),
            show_default=True,
            help=help_text,
        )(command)
    return command


def limits_from(options: dict[str, Any]) -> Limits:
    """Take the cap options out of a command's keyword arguments, as one ``Limits``."""
    return Limits(**{name: options.pop(name) for name, _ in _CAPS})
