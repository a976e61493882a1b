"""Outcomes spilled to disk in batches come back complete and in file order."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from edi_guard import pipeline
from edi_guard.acks.control import CounterControlNumbers, SameForAll
from edi_guard.api import process
from edi_guard.history import Hasher
from edi_guard.history.memory import MemoryStore

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402  (bench/ holds scripts, not a package)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _outputs(source: Path, out: Path) -> dict[str, bytes]:
    process(
        source,
        out_dir=out,
        history=MemoryStore(Hasher(b"spool")),
        control_numbers=SameForAll(CounterControlNumbers(1)),
        now=NOW,
    )
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_spilled_batches_give_the_outputs_of_an_all_in_memory_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = io.BytesIO()
    generate.generate(sink, 230, seed=3, claims_per_set=40)
    source = tmp_path / "batch.x12"
    source.write_bytes(sink.getvalue())
    in_memory = _outputs(source, tmp_path / "memory")
    # 230 claims: 17 held, then batches of 6 (35 of them) and a tail of 3 still in hand.
    monkeypatch.setattr(pipeline._Spool, "IN_MEMORY", 17)
    monkeypatch.setattr(pipeline._Spool, "BATCH", 6)
    spilled = _outputs(source, tmp_path / "spilled")
    assert spilled == in_memory
    assert len(in_memory) >= 5
