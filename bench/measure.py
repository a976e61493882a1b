"""Run one variant on one file in this (fresh) process; print its times and peak RSS as JSON.

    python bench/measure.py VARIANT PATH [--repeat N]

The peak RSS is ``getrusage(RUSAGE_SELF).ru_maxrss`` at exit: interpreter and imports
included. ``rss_loaded_kb`` is the resident size after the variant's imports and before its
first run, so the difference is what the work itself cost. Exit status 3 means the variant's
code does not exist yet (the JSON then has ``"status": "skipped"`` and a note).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from variants import BY_NAME

SKIPPED = 3


def resident_kb() -> int:
    """The current resident set size in KiB (0 where /proc is missing)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=sorted(BY_NAME))
    parser.add_argument("path", type=Path)
    parser.add_argument("--repeat", type=int, default=None, help="default: the variant's own")
    args = parser.parse_args(argv)
    variant = BY_NAME[args.variant]
    # Logs as `edi-guard fix` writes them (JSON lines on stderr): priced in, and off stdout,
    # whose last line is the report run.py reads.
    from edi_guard import logs

    logs.configure("json")
    try:
        body = variant.load()
    except (ImportError, AttributeError) as exc:
        print(json.dumps({"variant": variant.name, "status": "skipped", "note": str(exc)}))
        return SKIPPED
    loaded = resident_kb()
    seconds = []
    count = 0
    for _ in range(args.repeat or variant.repeat):
        start = time.perf_counter()
        count = body(args.path)
        seconds.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    report = {
        "variant": variant.name,
        "status": "ok",
        "seconds": seconds,
        "count": count,
        "rss_loaded_kb": loaded,
        "maxrss_kb": peak,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
