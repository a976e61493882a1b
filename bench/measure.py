"""Run one variant on one file in this (fresh) process; print its times and peak RSS as JSON.

    python bench/measure.py VARIANT PATH [--repeat N]
    python bench/measure.py VARIANT PATH --serve    # 'run N' on stdin -> N runs' seconds

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
from collections.abc import Callable, Sequence
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
    parser.add_argument(
        "--serve",
        action="store_true",
        help="after loading, answer each stdin line 'run N' with the seconds of N runs",
    )
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
    if args.serve:
        return serve(body, args.path)
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


def serve(body: Callable[[Path], int], path: Path) -> int:
    """For each line ``run N`` of stdin, run ``body`` N times and print the N times.

    For a driver that alternates turns between two such processes (``engine_ratio.py``):
    each process stays loaded and warm, and the two turns compared are taken about a second
    apart instead of several.
    """
    print("ready", flush=True)
    for line in sys.stdin:
        runs = int(line.split()[-1]) if line.strip() else 1
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            body(path)
            seconds.append(time.perf_counter() - start)
        print(" ".join(f"{second:.6f}" for second in seconds), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
