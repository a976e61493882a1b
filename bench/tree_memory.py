"""Peak memory of the whole `fix` process tree (the pipeline and its validation worker).

`bench/measure.py` reports `ru_maxrss` of one process; since structure validation may run in
a worker process, this runs `edi_guard.process` in a child and samples the resident size of
the child and its own children every 0.2 s from /proc (Linux), summing RSS (shared pages
counted in each process) and PSS (shared pages divided among them).

    .venv-compiled/bin/python bench/tree_memory.py bench/out/size-1000mb-seed-0.x12
        [--parallel auto|on|off] [--samples FILE]

Prints one JSON line: wall seconds, claims, tree peak RSS and PSS in KB, and `ru_maxrss` of
the `fix` process and of its children.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

CHILD = """
import json, resource, sys, tempfile
from pathlib import Path
from edi_guard import logs, process
from edi_guard.history.store import open_store
logs.configure("json")
path, parallel = sys.argv[1], {"auto": None, "on": True, "off": False}[sys.argv[2]]
with tempfile.TemporaryDirectory() as tmp:
    store = open_store(f"sqlite://{tmp}/history.sqlite3")
    result = process(path, out_dir=Path(tmp), history=store, parallel=parallel)
    store.close()
usage = resource.getrusage
print(json.dumps({
    "claims": result.summary.claims_in,
    "self_maxrss_kb": usage(resource.RUSAGE_SELF).ru_maxrss,
    "children_maxrss_kb": usage(resource.RUSAGE_CHILDREN).ru_maxrss,
}))
"""


def _field(pid: int, name: str) -> int:
    try:
        with Path(f"/proc/{pid}/smaps_rollup").open() as rollup:
            for line in rollup:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass  # the process ended between listing and reading
    return 0


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                pids += _tree(int(child))
    except OSError:
        pass
    return pids


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--parallel", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--samples", type=Path, help="append a JSON sample every 30 s")
    args = parser.parse_args(argv)
    started = time.monotonic()
    # Not from the checkout: `-c` puts the working directory first on sys.path, and the run
    # must import the installed (compiled) package.
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(args.path.resolve()), args.parallel],
        stdout=subprocess.PIPE,
        cwd="/",
    )
    peak_rss = peak_pss = 0
    last_sample = started
    while child.poll() is None:
        pids = _tree(child.pid)
        rss = sum(_field(pid, "Rss") for pid in pids)
        pss = sum(_field(pid, "Pss") for pid in pids)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        if args.samples and time.monotonic() - last_sample > 30:
            last_sample = time.monotonic()
            sample = {"t": round(last_sample - started), "rss_kb": rss, "pss_kb": pss}
            with args.samples.open("a") as samples:
                samples.write(json.dumps(sample) + "\n")
        time.sleep(0.2)
    assert child.stdout is not None
    lines = child.stdout.read().decode().strip().splitlines()
    if child.returncode != 0 or not lines:
        print(json.dumps({"error": f"the run exited with {child.returncode}"}))
        return 1
    report = {
        "wall_s": round(time.monotonic() - started, 2),
        "tree_peak_rss_kb": peak_rss,
        "tree_peak_pss_kb": peak_pss,
        **json.loads(lines[-1]),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
