"""The benchmark generator writes valid, well-counted, deterministic 837P."""

from __future__ import annotations

import io
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import pyx12.params
import pyx12.x12n_document

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402  (bench/ holds scripts, not a package)


def _make(claims: int, seed: int = 0, per_set: int = 5000, *, newlines: bool = False) -> bytes:
    out = io.BytesIO()
    generate.generate(out, claims, seed, per_set, newlines=newlines)
    return out.getvalue()


def _segments(data: bytes) -> list[list[str]]:
    text = data.decode("ascii")
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


@pytest.fixture(scope="module")
def twenty() -> bytes:
    return _make(20, seed=3, per_set=7)


def test_pyx12_validates_clean(twenty: bytes, tmp_path: Path) -> None:
    path = tmp_path / "twenty.x12"
    path.write_bytes(twenty)
    ack = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(pyx12.params.params(), str(path), ack, None)
    text = ack.getvalue()
    assert valid is True
    assert "IK3" not in text
    assert "IK4" not in text
    assert text.count("IK5*A~") == 3
    assert "AK9*A*3*3*3~" in text


def test_envelope_counts(twenty: bytes) -> None:
    assert twenty.index(b"~") == 105  # the ISA is fixed width: 106 bytes with its terminator
    segments = _segments(twenty)
    assert [s[0] for s in segments[:2]] == ["ISA", "GS"]
    assert segments[1][8] == "005010X222A1"
    sets = [i for i, s in enumerate(segments) if s[0] == "ST"]
    assert len(sets) == 3
    for start in sets:
        end = next(i for i in range(start, len(segments)) if segments[i][0] == "SE")
        assert segments[start][3] == "005010X222A1"
        assert int(segments[end][1]) == end - start + 1
        assert segments[end][2] == segments[start][2]
        claims = sum(1 for s in segments[start:end] if s[0] == "CLM")
        assert claims <= 7
    assert segments[-2] == ["GE", "3", segments[1][6]]
    assert segments[-1] == ["IEA", "1", segments[0][13]]
    assert sum(1 for s in segments if s[0] == "CLM") == 20


def test_hierarchy_and_money(twenty: bytes) -> None:
    levels: dict[str, str] = {}
    claim_total: Decimal | None = None
    line_sum = Decimal(0)
    for segment in _segments(twenty):
        tag = segment[0]
        if tag == "ST":
            levels = {}
            expected_hl = 1
        elif tag == "HL":
            assert int(segment[1]) == expected_hl
            expected_hl += 1
            parent = {"20": "", "22": "20", "23": "22"}[segment[3]]
            assert segment[2] == (levels[parent] if parent else "")
            levels[segment[3]] = segment[1]
        elif tag == "NM1" and segment[-2] == "XX":
            assert generate.is_valid_npi(segment[-1])
        elif tag == "CLM" or tag == "SE":
            if claim_total is not None:
                assert claim_total == line_sum
            claim_total = Decimal(segment[2]) if tag == "CLM" else None
            line_sum = Decimal(0)
        elif tag == "SV1":
            line_sum += Decimal(segment[2])


def test_deterministic_for_a_seed() -> None:
    assert _make(50, seed=11) == _make(50, seed=11)
    assert _make(50, seed=11) != _make(50, seed=12)


def test_newlines_only_add_line_breaks() -> None:
    with_breaks = _make(30, seed=5, newlines=True)
    assert with_breaks.count(b"~\n") == with_breaks.count(b"~")
    assert with_breaks.replace(b"\n", b"") == _make(30, seed=5)


def test_size_mode_stops_near_the_target() -> None:
    out = io.BytesIO()
    claims = generate.generate_size(out, 200_000, seed=1)
    assert 200_000 <= len(out.getvalue()) < 205_000
    assert out.getvalue().count(b"~CLM*") == claims


def test_npi_check_digit() -> None:
    assert generate.npi_check_digit("123456789") == "3"  # CMS's published example
    assert generate.is_valid_npi("1245319599")
    assert not generate.is_valid_npi("1245319598")
