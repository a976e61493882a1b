"""atheris target: the fix invariant of targets.check_fix (run it with fuzz/run.py)."""

from __future__ import annotations

import _harness

if __name__ == "__main__":
    _harness.main("fix")
