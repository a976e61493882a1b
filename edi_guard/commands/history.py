"""``edi-guard history``: look at, seed and prune the TPI session history.

- ``edi-guard history stats``: counts (sessions, beneficiaries, claims, dates, pending
  reservations), never identities;
- ``edi-guard history import EXPORT.csv``: seed prior sessions from a practice-management
  export (columns in :mod:`edi_guard.history.store`), hashed as they are read;
- ``edi-guard history forget --before DATE``: retention, forget sessions dated before DATE.

Each takes ``--history URL`` (or ``EDI_GUARD_HISTORY``): ``sqlite:///PATH``,
``postgresql://...``, or nothing for the per-user default. Exit codes: 0 done, 2 usage
errors, unreadable input, or a history that cannot be opened.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from edi_guard.errors import HistoryError
from edi_guard.history.store import (
    HistoryStore,
    default_path,
    open_store,
    read_sessions_csv,
)

USAGE_ERROR = 2
F = TypeVar("F", bound=Callable[..., object])


def history_option(function: F) -> F:
    return click.option(
        "--history",
        "url",
        envvar="EDI_GUARD_HISTORY",
        metavar="URL",
        help=(
            "sqlite:///PATH, postgresql://USER@HOST/DB, or memory:; default: SQLite at "
            f"{default_path()} (environment: EDI_GUARD_HISTORY; key: EDI_GUARD_HISTORY_KEY, "
            "else a key file beside a SQLite database)"
        ),
    )(function)


def _open(url: str | None) -> HistoryStore:
    try:
        return open_store(url)
    except HistoryError as error:
        _fail(str(error))


def _fail(message: str) -> NoReturn:
    click.echo(f"edi-guard history: {message}", err=True)
    raise SystemExit(USAGE_ERROR)


@click.group(name="history")
def history() -> None:
    """The TPI session history behind TPI009 (sessions per 365 days) and TPI010 (duplicates).

    It holds keyed hashes of beneficiaries and claim ids, and dates: no name, member id or
    birth date.
    """


@history.command()
@history_option
def stats(url: str | None) -> None:
    """Show what the history holds (counts only)."""
    store = _open(url)
    try:
        for line in store.stats().lines():
            click.echo(line)
    except HistoryError as error:
        _fail(str(error))
    finally:
        store.close()


@history.command(name="import")
@click.argument("csv_path", metavar="CSV", type=click.Path(dir_okay=False, path_type=Path))
@history_option
def import_(csv_path: Path, url: str | None) -> None:
    """Seed prior TPI sessions from a practice-management export.

    CSV has a header row; columns (names case-insensitive, others ignored): member_id
    (required), patient_last_name, patient_first_name, patient_birth_date (only when the
    patient is not the subscriber), claim_id (CLM01, optional), service_date (required).
    Dates: YYYY-MM-DD, CCYYMMDD or MM/DD/YYYY. Nothing is imported if a row is bad.
    """
    store = _open(url)
    try:
        try:
            with csv_path.open(encoding="utf-8-sig", newline="") as handle:
                rows = list(read_sessions_csv(handle, store.hasher))
        except OSError as error:
            _fail(f"{csv_path}: cannot read the CSV ({error.strerror})")
        except UnicodeDecodeError:
            _fail(f"{csv_path}: not UTF-8 text; expected a CSV export")
        except HistoryError as error:
            _fail(f"{csv_path}: {error}")
        added = store.import_sessions(rows)
        click.echo(
            f"{csv_path}: {len(rows)} sessions read, {added} new, {len(rows) - added} already known"
        )
    except HistoryError as error:
        _fail(str(error))
    finally:
        store.close()


@history.command()
@click.option(
    "--before",
    required=True,
    metavar="DATE",
    help="Forget sessions dated before DATE (YYYY-MM-DD).",
)
@history_option
def forget(before: str, url: str | None) -> None:
    """Forget sessions dated before DATE (retention). TPI009 looks back 365 days: keep at
    least that much."""
    try:
        day: date = datetime.strptime(before, "%Y-%m-%d").date()
    except ValueError:
        _fail(f"--before {before!r} is not a date; expected YYYY-MM-DD")
    store = _open(url)
    try:
        forgotten = store.forget_before(day)
        click.echo(f"forgot {forgotten} sessions dated before {day.isoformat()}")
    except HistoryError as error:
        _fail(str(error))
    finally:
        store.close()
