"""Start an atheris campaign on one of the invariants in ``targets.py``.

The edi_guard modules are imported inside ``atheris.instrument_imports`` so that libFuzzer
sees their coverage; ``targets`` itself is plain Python shared with ``tests/test_fuzz.py``.

With ``EDI_GUARD_FUZZ_KNOWN=1`` (``run.py --keep-going``) a failure whose signature (exception
type and innermost edi_guard frame) matches a kept regression case is counted, not raised, so
a long campaign goes on past a reported bug. CI runs never set it.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import atheris  # type: ignore[import-untyped]  # atheris ships no type information

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

with atheris.instrument_imports(include=["edi_guard"]):
    import edi_guard.acks
    import edi_guard.api
    import edi_guard.validate
    import edi_guard.x12.tokenizer  # noqa: F401 - imported for instrumentation

import targets  # noqa: E402 - after the instrumented imports

REGRESSIONS = HERE.parent / "fixtures" / "fuzz-regressions"


def signature(error: BaseException) -> tuple[str, str]:
    """The exception type and the innermost frame in edi_guard or fuzz/targets.py."""
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if "edi_guard" in frame.filename or frame.filename.endswith("targets.py")
    ]
    where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
    return type(error).__name__, where


def known_signatures(check: targets.Check) -> set[tuple[str, str]]:
    known: set[tuple[str, str]] = set()
    for path in sorted(REGRESSIONS.glob("*/*")):
        try:
            check(path.read_bytes())
        except Exception as error:  # a kept case that still fails: its bug is known
            known.add(signature(error))
    return known


def main(target: str) -> None:
    check = targets.CHECKS[target]
    if target == "fix":
        check(b"")  # load the policy and the PTP table before the clock starts
    known = known_signatures(check) if os.environ.get("EDI_GUARD_FUZZ_KNOWN") == "1" else set()
    if known:
        print(f"known failures skipped: {sorted(known)}", file=sys.stderr)

    def test_one_input(data: bytes) -> None:
        try:
            check(data)
        except Exception as error:
            if signature(error) not in known:
                raise

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
