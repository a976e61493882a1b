"""LastOf: the value for the last key, by identity."""

from __future__ import annotations

from edi_guard.model.memo import LastOf


def test_the_value_is_computed_again_only_for_another_key() -> None:
    computed: list[object] = []

    def compute(key: list[str]) -> int:
        computed.append(key)
        return len(key)

    first, second = ["a"], ["a", "b"]
    equal_but_not_the_same = ["a"]
    last: LastOf[list[str], int] = LastOf(compute)
    assert [last.get(first), last.get(first), last.get(second)] == [1, 1, 2]
    assert last.get(equal_but_not_the_same) == 1
    assert last.get(first) == 1
    # Identity, not equality: an equal key is another key; only the last key is kept.
    assert computed == [first, second, equal_but_not_the_same, first]
