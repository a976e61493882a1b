"""The one interface every report writer implements."""

from __future__ import annotations

from typing import Protocol

from edi_guard.outcome import ClaimOutcome, Summary


class ReportWriter(Protocol):
    """A writer fed claim outcomes one at a time, in file order, then the file summary.

    Writers keep memory flat: what must come before the claims (totals, counts) is assembled
    at :meth:`finish` from spooled bytes and running totals, never from a list of outcomes.
    """

    def add(self, outcome: ClaimOutcome) -> None:
        """Take the next claim outcome (file order)."""
        ...

    def finish(self, summary: Summary) -> bool:
        """Complete the output; False means nothing was written and the caller discards it."""
        ...
