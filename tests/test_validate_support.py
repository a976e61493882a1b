"""Shared helpers for the validator tests: pyx12 as the oracle, 999 normalisation."""

from __future__ import annotations

import io
import logging
import os
import random
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from edi_guard.acks import write_999
from edi_guard.validate import ValidationResult, ValidatorLimits

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "public"
NOW = datetime(2024, 1, 2, 3, 4)
UNBOUNDED = ValidatorLimits(
    max_errors_per_set=10**9, max_findings_per_set=10, max_envelope_errors=10**6
)


def require_corpus() -> Path:
    """The public corpus, read in place; skip without it (fail under CI)."""
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared corpus is missing at {CORPUS}")
        pytest.skip(f"the shared corpus is not available at {CORPUS}")
    return CORPUS


_MAPS: dict[str, object] = {}


def _patch_map_loading() -> None:
    """pyx12 re-reads its XML maps for every document; memoise them (they are not mutated)."""
    import pyx12.map_if

    if getattr(pyx12.map_if, "_edi_guard_memo", False):
        return
    original = pyx12.map_if.load_map_file

    def load(map_file: str, param: object, map_path: str | None = None) -> object:
        key = f"{map_path}:{map_file}"
        if key not in _MAPS:
            _MAPS[key] = original(map_file, param, map_path)
        return _MAPS[key]

    pyx12.map_if.load_map_file = load
    pyx12.map_if._edi_guard_memo = True


def pyx12_999(data: bytes) -> str | None:
    """pyx12 4.0.0's 999 for ``data``, or None when pyx12 crashes or writes none."""
    import pyx12.params
    import pyx12.x12n_document

    _patch_map_loading()
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
            # A garbled segment id: ours is cut to IK301's 3 characters, an empty one omitted.
            fields[1] = fields[1][:3]
            if len(fields[1]) < 2:
                continue
            line = "*".join(f for i, f in enumerate(fields) if i != 3)
            assert current is not None
            current.append(line)
        elif tag == "IK4":
            assert current is not None
            # IK404 (the copied value) is left out: see validator_known_differences.tsv.
            current.append(f"{ik302}|{'*'.join(fields[:4])}")
        elif tag == "IK5":
            assert current is not None
            out.append(("AK2", ak2, seg, tuple(sorted(Counter(current).items()))))
            current = None
        elif tag == "AK9":
            out.append(("AK9", seg))
        elif tag == "AK1":
            out.append(("AK1", seg))
    return out


CLEAN_837P = (
    "stupidedi__X222A1-COB-claim-from-billing-provider-to-payer-a.edi",
    "stupidedi__X222A1-ambulance.edi",
    "stupidedi__X222A1-anesthesia.edi",
    "stupidedi__X222A1-chiropractic.edi",
    "stupidedi__X222A1-commercial-health-insurance.edi",
    "stupidedi__X222A1-drug-administered-in-the-physician-office.edi",
    "stupidedi__X222A1-encounter.edi",
    "stupidedi__X222A1-medicare-secondary-payer-COB.edi",
    "stupidedi__X222A1-out-of-network-repriced-claim.edi",
    "stupidedi__X222A1-ppo-repriced-claim.edi",
    "uhin-x12__837.edi",
    "x12-types__005010_837.edi",
)
MUTATIONS = ("drop", "duplicate", "swap", "corrupt", "long", "empty", "count", "hl-parent")


def split_segments(data: bytes) -> tuple[bytes, list[bytes], bytes]:
    """(ISA, the other segments without terminator, terminator) of a clean single-ISA file."""
    terminator = data[105:106]
    body = [s.strip() for s in data[106:].split(terminator) if s.strip()]
    return data[:106], body, terminator


def mutate(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """One mutant of a clean file: (a description without data values, the bytes)."""
    isa, body, term = split_segments(data)
    sep = isa[3:4]
    kind = rng.choice(MUTATIONS)
    inner = range(2, len(body) - 3)  # keep GS, ST and SE, GE, IEA in place for most kinds
    i = rng.choice(inner)
    tag = body[i].split(sep)[0].decode()
    if kind == "drop":
        del body[i]
    elif kind == "duplicate":
        body.insert(i, body[i])
    elif kind == "swap":
        body[i], body[i + 1] = body[i + 1], body[i]
    elif kind in ("corrupt", "long", "empty"):
        fields = body[i].split(sep)
        if len(fields) < 2:
            return f"{kind} {tag}: no element", data
        j = rng.randrange(1, len(fields))
        tag = f"{tag}{j:02d}"
        if kind == "corrupt":
            fields[j] = rng.choice([b"ZZ", b"9", b"X1", b"20241399", b"-1.5", b"A:B", b"@@"])
        elif kind == "long":
            fields[j] = fields[j] + b"9" * 90
        else:
            fields[j] = b""
        body[i] = sep.join(fields)
    elif kind == "count":
        target = rng.choice(["SE", "GE", "IEA"])
        tag = target
        for k, seg in enumerate(body):
            if seg.startswith(target.encode() + sep):
                fields = seg.split(sep)
                fields[1] = str(int(fields[1]) + rng.choice([-1, 1, 5])).encode()
                body[k] = sep.join(fields)
    else:
        hls = [k for k, seg in enumerate(body) if seg.startswith(b"HL" + sep)]
        k = rng.choice(hls)
        fields = body[k].split(sep)
        fields[2] = rng.choice([b"", b"9", b"1", b"2", b"X"])
        body[k] = sep.join(fields)
        tag = "HL02"
    return f"{kind} {tag} at {i + 2}", isa + term.join(body) + term


def clean_and_mutated(
    seed: int, mutants: int, edits: tuple[int, ...]
) -> tuple[list[bytes], list[bytes]]:
    """The clean corpus 837P files, and they followed by ``mutants`` copies of random ones,
    each with a number of random edits drawn from ``edits`` (a fixed seed: the same inputs
    every run)."""
    folder = require_corpus() / "837p"
    files = [(folder / name).read_bytes() for name in CLEAN_837P]
    rng = random.Random(seed)
    inputs = list(files)
    for _ in range(mutants):
        data = rng.choice(files)
        for _ in range(rng.choice(edits)):
            _, data = mutate(data, rng)
        inputs.append(data)
    return files, inputs
