"""``edi-guard check FILE...``: validate 837P files against 005010X222A1 (pyx12's rules).

Prints a summary per transaction set (accepted, accepted with errors, rejected) with the
first errors located by segment number and element; ``--json`` prints the same for machines;
``--999 PATH`` writes the 999 (and, when an interchange needs one, a TA1 to PATH.ta1).
Exit code: 0 when everything is accepted, 1 when anything is rejected, 2 for usage errors or
unreadable files. Messages never show element values (they may be patient data).
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from edi_guard.acks import write_999, write_ta1
from edi_guard.validate.api import validate_file
from edi_guard.validate.model import (
    Finding,
    InterchangeVerdict,
    SetVerdict,
    StructureError,
    ValidationResult,
)

ACCEPTED, REJECTED, USAGE = 0, 1, 2
STATUS_WORDS = {
    "A": "accepted",
    "E": "accepted with errors",
    "R": "rejected",
    "P": "partially accepted",
}


def _error_json(error: StructureError) -> dict[str, Any]:
    return {
        "level": error.level,
        "code": error.code,
        "ik3": error.ik3_code,
        "ik4": error.ik4_code,
        "segment": error.position,
        "segment_in_set": error.position_in_set,
        "segment_id": error.segment_id,
        "loop": error.loop_id,
        "element": error.element,
        "message": error.message,
    }


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "check": finding.check,
        "segment": finding.position,
        "segment_in_set": finding.position_in_set,
        "segment_id": finding.segment_id,
        "element": finding.element,
        "message": finding.message,
    }


def _file_status(result: ValidationResult) -> str:
    if result.rejected:
        return "rejected"
    return "accepted" if result.accepted else "accepted with errors"


def result_json(path: Path, result: ValidationResult) -> dict[str, Any]:
    return {
        "file": str(path),
        "status": _file_status(result),
        "fatal": result.fatal,
        "segments": result.segments,
        "interchanges": [
            {
                "control": i.isa_control,
                "status": STATUS_WORDS[i.status],
                "ta1_note": i.ta1_note,
                "errors": [_error_json(e) for e in i.errors],
                "groups": [
                    {
                        "control": g.gs_control,
                        "version": g.version,
                        "status": STATUS_WORDS.get(g.status, g.status),
                        "ak9_codes": list(g.ak9_codes),
                        "errors": [_error_json(e) for e in g.errors],
                        "sets": [_set_json(s) for s in g.sets],
                    }
                    for g in i.groups
                ],
            }
            for i in result.interchanges
        ],
    }


def _set_json(verdict: SetVerdict) -> dict[str, Any]:
    return {
        "control": verdict.st_control,
        "status": STATUS_WORDS[verdict.status],
        "first_segment": verdict.first_position,
        "last_segment": verdict.last_position,
        "error_count": verdict.error_count,
        "ik5_codes": list(verdict.ik5_codes),
        "errors": [_error_json(e) for e in verdict.errors],
        "finding_count": verdict.finding_count,
        "findings": [_finding_json(f) for f in verdict.findings],
    }


def _describe(error: StructureError) -> str:
    where = f"segment {error.position}"
    if error.segment_id:
        where += f" ({error.segment_id}"
        where += f", loop {error.loop_id})" if error.loop_id else ")"
    if error.element:
        where += f" {error.element}"
    code = (
        f"IK4 {error.ik4_code}"
        if error.ik4_code
        else (f"IK3 {error.ik3_code}" if error.ik3_code else f"code {error.code}")
    )
    return f"{where}: {error.message} [{code}]"


def summary_lines(path: Path, result: ValidationResult, shown: int) -> list[str]:
    lines = [f"{path}: {_file_status(result)}"]
    if result.fatal:
        lines.append(f"  not readable as X12: {result.fatal}")
    for interchange in result.interchanges:
        lines += _interchange_lines(interchange, shown)
    return lines


def _interchange_lines(interchange: InterchangeVerdict, shown: int) -> list[str]:
    lines = [f"  interchange {interchange.isa_control}: {STATUS_WORDS[interchange.status]}"]
    for error in interchange.errors[:shown]:
        lines.append(f"    {_describe(error)} [TA1 {error.code}]")
    for group in interchange.groups:
        accepted = group.st_count_accepted
        word = STATUS_WORDS.get(group.status, group.status)
        lines.append(
            f"    group {group.gs_control} ({group.version}): {word},"
            f" {accepted} of {len(group.sets)} transaction sets accepted"
        )
        for error in group.errors[:shown]:
            lines.append(f"      {_describe(error)}")
        for verdict in group.sets:
            count = f", {verdict.error_count} errors" if verdict.error_count else ""
            lines.append(
                f"      set {verdict.st_control} (segments {verdict.first_position}-"
                f"{verdict.last_position}): {STATUS_WORDS[verdict.status]}{count}"
            )
            for error in verdict.errors[:shown]:
                lines.append(f"        {_describe(error)}")
            if verdict.error_count > shown:
                lines.append(f"        ... and {verdict.error_count - shown} more")
            for finding in verdict.findings[:shown]:
                lines.append(
                    f"        note {finding.check}: segment {finding.position} "
                    f"{finding.element or finding.segment_id}: {finding.message}"
                )
    return lines


def _ack_paths(target: Path, source: Path, several: bool) -> tuple[Path, Path]:
    if target.is_dir():
        base = target / source.name
        return base.with_name(base.name + ".999"), base.with_name(base.name + ".ta1")
    if several:
        raise click.UsageError("--999 with several files needs an existing directory")
    return target, target.with_name(target.name + ".ta1")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON report instead of text.")
@click.option(
    "--999",
    "ack_path",
    type=click.Path(path_type=Path),
    help="Write the 999 here (a directory: FILE.999 per file); a TA1, when needed, to PATH.ta1.",
)
@click.option(
    "--control-number",
    default=1,
    show_default=True,
    type=click.IntRange(1, 999_999_999),
    help="ISA13/GS06 of the acknowledgements written (increments per file).",
)
@click.option(
    "--errors",
    "shown",
    default=5,
    show_default=True,
    type=click.IntRange(0, 1000),
    help="How many errors to show per transaction set.",
)
def check(
    files: tuple[Path, ...], as_json: bool, ack_path: Path | None, control_number: int, shown: int
) -> None:
    """Validate each FILE (X12 837P, 005010X222A1) the way pyx12 does, much faster.

    Exit code 0 when everything is accepted, 1 when anything is rejected, 2 for usage
    errors or unreadable files.
    """
    reports: list[dict[str, Any]] = []
    worst = ACCEPTED
    now = datetime.now()
    for number, path in enumerate(files):
        try:
            result = validate_file(path)
        except OSError as exc:
            click.echo(f"{path}: cannot read: {exc.strerror or exc}", err=True)
            worst = USAGE
            continue
        if result.rejected and worst == ACCEPTED:
            worst = REJECTED
        if ack_path is not None:
            worst = max(
                worst,
                _write_acks(
                    ack_path, path, result, control_number + number * 2, now, len(files) > 1
                ),
            )
        if as_json:
            reports.append(result_json(path, result))
        else:
            click.echo("\n".join(summary_lines(path, result, shown)))
    if as_json:
        json.dump(reports, sys.stdout, indent=2)
        sys.stdout.write("\n")
    sys.exit(worst)


def _write_acks(
    target: Path, path: Path, result: ValidationResult, control: int, now: datetime, several: bool
) -> int:
    ack, ta1 = _ack_paths(target, path, several)
    try:
        if result.interchanges and any(i.groups for i in result.interchanges):
            ack.write_bytes(write_999(result, control_number=control, now=now))
        needing = [i for i in result.interchanges if i.needs_ta1]
        if needing or not result.interchanges:
            chunks = [write_ta1(i, control_number=control + 1, now=now) for i in needing]
            if not result.interchanges:
                chunks = [write_ta1(None, control_number=control + 1, now=now)]
            ta1.write_bytes(b"".join(chunks))
    except OSError as exc:
        click.echo(f"{target}: cannot write: {exc.strerror or exc}", err=True)
        return USAGE
    return ACCEPTED
