"""``edi-guard batch`` scaling: the same generated files with ``--jobs 1``, ``2``, ...

    .venv/bin/python bench/batch_scaling.py                      # 8 files x 4,000 claims
    .venv/bin/python bench/batch_scaling.py --files 32 --claims 500 --jobs 1,2,4 --repeat 5

Inputs are generated once into ``bench/out/batch-scaling/`` (gitignored) and reused. Each
run calls ``edi_guard.batch.run_batch`` (what the command runs, without the progress bar)
into a fresh temporary output directory; ``jobs=1`` runs in this process, more jobs in a
pool of spawned worker processes, whose start-up (imports, policy, PTP table) is part of the
time. Every configuration must write byte-identical outputs (fixed ``now`` and control
numbers); the script checks it. Job counts alternate within each round, so a change in load
falls on all alike. Prints a Markdown table: median wall seconds, median CPU seconds
(this process and the pool's workers), claims/s and the speed-up over one job, with the load
average before and after (the machine may be shared).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import generate

from edi_guard import logs
from edi_guard.batch import BatchOptions, BatchResult, discover, run_batch

BENCH = Path(__file__).resolve().parent
NOW = datetime(2026, 8, 15, 9, 30)


def make_inputs(directory: Path, files: int, claims: int) -> list[str]:
    """``files`` generated 837P files of ``claims`` claims each (seeds 0..files-1)."""
    directory.mkdir(parents=True, exist_ok=True)
    for seed in range(files):
        path = directory / f"claims-{claims}-seed-{seed}.x12"
        if not path.exists():
            partial = path.with_suffix(".partial")
            with partial.open("wb") as out:
                generate.generate(out, claims, seed=seed)
            partial.replace(path)
    return [
        source
        for source in discover([directory])
        if Path(source).name.startswith(f"claims-{claims}-seed-")
        and int(Path(source).stem.rsplit("-", 1)[1]) < files
    ]


def digest(directory: Path) -> str:
    total = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        total.update(path.name.encode())
        total.update(hashlib.sha256(path.read_bytes()).digest())
    return total.hexdigest()


def cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children (the pool's workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def one_run(sources: Sequence[str], jobs: int) -> tuple[float, float, BatchResult, str]:
    with tempfile.TemporaryDirectory(prefix="edi-guard-bench-") as out:
        options = BatchOptions(
            out_dir=out,
            history_url="memory:",  # each file on its own: the same work whatever the jobs
            now=NOW,
            control_start=1,
            log_format="console",
            log_level=logging.WARNING,
        )
        started, cpu = time.perf_counter(), cpu_seconds()
        result = run_batch(sources, options, jobs=jobs)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        return seconds, cpu, result, digest(Path(out))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--claims", type=int, default=4000, help="claims per file")
    parser.add_argument("--jobs", default="1,2", help="comma-separated job counts")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--inputs", type=Path, default=BENCH / "out" / "batch-scaling")
    args = parser.parse_args(argv)
    job_counts = [int(part) for part in args.jobs.split(",")]
    logs.configure("console", level=logging.WARNING)

    sources = make_inputs(args.inputs, args.files, args.claims)
    megabytes = sum(Path(source).stat().st_size for source in sources) / 1e6
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"{len(sources)} files x {args.claims} claims ({megabytes:.1f} MB), "
        f"{args.repeat} runs each; nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"load average {load}",
        file=sys.stderr,
    )
    # Job counts alternate within each round, so a change in the machine's load (it may be
    # shared) falls on every configuration alike.
    times: dict[int, list[float]] = {jobs: [] for jobs in job_counts}
    cpus: dict[int, list[float]] = {jobs: [] for jobs in job_counts}
    claims = 0
    digests: set[str] = set()
    for round_number in range(args.repeat):
        order = job_counts if round_number % 2 == 0 else job_counts[::-1]
        for jobs in order:
            seconds, cpu, result, tree = one_run(sources, jobs)
            if result.totals.failed:
                raise SystemExit(f"{result.totals.failed} files failed with jobs={jobs}")
            times[jobs].append(seconds)
            cpus[jobs].append(cpu)
            claims = result.totals.claims_in
            digests.add(tree)
            print(
                f"round {round_number + 1}, jobs={jobs}: {seconds:.2f} s, CPU {cpu:.2f} s",
                file=sys.stderr,
            )
    if len(digests) != 1:
        raise SystemExit("outputs differ between job counts")
    rows = [
        (jobs, statistics.median(times[jobs]), statistics.median(cpus[jobs]), claims, times[jobs])
        for jobs in job_counts
    ]

    base = rows[0][1]
    print("| jobs | median s | CPU s | claims/s | speed-up vs jobs=1 | runs (s) |")
    print("|---|---|---|---|---|---|")
    for jobs, median, cpu, claims, runs_of in rows:
        runs = ", ".join(f"{value:.2f}" for value in runs_of)
        print(
            f"| {jobs} | {median:.2f} | {cpu:.2f} | {claims / median:,.0f} "
            f"| {base / median:.2f}x | {runs} |"
        )
    after = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nload average before: {load}; after: {after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
