"""What earlier claims said: TPI sessions per beneficiary, for TPI009 and TPI010.

Identity never enters the history in clear: the beneficiary key and claim ids are keyed
hashes (HMAC-SHA256). This module holds the in-memory store used within one run; the
persistent stores (SQLite, PostgreSQL) implement the same interface.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from edi_guard.history.hasher import Hasher
from edi_guard.rules.base import Session

__all__ = ["Hasher", "MemoryHistory"]


class MemoryHistory:
    """Sessions recorded in this process only (the default within one file)."""

    def __init__(self, hasher: Hasher) -> None:
        self._hasher = hasher
        self._sessions: dict[str, dict[tuple[date, str], Session]] = defaultdict(dict)

    @property
    def hasher(self) -> Hasher:
        return self._hasher

    def sessions(self, beneficiary_key: str) -> Sequence[Session]:
        return tuple(self._sessions.get(beneficiary_key, {}).values())

    def claim_digest(self, claim_id: str) -> str:
        return self._hasher.claim(claim_id)

    def record(self, beneficiary_key: str, claim_digest: str, days: Sequence[date]) -> None:
        """Remember the claim's TPI session days; recording the same claim again is a no-op."""
        bucket = self._sessions[beneficiary_key]
        for day in days:
            bucket[(day, claim_digest)] = Session(day, claim_digest)

    def forget_claim(self, beneficiary_key: str, claim_digest: str) -> None:
        """A void (CLM05-3 = 8) or replacement (7) takes back what the original recorded."""
        bucket = self._sessions.get(beneficiary_key, {})
        for key in [key for key in bucket if key[1] == claim_digest]:
            del bucket[key]
