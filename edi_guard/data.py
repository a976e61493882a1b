"""Find and read the data files in ``schemas/``.

The vocabularies, fees, PTP table and policy defaults are data, not code (rules.md), so
they live in a top-level ``schemas/`` directory beside the package (design card), reached
through the link ``edi_guard/_schemas`` (a wheel holds the files there). A missing or
unreadable file is an :class:`EdiGuardError` that names the file: a rule must never run on a
silently empty vocabulary.

JSON Schema errors are turned into messages that name the key path (``payers.12502.x``)
and, where the schema knows them, the allowed keys or values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs in the test extra (types-jsonschema)

from edi_guard.errors import EdiGuardError


class DataFileError(EdiGuardError):
    """A shipped or user-supplied data file is missing, not JSON, or fails its schema."""


def schemas_dir() -> Path:
    """The ``schemas/`` directory.

    ``edi_guard/_schemas`` is a link to the top-level ``schemas/`` in a checkout (and in an
    editable install); a wheel carries the files themselves under that name, so executors and
    containers that install the wheel find them too.
    """
    for directory in (
        Path(__file__).parent / "_schemas",
        Path(__file__).resolve().parent.parent / "schemas",
    ):
        if directory.is_dir():
            return directory
    raise DataFileError(
        "data directory not found: expected edi_guard/_schemas (in a wheel) or schemas/ "
        "beside the edi_guard package (in a checkout)"
    )


def schema_file(name: str) -> Path:
    """The path of ``schemas/<name>``, which must exist."""
    path = schemas_dir() / name
    if not path.is_file():
        raise DataFileError(f"data file not found: expected {path}")
    return path


def read_json(path: Path) -> Any:
    """Parse one JSON file; errors name the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFileError(
            f"{path}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


@cache
def _validator(schema_name: str) -> Any:
    schema = read_json(schema_file(schema_name))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def schema_problems(instance: Any, schema_name: str) -> list[str]:
    """Every violation of ``schemas/<schema_name>`` by ``instance``, one message each.

    Messages are sorted by key path so that a report lists them in file order, and all are
    returned at once: a user fixing a policy file should not discover errors one by one.
    """
    errors = _validator(schema_name).iter_errors(instance)
    return sorted(message for error in errors for message in _describe(error))


def validate(instance: Any, schema_name: str, *, origin: str) -> None:
    """Raise :class:`DataFileError` naming ``origin`` when ``instance`` fails the schema."""
    problems = schema_problems(instance, schema_name)
    if problems:
        raise DataFileError(f"{origin}: " + "; ".join(problems))


def key_path(parts: Iterable[object]) -> str:
    """``("payers", "12502", "rules")`` -> ``payers.12502.rules``; list indexes as ``[n]``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _describe(error: Any) -> list[str]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return [
            f"{key_path([*path, key])}: unknown key; allowed keys: {', '.join(allowed)}"
            for key in unknown
        ]
    if error.validator == "enum":
        allowed_values = ", ".join(json.dumps(value) for value in error.validator_value)
        return [
            f"{key_path(path)}: {json.dumps(error.instance)} is not allowed; "
            f"allowed values: {allowed_values}"
        ]
    return [f"{key_path(path)}: {error.message}"]
