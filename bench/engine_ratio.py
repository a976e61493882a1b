"""The engine's cost against the streaming core's, measured in alternating rounds.

    python bench/engine_ratio.py                 # 10,000 claims, 6 rounds
    python bench/engine_ratio.py --rounds 10 --repeat 9

Issue 4's floor compares two variants of ``bench/run.py``: ``roundtrip`` (read -> assemble ->
write) and ``edit`` (read -> assemble -> edit -> write). On a shared machine the same run
takes 0.19 s one minute and 0.35 s the next, so one measurement of each, minutes apart, can
say anything. Each round here measures both, back to back, each in its own process exactly as
``bench/run.py`` does (``measure.py``, median of its runs); the ratio of a round compares two
measurements taken under the same conditions, and the spread over rounds shows the noise.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Sequence

from run import OUT, ensure_input, machine, measure
from variants import BY_NAME


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=7, help="runs per process (median)")
    args = parser.parse_args(argv)
    path = OUT / f"claims-{args.claims}-seed-{args.seed}.x12"
    ensure_input(path, claims=args.claims, size_mb=None, seed=args.seed)
    print(machine())
    print(f"{path.name}: {args.rounds} rounds, each variant {args.repeat} runs per process\n")
    print("| round | roundtrip s | edit s | ratio |")
    print("|---|---|---|---|")
    ratios: list[float] = []
    for number in range(1, args.rounds + 1):
        core = measure(BY_NAME["roundtrip"], path, args.repeat)
        engine = measure(BY_NAME["edit"], path, args.repeat)
        if not (core.ok and engine.ok):
            print(f"round {number}: {core.note or engine.note}", file=sys.stderr)
            return 1
        ratio = core.seconds / engine.seconds
        ratios.append(ratio)
        print(f"| {number} | {core.seconds:.3f} | {engine.seconds:.3f} | {ratio:.3f} |")
    quartiles = (
        statistics.quantiles(ratios, n=4, method="inclusive")
        if len(ratios) > 1
        else [ratios[0]] * 3
    )
    print(
        f"\nedit at {statistics.median(ratios):.3f} of roundtrip's speed (median of rounds; "
        f"quartiles {quartiles[0]:.3f}-{quartiles[2]:.3f}, range {min(ratios):.3f}-"
        f"{max(ratios):.3f}); issue 4's floor is 0.5"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
