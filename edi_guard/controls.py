"""Control numbers (ISA13, GS06, ST02) for the acknowledgements we write.

They must be unique and increasing per receiver. This in-memory source is seeded from the
clock so that separate runs do not repeat numbers within a day of each other; the history
store will persist them for concurrent workers.
"""

from __future__ import annotations

import itertools
import time
from typing import Protocol

ISA13_MODULUS = 1_000_000_000


class ControlNumbers(Protocol):
    def next(self, receiver: str) -> int:
        """The next control number for acknowledgements sent to ``receiver``."""
        ...


class MemoryControlNumbers:
    def __init__(self, start: int | None = None) -> None:
        seed = start if start is not None else int(time.time() * 10) % ISA13_MODULUS
        self._counter = itertools.count(max(seed, 1))

    def next(self, receiver: str) -> int:
        del receiver
        return next(self._counter) % ISA13_MODULUS or 1
