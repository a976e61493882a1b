"""Control numbers (ISA13, GS06) for what we write.

A later issue persists them; for now the caller owns the counter. ``CounterControlNumbers``
hands out increasing numbers from a start value the caller passes.
"""

from __future__ import annotations

from typing import Protocol

MAX_CONTROL_NUMBER = 999_999_999


class ControlNumbers(Protocol):
    def next_interchange(self) -> int: ...

    def next_group(self) -> int: ...


class CounterControlNumbers:
    """Increasing ISA13 and GS06 values derived from a counter (1..999,999,999, wrapping)."""

    def __init__(self, start: int = 1) -> None:
        if not 1 <= start <= MAX_CONTROL_NUMBER:
            raise ValueError("a control number must be between 1 and 999999999")
        self._next = start

    def _take(self) -> int:
        value = self._next
        self._next = 1 if value >= MAX_CONTROL_NUMBER else value + 1
        return value

    def next_interchange(self) -> int:
        return self._take()

    def next_group(self) -> int:
        return self._take()


class NumberSource(Protocol):
    def next_control_number(self, receiver: str) -> int: ...


class ReceiverControlNumbers(Protocol):
    """Control numbers kept per receiver (ISA07:ISA08 of what we send)."""

    def for_receiver(self, receiver: str) -> ControlNumbers: ...


class _FromStore:
    def __init__(self, store: NumberSource, receiver: str) -> None:
        self._store = store
        self._receiver = receiver

    def next_interchange(self) -> int:
        return self._store.next_control_number(self._receiver)

    def next_group(self) -> int:
        return self._store.next_control_number(self._receiver)


class StoreControlNumbers:
    """Numbers persisted by the history store: unique and increasing per receiver, across
    runs and concurrent workers (the store serializes them)."""

    def __init__(self, store: NumberSource) -> None:
        self._store = store

    def for_receiver(self, receiver: str) -> ControlNumbers:
        return _FromStore(self._store, receiver)


class SameForAll:
    """One counter whatever the receiver (tests, and callers that bring their own)."""

    def __init__(self, numbers: ControlNumbers) -> None:
        self._numbers = numbers

    def for_receiver(self, receiver: str) -> ControlNumbers:
        del receiver
        return self._numbers
