"""The engine's cost against the streaming core's, measured in alternating turns.

    python bench/engine_ratio.py                 # 10,000 claims, 30 pairs of turns
    python bench/engine_ratio.py --pairs 60 --runs 3 --show-pairs
    python bench/engine_ratio.py --rounds 10 --repeat 9   # the older, coarser rounds

Issue 4's floor compares two variants of ``bench/run.py``: ``roundtrip`` (read -> assemble ->
write) and ``edit`` (read -> assemble -> edit -> write). On a shared machine the same run
takes 0.19 s one minute and 0.35 s the next, so one measurement of each, minutes apart, can
say anything.

By default two processes are started, one per variant (``measure.py --serve``: loaded once,
warmed, then timed runs on request), and they take turns of ``--runs`` runs in a row (the
turn's time is their median), the order swapped every pair (core then engine, engine then
core) so that a drift of the machine's speed favours neither. A pair's two turns are about a
second apart: its ratio compares the variants under the same conditions, and the spread over
pairs shows what noise is left. (Turns of a single run are slower for both variants: the
first run after the other process ran pays for what that process evicted.)

With ``--rounds``, each round instead measures both variants back to back, each in its own
process exactly as ``bench/run.py`` does (median of ``--repeat`` runs): the method of the
results recorded before 2026-11-28 15:00, kept to compare with them.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from run import OUT, ensure_input, machine, measure, measure_command
from variants import BY_NAME

FLOOR = 0.5
"""Issue 4: edit at no less than half the speed of roundtrip."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pairs", type=int, default=30, help="alternating turns")
    parser.add_argument("--runs", type=int, default=3, help="runs per turn (median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per process")
    parser.add_argument("--show-pairs", action="store_true", help="print every pair")
    parser.add_argument(
        "--rounds", type=int, default=None, help="instead: rounds of one process per variant"
    )
    parser.add_argument("--repeat", type=int, default=7, help="with --rounds: runs per process")
    args = parser.parse_args(argv)
    path = OUT / f"claims-{args.claims}-seed-{args.seed}.x12"
    ensure_input(path, claims=args.claims, size_mb=None, seed=args.seed)
    print(machine())
    if args.rounds is None:
        return _pairs(path, args.pairs, args.runs, args.warmup, show=args.show_pairs)
    return _rounds(path, args.rounds, args.repeat)


class _Server:
    """A ``measure.py --serve`` process: one variant, loaded once, runs on request."""

    def __init__(self, variant: str, path: Path) -> None:
        self.variant = variant
        self._process = subprocess.Popen(
            measure_command(variant, path, "--serve"),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self._expect("ready")

    def run(self, runs: int) -> float:
        """The median of ``runs`` runs in a row."""
        assert self._process.stdin is not None
        self._process.stdin.write(f"run {runs}\n")
        self._process.stdin.flush()
        return statistics.median(float(seconds) for seconds in self._expect(None).split())

    def close(self) -> None:
        """End the process (end of stdin) and close its pipes."""
        self._process.communicate(timeout=60)

    def _expect(self, word: str | None) -> str:
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line or (word is not None and line != word):
            raise SystemExit(f"{self.variant}: measure.py --serve answered {line!r}")
        return line


def _pairs(path: Path, pairs: int, runs: int, warmup: int, *, show: bool) -> int:
    core, engine = _Server("roundtrip", path), _Server("edit", path)
    try:
        core.run(warmup)
        engine.run(warmup)
        print(
            f"{path.name}: {pairs} pairs, each variant's turn the median of {runs} runs in a "
            f"row, order alternating; {warmup} warm-up runs per process\n"
        )
        if show:
            print("| pair | roundtrip s | edit s | ratio |")
            print("|---|---|---|---|")
        times: list[tuple[float, float]] = []
        for number in range(1, pairs + 1):
            if number % 2:
                core_seconds = core.run(runs)
                engine_seconds = engine.run(runs)
            else:
                engine_seconds = engine.run(runs)
                core_seconds = core.run(runs)
            times.append((core_seconds, engine_seconds))
            if show:
                ratio = core_seconds / engine_seconds
                print(f"| {number} | {core_seconds:.3f} | {engine_seconds:.3f} | {ratio:.3f} |")
    finally:
        core.close()
        engine.close()
    ratios = [core_seconds / engine_seconds for core_seconds, engine_seconds in times]
    core_median = statistics.median(c for c, _ in times)
    engine_median = statistics.median(e for _, e in times)
    print(
        f"roundtrip median {core_median:.3f} s, edit median {engine_median:.3f} s: "
        f"ratio of medians {core_median / engine_median:.3f}"
    )
    _summary(ratios, "pairs")
    return 0


def _summary(ratios: list[float], unit: str) -> None:
    quartiles = (
        statistics.quantiles(ratios, n=4, method="inclusive")
        if len(ratios) > 1
        else [ratios[0]] * 3
    )
    below = sum(1 for ratio in ratios if ratio < FLOOR)
    print(
        f"edit at {statistics.median(ratios):.3f} of roundtrip's speed (median of {unit}; "
        f"quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}, range {min(ratios):.3f}-"
        f"{max(ratios):.3f}; {below} of {len(ratios)} {unit} below {FLOOR}); "
        f"issue 4's floor is {FLOOR}"
    )


def _rounds(path: Path, rounds: int, repeat: int) -> int:
    print(f"{path.name}: {rounds} rounds, each variant {repeat} runs per process\n")
    print("| round | roundtrip s | edit s | ratio |")
    print("|---|---|---|---|")
    ratios: list[float] = []
    for number in range(1, rounds + 1):
        core = measure(BY_NAME["roundtrip"], path, repeat)
        engine = measure(BY_NAME["edit"], path, repeat)
        if not (core.ok and engine.ok):
            print(f"round {number}: {core.note or engine.note}", file=sys.stderr)
            return 1
        ratio = core.seconds / engine.seconds
        ratios.append(ratio)
        print(f"| {number} | {core.seconds:.3f} | {engine.seconds:.3f} | {ratio:.3f} |")
    print()
    _summary(ratios, "rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
