"""The durable record of content hashes: what was processed, by whom, and how it ended.

One SQLite file in the state directory, shared by every watcher on the inbox. Each decision
is one ``BEGIN IMMEDIATE`` transaction, so two watchers (or two workers) that hash the same
content at once cannot both decide to process it. Only hashes, file names, claim tokens and
counts are stored: never content.

A row goes ``processing`` -> ``done`` or ``failed``. A ``processing`` row whose owner died
is taken over by the next claim of the same content; its ``attempts`` count every start, so
a file that kills its worker again and again becomes poison instead of a crash loop.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('processing', 'done', 'failed')),
    owner TEXT NOT NULL,
    claim TEXT NOT NULL,
    name TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    result TEXT
);
CREATE TABLE IF NOT EXISTS duplicates (
    claim TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    at REAL NOT NULL
);
"""


class Decision(enum.Enum):
    PROCESS = "process"
    """Nobody has processed this content: go ahead."""
    DUPLICATE = "duplicate"
    """Another claim already processed this content: archive as a duplicate."""
    FINISH = "finish"
    """This very claim was processed before a crash: only archiving is left."""
    DEFER = "defer"
    """A live watcher is processing the same content right now: look again later."""
    POISON = "poison"
    """Started too often without finishing, or failed already: to the error folder."""


@dataclass(frozen=True, slots=True)
class Entry:
    decision: Decision
    attempts: int
    first_name: str
    first_claim: str
    updated: float
    result: dict[str, Any] | None = None
    """What the ledger recorded when the content was done or failed (counts or a reason)."""


OwnerAlive = Callable[[str], bool]


class Ledger:
    """Open with a path; every method is one short transaction."""

    def __init__(self, path: Path, *, busy_timeout: float = 60.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self._transaction() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def begin(
        self,
        sha256: str,
        *,
        claim: str,
        owner: str,
        name: str,
        owner_alive: OwnerAlive,
        max_attempts: int,
    ) -> Entry:
        """Decide what to do with one claimed file, and record the decision."""
        now = time.time()
        with self._transaction() as db:
            row = db.execute(
                "SELECT status, owner, claim, name, attempts, updated, result FROM files"
                " WHERE sha256 = ?",
                (sha256,),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO files VALUES (?, 'processing', ?, ?, ?, 1, ?, ?, NULL)",
                    (sha256, owner, claim, name, now, now),
                )
                return Entry(Decision.PROCESS, 1, name, claim, now)
            status, row_owner, row_claim, row_name, attempts, updated, result = row
            recorded = json.loads(result) if result else None
            if status == "done":
                decision = Decision.FINISH if row_claim == claim else Decision.DUPLICATE
                return Entry(decision, attempts, row_name, row_claim, updated, recorded)
            if status == "failed":
                if row_claim == claim:
                    return Entry(Decision.POISON, attempts, row_name, row_claim, updated, recorded)
                attempts = 0  # new upload of content that failed before: try it again
            elif row_claim != claim and (row_owner == owner or owner_alive(row_owner)):
                return Entry(Decision.DEFER, attempts, row_name, row_claim, updated)
            attempts += 1
            if attempts > max_attempts:
                db.execute(
                    "UPDATE files SET status = 'failed', owner = ?, claim = ?, updated = ?,"
                    " attempts = ? WHERE sha256 = ?",
                    (owner, claim, now, attempts, sha256),
                )
                return Entry(Decision.POISON, attempts, row_name, claim, now)
            db.execute(
                "UPDATE files SET status = 'processing', owner = ?, claim = ?, name = ?,"
                " attempts = ?, updated = ? WHERE sha256 = ?",
                (owner, claim, name, attempts, now, sha256),
            )
            return Entry(Decision.PROCESS, attempts, name, claim, now)

    def finish(self, sha256: str, *, claim: str, ok: bool, result: dict[str, Any]) -> None:
        """Record how processing ``claim`` ended (``done`` or ``failed``)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE files SET status = ?, updated = ?, result = ?"
                " WHERE sha256 = ? AND claim = ?",
                ("done" if ok else "failed", time.time(), json.dumps(result), sha256, claim),
            )

    def duplicate(self, sha256: str, *, claim: str, name: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO duplicates VALUES (?, ?, ?, ?)",
                (claim, sha256, name, time.time()),
            )

    def totals(self) -> dict[str, int]:
        """Files by status, and duplicates seen (for ``edi-guard watch --status``)."""
        counts = dict(self._db.execute("SELECT status, count(*) FROM files GROUP BY status"))
        duplicates = self._db.execute("SELECT count(*) FROM duplicates").fetchone()[0]
        return {
            "done": int(counts.get("done", 0)),
            "failed": int(counts.get("failed", 0)),
            "processing": int(counts.get("processing", 0)),
            "duplicates": int(duplicates),
        }

    def status_of(self, sha256: str) -> str | None:
        row = self._db.execute("SELECT status FROM files WHERE sha256 = ?", (sha256,)).fetchone()
        return None if row is None else str(row[0])
