"""``edi-guard history stats|import|forget`` and the CSV they import."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from history_support import JANE, KEY, claim_units, fixture_text, rule_outcomes, run_file

from edi_guard.commands.history import history
from edi_guard.errors import HistoryError
from edi_guard.history import Hasher
from edi_guard.history.keys import ENV_KEY
from edi_guard.history.store import open_store, read_sessions_csv
from edi_guard.model.mapping import map_claim

HASHER = Hasher(KEY)
CSV = """member_id,patient_last_name,patient_first_name,patient_birth_date,claim_id,service_date
1EG4TE5MK72,,,,OLD-1,2026-01-12
1EG4TE5MK72,,,,OLD-2,20260310
1EG4TE5MK72,,,,,05/05/2026
2FH5UF6NL83,Roe,Riley,2010-01-01,OLD-9,2026-01-12
"""


def _runner() -> CliRunner:
    return CliRunner(env={ENV_KEY: KEY.decode()})


def test_csv_rows_hash_like_claims() -> None:
    rows = list(read_sessions_csv(io.StringIO(CSV), HASHER))
    # The keys of the fixture's claims: Jane is the subscriber, Riley a dependent (2000C).
    claims = [map_claim(unit) for unit in claim_units(fixture_text("file1-three-sessions.x12"))]
    jane, riley = HASHER.beneficiary(claims[0]), HASHER.beneficiary(claims[3])
    assert claims[3].patient is not None
    assert jane == HASHER.beneficiary_of(JANE[2])
    assert [(row.beneficiary, row.day) for row in rows] == [
        (jane, date(2026, 1, 12)),
        (jane, date(2026, 3, 10)),
        (jane, date(2026, 5, 5)),
        (riley, date(2026, 1, 12)),
    ]
    assert rows[0].claim == HASHER.claim("OLD-1")
    assert rows[2].claim not in (HASHER.claim(""), rows[0].claim)


def test_csv_columns_are_found_by_name_in_any_order_and_case() -> None:
    text = "Service_Date, MEMBER_ID ,notes\n2026-01-12,1EG4TE5MK72,ignored\n"
    (row,) = read_sessions_csv(io.StringIO(text), HASHER)
    assert row.beneficiary == HASHER.beneficiary_of("1EG4TE5MK72")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the CSV is empty"),
        ("member_id,claim_id\nX,Y\n", "lacks service_date"),
        ("member_id,service_date\n,2026-01-12\n", "line 2: member_id is empty"),
        ("member_id,service_date\nSECRET1,2026-13-45\n", "line 2: service_date is not a date"),
        (
            "member_id,patient_birth_date,service_date\nSECRET1,bad,2026-01-01\n",
            "line 2: patient_birth_date is not a date",
        ),
    ],
)
def test_bad_csv_rows_are_named_by_line_without_their_values(text: str, message: str) -> None:
    with pytest.raises(HistoryError, match=message) as caught:
        list(read_sessions_csv(io.StringIO(text), HASHER))
    assert "SECRET1" not in str(caught.value)


def test_import_then_a_fourth_session_is_rejected(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'history.sqlite3'}"
    export = tmp_path / "export.csv"
    export.write_text(CSV)
    runner = _runner()
    result = runner.invoke(history, ["import", str(export), "--history", url])
    assert result.exit_code == 0, result.output
    assert "4 sessions read, 4 new, 0 already known" in result.output
    again = runner.invoke(history, ["import", str(export), "--history", url])
    assert "4 sessions read, 0 new, 4 already known" in again.output

    store = open_store(url, key=KEY)
    try:
        (fourth,) = run_file(store, "file2-fourth-session.x12")
    finally:
        store.close()
    assert rule_outcomes(fourth) == [("TPI009", "reject")]

    stats = runner.invoke(history, ["stats", "--history", url])
    assert stats.exit_code == 0, stats.output
    assert "sessions: 4 (4 imported)" in stats.output
    assert "beneficiaries: 2" in stats.output
    assert "service dates: 2026-01-12 .. 2026-05-05" in stats.output
    assert "1EG4TE5MK72" not in stats.output

    forget = runner.invoke(history, ["forget", "--before", "2026-03-01", "--history", url])
    assert forget.exit_code == 0, forget.output
    assert "forgot 2 sessions dated before 2026-03-01" in forget.output
    after = runner.invoke(history, ["stats", "--history", url])
    assert "sessions: 2 (2 imported)" in after.output


def test_a_bad_csv_imports_nothing(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'history.sqlite3'}"
    export = tmp_path / "export.csv"
    export.write_text(CSV + "SECRET1,,,,,not-a-date\n")
    result = _runner().invoke(history, ["import", str(export), "--history", url])
    assert result.exit_code == 2
    assert "line 6: service_date is not a date" in result.output
    assert "SECRET1" not in result.output
    stats = _runner().invoke(history, ["stats", "--history", url])
    assert "sessions: 0 (0 imported)" in stats.output


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'history.sqlite3'}"
    runner = _runner()
    bad_date = runner.invoke(history, ["forget", "--before", "yesterday", "--history", url])
    assert bad_date.exit_code == 2
    assert "expected YYYY-MM-DD" in bad_date.output
    missing = runner.invoke(history, ["import", str(tmp_path / "none.csv"), "--history", url])
    assert missing.exit_code == 2
    assert "cannot read the CSV" in missing.output
    scheme = runner.invoke(history, ["stats", "--history", "mysql://x/y"])
    assert scheme.exit_code == 2
    assert "unknown history URL scheme" in scheme.output


def test_the_history_url_comes_from_the_environment_too(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'env.sqlite3'}"
    runner = CliRunner(env={ENV_KEY: KEY.decode(), "EDI_GUARD_HISTORY": url})
    result = runner.invoke(history, ["stats"])
    assert result.exit_code == 0, result.output
    assert f"location: {tmp_path / 'env.sqlite3'}" in result.output
