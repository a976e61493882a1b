"""History records that wait for their interchange's verdict.

Rules must see sessions of earlier claims in the same file at once (a fourth session in one
file is still a fourth session), but a session may only be remembered for good when its
claim actually goes out, which is known when its transaction set and interchange are
accepted. This overlay answers with both and commits or forgets at the verdict.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from edi_guard.history import MemoryHistory
from edi_guard.rules.base import Session


class PendingHistory:
    def __init__(self, base: MemoryHistory) -> None:
        self._base = base
        self._pending: dict[str, list[tuple[int, str, date]]] = defaultdict(list)

    def sessions(self, beneficiary_key: str) -> Sequence[Session]:
        committed = self._base.sessions(beneficiary_key)
        pending = self._pending.get(beneficiary_key)
        if not pending:
            return committed
        seen = {(s.service_date, s.claim_id_digest) for s in committed}
        extra = [Session(day, digest) for _, digest, day in pending if (day, digest) not in seen]
        return (*committed, *extra)

    def claim_digest(self, claim_id: str) -> str:
        return self._base.claim_digest(claim_id)

    def record(
        self, beneficiary_key: str, claim_digest: str, days: Sequence[date], set_index: int
    ) -> None:
        entries = self._pending[beneficiary_key]
        for day in days:
            entries.append((set_index, claim_digest, day))

    def drop_set(self, set_index: int) -> None:
        for key in list(self._pending):
            kept = [entry for entry in self._pending[key] if entry[0] != set_index]
            if kept:
                self._pending[key] = kept
            else:
                del self._pending[key]

    def commit(self) -> None:
        for key, entries in self._pending.items():
            by_claim: dict[str, list[date]] = defaultdict(list)
            for _, digest, day in entries:
                by_claim[digest].append(day)
            for digest, days in by_claim.items():
                self._base.record(key, digest, days)
        self._pending.clear()

    def discard(self) -> None:
        self._pending.clear()
