"""Start an atheris campaign on one of the invariants in ``targets.py``.

The edi_guard modules are imported inside ``atheris.instrument_imports`` so that libFuzzer
sees their coverage; ``targets`` itself is plain Python shared with ``tests/test_fuzz.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]  # atheris ships no type information

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["edi_guard"]):
    import edi_guard.acks
    import edi_guard.api
    import edi_guard.validate
    import edi_guard.x12.tokenizer  # noqa: F401 - imported for instrumentation

import targets


def main(target: str) -> None:
    check = targets.CHECKS[target]
    if target == "fix":
        check(b"")  # load the policy and the PTP table before the clock starts

    def test_one_input(data: bytes) -> None:
        check(data)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
