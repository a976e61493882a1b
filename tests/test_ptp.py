"""PTP edits: the shipped table, lookups by pair and date, the CMS file importer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from edi_guard.data import schema_file, schema_problems
from edi_guard.ptp import (
    ModifierIndicator,
    PtpEdit,
    PtpImportError,
    PtpTable,
    import_cms_file,
    install,
    load,
    load_json,
    load_shipped,
    save_json,
)

DOS = date(2026, 1, 12)

PREAMBLE = (
    "CPT codes, descriptions and other data only are copyright 2025 American Medical "
    "Association.\n"
    "Medicare NCCI PTP edits, practitioner services, version 2026Q1\n"
    "\n"
    "Column 1\tColumn 2\t*=in existence prior to 1996\tEffective Date\t"
    "Deletion Date *=no data\tModifier 0=not allowed 1=allowed 9=not applicable\t"
    "PTP Edit Rationale\n"
    "\t\t\t\t\t\t\n"
)


def cms_file(tmp_path: Path, rows: list[str], preamble: str = PREAMBLE) -> Path:
    path = tmp_path / "ccipra-v321r0-f1.txt"
    path.write_text(preamble + "\n".join(rows) + "\n", encoding="utf-8")
    return path


GOOD_ROWS = [
    "64493\t20553\t\t20100101\t*\t1\tMisuse of column two code with column one code",
    "20552\t96372\t\t20090101\t*\t1\tStandards of medical / surgical practice",
    "20553\t20550\t*\t19960101\t20200101\t0\tMutually exclusive procedures",
    "20553\t20551\t\t20050101\t20050101\t9\tDeleted on its effective date",
]


# --------------------------------------------------------------------------- shipped


def test_shipped_table_loads_and_every_row_is_flagged_verify() -> None:
    table = load_shipped()
    assert len(table) == 52
    assert all(edit.verify for edit in table.edits)
    assert all({"20552", "20553"} & {edit.column1, edit.column2} for edit in table.edits)
    assert load(None).edits == table.edits


def test_shipped_table_covers_the_pairs_rules_md_names() -> None:
    table = load_shipped()
    others = ["27096", "64479", "64495", "62320", "62327", "20550", "20551", "96372"]
    for tpi in ("20552", "20553"):
        for other in others:
            assert table.lookup(tpi, other, DOS) is not None, (tpi, other)


def test_shipped_spinal_injection_is_column_1() -> None:
    edit = load_shipped().lookup("20553", "62321", DOS)
    assert edit is not None
    assert (edit.column1, edit.column2) == ("62321", "20553")
    assert edit.modifier_indicator is ModifierIndicator.ALLOWED


# --------------------------------------------------------------------------- lookup


def table_of(*edits: PtpEdit) -> PtpTable:
    return PtpTable(edits, source="test")


def test_lookup_in_either_order() -> None:
    edit = PtpEdit("64493", "20553", ModifierIndicator.ALLOWED, date(2010, 1, 1))
    table = table_of(edit)
    assert table.lookup("64493", "20553", DOS) is edit
    assert table.lookup("20553", "64493", DOS) is edit
    assert table.lookup(" 20553", "64493 ", DOS) is edit
    assert table.lookup("20552", "64493", DOS) is None


def test_lookup_respects_effective_and_deletion_dates() -> None:
    edit = PtpEdit(
        "20553", "20550", ModifierIndicator.NOT_ALLOWED, date(2020, 1, 1), date(2023, 7, 1)
    )
    table = table_of(edit)
    assert table.lookup("20553", "20550", date(2019, 12, 31)) is None
    assert table.lookup("20553", "20550", date(2020, 1, 1)) is edit
    assert table.lookup("20553", "20550", date(2023, 6, 30)) is edit
    assert table.lookup("20553", "20550", date(2023, 7, 1)) is None


def test_lookup_prefers_the_most_restrictive_active_row() -> None:
    loose = PtpEdit("20553", "20550", ModifierIndicator.ALLOWED, date(2020, 1, 1))
    strict = PtpEdit("20550", "20553", ModifierIndicator.NOT_ALLOWED, date(2021, 1, 1))
    table = table_of(loose, strict)
    assert table.lookup("20550", "20553", date(2020, 6, 1)) is loose
    assert table.lookup("20550", "20553", date(2022, 6, 1)) is strict


@pytest.mark.parametrize(
    ("column1", "column2", "effective", "deleted", "match"),
    [
        ("2055", "20553", date(2020, 1, 1), None, "column1: expected a 5-character"),
        ("20553", "20553", date(2020, 1, 1), None, "same code"),
        ("20553", "20550", date(2020, 1, 1), date(2019, 1, 1), "precedes effective"),
    ],
)
def test_edits_validate_in_their_constructor(
    column1: str, column2: str, effective: date, deleted: date | None, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        PtpEdit(column1, column2, ModifierIndicator.ALLOWED, effective, deleted)


def test_involving_keeps_only_edits_with_those_codes() -> None:
    a = PtpEdit("64493", "20553", ModifierIndicator.ALLOWED, date(2010, 1, 1))
    b = PtpEdit("11042", "97597", ModifierIndicator.ALLOWED, date(2010, 1, 1))
    assert table_of(a, b).involving({"20552", "20553"}).edits == (a,)


# --------------------------------------------------------------------------- CMS import


def test_import_skips_preamble_and_reads_every_row(tmp_path: Path) -> None:
    table = import_cms_file(cms_file(tmp_path, GOOD_ROWS))
    assert len(table) == 4
    first = table.edits[0]
    assert (first.column1, first.column2) == ("64493", "20553")
    assert first.effective == date(2010, 1, 1) and first.deleted is None
    assert first.modifier_indicator is ModifierIndicator.ALLOWED
    assert not first.verify
    assert first.rationale == "Misuse of column two code with column one code"
    assert table.edits[2].deleted == date(2020, 1, 1)
    assert table.lookup("20550", "20553", date(2019, 5, 1)) is table.edits[2]
    assert table.lookup("20550", "20553", date(2020, 5, 1)) is None
    assert table.lookup("20551", "20553", date(2005, 1, 1)) is None  # deleted the same day


def test_import_accepts_windows_line_ends_and_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "ptp.txt"
    path.write_bytes(("\ufeff" + PREAMBLE + "\r\n".join(GOOD_ROWS) + "\r\n").encode())
    assert len(import_cms_file(path)) == 4


def test_import_can_keep_only_tpi_edits(tmp_path: Path) -> None:
    rows = [*GOOD_ROWS, "11042\t97597\t\t20100101\t*\t1\tunrelated"]
    table = import_cms_file(cms_file(tmp_path, rows), involving={"20552", "20553"})
    assert len(table) == 4


# Preamble is 5 lines, so the first data row is line 6.
@pytest.mark.parametrize(
    ("row", "match"),
    [
        ("64493\t2055\t\t20100101\t*\t1\tx", r"line 7, column 2 \(Column 2\): expected a 5-char"),
        ("64493\t20553\t\t20101301\t*\t1\tx", r"line 7, column 4 \(Effective Date\).*'20101301'"),
        ("64493\t20553\t\t2010-01-01\t*\t1\tx", r"line 7, column 4 .*YYYYMMDD"),
        ("64493\t20553\t\t20100101\t20090101\t1\tx", r"line 7, column 5 .*on or after"),
        ("64493\t20553\t\t20100101\t\t1\tx", r'line 7, column 5 .*or "\*"'),
        ("64493\t20553\t\t20100101\t*\t2\tx", r"line 7, column 6 .*0, 1 or 9, found '2'"),
        ("64493\t20553\tY\t20100101\t*\t1\tx", r"line 7, column 3 "),
        ("64493\t20553\t\t20100101", r"line 7: expected at least 6 tab-separated columns"),
    ],
)
def test_import_refuses_a_bad_row_naming_line_and_column(
    tmp_path: Path, row: str, match: str
) -> None:
    with pytest.raises(PtpImportError, match=match) as caught:
        import_cms_file(cms_file(tmp_path, [GOOD_ROWS[0], row]))
    assert "ccipra-v321r0-f1.txt" in str(caught.value)


def test_import_refuses_a_file_without_rows(tmp_path: Path) -> None:
    with pytest.raises(PtpImportError, match="no PTP rows found"):
        import_cms_file(cms_file(tmp_path, []))


def test_import_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PtpImportError, match="cannot read"):
        import_cms_file(tmp_path / "absent.txt")


# --------------------------------------------------------------------------- JSON form


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    table = import_cms_file(cms_file(tmp_path, GOOD_ROWS))
    path = tmp_path / "out" / "ptp.json"
    save_json(table, path)
    again = load_json(path)
    assert again.edits == table.edits
    assert again.source == table.source
    data = json.loads(path.read_text(encoding="utf-8"))
    assert schema_problems(data, "ptp.schema.json") == []
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_install_into_a_directory_or_a_file(tmp_path: Path) -> None:
    table = load_shipped()
    assert install(table, tmp_path) == tmp_path / "ptp.json"
    target = tmp_path / "policy" / "ptp-2026q1.json"
    assert install(table, target) == target
    assert load(target).edits == table.edits


def test_loading_a_bad_json_table_names_the_row(tmp_path: Path) -> None:
    data = json.loads(schema_file("ptp.json").read_text(encoding="utf-8"))
    data["edits"][3]["modifier_indicator"] = "2"
    path = tmp_path / "ptp.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PtpImportError, match=r"edits\[3\]: '2' is not a valid ModifierIndicator"):
        load_json(path)
    del data["edits"][3]["modifier_indicator"]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PtpImportError, match=r"edits\[3\]: missing key 'modifier_indicator'"):
        load_json(path)
