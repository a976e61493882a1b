"""The benchmark: the baselines and our code on the same generated 837P file.

    python bench/run.py                      # 10,000 claims: speed and peak RSS of every variant
    python bench/run.py --skip-slow          # without pyx12's validation (about 20 s each)
    python bench/run.py --only tokenizer,assemble
    python bench/run.py --size-mb 1000       # peak RSS of our variants on a 1 GB file

The input is generated once into bench/out/ (gitignored) and reused. Every variant runs in its
own process (``measure.py``), so one variant's imports and garbage cannot inflate another's
peak RSS; times are taken inside that process and exclude interpreter start-up and imports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import generate
from variants import REGISTRY, Variant

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
READER = "pyx12 X12Reader"
VALIDATOR = "pyx12 x12n_document"


@dataclass(frozen=True, slots=True)
class Result:
    variant: Variant
    seconds: float = 0.0
    maxrss_kb: int = 0
    rss_loaded_kb: int = 0
    count: int = 0
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.note


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    return (
        f"{date.today().isoformat()}, nproc {os.cpu_count()}, {cpu}, "
        f"Python {platform.python_version()} ({platform.system()}){load}"
    )


def ensure_input(path: Path, *, claims: int | None, size_mb: float | None, seed: int) -> int:
    """Generate ``path`` unless it exists; return its number of claims."""
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return int(json.loads(meta.read_text())["claims"])
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {path.name} ...", file=sys.stderr, flush=True)
    start = time.perf_counter()
    partial = path.with_suffix(".partial")
    with partial.open("wb", buffering=1 << 20) as out:
        if claims is not None:
            generate.generate(out, claims, seed)
        else:
            assert size_mb is not None
            claims = generate.generate_size(out, int(size_mb * 1_000_000), seed)
    partial.replace(path)
    took = time.perf_counter() - start
    print(f"  {path.stat().st_size / 1e6:.1f} MB in {took:.1f} s", file=sys.stderr)
    meta.write_text(json.dumps({"claims": claims, "seed": seed, "bytes": path.stat().st_size}))
    return claims


def measure_command(variant: str, path: Path, *options: str) -> list[str]:
    """The command that runs ``measure.py`` on one variant and file in a fresh process."""
    return [sys.executable, str(BENCH / "measure.py"), variant, str(path), *options]


def measure(variant: Variant, path: Path, repeat: int | None) -> Result:
    command = measure_command(variant.name, path)
    if repeat is not None:
        command += ["--repeat", str(repeat)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if not lines:
        tail = done.stderr.strip().splitlines()[-1:] or [f"exit status {done.returncode}"]
        return Result(variant, note=f"failed: {tail[0]}")
    report = json.loads(lines[-1])
    if report["status"] != "ok":
        return Result(variant, note=f"skipped: {report['note']}")
    seconds = sorted(report["seconds"])
    return Result(
        variant,
        seconds=seconds[len(seconds) // 2],
        maxrss_kb=report["maxrss_kb"],
        rss_loaded_kb=report["rss_loaded_kb"],
        count=report["count"],
    )


def table(results: Sequence[Result], megabytes: float, claims: int) -> str:
    by_name = {r.variant.name: r for r in results if r.ok}

    def speed(name: str) -> float | None:
        result = by_name.get(name)
        return megabytes / result.seconds if result and result.seconds else None

    reader, validator = speed(READER), speed(VALIDATOR)
    head = (
        "| variant | s | MB/s | claims/s | x X12Reader | x x12n_document | peak RSS MB "
        "| RSS after imports MB |"
    )
    rows = [head, "|" + "---|" * 8]
    for result in results:
        name = result.variant.name
        if not result.ok:
            rows.append(f"| {name} | {result.note} |" + " |" * 6)
            continue
        mbs = megabytes / result.seconds
        ratios = [f"{mbs / base:.2f}" if base else "n/a" for base in (reader, validator)]
        rows.append(
            f"| {name} | {result.seconds:.3f} | {mbs:.2f} | {claims / result.seconds:,.0f} | "
            f"{ratios[0]} | {ratios[1]} | {result.maxrss_kb / 1024:.1f} | "
            f"{result.rss_loaded_kb / 1024:.1f} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--size-mb", type=float, help="RSS mode: our variants on a file this big")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="comma-separated variant names")
    parser.add_argument("--skip-slow", action="store_true", help="skip pyx12's validation")
    parser.add_argument("--repeat", type=int, help="timed runs per variant (default: its own)")
    args = parser.parse_args(argv)

    if args.size_mb is not None:
        path = OUT / f"size-{args.size_mb:g}mb-seed-{args.seed}.x12"
        claims = ensure_input(path, claims=None, size_mb=args.size_mb, seed=args.seed)
        chosen = [v for v in REGISTRY if v.kind == "ours"]
        repeat: int | None = 1
    else:
        path = OUT / f"claims-{args.claims}-seed-{args.seed}.x12"
        claims = ensure_input(path, claims=args.claims, size_mb=None, seed=args.seed)
        chosen = list(REGISTRY)
        repeat = args.repeat
    if args.only:
        wanted = {name.strip() for name in args.only.split(",")}
        chosen = [v for v in REGISTRY if v.name in wanted]
    if args.skip_slow or args.size_mb is not None:
        chosen = [v for v in chosen if not v.slow]

    megabytes = path.stat().st_size / 1e6
    print(f"{machine()}\n{path.name}: {megabytes:.2f} MB, {claims:,} claims\n")
    results = []
    for variant in chosen:
        print(f"  {variant.name} ...", file=sys.stderr, flush=True)
        result = measure(variant, path, repeat)
        if result.note:
            print(f"  note: {variant.name} {result.note}", file=sys.stderr)
        results.append(result)
    print(table(results, megabytes, claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
