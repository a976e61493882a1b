"""The watcher's main loop wakes up after a signal, however late in a tick it comes.

CPython 3.11's ``queue.SimpleQueue.get(timeout=...)`` waits forever when a signal handler runs
past the remaining timeout (it recomputes a negative timeout, which the lock reads as "none"):
the watcher used one for its file events, and a SIGTERM near the end of a tick left it asleep
until the next event, so ``stop`` timed out under load. The check runs in a subprocess so that
a hang fails the test instead of stopping the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sftp_support import REPO

WAIT_ONE_TICK_THROUGH_A_SLOW_HANDLER = """
import signal, sys, threading, time
from pathlib import Path
from edi_guard.watch.service import Service, Settings

root = Path(sys.argv[1])
settings = Settings(
    inbox=root, out_dir=root / "out", state_dir=root / "state",
    archive_dir=root / "archive", error_dir=root / "error",
)
service = Service(settings)
handled = []

def slow_handler(signum, frame):
    handled.append(signum)
    time.sleep(0.3)  # past the end of the tick the main thread was waiting in

signal.signal(signal.SIGUSR2, slow_handler)
main = threading.main_thread().ident
threading.Timer(0.05, signal.pthread_kill, (main, signal.SIGUSR2)).start()
started = time.monotonic()
service._take_events(timeout=0.1)
print(f"returned after {len(handled)} signal(s) in {time.monotonic() - started:.2f} s")
"""


@pytest.mark.parametrize("attempt", range(3))
def test_the_event_wait_returns_after_a_signal_handler_outlasting_the_tick(
    tmp_path: Path, attempt: int
) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", WAIT_ONE_TICK_THROUGH_A_SLOW_HANDLER, str(tmp_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=15,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the event wait never returned after the signal (a SIGTERM would be ignored)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("returned after 1 signal(s)"), done.stdout
