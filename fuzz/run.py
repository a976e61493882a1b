"""Run one atheris campaign: ``python fuzz/run.py --target NAME --seconds N``.

Seeds come from the fixtures (demo, rules, history, the bad-input catalogue) and every kept
regression case; the working corpus grows in ``fuzz/.corpus/NAME`` across campaigns. A crash,
hang (``--timeout`` seconds on one input) or memory blow-up (``--rss-mb``) is copied into
``fixtures/fuzz-regressions/NAME/`` and the run exits 1. Each campaign appends a line to
``fuzz/campaigns.tsv`` (date, target, seconds, inputs executed, crashes) with ``--record``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
FIXTURES = REPO / "fixtures"
REGRESSIONS = FIXTURES / "fuzz-regressions"
TARGETS = ("tokenizer", "validator", "fix")
MAX_LEN = {"tokenizer": 16384, "validator": 16384, "fix": 8192}
CHUNK_PREFIX = b"\x07\x69\x01\x20"
"""Tokenizer inputs start with four chunk sizes (see targets.check_tokenizer)."""
ARTIFACT_KINDS = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")
SEED_SKIP = (".json", ".py", ".md", ".tsv")


def seed_files(target: str) -> list[Path]:
    """Inputs from the fixtures that fit the target's maximum length."""
    found: list[Path] = []
    for pattern in (
        "demo/*.x12",
        "rules/*/*.x12",
        "history/*.x12",
        "bad/*",
        "fuzz-regressions/*/*",
    ):
        for path in sorted(FIXTURES.glob(pattern)):
            wanted = path.is_file() and not path.name.endswith(SEED_SKIP)
            if wanted and not path.name.startswith(".") and path.stat().st_size <= MAX_LEN[target]:
                found.append(path)
    return found


def write_seeds(target: str, directory: Path) -> int:
    files = seed_files(target)
    for index, path in enumerate(files):
        data = path.read_bytes()
        if target == "tokenizer" and "fuzz-regressions" not in path.parts:
            data = CHUNK_PREFIX + data
        (directory / f"seed-{index:04d}").write_bytes(data)
    return len(files)


def campaign(args: argparse.Namespace) -> int:
    target = args.target
    corpus = Path(args.corpus) if args.corpus else HERE / ".corpus" / target
    corpus.mkdir(parents=True, exist_ok=True)
    kept = Path(args.regressions) / target
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{target}-") as scratch:
        seeds = Path(scratch) / "seeds"
        artifacts = Path(scratch) / "artifacts"
        seeds.mkdir()
        artifacts.mkdir()
        count = write_seeds(target, seeds)
        command = [
            sys.executable,
            str(HERE / f"fuzz_{target}.py"),
            f"-max_total_time={args.seconds}",
            *([f"-runs={args.runs}"] if args.runs is not None else []),
            f"-timeout={args.timeout}",
            f"-rss_limit_mb={args.rss_mb}",
            f"-max_len={MAX_LEN[target]}",
            f"-dict={HERE / 'x12.dict'}",
            f"-artifact_prefix={artifacts}/",
            "-print_final_stats=1",
            "-print_pcs=0",
            *([f"-seed={args.seed}"] if args.seed is not None else []),
            str(corpus),
            str(seeds),
        ]
        started = time.monotonic()
        environment = {**os.environ, "EDI_GUARD_FUZZ_KNOWN": "1" if args.keep_going else "0"}
        finished = subprocess.run(
            command, capture_output=True, text=True, errors="replace", env=environment
        )
        elapsed = time.monotonic() - started
        output = finished.stderr + finished.stdout
        executed = executed_units(output)
        crashes = keep_artifacts(artifacts, kept)
    status = "ok" if finished.returncode == 0 and not crashes else "FAILED"
    print(
        f"fuzz {target}: {status}; {executed} inputs in {elapsed:.0f} s from {count} seeds; "
        f"corpus {sum(1 for _ in corpus.iterdir())} inputs"
    )
    if crashes or finished.returncode != 0:
        print(tail(output), file=sys.stderr)
        for path in crashes:
            shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
            print(f"kept {shown}", file=sys.stderr)
    if args.record:
        record(target, elapsed, executed, len(crashes))
    return 0 if status == "ok" else 1


def executed_units(output: str) -> int:
    final = re.findall(r"stat::number_of_executed_units:\s*(\d+)", output)
    if final:
        return int(final[-1])
    progress = re.findall(r"^#(\d+)[:\s]", output, re.MULTILINE)
    return int(progress[-1]) if progress else 0


def keep_artifacts(artifacts: Path, kept: Path) -> list[Path]:
    saved: list[Path] = []
    for path in sorted(artifacts.iterdir()):
        if path.name.startswith(ARTIFACT_KINDS):
            kept.mkdir(parents=True, exist_ok=True)
            target = kept / path.name
            shutil.copyfile(path, target)
            saved.append(target)
    return saved


def tail(output: str, lines: int = 60) -> str:
    return "\n".join(output.splitlines()[-lines:])


def record(target: str, seconds: float, executed: int, crashes: int) -> None:
    log = HERE / "campaigns.tsv"
    if not log.exists():
        log.write_text("date\ttarget\tseconds\texecuted\tcrashes\n")
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%MZ")
    with log.open("a") as handle:
        handle.write(f"{today}\t{target}\t{seconds:.0f}\t{executed}\t{crashes}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, choices=TARGETS)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help="stop after this many inputs (with --seed: the same inputs on every machine)",
    )
    parser.add_argument("--timeout", type=int, default=20, help="seconds one input may take")
    parser.add_argument("--rss-mb", type=int, default=1536, help="memory limit of the run")
    parser.add_argument("--seed", type=int, default=None, help="libFuzzer's random seed")
    parser.add_argument("--corpus", help="working corpus directory (default fuzz/.corpus/NAME)")
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="skip failures with the signature of a kept regression case (long campaigns)",
    )
    parser.add_argument(
        "--regressions",
        default=str(REGRESSIONS),
        help="where crashing inputs are kept, one folder per target",
    )
    parser.add_argument("--record", action="store_true", help="append to fuzz/campaigns.tsv")
    return campaign(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
