"""The value computed for the last key asked about: for keys that come in long runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LastOf(Generic[K, V]):
    """``compute(key)``, kept for the last key asked about, the key compared by identity.

    For immutable keys that come in long runs of the same object: the blocks above a file's
    claims (claims follow their billing provider, subscriber and patient in file order), a
    payer's policy (a payer's claims come together). One (key, value) pair is swapped in
    whole, so concurrent readers see a consistent pair.
    """

    __slots__ = ("_compute", "_last")

    def __init__(self, compute: Callable[[K], V]) -> None:
        self._compute: Final = compute
        self._last: tuple[K, V] | None = None

    def get(self, key: K) -> V:
        last = self._last
        if last is not None and last[0] is key:
            return last[1]
        value = self._compute(key)
        self._last = (key, value)
        return value
