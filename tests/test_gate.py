"""The gate's batch feeding answers exactly as feeding one segment at a time does."""

from __future__ import annotations

import random

from test_validate_support import clean_and_mutated
from x12_builders import ClaimSpec, make_837, read

from edi_guard.gate import StructureGate
from edi_guard.validate import StructureValidator
from edi_guard.x12.segment import Segment
from edi_guard.x12.tokenizer import Tokenizer

_State = tuple[tuple[bool, ...], bool, list[int], bool]


def _inputs() -> list[bytes]:
    files, inputs = clean_and_mutated(11, 40, (1, 2, 3))
    # Several groups and interchanges in one chunk, one group rejected: the group status a
    # query sees must be its own group's, not that of a later group in the same chunk.
    first = files[0]
    broken = first.replace(b"GE*1*", b"GE*7*", 1)
    inputs.append(first + broken + first)
    return inputs


def _state(gate: StructureGate, segment: Segment) -> _State:
    sets = tuple(gate.set_accepted(index) for index in range(1, 12))
    return (
        sets,
        gate.group_accepted(segment),
        gate.sets_of_last_group(),
        gate.interchange_accepted(segment),
    )


def _chunks(data: bytes, rng: random.Random) -> list[bytes]:
    out = []
    start = 0
    while start < len(data):
        size = rng.choice((5, 300, 4096, len(data)))
        out.append(data[start : start + size])
        start += size
    return out


def test_feed_many_and_reach_answer_as_feed_does() -> None:
    rng = random.Random(12)
    for data in _inputs():
        one, many = StructureGate(), StructureGate()
        expected: list[_State] = []
        seen: list[_State] = []
        one_tokens, many_tokens = Tokenizer(), Tokenizer()
        for chunk in _chunks(data, rng):
            for segment in one_tokens.feed(chunk):
                one.feed(segment)
                expected.append(_state(one, segment))
            segments = many_tokens.feed(chunk)
            many.feed_many(segments)
            for segment in segments:
                many.reach(segment.position)
                seen.append(_state(many, segment))
        one.close()
        many.close()
        assert seen == expected
        assert many.result == one.result


def test_feed_many_at_gives_feeds_verdicts_and_positions() -> None:
    rng = random.Random(13)
    for data in _inputs():
        single, batched = StructureValidator(), StructureValidator()
        expected = []
        found = []
        tokens_single, tokens_batched = Tokenizer(), Tokenizer()
        for chunk in _chunks(data, rng):
            for segment in tokens_single.feed(chunk):
                expected += [(segment.position, v) for v in single.feed(segment)]
            found += batched.feed_many_at(tokens_batched.feed(chunk))
        assert found == expected
        assert batched.close() == single.close()
        assert batched.result == single.result


def test_the_gate_remembers_a_bounded_number_of_sets() -> None:
    segments = read(make_837(sets=[[ClaimSpec(f"PCN{n}")] for n in range(200)])).segments
    gate = StructureGate()
    asked: list[bool] = []
    for segment in segments:
        gate.feed(segment)
        if segment.tag == "SE":
            asked.append(gate.set_accepted(len(asked) + 1))
    assert asked == [True] * 200
    assert len(gate._set_status) <= 64  # a file of many sets holds only the recent answers
