"""Shared helpers for the validator tests: pyx12 as the oracle, 999 normalisation."""

from __future__ import annotations

import io
import logging
import os
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from edi_guard.acks import write_999
from edi_guard.validate import Limits, ValidationResult
from edi_guard.validate.api import validate_bytes

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "public"
NOW = datetime(2024, 1, 2, 3, 4)
UNBOUNDED = Limits(max_errors_per_set=10**9, max_findings_per_set=10, max_envelope_errors=10**6)


def corpus_dir() -> Path:
    """The public corpus, read in place; skip without it (fail under CI)."""
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared corpus is missing at {CORPUS}")
        pytest.skip(f"the shared corpus is not available at {CORPUS}")
    return CORPUS


def pyx12_999(data: bytes) -> str | None:
    """pyx12 4.0.0's 999 for ``data``, or None when pyx12 crashes or writes none."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL + 1)
    logging.getLogger("pyx12").propagate = False
    param = pyx12.params.params()
    out = io.StringIO()
    try:
        text = data.decode("ascii")
        pyx12.x12n_document.x12n_document(param, io.StringIO(text), out, None, None)
    except Exception:
        return None
    value = out.getvalue()
    return value or None


def ours_999(result: ValidationResult) -> str:
    return write_999(result, control_number=1, now=NOW).decode("ascii")


def normalise_999(text: str) -> list[tuple[object, ...]]:
    """Per AK2: (AK2, IK5, multiset of IK3 lines and of IK4 lines keyed by IK302), plus AK9s."""
    segments = [s.strip() for s in text.replace("\n", "").split("~") if s.strip()]
    out: list[tuple[object, ...]] = []
    current: list[str] | None = None
    ak2 = ""
    ik302 = ""
    for seg in segments:
        fields = seg.split("*")
        tag = fields[0]
        if tag == "AK2":
            ak2 = "*".join(fields[:3])
            current = []
        elif tag == "IK3":
            ik302 = fields[2]
            line = "*".join(f for i, f in enumerate(fields) if i != 3)
            assert current is not None
            current.append(line)
        elif tag == "IK4":
            assert current is not None
            current.append(f"{ik302}|{seg}")
        elif tag == "IK5":
            assert current is not None
            out.append(("AK2", ak2, seg, tuple(sorted(Counter(current).items()))))
            current = None
        elif tag == "AK9":
            out.append(("AK9", seg))
        elif tag == "AK1":
            out.append(("AK1", seg))
    return out
