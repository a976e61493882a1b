"""NCCI procedure-to-procedure (PTP) edits for TPI019.

A PTP edit says that, billed together on one date, the column-2 code of a pair is denied
unless (modifier indicator 1) an NCCI-associated modifier shows it was a distinct service.
The table shipped in ``schemas/ptp.json`` holds only pairs the public record supports, each
flagged ``verify`` (rules.md); a user loads the real CMS quarterly practitioner file with
:func:`import_cms_file` and stores it with :func:`install` so a policy can point at it.

Dates follow the CMS file: an edit applies to dates of service on or after its effective
date and before its deletion date (a row deleted on its effective date never applied).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, Never

from edi_guard.data import DataFileError, read_json, schema_file
from edi_guard.errors import EdiGuardError

_CODE: Final = re.compile(r"[0-9A-Z]{5}")
_CMS_DATE: Final = re.compile(r"[0-9]{8}")


class PtpImportError(EdiGuardError):
    """A PTP file (CMS text or our JSON) is malformed; the message names file, line, column."""


class ModifierIndicator(StrEnum):
    """CMS PTP modifier indicator."""

    NOT_ALLOWED = "0"  # never billable together: the column-2 code is denied
    ALLOWED = "1"  # billable together with an NCCI-associated modifier on the column-2 line
    NOT_APPLICABLE = "9"  # the edit is void (typically deleted retroactively)


@dataclass(frozen=True, slots=True)
class PtpEdit:
    """One PTP edit row. Validates in its constructor: a table cannot hold a bad row."""

    column1: str
    column2: str
    modifier_indicator: ModifierIndicator
    effective: date
    deleted: date | None = None
    source: str = ""
    verify: bool = False
    rationale: str = ""

    def __post_init__(self) -> None:
        for name, code in (("column1", self.column1), ("column2", self.column2)):
            if _CODE.fullmatch(code) is None:
                raise ValueError(f"{name}: expected a 5-character HCPCS/CPT code, found {code!r}")
        if self.column1 == self.column2:
            raise ValueError(f"column1 and column2 are the same code {self.column1!r}")
        if self.deleted is not None and self.deleted < self.effective:
            raise ValueError(
                f"deletion date {self.deleted.isoformat()} precedes effective date "
                f"{self.effective.isoformat()}"
            )

    def active_on(self, day: date) -> bool:
        """Whether the edit applies to a date of service: effective <= day < deleted."""
        return self.effective <= day and (self.deleted is None or day < self.deleted)


_SEVERITY: Final = {
    ModifierIndicator.NOT_ALLOWED: 0,
    ModifierIndicator.ALLOWED: 1,
    ModifierIndicator.NOT_APPLICABLE: 2,
}


@dataclass(frozen=True, slots=True, eq=False)
class PtpTable:
    """A set of PTP edits indexed by unordered code pair."""

    edits: tuple[PtpEdit, ...]
    source: str = ""
    _index: Mapping[tuple[str, str], tuple[PtpEdit, ...]] = field(
        init=False, repr=False, compare=False
    )
    """Both orders of every pair: a lookup is one dict access for codes as written."""

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], list[PtpEdit]] = {}
        for edit in self.edits:
            index.setdefault((edit.column1, edit.column2), []).append(edit)
            index.setdefault((edit.column2, edit.column1), []).append(edit)
        object.__setattr__(self, "_index", {pair: tuple(rows) for pair, rows in index.items()})

    def __len__(self) -> int:
        return len(self.edits)

    def lookup(self, code_a: str, code_b: str, on: date) -> PtpEdit | None:
        """The edit in force on ``on`` for the pair, in either order; ``None`` if none.

        ``column1``/``column2`` of the result say which code is which. Where several rows
        are in force (both orders, or overlapping quarters), the most restrictive wins:
        indicator 0 before 1 before 9.
        """
        rows = self._index.get((code_a, code_b))
        if rows is None:
            # Codes as received may carry case or padding; the table's never do.
            rows = self._index.get((code_a.strip().upper(), code_b.strip().upper()))
            if rows is None:
                return None
        chosen: PtpEdit | None = None
        for edit in rows:
            if edit.active_on(on) and (
                chosen is None
                or _SEVERITY[edit.modifier_indicator] < _SEVERITY[chosen.modifier_indicator]
            ):
                chosen = edit
        return chosen

    def involving(self, codes: Collection[str]) -> PtpTable:
        """Only the edits where either code is in ``codes`` (e.g. the TPI codes)."""
        wanted = frozenset(codes)
        kept = tuple(e for e in self.edits if e.column1 in wanted or e.column2 in wanted)
        return PtpTable(kept, source=self.source)


# --------------------------------------------------------------------------- JSON form


def load_shipped() -> PtpTable:
    """The table shipped in ``schemas/ptp.json`` (public-record pairs, all flagged verify)."""
    try:
        return load_json(schema_file("ptp.json"))
    except DataFileError as exc:
        raise PtpImportError(str(exc)) from None


def load(path: Path | None) -> PtpTable:
    """The table a policy names (``Policy.ptp_table``); ``None`` = shipped."""
    return load_shipped() if path is None else load_json(path)


def load_json(path: Path) -> PtpTable:
    """Read a table in our JSON form (``schemas/ptp.schema.json``)."""
    try:
        data = read_json(path)
    except DataFileError as exc:
        raise PtpImportError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("edits"), list):
        raise PtpImportError(f"{path}: expected an object with an 'edits' list")
    return PtpTable(
        tuple(_edit_from_json(row, path, n) for n, row in enumerate(data["edits"])),
        source=str(data.get("source", path)),
    )


def _edit_from_json(row: Any, path: Path, n: int) -> PtpEdit:
    where = f"{path}: edits[{n}]"
    try:
        deleted = row["deleted"]
        return PtpEdit(
            column1=row["column1"],
            column2=row["column2"],
            modifier_indicator=ModifierIndicator(row["modifier_indicator"]),
            effective=date.fromisoformat(row["effective"]),
            deleted=None if deleted is None else date.fromisoformat(deleted),
            source=row["source"],
            verify=bool(row["verify"]),
            rationale=row.get("rationale", ""),
        )
    except KeyError as exc:
        raise PtpImportError(f"{where}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise PtpImportError(f"{where}: {exc}") from None


def _edit_to_json(edit: PtpEdit) -> dict[str, Any]:
    row: dict[str, Any] = {
        "column1": edit.column1,
        "column2": edit.column2,
        "modifier_indicator": edit.modifier_indicator.value,
        "effective": edit.effective.isoformat(),
        "deleted": None if edit.deleted is None else edit.deleted.isoformat(),
        "source": edit.source,
        "verify": edit.verify,
    }
    if edit.rationale:
        row["rationale"] = edit.rationale
    return row


def save_json(table: PtpTable, path: Path) -> None:
    """Write ``table`` in our JSON form, atomically (a reader never sees half a file)."""
    lines = ",\n".join("    " + json.dumps(_edit_to_json(edit)) for edit in table.edits)
    header = json.dumps({"source": table.source or "edi_guard PTP table"})[:-1]
    text = header + ',\n  "edits": [\n' + lines + ("\n" if lines else "") + "  ]\n}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def install(table: PtpTable, dest: Path) -> Path:
    """Store an imported table where a policy's ``ptp_table`` can name it; returns the path.

    ``dest`` is a file path (``.json``) or a directory, which then receives ``ptp.json``.
    """
    path = dest / "ptp.json" if dest.is_dir() else dest
    save_json(table, path)
    return path


# --------------------------------------------------------------------------- CMS file

_CMS_COLUMNS: Final = (
    "Column 1",
    "Column 2",
    "In existence prior to 1996",
    "Effective Date",
    "Deletion Date",
    "Modifier Indicator",
    "PTP Edit Rationale",
)


def import_cms_file(path: Path, *, involving: Collection[str] | None = None) -> PtpTable:
    """Parse a CMS quarterly practitioner PTP file (tab-delimited text).

    Columns: Column 1, Column 2, "*" if in existence prior to 1996, effective date
    (YYYYMMDD), deletion date (YYYYMMDD, or "*" for none), modifier indicator (0, 1, 9),
    rationale. Preamble and header lines are skipped up to the first line whose first two
    fields look like codes; from there every non-blank line must be a valid row, and a bad
    one is refused with its line number and column: a silently dropped edit would let a
    denied pair through. ``involving`` keeps only edits touching those codes (the full file
    holds hundreds of thousands of rows; TPI019 needs only those with 20552/20553).
    """
    wanted = frozenset(involving) if involving is not None else None
    edits = [
        edit
        for edit in _cms_rows(path)
        if wanted is None or edit.column1 in wanted or edit.column2 in wanted
    ]
    return PtpTable(tuple(edits), source=f"CMS NCCI practitioner PTP file {path.name}")


def _cms_rows(path: Path) -> Iterator[PtpEdit]:
    try:
        handle = path.open(encoding="utf-8-sig", errors="replace", newline="")
    except OSError as exc:
        raise PtpImportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with handle:
        started = False
        for number, line in enumerate(handle, start=1):
            fields = [value.strip() for value in line.rstrip("\r\n").split("\t")]
            if not started:
                if len(fields) < 2 or not all(_CODE.fullmatch(f) for f in fields[:2]):
                    continue
                started = True
            if not any(fields):
                continue
            yield _cms_row(fields, f"{path.name} line {number}")
        if not started:
            raise PtpImportError(f"{path.name}: no PTP rows found (no line starts with two codes)")


def _cms_row(fields: list[str], where: str) -> PtpEdit:
    if len(fields) < 6:
        raise PtpImportError(
            f"{where}: expected at least 6 tab-separated columns "
            f"({', '.join(_CMS_COLUMNS[:6])}), found {len(fields)}"
        )
    for column in (0, 1):
        if _CODE.fullmatch(fields[column]) is None:
            _bad(where, column, "a 5-character HCPCS/CPT code", fields[column])
    if fields[2] not in ("", "*"):
        _bad(where, 2, '"*" or empty', fields[2])
    effective = _cms_date(fields[3], where, 3)
    deleted = None if fields[4] == "*" else _cms_date(fields[4], where, 4)
    if deleted is not None and deleted < effective:
        _bad(where, 4, f"a date on or after the effective date {fields[3]}", fields[4])
    if fields[5] not in ("0", "1", "9"):
        _bad(where, 5, "0, 1 or 9", fields[5])
    return PtpEdit(
        column1=fields[0],
        column2=fields[1],
        modifier_indicator=ModifierIndicator(fields[5]),
        effective=effective,
        deleted=deleted,
        source="CMS NCCI practitioner PTP file",
        verify=False,
        rationale=fields[6] if len(fields) > 6 else "",
    )


def _cms_date(value: str, where: str, column: int) -> date:
    expected = "a date YYYYMMDD" + (' or "*"' if column == 4 else "")
    if _CMS_DATE.fullmatch(value) is None:
        _bad(where, column, expected, value)
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        _bad(where, column, expected, value)


def _bad(where: str, column: int, expected: str, found: str) -> Never:
    raise PtpImportError(
        f"{where}, column {column + 1} ({_CMS_COLUMNS[column]}): "
        f"expected {expected}, found {found!r}"
    )
