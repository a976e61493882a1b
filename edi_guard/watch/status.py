"""The status file each watcher keeps, and ``edi-guard watch --status`` that reads them.

``STATE/status/OWNER.json`` is rewritten atomically (at most about once a second) with the
queue depth, files in hand, files done and the last error. File names appear; content never.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edi_guard.watch.claim import owner_alive
from edi_guard.watch.ledger import Ledger


@dataclass(slots=True)
class LastError:
    at: float
    file: str
    reason: str


@dataclass(slots=True)
class Status:
    owner: str
    pid: int
    inbox: str
    started: float
    state: str = "starting"
    """starting, running, stopping or stopped."""
    waiting: int = 0
    """Files in the inbox not yet complete (or not yet quiet)."""
    ready: int = 0
    """Complete files not yet claimed (no worker free)."""
    in_hand: int = 0
    """Claimed files being processed."""
    done: int = 0
    duplicates: int = 0
    failed: int = 0
    last_error: LastError | None = None
    updated: float = field(default_factory=time.time)

    @property
    def queue_depth(self) -> int:
        return self.waiting + self.ready + self.in_hand

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["queue_depth"] = self.queue_depth
        return data


def status_dir(state: Path) -> Path:
    return state / "status"


def write(state: Path, status: Status) -> None:
    directory = status_dir(state)
    directory.mkdir(parents=True, exist_ok=True)
    status.updated = time.time()
    target = directory / f"{status.owner}.json"
    temporary = directory / f".{status.owner}.json.tmp"
    temporary.write_text(json.dumps(status.to_json(), indent=2, sort_keys=True) + "\n")
    temporary.replace(target)


def remove(state: Path, owner: str) -> None:
    (status_dir(state) / f"{owner}.json").unlink(missing_ok=True)


def report(state: Path) -> dict[str, Any]:
    """Every watcher's status (alive or not) and the ledger's totals."""
    watchers: list[dict[str, Any]] = []
    directory = status_dir(state)
    if directory.is_dir():
        for path in sorted(directory.glob("*.json")):
            try:
                data: dict[str, Any] = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            owner = str(data.get("owner", path.stem))
            data["alive"] = owner_alive(state / "work", owner)
            watchers.append(data)
    totals: dict[str, int] = {}
    ledger_path = state / "ledger.sqlite3"
    if ledger_path.is_file():
        ledger = Ledger(ledger_path)
        try:
            totals = ledger.totals()
        finally:
            ledger.close()
    live = [w for w in watchers if w["alive"]]
    return {
        "state_dir": str(state),
        "watchers": watchers,
        "queue_depth": sum(int(w.get("queue_depth", 0)) for w in live),
        "files_done": totals.get("done", 0),
        "files_failed": totals.get("failed", 0),
        "duplicates": totals.get("duplicates", 0),
        "last_error": _last_error(watchers),
    }


def _last_error(watchers: list[dict[str, Any]]) -> dict[str, Any] | None:
    errors = [w["last_error"] for w in watchers if w.get("last_error")]
    return max(errors, key=lambda e: float(e.get("at", 0)), default=None)
