"""The watcher as a subprocess, files dropped by plain writes: signals, markers, status."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sftp_support import REPO, Watcher, files_in

sys.path.insert(0, str(REPO / "bench"))
import generate  # bench/ holds scripts, not a package

DEMO = (REPO / "fixtures" / "demo" / "tpi-batch.x12").read_bytes()

pytestmark = pytest.mark.slow


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    started: list[Watcher] = []
    yield started
    for watcher in started:
        watcher.kill()


def drop(inbox: Path, name: str, data: bytes) -> None:
    """An upload the way careful clients do it: a hidden name, then a rename."""
    temporary = inbox / f".{name}.upload"
    temporary.write_bytes(data)
    temporary.rename(inbox / name)


def test_sigterm_finishes_the_file_in_hand_and_stops(
    tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = Watcher(tmp_path)
    watchers.append(watcher.start())
    out = io.BytesIO()
    generate.generate(out, 600, 5)
    drop(watcher.inbox, "long.x12", out.getvalue())
    watcher.wait_for(
        lambda: any(e["event"] == "file_claimed" for e in watcher.events()), 30, "the claim"
    )
    watcher.signal(signal.SIGTERM)
    assert watcher.process is not None
    assert watcher.process.wait(timeout=60) == 0
    [event] = watcher.handled()
    assert (event["outcome"], event["claims_in"]) == ("processed", 600)
    assert files_in(watcher.archive) == ["long.x12"]
    assert not any((watcher.state / "work").iterdir())
    status = json.loads(next((watcher.state / "status").glob("*.json")).read_text())
    assert (status["state"], status["done"], status["queue_depth"]) == ("stopped", 1, 0)


def test_sigusr1_dumps_every_threads_stack_and_the_watcher_goes_on(
    tmp_path: Path, watchers: list[Watcher]
) -> None:
    watcher = Watcher(tmp_path)
    watchers.append(watcher.start())
    watcher.signal(signal.SIGUSR1)
    watcher.wait_for(lambda: "Current thread" in watcher.tail(200), 10, "the stack dump")
    dump = watcher.tail(200)
    assert "edi_guard/watch/service.py" in dump and " in run" in dump
    drop(watcher.inbox, "after.x12", DEMO)
    [event] = watcher.wait_handled(1)
    assert event["outcome"] == "processed"
    assert watcher.stop() == 0


def test_marker_mode_waits_for_the_marker(tmp_path: Path, watchers: list[Watcher]) -> None:
    watcher = Watcher(tmp_path, "--marker", ".done")
    watchers.append(watcher.start())
    drop(watcher.inbox, "marked.x12", DEMO)
    time.sleep(1.2)
    assert watcher.handled() == []
    (watcher.inbox / "marked.x12.done").touch()
    [event] = watcher.wait_handled(1)
    assert (event["file"], event["outcome"]) == ("marked.x12", "processed")
    assert files_in(watcher.inbox) == []
    assert files_in(watcher.archive) == ["marked.x12"]
    assert watcher.stop() == 0


def test_status_reports_queue_done_and_last_error(tmp_path: Path, watchers: list[Watcher]) -> None:
    watcher = Watcher(tmp_path, "--incomplete-timeout", "60")
    watchers.append(watcher.start())
    drop(watcher.inbox, "good.x12", DEMO)
    drop(watcher.inbox, "junk.x12", b"junk\n")
    drop(watcher.inbox, "waiting.x12", DEMO[:500])
    watcher.wait_handled(2)
    time.sleep(1.2)  # the status file is rewritten about once a second
    shown = subprocess.run(
        [sys.executable, "-m", "edi_guard.commands.watch", str(watcher.inbox), "--status"],
        cwd=REPO,
        capture_output=True,
        check=True,
    )
    report = json.loads(shown.stdout)
    assert report["files_done"] == 1
    assert report["queue_depth"] == 1
    assert report["last_error"]["file"] == "junk.x12"
    [alive] = report["watchers"]
    assert (alive["alive"], alive["done"], alive["failed"], alive["waiting"]) == (True, 1, 1, 1)
    assert watcher.stop() == 0


def test_a_persistent_history_counts_sessions_across_files(
    tmp_path: Path, watchers: list[Watcher]
) -> None:
    """With --history, a file's TPI sessions are remembered by the SQLite store."""
    from edi_guard.history.store import open_store

    database = tmp_path / "history.sqlite3"
    watcher = Watcher(tmp_path, "--history", f"sqlite:///{database}")
    watchers.append(watcher.start())
    drop(watcher.inbox, "first.x12", DEMO)
    [event] = watcher.wait_handled(1)
    assert event["outcome"] == "processed"
    assert watcher.stop() == 0
    store = open_store(f"sqlite:///{database}")
    try:
        stats = store.stats()
    finally:
        store.close()
    # The demo file's accepted and corrected TPI claims: four sessions, none reserved.
    assert stats.sessions == 4
    assert stats.reservations == 0
