"""Malformed input never raises; the fast path is sound; the streaming interface holds."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from test_validate_support import CLEAN_837P, NOW, UNBOUNDED, clean_and_mutated, require_corpus

from edi_guard.acks import write_999, write_ta1
from edi_guard.validate import SetVerdict, StructureValidator
from edi_guard.validate.api import validate_bytes
from edi_guard.validate.compiler import load_compiled
from edi_guard.validate.elements import check_segment
from edi_guard.validate.extra import npi_is_valid
from edi_guard.validate.fast import FastPaths
from edi_guard.x12.tokenizer import Tokenizer


def _clean(name: str = "stupidedi__X222A1-ambulance.edi") -> bytes:
    return (require_corpus() / "837p" / name).read_bytes()


def _acknowledge(data: bytes) -> bytes:
    result = validate_bytes(data)
    out = b""
    if any(i.groups for i in result.interchanges):
        out += write_999(result, control_number=7, now=NOW)
    if not result.interchanges:
        out += write_ta1(None, control_number=8, now=NOW)
    for interchange in result.interchanges:
        if interchange.needs_ta1:
            out += write_ta1(interchange, control_number=8, now=NOW)
    return out


@pytest.mark.parametrize(
    "change",
    ["non-ascii", "bom", "double-terminator", "missing-gs", "truncated", "garbage", "empty"],
)
def test_malformed_input_gets_an_acknowledgement(change: str) -> None:
    data = _clean()
    if change == "non-ascii":
        data = data.replace(b"NM1*IL*1*", b"NM1*IL*1*\xc9", 1)
    elif change == "bom":
        data = b"\xef\xbb\xbf" + data
    elif change == "double-terminator":
        data = data.replace(b"~", b"~~", 5)
    elif change == "missing-gs":
        start = data.index(b"GS*")
        data = data[:start] + data[data.index(b"~", start) + 1 :]
    elif change == "truncated":
        data = data[: len(data) // 2]
    elif change == "garbage":
        data = b"%PDF-1.4 not x12"
    else:
        data = b""
    result = validate_bytes(data)
    ack = _acknowledge(data)
    assert b"TA1*" in ack or b"ST*999*" in ack
    if change == "bom":
        assert result.accepted
    else:
        assert not result.accepted
        assert result.fatal or any(i.errors for i in result.interchanges) or result.rejected


def test_fast_path_is_sound_on_mutated_segments() -> None:
    compiled = load_compiled()
    fast = FastPaths(compiled)
    rng = random.Random(5)
    folder = require_corpus() / "837p"
    checked = 0
    for name in CLEAN_837P:
        validator = StructureValidator()
        for segment in Tokenizer().feed((folder / name).read_bytes()):
            validator.feed(segment)
            node = compiled.segs[validator._node] if validator._node >= 0 else None
            if node is None or node.id != segment.tag or node.id == "ISA":
                continue
            for _ in range(8):
                raw = bytearray(segment.raw)
                position = rng.randrange(len(node.id), len(raw)) if len(raw) > len(node.id) else 0
                raw[position:position] = bytes([rng.choice(b"*:A9 -.~\x01\xe9")])
                mutated = type(segment)(
                    segment.tag, raw=bytes(raw), delimiters=segment.delimiters,
                    position=segment.position, offset=segment.offset,
                )  # fmt: skip
                if fast.is_valid(node, mutated):
                    assert not check_segment(node, mutated.elements, ":"), bytes(raw)
                checked += 1
    assert checked > 1000


def test_strict_fast_matcher_is_sound_on_mutated_segments() -> None:
    """What the validator's fast path accepts without a look at the elements: valid elements,
    not empty, no trailing separator (X12Reader errors 8 and SEG1)."""
    compiled = load_compiled()
    fast = FastPaths(compiled)
    rng = random.Random(6)
    folder = require_corpus() / "837p"
    accepted = 0
    for name in CLEAN_837P:
        tokenizer = Tokenizer()
        for segment in tokenizer.feed((folder / name).read_bytes()):
            for index in compiled.by_tag.get(segment.tag, ()):
                node = compiled.segs[index]
                matcher = fast.matcher(node, segment.delimiters, strict=True)
                if matcher is None:
                    continue
                pattern, post = matcher
                for _ in range(4):
                    raw = bytearray(segment.raw)
                    cut = rng.randrange(len(node.id), len(raw) + 1)
                    if rng.random() < 0.5:
                        raw[cut:] = bytes(rng.choice(b"*:") for _ in range(rng.randrange(3)))
                    else:
                        raw[cut:cut] = bytes([rng.choice(b"*:A9 -.\x01\xe9")])
                    found = pattern.fullmatch(bytes(raw))
                    if found is None or (post is not None and not post(found.groups())):
                        continue
                    accepted += 1
                    elements = bytes(raw).decode("latin-1").split("*")
                    assert not raw.endswith(b"*"), bytes(raw)
                    assert any(e.strip(":") for e in elements[1:]), bytes(raw)
                    assert not check_segment(node, tuple(elements), ":"), bytes(raw)
    assert accepted > 300


def test_fast_path_gives_the_general_paths_results() -> None:
    files, inputs = clean_and_mutated(7, 120, (1, 1, 2))
    inputs.append(files[0] + files[1].replace(b"*", b"|"))  # two interchanges, new delimiters
    fast = FastPaths(load_compiled())  # a pure cache: shared, the test runs faster
    for data in inputs:
        segments = Tokenizer().feed(data)
        results = []
        for validator in (
            StructureValidator(limits=UNBOUNDED),
            StructureValidator(limits=UNBOUNDED, fast_path=False),
        ):
            validator.fast = fast
            for segment in segments:
                validator.feed(segment)
            validator.close()
            results.append(validator.result)
        batched = StructureValidator(limits=UNBOUNDED)
        batched.fast = fast
        batched.feed_many(segments)
        batched.close()
        results.append(batched.result)
        assert results[0] == results[1] == results[2]


def test_verdict_at_se_and_same_result_whatever_the_chunking() -> None:
    data = _clean()
    validator = StructureValidator()
    tokenizer = Tokenizer()
    verdicts = []
    for start in range(0, len(data), 7):
        for segment in tokenizer.feed(data[start : start + 7]):
            out = validator.feed(segment)
            if segment.tag == "SE":
                assert out and isinstance(out[0], SetVerdict)
            verdicts += out
    verdicts += validator.close()
    kinds = [type(v).__name__ for v in verdicts]
    assert kinds == ["SetVerdict", "GroupVerdict", "InterchangeVerdict"]
    assert validator.result.accepted == validate_bytes(data).accepted


def test_messages_carry_no_element_values() -> None:
    data = _clean().replace(b"NM1*IL*1*", b"NM1*IL*1*SECRETNAME" + b"X" * 70, 1)
    result = validate_bytes(data)
    errors = [e for s in result.sets for e in s.errors]
    assert errors
    assert all("SECRETNAME" not in e.message and "SECRETNAME" not in repr(e) for e in errors)


def test_beyond_pyx12_findings() -> None:
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    data = _clean().replace(b"SV1*", b"SV1*", 1)
    first_sv1 = data.index(b"SV1*")
    end = data.index(b"~", first_sv1)
    fields = data[first_sv1:end].split(b"*")
    fields += [b""] * (8 - len(fields))
    fields[7] = b"9"
    data = data[:first_sv1] + b"*".join(fields) + data[end:]
    result = validate_bytes(data)
    checks = {f.check for s in result.sets for f in s.findings}
    assert "sv107-pointer" in checks


def test_limits_bound_the_errors_kept(tmp_path: Path) -> None:
    data = _clean()
    data = data.replace(b"~N3*", b"~N3*" + b"9" * 200 + b"*", 1)
    from edi_guard.validate import ValidatorLimits

    result = validate_bytes(data * 1, limits=ValidatorLimits(max_errors_per_set=1))
    verdict = result.sets[0]
    assert len(verdict.errors) == 1 and verdict.error_count >= 1
