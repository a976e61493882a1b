"""What earlier claims said: TPI sessions per beneficiary, for TPI009 and TPI010.

Identity never enters the history in clear: the beneficiary key and claim ids are keyed
hashes (HMAC-SHA256). This module holds the in-memory store used within one run; the
persistent stores (SQLite, PostgreSQL) implement the same interface.
"""

from __future__ import annotations

import hmac
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from edi_guard.model.claim import Claim
from edi_guard.rules.base import Session


@dataclass(frozen=True, slots=True)
class Hasher:
    """Keyed hashing of identities, so that equal identities match and none can be read back."""

    key: bytes

    def digest(self, *parts: str) -> str:
        message = "\x1f".join(parts).encode("utf-8")
        # One-shot: the same HMAC as hmac.new(...).hexdigest(), in one C call per claim.
        return hmac.digest(self.key, message, "sha256").hex()

    def beneficiary(self, claim: Claim) -> str:
        """rules.md: subscriber member id, plus patient name and birth date under a 2000C."""
        patient = None
        if claim.patient is not None:
            patient = (claim.patient.last_name, claim.patient.first_name, claim.patient_birth_date)
        return self.beneficiary_of(claim.subscriber.identifier, patient)

    def beneficiary_of(
        self, member_id: str, patient: tuple[str, str, date | None] | None = None
    ) -> str:
        """The beneficiary key from its parts: member id (2010BA NM109) and, when the claim
        has a 2000C patient loop, the patient's (last name, first name, birth date).

        Used for claims and for sessions imported from a practice-management export, which
        must hash alike.
        """
        parts = [member_id]
        if patient is not None:
            last_name, first_name, birth_date = patient
            birth = birth_date.isoformat() if birth_date else ""
            parts += [last_name.upper(), first_name.upper(), birth]
        return self.digest("beneficiary", *parts)

    def claim(self, claim_id: str) -> str:
        return self.digest("claim", claim_id)


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
